// Shared helpers for this package's tests (not exported from the package).
import type { Rng } from '@scriptorium/runtime';

export function randomLogits(rng: Rng, n: number, scale = 2): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal() * scale);
}

export function randomLabel(rng: Rng, length: number, classes: number, blank: number): number[] {
  return Array.from({ length }, () => {
    const v = rng.int(classes - 1); // 0 .. classes-2, then shift past the blank
    return v >= blank ? v + 1 : v;
  });
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
