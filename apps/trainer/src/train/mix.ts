import { sampleSeed } from '@scriptorium/data';
import { fromWarmup, type Warmup } from './warmup.js';

/**
 * Rehearsal (--mix-data SPEC --mix-share P): each line of every step comes from other data with probability P, the
 * same at every step. Fine-tuned on new lines alone, a model forgets part of its old task; with the old task's lines
 * mixed in it keeps most of it (docs/benchmarks/finetune.md).
 */
export interface Mix {
  /** The mixed-in data, a spec as --data takes it; generated data opens with the training data's count and seed. */
  spec: string;
  /** The chance that a line is a mix line, in (0, 1). */
  share: number;
}

// Streams of sampleSeed of their own (the augmentation's is the run seed, the warm-up's seed ^ 0x5bd1e995).
const MIX_DRAW = 0x27d4eb2f;
const MIX_LINE = 0x165667b1;

/**
 * Whether line `index` of step `step` comes from the mix data: a draw seeded by (seed, step, index) from a stream
 * of its own, so every process (and a resumed run) draws the same.
 */
export function fromMix(mix: Mix, seed: number, step: number, index: number): boolean {
  return sampleSeed(seed ^ MIX_DRAW, step, index) / 2 ** 32 < mix.share;
}

/**
 * Which line of the mix data (of `size` lines) stands in for line `index` of step `step`: a second draw, uniform
 * over the whole mix data whatever its size against the training data's.
 */
export function mixLine(seed: number, step: number, index: number, size: number): number {
  return sampleSeed(seed ^ MIX_LINE, step, index) % size;
}

export type LineSource = 'train' | 'warmup' | 'mix';

/**
 * Where line `index` of step `step` comes from. The warm-up goes first: a line drawn for it is a warm-up line;
 * any other is a mix line with probability mix.share, else a training line. During the warm-up the mix thus takes
 * its share of the lines the warm-up leaves (expected shares w, (1 - w)P and (1 - w)(1 - P) at warm-up share w);
 * after it, P of every step.
 */
export function lineSource(run: { warmup?: Warmup; mix?: Mix; seed: number }, step: number, index: number): LineSource {
  if (run.warmup && fromWarmup(run.warmup, run.seed, step, index)) return 'warmup';
  if (run.mix && fromMix(run.mix, run.seed, step, index)) return 'mix';
  return 'train';
}
