import * as tf from '@tensorflow/tfjs-core';
import { initBackend, Rng } from '@scriptorium/runtime';
import { describe, expect, it } from 'vitest';
import { collapsePath, forEachPath } from './ctc-brute-force.js';
import { greedyDecode } from './greedy-decode.js';

/** Log-softmax of one row, the plain way. */
function logSoftmax(row: number[]): number[] {
  const lse = Math.log(row.reduce((s, v) => s + Math.exp(v), 0));
  return row.map((v) => v - lse);
}

describe('greedyDecode', () => {
  it('merges repeats, drops blanks, reports the path log-prob and the frame runs (hand-worked)', () => {
    // Argmax per frame: 1 1 0 1 2 2 (blank 0) -> labels [1, 1, 2]; runs [0,2), [3,4), [4,6).
    const rows = [
      [0, 2, 1],
      [0, 3, 1],
      [2, 1, 1],
      [0, 1, 0.5],
      [0, 0, 1],
      [0.5, 0, 1],
    ];
    const [result] = greedyDecode({ data: Float32Array.from(rows.flat()), shape: [1, 6, 3] }, [6]);
    expect(result!.labels).toEqual([1, 1, 2]);
    expect(result!.spans).toEqual([
      [0, 2],
      [3, 4],
      [4, 6],
    ]);
    const best = [1, 1, 0, 1, 2, 2];
    const expected = rows.reduce((s, row, t) => s + logSoftmax(row)[best[t]!]!, 0);
    expect(result!.score).toBeCloseTo(expected, 6);
  });

  it('works with the blank at the last index and ignores frames past the length (NaN there)', () => {
    // Same argmax sequence with classes renamed 0 -> 2 (blank), 1 -> 0, 2 -> 1, then 2 NaN frames.
    const rows = [
      [2, 1, 0],
      [3, 1, 0],
      [1, 1, 2],
      [1, 0.5, 0],
      [0, 1, 0],
      [0, 1, 0.5],
      [NaN, NaN, NaN],
      [NaN, NaN, NaN],
    ];
    const [result] = greedyDecode({ data: Float32Array.from(rows.flat()), shape: [1, 8, 3] }, [6], { blank: 2 });
    expect(result!.labels).toEqual([0, 0, 1]);
    expect(result!.spans).toEqual([
      [0, 2],
      [3, 4],
      [4, 6],
    ]);
    expect(Number.isFinite(result!.score)).toBe(true);
  });

  it('finds the most probable path that brute force finds, and takes tensors too', async () => {
    await initBackend({ backend: 'cpu', log: null });
    const rng = new Rng(21);
    for (let k = 0; k < 10; k++) {
      const [T, C] = [1 + rng.int(5), 2 + rng.int(3)];
      const data = Float32Array.from({ length: T * C }, () => rng.normal() * 2);
      let bestP = -1;
      let bestPath: number[] = [];
      forEachPath(data, T, C, (path, p) => {
        if (p > bestP) [bestP, bestPath] = [p, [...path]];
      });
      const x = tf.tensor3d(data, [1, T, C]);
      const [result] = greedyDecode(x, [T]);
      x.dispose();
      expect(result!.labels).toEqual(collapsePath(bestPath, 0));
      expect(result!.score).toBeCloseTo(Math.log(bestP), 5);
    }
  });

  it('rejects a length past the time axis, naming the sample', () => {
    expect(() => greedyDecode({ data: new Float32Array(12), shape: [2, 2, 3] }, [2, 3])).toThrow(
      /logitLengths: sample 1 has length 3; expected an integer in \[0, 2\]/,
    );
  });
});
