import { cer, wer } from '@scriptorium/ctc';
import type { Dataset, LineSample } from '@scriptorium/data';
import type { Recognition, Recognizer, RecognizeOptions } from '@scriptorium/models';

export interface EvalLine {
  id: string;
  ref: string;
  hyp: string;
  cer: number;
  confidence: number;
}

/** How lines are decoded: greedy (beam 1, the default) or prefix beam search, optionally with a language model. */
export type DecodeOptions = Pick<RecognizeOptions, 'beam' | 'lm' | 'lmWeight' | 'insertionBonus'>;

export interface EvalReport {
  cer: number;
  wer: number;
  lines: EvalLine[];
}

/** Recognises `count` lines of a dataset (from the start) and scores them against their transcriptions. */
export async function evaluate(
  recognizer: Pick<Recognizer, 'recognizeSamplesEach'>,
  dataset: Dataset,
  count = dataset.size,
  options: DecodeOptions = {},
): Promise<EvalReport> {
  return evaluateSamples(recognizer, await loadLines(dataset, count), options);
}

/** The first `count` lines of a dataset. */
export async function loadLines(dataset: Dataset, count = dataset.size): Promise<LineSample[]> {
  const n = Math.min(count, dataset.size);
  const samples: LineSample[] = [];
  for (let i = 0; i < n; i++) samples.push(await dataset.load(i));
  return samples;
}

/**
 * Recognises loaded lines and scores them against their transcriptions. Both are NFC-normalised first (the
 * data readers already give NFC transcriptions), so the CER counts what `errorReport` counts.
 */
export async function evaluateSamples(
  recognizer: Pick<Recognizer, 'recognizeSamplesEach'>,
  samples: readonly LineSample[],
  options: DecodeOptions = {},
): Promise<EvalReport> {
  return (await evaluateSamplesEach(recognizer, samples, [options]))[0]!;
}

/** evaluateSamples once per decoding (e.g. with and without an LM), from one forward pass over the lines. */
export async function evaluateSamplesEach(
  recognizer: Pick<Recognizer, 'recognizeSamplesEach'>,
  samples: readonly LineSample[],
  decodings: readonly DecodeOptions[],
): Promise<EvalReport[]> {
  const refs = samples.map((s) => s.text.normalize('NFC'));
  return (await recognizer.recognizeSamplesEach(samples, decodings)).map((recs: Recognition[]) => {
    const hyps = recs.map((r) => r.text.normalize('NFC'));
    const c = cer(refs, hyps),
      w = wer(refs, hyps);
    return {
      cer: c.rate,
      wer: w.rate,
      lines: samples.map((s, k) => ({
        id: s.id,
        ref: refs[k]!,
        hyp: hyps[k]!,
        cer: c.perLine[k]!,
        confidence: recs[k]!.confidence,
      })),
    };
  });
}
