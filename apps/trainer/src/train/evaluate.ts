import { cer, wer } from '@scriptorium/ctc';
import type { Dataset, LineSample } from '@scriptorium/data';
import type { Recognition, Recognizer } from '@scriptorium/models';

export interface EvalLine {
  id: string;
  ref: string;
  hyp: string;
  cer: number;
  confidence: number;
}

export interface EvalReport {
  cer: number;
  wer: number;
  lines: EvalLine[];
}

/** Recognises `count` lines of a dataset (from the start) and scores them against their transcriptions. */
export async function evaluate(recognizer: Pick<Recognizer, 'recognizeSamples'>, dataset: Dataset, count = dataset.size, options: { beam?: number } = {}): Promise<EvalReport> {
  return evaluateSamples(recognizer, await loadLines(dataset, count), options);
}

/** The first `count` lines of a dataset. */
export async function loadLines(dataset: Dataset, count = dataset.size): Promise<LineSample[]> {
  const n = Math.min(count, dataset.size);
  const samples: LineSample[] = [];
  for (let i = 0; i < n; i++) samples.push(await dataset.load(i));
  return samples;
}

/** Recognises loaded lines and scores them against their transcriptions. */
export async function evaluateSamples(recognizer: Pick<Recognizer, 'recognizeSamples'>, samples: readonly LineSample[], options: { beam?: number } = {}): Promise<EvalReport> {
  const recs: Recognition[] = await recognizer.recognizeSamples(samples, { beam: options.beam });
  const refs = samples.map((s) => s.text), hyps = recs.map((r) => r.text);
  const c = cer(refs, hyps), w = wer(refs, hyps);
  return {
    cer: c.rate,
    wer: w.rate,
    lines: samples.map((s, k) => ({ id: s.id, ref: refs[k]!, hyp: hyps[k]!, cer: c.perLine[k]!, confidence: recs[k]!.confidence })),
  };
}
