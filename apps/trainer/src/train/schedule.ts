/**
 * The learning rate at a point of a bounded run: `lr` until the fraction `decayFrom` of the budget is used,
 * then falling linearly to 0 at its end (linear decay suits a fixed budget: Li, Yumer & Ramanan, "Budgeted
 * Training", ICLR 2020). `used` is the fraction of the budget spent before the step, in [0, 1].
 */
export function scheduledLearningRate(lr: number, decayFrom: number | undefined, used: number): number {
  if (decayFrom === undefined || used <= decayFrom) return lr;
  return lr * Math.max(0, (1 - used) / (1 - decayFrom));
}
