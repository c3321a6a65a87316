export interface ProgressState {
  step: number;
  /** Step at which training stops (max steps), if known. */
  maxSteps?: number;
  linesPerSec: number;
  loss: number;
  /** Remaining time in ms, if it can be estimated. */
  etaMs?: number;
  workers: number;
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '--';
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600),
    m = Math.floor((s % 3600) / 60),
    sec = s % 60;
  return h ? `${h}h${String(m).padStart(2, '0')}m` : m ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}

/** One progress line: `[#####.....] step 120/500  37.2 lines/s  loss 3.412  ETA 4m10s  workers 2`. */
export function formatProgress(p: ProgressState, barWidth = 20): string {
  let bar = '';
  if (p.maxSteps && p.maxSteps > 0) {
    const filled = Math.min(barWidth, Math.round((p.step / p.maxSteps) * barWidth));
    bar = `[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}] `;
  }
  const steps = p.maxSteps ? `${p.step}/${p.maxSteps}` : `${p.step}`;
  return (
    `${bar}step ${steps}  ${p.linesPerSec.toFixed(1)} lines/s  loss ${Number.isFinite(p.loss) ? p.loss.toFixed(3) : String(p.loss)}` +
    `  ETA ${p.etaMs === undefined ? '--' : formatDuration(p.etaMs)}  workers ${p.workers}`
  );
}

/**
 * Writes progress to a stream: redrawn in place on a terminal, one line every `intervalMs` otherwise
 * (logs and CI stay readable).
 */
export class ProgressBar {
  private lastLine = 0;
  private drawn = false;

  constructor(
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly intervalMs = 10_000,
  ) {}

  update(p: ProgressState): void {
    const line = formatProgress(p);
    if (this.out.isTTY) {
      this.out.write(`\r\x1b[2K${line}`);
      this.drawn = true;
    } else if (Date.now() - this.lastLine >= this.intervalMs) {
      this.out.write(`${line}\n`);
      this.lastLine = Date.now();
    }
  }

  /** Prints a message without garbling the bar. */
  log(message: string): void {
    if (this.drawn) this.out.write('\r\x1b[2K');
    this.out.write(`${message}\n`);
    this.drawn = false;
  }

  done(): void {
    if (this.drawn) this.out.write('\n');
    this.drawn = false;
  }
}
