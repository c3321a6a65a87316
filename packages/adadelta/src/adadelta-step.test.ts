import { describe, expect, it } from 'vitest';
import { adadeltaStep, adadeltaStepReference } from './adadelta-step.js';
import { createAdadeltaState, deserializeAdadeltaState, serializeAdadeltaState } from './state.js';

/** Deterministic pseudo-random gradients (LCG), so tests need no RNG package. */
function gradients(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32 - 0.5) * 2 * scale;
  }
  return out;
}

describe('adadeltaStep', () => {
  it('matches two hand-worked steps (rho 0.95, eps 1e-6, lr 1)', () => {
    const x = new Float32Array([1]);
    const state = createAdadeltaState(1);
    // Step 1, g = 0.5:
    //   E[g^2]  = 0.05 * 0.25                          = 0.0125
    //   delta   = sqrt(0 + 1e-6) / sqrt(0.0125 + 1e-6) * 0.5 = 0.001 / 0.111807... * 0.5 = 0.00447195708
    //   E[dx^2] = 0.05 * 0.00447195708^2               = 9.9992e-7
    //   x       = 1 - 0.00447195708                    = 0.99552804292
    adadeltaStep(x, new Float32Array([0.5]), state);
    expect(state.accumGrad[0]).toBeCloseTo(0.0125, 7);
    expect(state.accumDelta[0]).toBeCloseTo(9.9992e-7, 10);
    expect(x[0]).toBeCloseTo(0.99552804292, 6);
    // Step 2, g = -0.25:
    //   E[g^2]  = 0.95 * 0.0125 + 0.05 * 0.0625        = 0.015
    //   delta   = sqrt(9.9992e-7 + 1e-6) / sqrt(0.015 + 1e-6) * -0.25 = -0.0028865974
    //   E[dx^2] = 0.95 * 9.9992e-7 + 0.05 * 0.0028865974^2 = 1.36654623e-6
    //   x       = 0.99552804292 + 0.0028865974         = 0.99841464032
    adadeltaStep(x, new Float32Array([-0.25]), state);
    expect(state.accumGrad[0]).toBeCloseTo(0.015, 7);
    expect(state.accumDelta[0]).toBeCloseTo(1.36654623e-6, 10);
    expect(x[0]).toBeCloseTo(0.99841464032, 6);
    expect(state.iterations).toBe(2);
  });

  it('uses the new E[g^2]: the first step is not the plain gradient (unlike tfjs AdadeltaOptimizer)', () => {
    const x = new Float32Array([0]);
    adadeltaStep(x, new Float32Array([1]), createAdadeltaState(1));
    // With the previous (zero) E[g^2] the step would be sqrt(eps)/sqrt(eps) * 1 = 1.
    // With the new one: sqrt(1e-6)/sqrt(0.05 + 1e-6) = 0.0044721...
    expect(x[0]).toBeCloseTo(-0.00447209, 6);
  });

  for (const [label, config] of [
    ['defaults', {}],
    ['lr 0.5, rho 0.9', { learningRate: 0.5, rho: 0.9 }],
    ['coupled weight decay', { weightDecay: 0.01 }],
    ['decoupled weight decay', { weightDecay: 0.01, decoupledWeightDecay: true }],
    ['global-norm clipping', { clipNorm: 0.5 }],
  ] as const) {
    it(`equals the float64 reference over 100 steps (${label})`, () => {
      const n = 37;
      const params = gradients(n, 1);
      const ref = Array.from(params);
      const state = createAdadeltaState(n);
      const refState = { accumGrad: new Array(n).fill(0), accumDelta: new Array(n).fill(0) };
      for (let step = 0; step < 100; step++) {
        const g = gradients(n, 100 + step, 3);
        adadeltaStep(params, g, state, config);
        adadeltaStepReference(ref, Array.from(g), refState, config);
      }
      for (let i = 0; i < n; i++) expect(params[i]).toBeCloseTo(ref[i]!, 5);
    });
  }

  it('clipping scales the whole gradient to the given global norm', () => {
    // g = [3, 4] has norm 5; clipped to norm 1 it is [0.6, 0.8]. The first step is then
    // -sqrt(eps)/sqrt(0.05 g^2 + eps) * g for each element.
    const x = new Float32Array(2);
    const r = adadeltaStep(x, new Float32Array([3, 4]), createAdadeltaState(2), { clipNorm: 1 });
    expect(r.gradNorm).toBeCloseTo(5, 6);
    for (const [i, g] of [
      [0, 0.6],
      [1, 0.8],
    ] as const) {
      expect(x[i]).toBeCloseTo((-Math.sqrt(1e-6) / Math.sqrt(0.05 * g * g + 1e-6)) * g, 7);
    }
  });

  it('coupled and decoupled weight decay shrink a parameter with zero gradient', () => {
    const a = new Float32Array([2]),
      b = new Float32Array([2]);
    adadeltaStep(a, new Float32Array([0]), createAdadeltaState(1), { weightDecay: 0.1 });
    adadeltaStep(b, new Float32Array([0]), createAdadeltaState(1), { weightDecay: 0.1, decoupledWeightDecay: true });
    // Coupled: g = 0.1 * 2 = 0.2 goes through Adadelta: step sqrt(1e-6)/sqrt(0.05*0.04+1e-6)*0.2 = 0.0044710.
    expect(a[0]).toBeCloseTo(2 - (0.001 / Math.sqrt(0.002001)) * 0.2, 6);
    // Decoupled: x -= lr * wd * x = 2 - 0.2.
    expect(b[0]).toBeCloseTo(1.8, 6);
  });

  it('a NaN or infinite gradient throws naming the first bad index, leaving everything untouched', () => {
    const x = new Float32Array([1, 2, 3]);
    const state = createAdadeltaState(3);
    state.accumGrad.fill(0.5);
    expect(() => adadeltaStep(x, new Float32Array([0.1, NaN, Infinity]), state)).toThrow(
      'adadelta: gradient at index 1 is NaN (expected a finite number); nothing was changed',
    );
    expect(Array.from(x)).toEqual([1, 2, 3]);
    expect(Array.from(state.accumGrad)).toEqual([0.5, 0.5, 0.5]);
    expect(state.iterations).toBe(0);
  });

  it("onNonFinite 'skip' reports the bad index and changes nothing", () => {
    const x = new Float32Array([1, 2]);
    const state = createAdadeltaState(2);
    const r = adadeltaStep(x, new Float32Array([0.1, -Infinity]), state, { onNonFinite: 'skip' });
    expect(r).toMatchObject({ skipped: true, badIndex: 1 });
    expect(Array.from(x)).toEqual([1, 2]);
    expect(Array.from(state.accumGrad)).toEqual([0, 0]);
    expect(state.iterations).toBe(0);
  });

  it('rejects bad hyperparameters and mismatched buffers by name', () => {
    const x = new Float32Array(2),
      g = new Float32Array(2),
      s = createAdadeltaState(2);
    expect(() => adadeltaStep(x, g, s, { rho: 1.5 })).toThrow(
      'adadelta: rho = 1.5 is invalid (expected a number in [0, 1])',
    );
    expect(() => adadeltaStep(x, g, s, { rho: -0.1 })).toThrow(/rho = -0.1/);
    expect(() => adadeltaStep(x, g, s, { epsilon: 0 })).toThrow(
      'adadelta: epsilon = 0 is invalid (expected a finite number > 0)',
    );
    expect(() => adadeltaStep(x, g, s, { learningRate: -1 })).toThrow(/learningRate = -1/);
    expect(() => adadeltaStep(x, new Float32Array(3), s)).toThrow('adadelta: grads has 3 values, params 2');
    expect(() => adadeltaStep(x, g, createAdadeltaState(5))).toThrow(/state holds 5\/5 values, params 2/);
    expect(s.iterations).toBe(0);
  });
});

describe('state serialisation', () => {
  it('save mid-training, load, continue == uninterrupted, bit for bit', () => {
    const n = 50;
    const a = gradients(n, 9),
      b = a.slice();
    const sa = createAdadeltaState(n);
    let sb = createAdadeltaState(n);
    for (let step = 0; step < 20; step++) {
      if (step === 10) sb = deserializeAdadeltaState(serializeAdadeltaState(sb).slice());
      adadeltaStep(a, gradients(n, step), sa);
      adadeltaStep(b, gradients(n, step), sb);
    }
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(Array.from(sb.accumDelta)).toEqual(Array.from(sa.accumDelta));
    expect(sb.iterations).toBe(20);
  });

  it('refuses bytes that are not a state, of another version or truncated', () => {
    const bytes = serializeAdadeltaState(createAdadeltaState(4));
    expect(() => deserializeAdadeltaState(bytes.slice(0, 10))).toThrow(/too short/);
    expect(() => deserializeAdadeltaState(bytes.slice(0, bytes.length - 4))).toThrow(/expected 52 for 4 parameters/);
    const other = bytes.slice();
    other[4] = 9;
    expect(() => deserializeAdadeltaState(other)).toThrow('adadelta state: version 9 is not supported (expected 1)');
    other[0] = 0;
    expect(() => deserializeAdadeltaState(other)).toThrow(/bad magic/);
  });
});
