import { expNonPositive } from './fast-exp.js';

/**
 * A class of the lattice more than 600 below its frame's largest logit, exp(x - max) < e^-600 ~ 1e-261, is too close
 * to float64 underflow for the scaled recursions.
 */
const MIN_RELATIVE_PROBABILITY = Math.exp(-600);

/**
 * The softmax pass of the scaled forward-backward, once per logit, for `frames` rows of `classes` values starting
 * at `offset` in `x` (row-major [frames, classes]), in float64:
 * - `grad` (when given) gets softmax * gradScale at the same positions: the gradient of every class outside the
 *   lattice, and the first term of the others;
 * - `emission[t * K + k]` gets the softmax of class `latticeClasses[k]` at frame t, for k < K.
 * `row` is scratch space of `classes` values. Returns false, leaving the outputs part-written, where a frame has a
 * lattice class more than 600 below its largest logit (or a NaN or infinite logit): its probability could
 * underflow, and the caller goes to log space.
 */
export function latticeSoftmax(
  x: Float32Array | Float64Array,
  offset: number,
  frames: number,
  classes: number,
  latticeClasses: Int32Array,
  K: number,
  row: Float64Array,
  emission: Float64Array,
  grad: Float32Array | null,
  gradScale: number,
): boolean {
  for (let t = 0; t < frames; t++) {
    const r = offset + t * classes;
    let max = -Infinity;
    for (let c = 0; c < classes; c++) {
      const v = x[r + c];
      if (v > max) max = v;
    }
    let sum = 0;
    for (let c = 0; c < classes; c++) {
      const v = expNonPositive(x[r + c] - max);
      row[c] = v;
      sum += v;
    }
    const inv = 1 / sum;
    if (!(inv < Infinity)) return false; // NaN
    if (grad) {
      const g = inv * gradScale;
      for (let c = 0; c < classes; c++) grad[r + c] = row[c] * g;
    }
    const e = t * K;
    for (let k = 0; k < K; k++) {
      const v = row[latticeClasses[k]];
      if (!(v >= MIN_RELATIVE_PROBABILITY)) return false;
      emission[e + k] = v * inv;
    }
  }
  return true;
}
