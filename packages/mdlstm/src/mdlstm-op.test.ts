import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@scriptorium/runtime';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CellOptions, Direction, MergeMode } from './config.js';
import { autoImplementation, mdlstm } from './mdlstm-op.js';
import { mdlstmReference, mdlstmReferenceBackward } from './reference.js';
import { DIRS, maxAbsDiff, randomArray, randomWeights, toTensors } from './test-util.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu', log: null });
});

interface Case {
  shape: [number, number, number, number];
  units: number;
  directions: Direction[];
  cell?: CellOptions;
  peephole?: boolean;
  widths?: number[];
  heights?: number[];
}

/**
 * Runs the fast op with merge 'none' ([B,H,W,D,U]) and the reference, forward and backward for
 * loss = sum(R * h), and compares outputs and gradients of x and every weight.
 */
function compare(c: Case, implementation: 'cells' | 'diagonals' | 'simd' | 'wavefront' = 'cells') {
  const [B, H, W, C] = c.shape;
  const D = c.directions.length,
    U = c.units;
  const x64 = randomArray(B * H * W * C, 7, 1);
  const w64 = randomWeights(D, C, U, 21, c.peephole);
  let mask: Float64Array | undefined;
  if (c.widths || c.heights) {
    mask = new Float64Array(B * H * W);
    for (let b = 0; b < B; b++)
      for (let i = 0; i < (c.heights?.[b] ?? H); i++)
        for (let j = 0; j < (c.widths?.[b] ?? W); j++) mask[(b * H + i) * W + j] = 1;
  }
  const ref = mdlstmReference({
    x: x64,
    shape: c.shape,
    units: U,
    directions: c.directions,
    weights: w64,
    mask,
    cell: c.cell,
  });
  const r64 = randomArray(D * B * H * W * U, 33, 1); // dL/dh in the reference layout [D, B, H, W, U]
  const refGrads = mdlstmReferenceBackward(ref, r64);

  const x = tf.tensor4d(Float32Array.from(x64), c.shape);
  const w = toTensors(w64, D, C, U);
  // R in the op's 'none' layout [B, H, W, D, U].
  const rNone = tf.tidy(() => tf.transpose(tf.tensor(Float32Array.from(r64), [D, B, H, W, U]), [1, 2, 3, 0, 4]));
  const opts = {
    directions: c.directions,
    mergeMode: 'none' as const,
    widths: c.widths,
    heights: c.heights,
    implementation,
    ...c.cell,
  };
  const before = tf.memory().numTensors;
  const out = mdlstm(x, w, opts) as tf.Tensor;
  const outRef = tf.tidy(() => tf.transpose(out, [3, 0, 1, 2, 4]));
  expect(maxAbsDiff(outRef.dataSync(), ref.h)).toBeLessThan(2e-5);
  const params = [w.kernel, w.recurrentKernel, w.bias, ...(w.peephole ? [w.peephole] : [])];
  const grads = tf.grads((...args: tf.Tensor[]) => {
    const [xx, k, rk, b, p] = args;
    const y = mdlstm(xx!, { kernel: k!, recurrentKernel: rk!, bias: b!, peephole: p }, opts) as tf.Tensor;
    return tf.sum(tf.mul(y, rNone));
  })([x, ...params]);
  expect(maxAbsDiff(grads[0]!.dataSync(), refGrads.dx)).toBeLessThan(1e-4);
  expect(maxAbsDiff(grads[1]!.dataSync(), refGrads.kernel)).toBeLessThan(1e-4);
  expect(maxAbsDiff(grads[2]!.dataSync(), refGrads.recurrentKernel)).toBeLessThan(1e-4);
  expect(maxAbsDiff(grads[3]!.dataSync(), refGrads.bias)).toBeLessThan(1e-4);
  if (c.peephole) expect(maxAbsDiff(grads[4]!.dataSync(), refGrads.peephole!)).toBeLessThan(1e-4);
  tf.dispose([out, outRef, ...grads]);
  expect(tf.memory().numTensors).toBe(before); // no leaks from the op or its gradient
  tf.dispose([x, rNone, ...params]);
}

for (const impl of ['wavefront', 'cells', 'diagonals', 'simd'] as const)
  describe(`mdlstm op (${impl}) vs the cell-by-cell reference`, () => {
    for (const shape of [
      [1, 1, 1, 2],
      [1, 1, 7, 2],
      [2, 5, 1, 1],
      [2, 3, 4, 3],
      [1, 7, 5, 2],
    ] as Array<Case['shape']>) {
      for (const d of DIRS) {
        it(`direction ${d} on ${shape[1]}x${shape[2]} (batch ${shape[0]}, ${shape[3]} channels)`, () =>
          compare({ shape, units: 2, directions: [d] }, impl));
      }
    }
    it('all four directions at once, 3 units', () =>
      compare({ shape: [2, 3, 4, 2], units: 3, directions: DIRS }, impl));
    it('bounded cell with peepholes', () =>
      compare({ shape: [1, 4, 3, 2], units: 2, directions: DIRS, peephole: true, cell: { bounded: true } }, impl));
    const otherActivations: Case = {
      shape: [1, 3, 3, 2],
      units: 2,
      directions: ['br', 'tr'],
      cell: { recurrentActivation: 'hardSigmoid', activation: 'relu' },
    };
    if (impl === 'simd') {
      it('refuses hardSigmoid gates and relu activation by name', () =>
        expect(() => compare(otherActivations, impl)).toThrow(
          /'simd' supports activation 'tanh' and recurrentActivation 'sigmoid' only \(got 'relu' and 'hardSigmoid'/,
        ));
    } else {
      it('hardSigmoid gates and relu activation', () => compare(otherActivations, impl));
    }
    it('padded samples with peepholes and the bounded cell', () =>
      compare(
        {
          shape: [2, 4, 5, 2],
          units: 2,
          directions: DIRS,
          widths: [5, 3],
          heights: [4, 2],
          peephole: true,
          cell: { bounded: true },
        },
        impl,
      ));
    it('a batch of samples with different widths and heights', () =>
      compare({ shape: [3, 4, 6, 2], units: 2, directions: DIRS, widths: [6, 2, 4], heights: [4, 3, 1] }, impl));
  });

describe('merge modes', () => {
  const [B, H, W, C, U] = [2, 3, 4, 2, 2];
  const x = () => tf.tensor4d(Float32Array.from(randomArray(B * H * W * C, 3, 1)), [B, H, W, C]);
  const w64 = randomWeights(4, C, U, 8);
  const ref = mdlstmReference({
    x: randomArray(B * H * W * C, 3, 1),
    shape: [B, H, W, C],
    units: U,
    directions: DIRS,
    weights: w64,
  });
  /** Reference value of direction k at flat position p (over B*H*W) and unit u. */
  const hv = (k: number, p: number, u: number) => ref.h[(k * B * H * W + p) * U + u]!;
  const combine: Record<Exclude<MergeMode, 'none'>, (p: number, u: number) => number[]> = {
    concat: (p) => DIRS.flatMap((_, k) => Array.from({ length: U }, (_, u) => hv(k, p, u))),
    sum: (p, u) => [hv(0, p, u) + hv(1, p, u) + hv(2, p, u) + hv(3, p, u)],
    ave: (p, u) => [(hv(0, p, u) + hv(1, p, u) + hv(2, p, u) + hv(3, p, u)) / 4],
    mul: (p, u) => [hv(0, p, u) * hv(1, p, u) * hv(2, p, u) * hv(3, p, u)],
  };
  for (const mode of ['concat', 'sum', 'ave', 'mul'] as const) {
    it(`${mode} combines the four directions`, () => {
      const xt = x(),
        wt = toTensors(w64, 4, C, U);
      const out = mdlstm(xt, wt, { mergeMode: mode }) as tf.Tensor;
      expect(out.shape).toEqual([B, H, W, mode === 'concat' ? 4 * U : U]);
      const expected: number[] = [];
      for (let p = 0; p < B * H * W; p++) {
        if (mode === 'concat') expected.push(...combine.concat(p, 0));
        else for (let u = 0; u < U; u++) expected.push(...combine[mode](p, u));
      }
      expect(maxAbsDiff(out.dataSync(), expected)).toBeLessThan(2e-5);
      tf.dispose([xt, out, wt.kernel, wt.recurrentKernel, wt.bias]);
    });
  }
  // The fused op merges (and un-merges the gradient) in its own loops; the wavefront merges with tfjs ops
  // and tfjs differentiates them: the two must agree on the gradient of every input for every mode.
  for (const mode of ['concat', 'sum', 'ave', 'mul', 'none'] as const) {
    it(`${mode}: the fused op's gradients equal those through tfjs's merge ops`, () => {
      const xt = x(),
        wt = toTensors(w64, 4, C, U);
      const gradsOf = (implementation: 'cells' | 'diagonals' | 'simd' | 'wavefront') =>
        tf.grads((xx: tf.Tensor, k: tf.Tensor, rk: tf.Tensor, b: tf.Tensor) => {
          const y = mdlstm(
            xx,
            { kernel: k, recurrentKernel: rk, bias: b },
            { mergeMode: mode, implementation, widths: [4, 3] },
          ) as tf.Tensor;
          const r = tf.tensor(Float32Array.from(randomArray(y.size, 9, 1)), y.shape);
          return tf.sum(tf.mul(y, r));
        })([xt, wt.kernel, wt.recurrentKernel, wt.bias]);
      const cells = gradsOf('cells'),
        diagonals = gradsOf('diagonals'),
        simd = gradsOf('simd'),
        wave = gradsOf('wavefront');
      for (const [name, grads] of [
        ['cells', cells],
        ['diagonals', diagonals],
        ['simd', simd],
      ] as const) {
        grads.forEach((g, k) => {
          const scale = Math.max(1e-6, ...Array.from(wave[k]!.dataSync(), Math.abs));
          expect(maxAbsDiff(g.dataSync(), wave[k]!.dataSync()) / scale, `${name} gradient ${k}`).toBeLessThan(1e-5);
        });
      }
      expect(Math.max(...Array.from(cells[0]!.dataSync(), Math.abs))).toBeGreaterThan(1e-5); // not all zero (mul: a product of 3 small h)
      tf.dispose([xt, ...cells, ...diagonals, ...simd, ...wave, wt.kernel, wt.recurrentKernel, wt.bias]);
    });
  }
});

describe('padding, states, dropout and bad input', () => {
  it('padded positions output zero and do not change any valid output', () => {
    const [C, U] = [2, 2];
    const w = toTensors(randomWeights(4, C, U, 4), 4, C, U);
    // Sample of 3x4 alone vs the same sample padded to 5x7 with garbage in the padding.
    const small = tf.tensor4d(Float32Array.from(randomArray(12 * C, 5, 1)), [1, 3, 4, C]);
    const big = tf.tidy(() => {
      const garbage = tf.tensor4d(Float32Array.from(randomArray(35 * C, 6, 5)), [1, 5, 7, C]);
      const mask = tf.pad(tf.ones([1, 3, 4, C]), [
        [0, 0],
        [0, 2],
        [0, 3],
        [0, 0],
      ]);
      return tf.add(
        tf.pad(small, [
          [0, 0],
          [0, 2],
          [0, 3],
          [0, 0],
        ]),
        tf.mul(garbage, tf.sub(1, mask)),
      );
    });
    const a = mdlstm(small, w) as tf.Tensor;
    const b = mdlstm(big, w, { widths: [4], heights: [3] }) as tf.Tensor;
    const bValid = tf.slice(b, [0, 0, 0, 0], [1, 3, 4, 4 * U]);
    expect(maxAbsDiff(a.dataSync(), bValid.dataSync())).toBeLessThan(1e-6);
    const padSum = tf.tidy(() => tf.sub(tf.sum(tf.abs(b)), tf.sum(tf.abs(bValid))).dataSync()[0]!);
    expect(Math.abs(padSum)).toBeLessThan(1e-5);
    tf.dispose([small, big, a, b, bValid, w.kernel, w.recurrentKernel, w.bias]);
  });

  it("returnState gives each direction's h and c at the far corner of each sample's own scan", () => {
    const [C, U] = [1, 2];
    const w64 = randomWeights(4, C, U, 9);
    const x64 = randomArray(2 * 3 * 5 * C, 2, 1);
    const mask = new Float64Array(30).fill(1);
    for (let i = 0; i < 3; i++) for (let j = 3; j < 5; j++) mask[15 + i * 5 + j] = 0; // sample 1 has width 3
    const ref = mdlstmReference({ x: x64, shape: [2, 3, 5, C], units: U, directions: DIRS, weights: w64, mask });
    const [out, ...states] = mdlstm(tf.tensor4d(Float32Array.from(x64), [2, 3, 5, C]), toTensors(w64, 4, C, U), {
      returnState: true,
      widths: [5, 3],
    }) as tf.Tensor[];
    expect(out!.shape).toEqual([2, 3, 5, 8]);
    const corners: Record<Direction, (w: number) => [number, number]> = {
      tl: (w) => [2, w - 1],
      tr: () => [2, 0],
      bl: (w) => [0, w - 1],
      br: () => [0, 0],
    };
    DIRS.forEach((d, k) => {
      const [h, c] = [states[2 * k]!.dataSync(), states[2 * k + 1]!.dataSync()];
      [5, 3].forEach((wb, b) => {
        const [i, j] = corners[d](wb);
        const p = ((k * 2 + b) * 3 + i) * 5 + j;
        for (let u = 0; u < U; u++) {
          expect(h[b * U + u]).toBeCloseTo(ref.h[p * U + u]!, 5);
          expect(c[b * U + u]).toBeCloseTo(ref.c[p * U + u]!, 5);
        }
      });
    });
  });

  it('returnState: gradients through the final h and c agree across the four implementations', () => {
    const [C, U] = [2, 3];
    const w64 = randomWeights(4, C, U, 12);
    const x = tf.tensor4d(Float32Array.from(randomArray(2 * 3 * 4 * C, 4, 1)), [2, 3, 4, C]);
    const w = toTensors(w64, 4, C, U);
    const gradsOf = (implementation: 'cells' | 'diagonals' | 'simd' | 'wavefront') =>
      tf.grads((xx: tf.Tensor, k: tf.Tensor, rk: tf.Tensor, b: tf.Tensor) => {
        const outs = mdlstm(
          xx,
          { kernel: k, recurrentKernel: rk, bias: b },
          { returnState: true, widths: [4, 2], implementation },
        ) as tf.Tensor[];
        // Weights on every output, so that each final h and c carries its own gradient.
        return tf.addN(
          outs.map((t, n) => tf.sum(tf.mul(t, tf.tensor(Float32Array.from(randomArray(t.size, 40 + n, 1)), t.shape)))),
        );
      })([x, w.kernel, w.recurrentKernel, w.bias]);
    const wave = gradsOf('wavefront');
    for (const impl of ['cells', 'diagonals', 'simd'] as const) {
      const g = gradsOf(impl);
      g.forEach((t, k) => {
        const scale = Math.max(1e-6, ...Array.from(wave[k]!.dataSync(), Math.abs));
        expect(maxAbsDiff(t.dataSync(), wave[k]!.dataSync()) / scale, `${impl} gradient ${k}`).toBeLessThan(1e-5);
      });
      tf.dispose(g);
    }
    tf.dispose([x, ...wave, w.kernel, w.recurrentKernel, w.bias]);
  });

  it('dropout acts only in training', () => {
    const w = toTensors(randomWeights(4, 1, 2, 1), 4, 1, 2);
    const x = tf.ones([1, 2, 3, 1]);
    const plain = mdlstm(x, w) as tf.Tensor;
    const infer = mdlstm(x, w, { dropout: 0.5 }) as tf.Tensor;
    const train = mdlstm(x, w, { dropout: 0.5, training: true, seed: 1 }) as tf.Tensor;
    expect(Array.from(infer.dataSync())).toEqual(Array.from(plain.dataSync()));
    const t = train.dataSync(),
      p = plain.dataSync();
    let zeros = 0;
    for (let i = 0; i < t.length; i++) {
      if (t[i] === 0) zeros++;
      else expect(t[i]).toBeCloseTo(p[i]! * 2, 5); // inverted dropout scales kept units by 1/(1-rate)
    }
    expect(zeros).toBeGreaterThan(0);
    expect(zeros).toBeLessThan(t.length);
  });

  it('bad input names the argument and the expected shape', () => {
    const w = toTensors(randomWeights(4, 2, 2, 1), 4, 2, 2);
    const ok = tf.zeros([1, 2, 3, 2]);
    expect(() => mdlstm(tf.zeros([2, 3, 2]), w)).toThrow(
      'mdlstm: x has shape [2,3,2] (expected rank 4: [batch, height, width, channels])',
    );
    expect(() => mdlstm(tf.zeros([1, 0, 3, 2]), w)).toThrow(/zero-size dimension/);
    expect(() => mdlstm(tf.zeros([1, 2, 3, 5]), w)).toThrow('mdlstm: x has 5 channels but the kernel was built for 2');
    expect(() => mdlstm(ok, w, { mask: tf.ones([1, 2, 2]) })).toThrow(
      'mdlstm: mask has shape [1,2,2] (expected [1,2,3])',
    );
    expect(() => mdlstm(ok, w, { widths: [1, 2] })).toThrow(
      'mdlstm: widths has 2 entries (expected one per sample, 1)',
    );
    expect(() => mdlstm(ok, w, { widths: [4] })).toThrow('mdlstm: widths[0] = 4 (expected an integer in [1, 3])');
    expect(() => mdlstm(ok, w, { directions: ['tl', 'up' as Direction] })).toThrow(/unknown direction 'up'/);
    expect(() => mdlstm(ok, w, { directions: ['tl'] })).toThrow(
      /kernel has shape \[4,2,10\] \(expected \[1, channels, 5\*units\]\)/,
    );
  });
});

describe('on the wasm backend', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', log: null });
  });
  it("'auto' runs the SIMD kernel, for 2 and 10 units", () => {
    for (const U of [2, 10]) {
      const x = tf.tensor4d(Float32Array.from(randomArray(2 * 3 * 4 * 2, 5, 1)), [2, 3, 4, 2]);
      const w = toTensors(randomWeights(4, 2, U, 2), 4, 2, U);
      const [auto, simd, cells] = (['auto', 'simd', 'cells'] as const).map(
        (implementation) => mdlstm(x, w, { implementation }) as tf.Tensor,
      );
      // The kernel computes in float32, the cells order in float64: equal to the one bit for bit, not to the other.
      expect(maxAbsDiff(auto!.dataSync(), simd!.dataSync()), `${U} units`).toBe(0);
      expect(maxAbsDiff(auto!.dataSync(), cells!.dataSync()), `${U} units`).toBeGreaterThan(0);
      tf.dispose([x, w.kernel, w.recurrentKernel, w.bias, auto!, simd!, cells!]);
    }
  });
  it("without SIMD (or with other activations), 'auto' takes the diagonals order (backend matMuls) from 4 units up and the cells order below", async () => {
    expect(autoImplementation('wasm', 4, false)).toBe('diagonals');
    expect(autoImplementation('wasm', 3, false)).toBe('cells');
    expect(autoImplementation('cpu', 50, false)).toBe('cells');
    expect(autoImplementation('wasm', 50, true)).toBe('simd');
    expect(autoImplementation('cpu', 2, true)).toBe('simd');
    expect(autoImplementation('tensorflow', 2, true)).toBe('wavefront');
    // And the fallback itself, on the wasm backend: hardSigmoid gates leave the kernel out, so 4 units use backend matMuls.
    const x = tf.ones([1, 3, 4, 2]),
      w = toTensors(randomWeights(4, 2, 4, 2), 4, 2, 4);
    const info = await tf.profile(() => mdlstm(x, w, { recurrentActivation: 'hardSigmoid' }) as tf.Tensor);
    tf.dispose([x, w.kernel, w.recurrentKernel, w.bias]);
    expect(info.kernelNames).toContain('BatchMatMul');
  });
  it("'diagonals' named explicitly still runs backend matMuls", async () => {
    const x = tf.ones([1, 3, 4, 2]),
      w = toTensors(randomWeights(4, 2, 2, 2), 4, 2, 2);
    const info = await tf.profile(() => mdlstm(x, w, { implementation: 'diagonals' }) as tf.Tensor);
    tf.dispose([x, w.kernel, w.recurrentKernel, w.bias]);
    expect(info.kernelNames).toContain('BatchMatMul');
  });
  for (const impl of ['wavefront', 'cells', 'diagonals', 'simd'] as const) {
    it(`${impl}: all four directions with different sizes equal the reference, forward and gradients`, () =>
      compare({ shape: [2, 3, 5, 2], units: 2, directions: DIRS, widths: [5, 3], heights: [3, 2] }, impl));
    it(`${impl}: bounded cell with peepholes`, () =>
      compare(
        { shape: [1, 4, 3, 2], units: 2, directions: ['tl', 'br'], peephole: true, cell: { bounded: true } },
        impl,
      ));
  }
});
