import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@scriptorium/runtime';
import { describe, expect, it } from 'vitest';
import { readFloat32 } from './tensor-data.js';

describe('readFloat32', () => {
  const values = [1.5, -2, 3.25, 0, 7, -0.5];

  it('on wasm: the values, as a view of the wasm heap (no copy), for tensors and reshaped tensors', async () => {
    await initBackend({ backend: 'wasm', log: null });
    const x = tf.tensor3d(values, [1, 2, 3]);
    const view = readFloat32(x);
    expect(Array.from(view)).toEqual(values);
    expect(view.buffer.byteLength).toBeGreaterThan(view.byteLength); // a window on the heap, not a 24-byte copy
    const r = tf.reshape(x, [3, 2]);
    expect(Array.from(readFloat32(r))).toEqual(values);
    tf.dispose([x, r]);
  });

  it('on cpu, and for a tensor made on cpu read while wasm is active: the values (dataSync)', async () => {
    await initBackend({ backend: 'cpu', log: null });
    const x = tf.tensor3d(values, [1, 2, 3]);
    expect(Array.from(readFloat32(x))).toEqual(values);
    await initBackend({ backend: 'wasm', log: null });
    expect(Array.from(readFloat32(x))).toEqual(values);
    x.dispose();
  });
});
