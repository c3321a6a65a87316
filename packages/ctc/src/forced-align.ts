import { checkBlank, checkLabel, checkLengths, CtcInputError } from './errors.js';
import { extendLabel, requiredFrames } from './extended-label.js';
import { logSoftmaxRows } from './log-softmax.js';
import { readLogits, type LogitsInput } from './logits-input.js';

/** The most probable single path (alignment) of a known labelling. */
export interface Alignment {
  /** log-probability of that path (-Infinity when the labelling cannot fit in the frames). */
  score: number;
  /** Per label, its frames [start, end) (end exclusive) in the path: a run of that label's class. */
  spans: Array<[start: number, end: number]>;
}

/**
 * Viterbi alignment of each sample's labelling: the best path through the CTC lattice (ties prefer staying in a
 * state, then the next state), giving where each label sits in the frames. `logits` are unnormalised.
 */
export function forcedAlign(
  logits: LogitsInput,
  logitLengths: ArrayLike<number>,
  labels: ReadonlyArray<ArrayLike<number>>,
  options: { blank?: number } = {},
): Alignment[] {
  const { data, batch, time, classes } = readLogits(logits);
  const blank = options.blank ?? 0;
  checkBlank(blank, classes);
  checkLengths('logitLengths', logitLengths, batch, time, 'the time dimension of logits');
  if (labels.length !== batch) {
    throw new CtcInputError(`labels: has ${labels.length} samples; expected ${batch} (the batch of logits)`);
  }
  const logProbs = new Float64Array(time * classes);
  return labels.map((label, b) => {
    checkLabel('labels', b, label, classes, blank);
    const frames = logitLengths[b]!;
    logSoftmaxRows(data, b * time * classes, frames, classes, logProbs);
    return alignLogProbs(logProbs, frames, classes, label, blank);
  });
}

/** {@link forcedAlign} of one sample given its log-probabilities, row-major [frames, classes]. */
export function alignLogProbs(
  logProbs: Float64Array,
  frames: number,
  classes: number,
  label: ArrayLike<number>,
  blank: number,
): Alignment {
  if (requiredFrames(label) > frames) return { score: -Infinity, spans: [] };
  if (frames === 0) return { score: 0, spans: [] };
  const S = 2 * label.length + 1;
  const ext = new Int32Array(S + 2);
  const skip = new Uint8Array(S + 2);
  extendLabel(label, blank, ext, skip);
  let delta = new Float64Array(S).fill(-Infinity);
  let next = new Float64Array(S);
  const back = new Uint8Array(frames * S); // how many states back the best predecessor is: 0, 1 or 2
  delta[0] = logProbs[ext[0]];
  if (S > 1) delta[1] = logProbs[ext[1]];
  for (let t = 1; t < frames; t++) {
    for (let s = 0; s < S; s++) {
      let best = delta[s];
      let from = 0;
      if (s >= 1 && delta[s - 1] > best) [best, from] = [delta[s - 1], 1];
      if (skip[s] && delta[s - 2] > best) [best, from] = [delta[s - 2], 2];
      next[s] = best + logProbs[t * classes + ext[s]];
      back[t * S + s] = from;
    }
    [delta, next] = [next, delta];
  }
  let s = S > 1 && delta[S - 2] > delta[S - 1] ? S - 2 : S - 1;
  const score = delta[s];
  const spans: Array<[number, number]> = new Array(label.length);
  for (let t = frames - 1; t >= 0; t--) {
    if (s & 1) {
      const i = (s - 1) >> 1;
      if (spans[i] === undefined) spans[i] = [t, t + 1];
      else spans[i][0] = t;
    }
    s -= back[t * S + s];
  }
  return { score, spans };
}
