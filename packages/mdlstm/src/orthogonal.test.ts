import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@scriptorium/runtime';
import { beforeAll, describe, expect, it } from 'vitest';
import { MDLSTM } from './mdlstm-layer.js';
import { orthogonalMatrix } from './orthogonal.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu', log: null });
});

/** Largest |(A A^T - I)| (rows) or |(A^T A - I)| (columns), computed by brute force. */
function orthoError(a: Float32Array, rows: number, cols: number, byRows: boolean): number {
  const n = byRows ? rows : cols,
    len = byRows ? cols : rows;
  const el = (v: number, e: number) => (byRows ? a[v * cols + e]! : a[e * cols + v]!);
  let worst = 0;
  for (let v = 0; v < n; v++) {
    for (let w = 0; w < n; w++) {
      let dot = 0;
      for (let e = 0; e < len; e++) dot += el(v, e) * el(w, e);
      worst = Math.max(worst, Math.abs(dot - (v === w ? 1 : 0)));
    }
  }
  return worst;
}

describe('orthogonalMatrix', () => {
  it('has orthonormal rows when wide and orthonormal columns when tall', () => {
    for (const [r, c] of [
      [4, 10],
      [100, 250],
      [7, 7],
      [12, 5],
    ] as const) {
      const m = orthogonalMatrix(r, c, 3);
      expect(m.shape).toEqual([r, c]);
      expect(orthoError(m.dataSync() as Float32Array, r, c, r <= c), `${r}x${c}`).toBeLessThan(1e-5);
      m.dispose();
    }
  });

  it('is reproducible by seed and different across seeds', () => {
    const [a, b, c] = [orthogonalMatrix(6, 30, 1), orthogonalMatrix(6, 30, 1), orthogonalMatrix(6, 30, 2)];
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    expect(Array.from(a.dataSync())).not.toEqual(Array.from(c.dataSync()));
    tf.dispose([a, b, c]);
  });

  it('gives each direction of a seeded MDLSTM its own recurrent kernel', () => {
    const layer = new MDLSTM({ units: 3, seed: 5 });
    layer.build([1, 4, 4, 2]);
    const [, rk] = layer.getWeights() as tf.Tensor[];
    const per = tf.unstack(rk!).map((t) => Array.from(t.dataSync()));
    expect(new Set(per.map((p) => p.join(','))).size).toBe(4);
    expect(orthoError(Float32Array.from(per[0]!), 6, 15, true)).toBeLessThan(1e-5);
  });
});
