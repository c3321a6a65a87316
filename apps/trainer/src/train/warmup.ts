import { sampleSeed } from '@scriptorium/data';

/**
 * A curriculum (--warmup-data SPEC --warmup-steps N): each line of the first N steps comes from easier data with a
 * probability that falls linearly from 1 at step 1 to 0 after step N. CTC training starts on an all-blank plateau,
 * and the harder the lines, the longer it stays there; on short, clean lines a model leaves it within about 500
 * steps, then learns the hard lines from a model that already reads.
 */
export interface Warmup {
  /** The easier data, a spec as --data takes it; generated data opens with the training data's count and seed. */
  spec: string;
  steps: number;
}

/** The expected share of warm-up lines in step `step` (1-based). */
export function warmupShare(warmup: Warmup, step: number): number {
  return Math.min(1, Math.max(0, 1 - (step - 1) / warmup.steps));
}

/**
 * Whether line `index` of step `step` comes from the warm-up data: a draw of its own, seeded by (seed, step, index)
 * like the line's augmentation but from another stream, so every process (and a resumed run) draws the same.
 */
export function fromWarmup(warmup: Warmup, seed: number, step: number, index: number): boolean {
  const share = warmupShare(warmup, step);
  return share > 0 && sampleSeed(seed ^ 0x5bd1e995, step, index) / 2 ** 32 < share;
}
