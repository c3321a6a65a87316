import { expNonPositive } from './fast-exp.js';

/**
 * Row-wise log-softmax in float64 over `frames` rows of `classes` values that start at `offset` in `x`
 * (row-major [frames, classes]); results go to `out` from index 0. Stable: the row maximum is subtracted first.
 */
export function logSoftmaxRows(
  x: ArrayLike<number>,
  offset: number,
  frames: number,
  classes: number,
  out: Float64Array,
): void {
  for (let t = 0; t < frames; t++) {
    const row = offset + t * classes;
    const lse = rowLogSumExp(x, row, classes);
    for (let c = 0; c < classes; c++) out[t * classes + c] = x[row + c] - lse;
  }
}

function rowLogSumExp(x: ArrayLike<number>, row: number, classes: number): number {
  let max = -Infinity;
  for (let c = 0; c < classes; c++) if (x[row + c] > max) max = x[row + c];
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (let c = 0; c < classes; c++) sum += expNonPositive(x[row + c] - max);
  return max + Math.log(sum);
}
