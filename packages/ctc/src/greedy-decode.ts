import { checkBlank, checkLengths } from './errors.js';
import { logSoftmaxRows } from './log-softmax.js';
import { readLogits, type LogitsInput } from './logits-input.js';

/** One decoded labelling. */
export interface DecodeResult {
  /** Class indices, repeats merged and blanks removed. */
  labels: number[];
  /**
   * Natural-log probability: for greedy decoding, of the best path (one alignment); for beam search, of the
   * labelling (summed over the alignments the beam kept), plus the LM and insertion terms when an LM is used.
   */
  score: number;
  /** Per label, the frames [start, end) (end exclusive) it occupies in the best path for this labelling. */
  spans: Array<[start: number, end: number]>;
}

export interface GreedyDecodeOptions {
  /** Index of the blank class. Default 0. */
  blank?: number;
}

/**
 * Best-path decoding: the most probable class at each frame (the lowest index on ties), repeats merged, blanks
 * removed. `score` is the log-probability of that path; `spans` are the runs of each emitted label's class.
 */
export function greedyDecode(
  logits: LogitsInput,
  logitLengths: ArrayLike<number>,
  options: GreedyDecodeOptions = {},
): DecodeResult[] {
  const { data, batch, time, classes } = readLogits(logits);
  const blank = options.blank ?? 0;
  checkBlank(blank, classes);
  checkLengths('logitLengths', logitLengths, batch, time, 'the time dimension of logits');
  const logProbs = new Float64Array(time * classes);
  const results: DecodeResult[] = [];
  for (let b = 0; b < batch; b++) {
    const frames = logitLengths[b]!;
    logSoftmaxRows(data, b * time * classes, frames, classes, logProbs);
    const labels: number[] = [];
    const spans: Array<[number, number]> = [];
    let score = 0;
    let prev = blank;
    for (let t = 0; t < frames; t++) {
      let best = 0;
      for (let c = 1; c < classes; c++) if (logProbs[t * classes + c] > logProbs[t * classes + best]) best = c;
      score += logProbs[t * classes + best];
      if (best !== blank) {
        if (best !== prev) {
          labels.push(best);
          spans.push([t, t + 1]);
        } else {
          spans[spans.length - 1]![1] = t + 1;
        }
      }
      prev = best;
    }
    results.push({ labels, score, spans });
  }
  return results;
}
