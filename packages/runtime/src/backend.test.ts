import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { BackendError, initBackend } from './backend.js';

const saved = process.env.SCRIPTORIUM_BACKEND;
afterEach(() => {
  if (saved === undefined) delete process.env.SCRIPTORIUM_BACKEND;
  else process.env.SCRIPTORIUM_BACKEND = saved;
});

describe('initBackend', () => {
  it("'auto' falls back to wasm here and says why tensorflow was unavailable, in one line", async () => {
    delete process.env.SCRIPTORIUM_BACKEND;
    const lines: string[] = [];
    const report = await initBackend({ backend: 'auto', log: (l) => lines.push(l) });
    // tfjs-node(-gpu) cannot install on these machines (no libtensorflow download).
    expect(report.backend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(report.attempts[0]).toMatchObject({ name: 'tensorflow', ok: false });
    expect(report.attempts[0]!.reason).toMatch(/tfjs-node-gpu/);
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('\n');
    expect(lines[0]).toMatch(/^backend: wasm; not used: tensorflow: .*not installed/);
  });

  for (const name of ['wasm', 'cpu'] as const) {
    it(`'${name}' computes a small matmul and its gradient correctly`, async () => {
      delete process.env.SCRIPTORIUM_BACKEND;
      const report = await initBackend({ backend: name, log: null });
      expect(report.backend).toBe(name);
      expect(tf.getBackend()).toBe(name);
      // A = [[1,2],[3,4]], B = [[5,6],[7,8]]: AB = [[19,22],[43,50]].
      const a = tf.tensor2d([
        [1, 2],
        [3, 4],
      ]);
      const b = tf.tensor2d([
        [5, 6],
        [7, 8],
      ]);
      expect(tf.matMul(a, b).arraySync()).toEqual([
        [19, 22],
        [43, 50],
      ]);
      // d/dA sum(AB) = 1 * B^T summed over columns: row i of the gradient is [sum(B row 0), sum(B row 1)] = [11, 15].
      const g = tf.grad((x: tf.Tensor) => tf.matMul(x as tf.Tensor2D, b).sum())(a);
      expect(g.arraySync()).toEqual([
        [11, 15],
        [11, 15],
      ]);
      tf.dispose([a, b, g]);
    });
  }

  it('SCRIPTORIUM_BACKEND overrides the option', async () => {
    process.env.SCRIPTORIUM_BACKEND = 'cpu';
    const report = await initBackend({ backend: 'wasm', log: null });
    expect(report.backend).toBe('cpu');
  });

  it('an unknown backend name lists the valid names (option and environment)', async () => {
    delete process.env.SCRIPTORIUM_BACKEND;
    await expect(initBackend({ backend: 'gpu', log: null })).rejects.toThrow(
      "backend: unknown backend 'gpu' (expected one of: auto, tensorflow, wasm, cpu)",
    );
    process.env.SCRIPTORIUM_BACKEND = 'webgpu';
    await expect(initBackend({ log: null })).rejects.toThrow(/SCRIPTORIUM_BACKEND: unknown backend 'webgpu'/);
  });

  it("asking for 'tensorflow' when it is not installed says how to install it", async () => {
    delete process.env.SCRIPTORIUM_BACKEND;
    const err = await initBackend({ backend: 'tensorflow', log: null }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect((err as Error).message).toMatch(/npm install @tensorflow\/tfjs-node/);
    expect((err as Error).message).toMatch(/CUDA 11\.2 and cuDNN 8\.1/);
  });
});
