import * as tf from '@tensorflow/tfjs-core';
import { initBackend, Rng } from '@scriptorium/runtime';
import { describe, expect, it } from 'vitest';
import { ctcForwardBackward } from './ctc-forward-backward.js';
import { ctcLoss, type CtcLossOptions } from './ctc-loss.js';

const [B, T, C] = [3, 7, 5];
const labels = [[1, 2, 2], [4], []];
const labelLengths = [3, 1, 0];
const logitLengths = [7, 4, 6];

function randomLogits(seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: B * T * C }, () => rng.normal() * 2);
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-6): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    const scale = Math.max(1, Math.abs(expected[i]!));
    expect(Math.abs(actual[i]! - expected[i]!) / scale).toBeLessThan(tol);
  }
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`ctcLoss on the ${backend} backend`, () => {
    it('reductions none / sum / mean (each loss over its label length, empty counts 1, then batch mean)', async () => {
      await initBackend({ backend, log: null });
      const data = randomLogits(1);
      const ref = ctcForwardBackward({ logits: data, shape: [B, T, C], labels, logitLengths });
      const before = tf.memory().numTensors;
      const x = tf.tensor3d(data, [B, T, C]);
      const none = ctcLoss({ logits: x, labels, logitLengths, reduction: 'none' });
      const sum = ctcLoss({ logits: x, labels, logitLengths, reduction: 'sum' });
      const mean = ctcLoss({ logits: x, labels, logitLengths });
      expect(none.shape).toEqual([B]);
      expectClose(none.dataSync(), ref.loss);
      expectClose(sum.dataSync(), [ref.loss[0]! + ref.loss[1]! + ref.loss[2]!]);
      expectClose(mean.dataSync(), [(ref.loss[0]! / 3 + ref.loss[1]! / 1 + ref.loss[2]! / 1) / 3]);
      tf.dispose([x, none, sum, mean]);
      expect(tf.memory().numTensors).toBe(before);
    });

    it('gradient through tf.grad: per-sample dy for none, label-length weights for mean; no leaked tensors', async () => {
      await initBackend({ backend, log: null });
      const data = randomLogits(2);
      const ref = ctcForwardBackward({ logits: data, shape: [B, T, C], labels, logitLengths });
      const x = tf.tensor3d(data, [B, T, C]);
      const dy = tf.tensor1d([0.5, -2, 3]);
      const before = tf.memory().numTensors;
      const perSample = (v: tf.Tensor) =>
        ctcLoss({ logits: v as tf.Tensor3D, labels, logitLengths, reduction: 'none' });
      const gNone = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(perSample(v), dy)))(x);
      const gMean = tf.grad((v: tf.Tensor) => ctcLoss({ logits: v as tf.Tensor3D, labels, logitLengths }))(x);
      expect(tf.memory().numTensors).toBe(before + 2);
      const wNone = [0.5, -2, 3];
      const wMean = [1 / (3 * 3), 1 / 3, 1 / 3];
      const expectNone = ref.grad.map((g, i) => g * wNone[Math.floor(i / (T * C))]!);
      const expectMean = ref.grad.map((g, i) => g * wMean[Math.floor(i / (T * C))]!);
      expectClose(gNone.dataSync(), expectNone, 1e-6);
      expectClose(gMean.dataSync(), expectMean, 1e-6);
      tf.dispose([x, dy, gNone, gMean]);
    });

    it('gradient weights applied in the forward pass: sum (dy 1), mean times 3 (dy 3), and a sample in log space', async () => {
      await initBackend({ backend, log: null });
      const data = randomLogits(7);
      // Sample 0's frame 2 puts class 2 (in its label) 700 below the rest: that sample goes to the log-space path,
      // whose gradient gets the weight 1 / (3 * 3) as well.
      for (let c = 0; c < C; c++) data[2 * C + c] = c === 2 ? -700 : 0;
      const ref = ctcForwardBackward({ logits: data, shape: [B, T, C], labels, logitLengths });
      expect(Number.isFinite(ref.loss[0])).toBe(true);
      const x = tf.tensor3d(data, [B, T, C]);
      const before = tf.memory().numTensors;
      const gSum = tf.grad((v: tf.Tensor) =>
        ctcLoss({ logits: v as tf.Tensor3D, labels, logitLengths, reduction: 'sum' }),
      )(x);
      const gMean3 = tf.grad((v: tf.Tensor) => tf.mul(ctcLoss({ logits: v as tf.Tensor3D, labels, logitLengths }), 3))(
        x,
      );
      expect(tf.memory().numTensors).toBe(before + 2);
      const wMean3 = [3 / (3 * 3), 3 / 3, 3 / 3]; // 3 * 1 / (batch * max(label length, 1))
      expectClose(gSum.dataSync(), ref.grad, 1e-6);
      expectClose(
        gMean3.dataSync(),
        ref.grad.map((g, i) => g * wMean3[Math.floor(i / (T * C))]!),
        1e-6,
      );
      tf.dispose([x, gSum, gMean3]);
    });
  });
}

describe('ctcLoss on wasm, where the gradient array is reused from one step to the next', () => {
  it('a step after one with other lengths gets no stale values (padding frames and an infeasible sample are 0)', async () => {
    await initBackend({ backend: 'wasm', log: null });
    const x = tf.tensor3d(randomLogits(8), [B, T, C]);
    const steps: Array<[number[][], number[]]> = [
      [labels, [7, 7, 7]],
      [labels, logitLengths], // shorter: frames past each length must read 0, not the previous step's gradient
      [
        [[1, 1, 1], [4], []],
        [3, 4, 6],
      ], // sample 0 infeasible (needs 5 frames): all 0
      [
        [[1, 1, 1], [4], []],
        [3, 4, 6],
      ], // the same step twice: the same gradient
    ];
    const seen: Float32Array[] = [];
    for (const [stepLabels, lengths] of steps) {
      const f = (v: tf.Tensor) =>
        ctcLoss({ logits: v as tf.Tensor3D, labels: stepLabels, logitLengths: lengths, zeroInfinity: true });
      const g = tf.grad(f)(x);
      const ref = ctcForwardBackward({
        logits: x.dataSync() as Float32Array,
        shape: [B, T, C],
        labels: stepLabels,
        logitLengths: lengths,
      });
      const w = stepLabels.map((l) => 1 / (B * Math.max(l.length, 1)));
      const got = g.dataSync() as Float32Array;
      expectClose(
        got,
        ref.grad.map((v, i) => v * w[Math.floor(i / (T * C))]!),
        1e-6,
      );
      seen.push(got.slice());
      g.dispose();
    }
    expect(Array.from(seen[3]!)).toEqual(Array.from(seen[2]!));
    expect(seen[2]!.subarray(0, T * C).every((v) => v === 0)).toBe(true);
    x.dispose();
  });
});

describe('ctcLoss inputs', () => {
  it('accepts padded tensor, padded Int32Array, ragged arrays, and tensor lengths, with the same result', async () => {
    await initBackend({ backend: 'cpu', log: null });
    const x = tf.tensor3d(randomLogits(3), [B, T, C]);
    const padded = [
      [1, 2, 2],
      [4, 9, 9],
      [7, 7, 7],
    ]; // values past each length are ignored
    const expected = ctcLoss({ logits: x, labels, logitLengths, reduction: 'none' }).dataSync();
    const forms = [
      ctcLoss({
        logits: x,
        labels: tf.tensor2d(padded, [3, 3], 'int32'),
        labelLengths,
        logitLengths,
        reduction: 'none',
      }),
      ctcLoss({
        logits: x,
        labels: Int32Array.from(padded.flat()),
        labelLengths: tf.tensor1d(labelLengths, 'int32'),
        logitLengths,
        reduction: 'none',
      }),
      ctcLoss({
        logits: x,
        labels: padded,
        labelLengths,
        logitLengths: tf.tensor1d(logitLengths, 'int32'),
        reduction: 'none',
      }),
    ];
    for (const f of forms) expect(Array.from(f.dataSync())).toEqual(Array.from(expected));
  });

  it('zeroInfinity: an infeasible sample gives 0 and zero gradient instead of +Infinity', async () => {
    await initBackend({ backend: 'cpu', log: null });
    const x = tf.tensor3d(randomLogits(4), [B, T, C]);
    const infeasible = [[1, 1, 1], [4], []]; // [1,1,1] needs 5 frames; sample 0 has 3
    const lengths = [3, 4, 6];
    const plain = ctcLoss({ logits: x, labels: infeasible, logitLengths: lengths, reduction: 'none' }).dataSync();
    expect(plain[0]).toBe(Infinity);
    const zeroed = ctcLoss({
      logits: x,
      labels: infeasible,
      logitLengths: lengths,
      reduction: 'none',
      zeroInfinity: true,
    });
    expect(zeroed.dataSync()[0]).toBe(0);
    expect(zeroed.dataSync()[1]).toBe(plain[1]);
    const g = tf.grad((v: tf.Tensor) =>
      ctcLoss({ logits: v as tf.Tensor3D, labels: infeasible, logitLengths: lengths }),
    )(x);
    const gv = g.dataSync();
    expect(gv.some(Number.isNaN)).toBe(false);
    expect(gv.subarray(0, T * C).every((v) => v === 0)).toBe(true);
  });

  it('chains: the gradient w.r.t. a weight matrix before the logits is x^T times the logit gradient', async () => {
    await initBackend({ backend: 'cpu', log: null });
    const rng = new Rng(5);
    const feats = tf.tensor2d(
      Array.from({ length: B * T * 4 }, () => rng.normal()),
      [B * T, 4],
    );
    const w = tf.variable(
      tf.tensor2d(
        Array.from({ length: 4 * C }, () => rng.normal()),
        [4, C],
      ),
    );
    const f = () =>
      ctcLoss({ logits: tf.reshape(tf.matMul(feats, w), [B, T, C]) as tf.Tensor3D, labels, logitLengths }) as tf.Scalar;
    const { grads } = tf.variableGrads(f);
    const logits = tf.reshape(tf.matMul(feats, w), [B, T, C]) as tf.Tensor3D;
    const gLogits = tf.grad((v: tf.Tensor) => ctcLoss({ logits: v as tf.Tensor3D, labels, logitLengths }))(logits);
    const expected = tf.matMul(feats, tf.reshape(gLogits, [B * T, C]), true, false);
    expectClose(grads[w.name]!.dataSync(), expected.dataSync(), 1e-5);
  });
});

describe('ctcLoss bad input', () => {
  const padded = Int32Array.from([1, 2, 3, 4, 1, 1]); // [3, 2]
  const cases: Array<[string, () => Partial<CtcLossOptions>, RegExp]> = [
    ['padded labels without labelLengths', () => ({ labels: padded }), /labelLengths: required when labels are padded/],
    [
      'a label length past the padded width',
      () => ({ labels: padded, labelLengths: [2, 3, 1] }),
      /labelLengths: sample 1 has length 3; expected an integer in \[0, 2\] \(the maxLabelLength of labels\)/,
    ],
    [
      'a label length past its row',
      () => ({ labels: [[1], [2, 3], []], labelLengths: [1, 3, 0] }),
      /labelLengths: sample 1 has length 3; labels\[1\] has only 2/,
    ],
    [
      'a negative label length',
      () => ({ labels: [[1], [2, 3], []], labelLengths: [1, -2, 0] }),
      /labelLengths: sample 1 has length -2/,
    ],
    [
      'a non-integer label in a float tensor',
      () => ({ labels: tf.tensor2d([[1], [2.5], [3]]), labelLengths: [1, 1, 1] }),
      /labels: sample 1, position 0 has value 2.5/,
    ],
    [
      'a label equal to the blank',
      () => ({ blank: 3 }),
      /labels: sample 2, position 0 has value 3; expected an integer label in \[0, 5\) other than the blank \(3\)/,
    ],
    [
      'a label tensor of another batch',
      () => ({ labels: tf.tensor2d([[1], [2]], [2, 1], 'int32'), labelLengths: [1, 1] }),
      /labels: tensor of shape \[2, 1\]; expected \[3, maxLabelLength\]/,
    ],
    ['ragged labels of another batch', () => ({ labels: [[1], [2]] }), /labels: has 2 samples; expected 3/],
    [
      'a logit length past the time axis',
      () => ({ logitLengths: [7, 8, 7] }),
      /logitLengths: sample 1 has length 8; expected an integer in \[0, 7\]/,
    ],
    [
      'logits of rank 2',
      () => ({ logits: tf.zeros([3, 5]) as unknown as tf.Tensor3D }),
      /logits: got \[3, 5\]; expected a tensor \[batch, time, classes\]/,
    ],
    ['an unknown reduction', () => ({ reduction: 'avg' as 'sum' }), /reduction: 'avg' is not one of/],
  ];
  for (const [name, patch, message] of cases) {
    it(`rejects ${name}`, async () => {
      await initBackend({ backend: 'cpu', log: null });
      tf.tidy(() => {
        const options: CtcLossOptions = {
          logits: tf.zeros([B, T, C]) as tf.Tensor3D,
          labels: [[1], [2], [3]],
          logitLengths: [7, 7, 7],
          ...patch(),
        };
        expect(() => ctcLoss(options)).toThrow(message);
      });
    });
  }
});
