/**
 * The learning rate at a point of a bounded run: `lr` until the fraction `decayFrom` of the budget is used,
 * then falling linearly to 0 at its end (linear decay suits a fixed budget: Li, Yumer & Ramanan, "Budgeted
 * Training", ICLR 2020). `used` is the fraction of the budget spent before the step, in [0, 1].
 */
export function scheduledLearningRate(lr: number, decayFrom: number | undefined, used: number): number {
  if (decayFrom === undefined || used <= decayFrom) return lr;
  return lr * Math.max(0, (1 - used) / (1 - decayFrom));
}

/**
 * The decay of the weights' moving average after `step` updates: `decay`, or less while the average is
 * young, (1 + step) / (10 + step), so that the first updates do not leave it stuck near the initial weights
 * (the warm-up of TensorFlow's ExponentialMovingAverage with num_updates).
 */
export function emaDecayAt(decay: number, step: number): number {
  return Math.min(decay, (1 + step) / (10 + step));
}

/** A moving average of the weights (--ema): validated and saved instead of them, kept in checkpoints. */
export interface MovingAverage {
  /** The decay once the average has warmed up (emaDecayAt). */
  decay: number;
  weights: Float32Array;
}

/** avg <- d avg + (1 - d) params, in place. */
export function updateEma(avg: Float32Array, params: Float32Array, d: number): void {
  const k = 1 - d;
  for (let i = 0; i < avg.length; i++) avg[i] = avg[i]! + k * (params[i]! - avg[i]!);
}
