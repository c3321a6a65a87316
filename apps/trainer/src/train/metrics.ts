import { appendFile, readFile } from 'node:fs/promises';
import { lineChartSvg, savePlot } from './plot.js';

export interface MetricRecord {
  type: 'train' | 'valid';
  step: number;
  epoch: number;
  timeMs: number;
  loss?: number;
  /** Lines whose gradients the step averaged (train records): the batch, less lines left out. */
  lines?: number;
  /** Adadelta learning rate of the step (train records). */
  lr?: number;
  linesPerSec?: number;
  workers?: number;
  cer?: number;
  wer?: number;
  skipped?: boolean;
}

/** Appends to metrics.jsonl and redraws loss.png and cer.png from it. */
export class MetricsLog {
  constructor(private readonly file: string) {}

  async append(record: MetricRecord): Promise<void> {
    await appendFile(this.file, `${JSON.stringify(record)}\n`);
  }

  async read(): Promise<MetricRecord[]> {
    const text = await readFile(this.file, 'utf8').catch(() => '');
    return text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as MetricRecord);
  }

  async plot(dir: string): Promise<void> {
    const records = await this.read();
    const train = records.filter((r) => r.type === 'train' && Number.isFinite(r.loss));
    const valid = records.filter((r) => r.type === 'valid');
    // Smooth the per-step loss over a window so the trend is visible.
    const window = Math.max(1, Math.round(train.length / 100));
    const smooth = train.map((r, k): [number, number] => {
      const part = train.slice(Math.max(0, k - window + 1), k + 1);
      return [r.step, part.reduce((s, p) => s + p.loss!, 0) / part.length];
    });
    await savePlot(
      lineChartSvg({
        title: 'training loss (CTC per line)',
        xLabel: 'step',
        yLabel: 'loss',
        series: [{ name: 'train', points: smooth }],
      }),
      `${dir}/loss.png`,
    );
    await savePlot(
      lineChartSvg({
        title: 'validation error rates',
        xLabel: 'step',
        yLabel: 'rate',
        series: [
          { name: 'CER', points: valid.map((r): [number, number] => [r.step, r.cer!]) },
          { name: 'WER', points: valid.map((r): [number, number] => [r.step, r.wer!]) },
        ],
      }),
      `${dir}/cer.png`,
    );
  }
}
