import { Rng } from '@scriptorium/runtime';
import { describe, expect, it } from 'vitest';
import { latticeSoftmax } from './lattice-softmax.js';

/** Softmax of one row with Math.exp: the slow obvious reference. */
function softmax(row: ArrayLike<number>): number[] {
  const max = Math.max(...Array.from(row));
  const e = Array.from(row, (v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

describe('latticeSoftmax', () => {
  const [T, C] = [3, 6];
  const classes = Int32Array.from([0, 4, 2]); // blank first, then the label's distinct classes

  it('writes softmax * gradScale to every class and the lattice classes softmax to emission, from an offset', () => {
    const rng = new Rng(1);
    const x = Float32Array.from({ length: (T + 1) * C }, () => rng.normal() * 4);
    const emission = new Float64Array(T * 3);
    const grad = new Float32Array((T + 1) * C);
    expect(latticeSoftmax(x, C, T, C, classes, 3, new Float64Array(C), emission, grad, 0.25)).toBe(true);
    expect(grad.subarray(0, C).every((g) => g === 0)).toBe(true); // before the offset: untouched
    for (let t = 0; t < T; t++) {
      const p = softmax(x.subarray((t + 1) * C, (t + 2) * C));
      for (let c = 0; c < C; c++) expect(grad[(t + 1) * C + c]).toBeCloseTo(p[c]! * 0.25, 7);
      for (let k = 0; k < 3; k++) expect(Math.abs(emission[t * 3 + k]! / p[classes[k]!]! - 1)).toBeLessThan(1e-14);
    }
  });

  it('refuses (false) a lattice class more than 600 below its frame maximum, or a NaN logit; other classes may be', () => {
    const run = (row: number[]) =>
      latticeSoftmax(Float32Array.from(row), 0, 1, C, classes, 3, new Float64Array(C), new Float64Array(3), null, 1);
    expect(run([0, 0, 0, 0, -599, 0])).toBe(true); // class 4 (in the lattice) 599 below
    expect(run([0, 0, 0, 0, -601, 0])).toBe(false); // 601 below: e^-601 is too close to underflow
    expect(run([0, -1000, 0, -Infinity, 0, 0])).toBe(true); // classes 1 and 3 are not in the lattice
    expect(run([0, 0, 0, NaN, 0, 0])).toBe(false);
  });
});
