import { logAddExp } from './ctc-log-space.js';
import { checkBlank, checkLengths, CtcInputError } from './errors.js';
import { alignLogProbs } from './forced-align.js';
import type { DecodeResult } from './greedy-decode.js';
import { logSoftmaxRows } from './log-softmax.js';
import { readLogits, type LogitsInput } from './logits-input.js';

/**
 * A label-sequence model: the log-probability of `next` after the labels `prefix` (class indices, no blanks).
 * It may return -Infinity to forbid a continuation (e.g. a lexicon).
 */
export type LmScorer = (prefix: readonly number[], next: number) => number;

export interface BeamSearchOptions {
  /** Prefixes kept after each frame. Default 16. */
  beamWidth?: number;
  /** Index of the blank class. Default 0. */
  blank?: number;
  /** Labellings returned per sample, best first (at most beamWidth). Default 1. */
  topPaths?: number;
  /** Optional language model, applied each time a prefix is extended by a label. */
  lm?: LmScorer;
  /** Weight of the LM log-probability. Default 1 (used only with `lm`). */
  lmWeight?: number;
  /** Added to the score for each emitted label (counters the LM's bias to short outputs). Default 0. */
  insertionBonus?: number;
}

/** A labelling prefix: a node of the trie of prefixes explored so far. */
class Prefix {
  readonly children = new Map<number, Prefix>();
  /** Log-probabilities at the current frame of the paths of this prefix ending in a blank / in its last label. */
  pb = -Infinity;
  pnb = -Infinity;
  /** Accumulators for the next frame, valid when `frame` is the frame being processed. */
  nextPb = -Infinity;
  nextPnb = -Infinity;
  frame = -1;
  /** Per class c: lmWeight * lm(this, c) + insertionBonus, computed on the first extension. */
  extension: Float64Array | null = null;

  constructor(
    readonly parent: Prefix | null,
    readonly label: number, // -1 for the empty prefix
  ) {}

  labels(): number[] {
    const out: number[] = [];
    for (let p: Prefix | null = this; p && p.label >= 0; p = p.parent) out.push(p.label);
    return out.reverse();
  }

  touch(frame: number): void {
    if (this.frame !== frame) {
      this.frame = frame;
      this.nextPb = this.nextPnb = -Infinity;
    }
  }
}

/**
 * CTC prefix beam search (Hannun et al. 2014, "First-Pass Large Vocabulary Continuous Speech Recognition using
 * Bi-Directional Recurrent DNNs"): each prefix carries the probability of its paths ending in blank and in its
 * last label, so paths that collapse to the same labelling are merged. With an `lm`, each extension by label c adds
 * lmWeight * lm(prefix, c) + insertionBonus to the log-score.
 *
 * Returns per sample up to `topPaths` results, best first. `score` is the log of the merged probability (with the
 * LM terms); `spans` come from the best single alignment (Viterbi) of that labelling, as in {@link forcedAlign}.
 */
export function beamSearchDecode(
  logits: LogitsInput,
  logitLengths: ArrayLike<number>,
  options: BeamSearchOptions = {},
): DecodeResult[][] {
  const { data, batch, time, classes } = readLogits(logits);
  const blank = options.blank ?? 0;
  const beamWidth = options.beamWidth ?? 16;
  const topPaths = options.topPaths ?? 1;
  checkBlank(blank, classes);
  if (!Number.isInteger(beamWidth) || beamWidth < 1) {
    throw new CtcInputError(`beamWidth: ${beamWidth}; expected an integer >= 1`);
  }
  if (!Number.isInteger(topPaths) || topPaths < 1 || topPaths > beamWidth) {
    throw new CtcInputError(`topPaths: ${topPaths}; expected an integer in [1, beamWidth = ${beamWidth}]`);
  }
  checkLengths('logitLengths', logitLengths, batch, time, 'the time dimension of logits');
  const logProbs = new Float64Array(time * classes);
  const results: DecodeResult[][] = [];
  for (let b = 0; b < batch; b++) {
    const frames = logitLengths[b]!;
    logSoftmaxRows(data, b * time * classes, frames, classes, logProbs);
    const beams = searchSample(logProbs, frames, classes, blank, beamWidth, options);
    results.push(
      beams.slice(0, topPaths).map((p) => {
        const labels = p.labels();
        return {
          labels,
          score: logAddExp(p.pb, p.pnb),
          spans: alignLogProbs(logProbs, frames, classes, labels, blank).spans,
        };
      }),
    );
  }
  return results;
}

function searchSample(
  lp: Float64Array,
  frames: number,
  C: number,
  blank: number,
  beamWidth: number,
  options: BeamSearchOptions,
): Prefix[] {
  const root = new Prefix(null, -1);
  root.pb = 0;
  let beams = [root];
  const { lm } = options;
  const lmWeight = options.lmWeight ?? 1;
  const bonus = options.insertionBonus ?? 0;
  const extensionOf = (p: Prefix): Float64Array => {
    if (!p.extension) {
      p.extension = new Float64Array(C).fill(bonus);
      if (lm) {
        const prefix = p.labels();
        for (let c = 0; c < C; c++) if (c !== blank) p.extension[c] += lmWeight * lm(prefix, c);
      }
    }
    return p.extension;
  };

  for (let t = 0; t < frames; t++) {
    const row = t * C;
    const touched: Prefix[] = [];
    const touch = (p: Prefix) => {
      if (p.frame !== t) touched.push(p);
      p.touch(t);
    };
    // Paths that keep their labelling: a blank, or the last label again (merged with it).
    for (const p of beams) {
      touch(p);
      p.nextPb = logAddExp(p.pb, p.pnb) + lp[row + blank];
      if (p.label >= 0) p.nextPnb = p.pnb + lp[row + p.label];
    }
    // Each beam ends the frame with at least this score, so the beamWidth-th best of them is a floor under the
    // beamWidth-th best candidate: a new prefix scoring below it cannot be kept (exact pruning).
    let floor = -Infinity;
    if (beams.length >= beamWidth) {
      floor = beams.map((p) => logAddExp(p.nextPb, p.nextPnb)).sort((x, y) => y - x)[beamWidth - 1]!;
    }
    // Extensions by one label. Those to prefixes not yet in the trie have a single parent: no merging needed.
    const freshParent: Prefix[] = [];
    const freshLabel: number[] = [];
    const freshScore: number[] = [];
    for (const p of beams) {
      const total = logAddExp(p.pb, p.pnb);
      const ext = extensionOf(p);
      for (let c = 0; c < C; c++) {
        if (c === blank) continue;
        // A repeated label needs a blank in between: only the paths ending in blank extend by it.
        const v = (c === p.label ? p.pb : total) + lp[row + c] + ext[c];
        if (v === -Infinity) continue;
        const child = p.children.get(c);
        if (child) {
          touch(child);
          child.nextPnb = logAddExp(child.nextPnb, v);
        } else if (v >= floor) {
          freshParent.push(p);
          freshLabel.push(c);
          freshScore.push(v);
        }
      }
    }
    // Keep the best beamWidth of the touched prefixes (index i) and the fresh ones (index touched.length + j).
    const scores = [...touched.map((p) => logAddExp(p.nextPb, p.nextPnb)), ...freshScore];
    const order = scores
      .map((_, i) => i)
      .filter((i) => scores[i]! > -Infinity)
      .sort((i, j) => scores[j]! - scores[i]!)
      .slice(0, beamWidth);
    beams = order.map((i) => {
      if (i < touched.length) {
        const p = touched[i]!;
        p.pb = p.nextPb;
        p.pnb = p.nextPnb;
        return p;
      }
      const j = i - touched.length;
      const child = new Prefix(freshParent[j]!, freshLabel[j]!);
      freshParent[j]!.children.set(child.label, child);
      child.pnb = freshScore[j]!;
      return child;
    });
    if (beams.length === 0) break; // every continuation forbidden by the LM
  }
  return beams;
}
