import { CtcInputError } from './errors.js';
import { levenshtein } from './levenshtein.js';

export interface ErrorRate {
  /** Corpus level: total edits / total reference length (a zero total length counts as 1). */
  rate: number;
  edits: number;
  refLength: number;
  /** Per line: its edits / its reference length (a zero length counts as 1). */
  perLine: number[];
  /** Per line: its edit count. */
  perLineEdits: number[];
}

/** Character error rate, on Unicode code points (no normalisation: apply `String.prototype.normalize` first if needed). */
export function cer(refs: readonly string[], hyps: readonly string[]): ErrorRate {
  return errorRate(refs, hyps, (s) => Array.from(s));
}

/** Word error rate, on whitespace-separated words. */
export function wer(refs: readonly string[], hyps: readonly string[]): ErrorRate {
  return errorRate(refs, hyps, (s) => s.split(/\s+/u).filter((w) => w !== ''));
}

function errorRate(refs: readonly string[], hyps: readonly string[], units: (s: string) => string[]): ErrorRate {
  if (refs.length !== hyps.length) {
    throw new CtcInputError(`hyps: has ${hyps.length} lines; expected one per reference line (${refs.length})`);
  }
  let edits = 0;
  let refLength = 0;
  const perLine: number[] = [];
  const perLineEdits: number[] = [];
  refs.forEach((ref, i) => {
    const r = units(ref);
    const e = levenshtein(r, units(hyps[i]!));
    edits += e;
    refLength += r.length;
    perLineEdits.push(e);
    perLine.push(e / Math.max(r.length, 1));
  });
  return { rate: edits / Math.max(refLength, 1), edits, refLength, perLine, perLineEdits };
}
