import { describe, expect, it } from 'vitest';
import { compileKernel, kernelModuleText } from '../../assembly/build.js';
import { flipsOf, type CellOptions, type Direction } from '../config.js';
import { mdlstmReference, mdlstmReferenceBackward } from '../reference.js';
import { DIRS, randomArray, randomWeights } from '../test-util.js';
import {
  simdActivation,
  simdAvailable,
  simdBackward,
  simdForward,
  simdSupports,
  simdUnavailableReason,
} from './mdlstm-simd.js';
import { MDLSTM_SIMD_WASM_BASE64 } from './mdlstm-simd-wasm.js';

// Node 20 has WebAssembly SIMD; the kernel's tests are meaningless without it, so this is checked, not assumed.
it('WebAssembly SIMD is available here', () => {
  expect(simdUnavailableReason()).toBe('');
  expect(simdAvailable()).toBe(true);
});

describe('the committed kernel module', () => {
  it('is the build of assembly/mdlstm-simd.ts (run `npm run build:wasm` after editing the kernel)', async () => {
    const text = kernelModuleText(await compileKernel());
    const committed = kernelModuleText(Uint8Array.from(atob(MDLSTM_SIMD_WASM_BASE64), (ch) => ch.charCodeAt(0)));
    expect(committed === text).toBe(true);
  });
});

/** Max |simd(v) - exact(v)| (relative to |exact| when `relative`) over a grid of float32 inputs. */
function maxError(
  kind: 'exp' | 'sigmoid' | 'tanh',
  exact: (v: number) => number,
  from: number,
  to: number,
  step: number,
  relative = false,
): number {
  const n = Math.round((to - from) / step) + 1;
  const v = Float32Array.from({ length: n }, (_, k) => from + k * step);
  const y = simdActivation(kind, v);
  let worst = 0;
  for (let k = 0; k < n; k++) {
    const e = exact(v[k]!); // from the float32 input itself: only the kernel's own error is measured
    worst = Math.max(worst, Math.abs(y[k]! - e) / (relative ? Math.abs(e) : 1));
  }
  return worst;
}

describe('vectorised activations against Math', () => {
  // Stated bounds: exp 2e-7 relative, sigmoid and tanh 1.5e-7 absolute, on [-30, 30]. Float32 itself rounds
  // to 6e-8 relative (half an ulp); the Taylor remainder of e^r on |r| <= ln2/2 is below 6e-9; the float32
  // operations after it add an ulp or so. Measured when written: 9.2e-8, 8.8e-8 and 8.6e-8.
  it('exp is within 2e-7 relative of Math.exp on [-30, 30] (step 1e-3)', () =>
    expect(maxError('exp', Math.exp, -30, 30, 1e-3, true)).toBeLessThan(2e-7));
  it('sigmoid is within 1.5e-7 of 1 / (1 + Math.exp(-a)) on [-30, 30] (step 1e-3)', () =>
    expect(maxError('sigmoid', (a) => 1 / (1 + Math.exp(-a)), -30, 30, 1e-3)).toBeLessThan(1.5e-7));
  it('tanh is within 1.5e-7 of Math.tanh on [-30, 30] (step 1e-3), and near 0 (step 1e-6)', () => {
    expect(maxError('tanh', Math.tanh, -30, 30, 1e-3)).toBeLessThan(1.5e-7);
    expect(maxError('tanh', Math.tanh, -1e-3, 1e-3, 1e-6)).toBeLessThan(1.5e-7);
  });
  it('saturates without overflow far outside [-30, 30]', () => {
    const v = Float32Array.from([-1e30, -200, -88.5, 88.5, 200, 1e30]);
    expect(Array.from(simdActivation('sigmoid', v))).toEqual(Array.from(v, (a) => expect.closeTo(a < 0 ? 0 : 1, 7)));
    expect(Array.from(simdActivation('tanh', v))).toEqual(Array.from(v, (a) => (a < 0 ? -1 : 1)));
    expect(simdActivation('exp', v).every(Number.isFinite)).toBe(true);
  });
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

/** Every element of `a` within tol of `ref`, relative to the largest |ref| when that exceeds 1. */
function expectClose(a: ArrayLike<number>, ref: ArrayLike<number>, tol: number, what: string): void {
  expect(a.length, what).toBe(ref.length);
  let scale = 1,
    worst = 0;
  for (let k = 0; k < ref.length; k++) scale = Math.max(scale, Math.abs(ref[k]!));
  for (let k = 0; k < ref.length; k++) worst = Math.max(worst, Math.abs(a[k]! - ref[k]!));
  expect(worst / scale, what).toBeLessThan(tol);
}

/** [cells, D, U] -> [D, cells, U]. */
function directionMajor(a: ArrayLike<number>, D: number, cells: number, U: number): Float64Array {
  const out = new Float64Array(a.length);
  for (let d = 0; d < D; d++)
    for (let p = 0; p < cells; p++) for (let u = 0; u < U; u++) out[(d * cells + p) * U + u] = a[(p * D + d) * U + u]!;
  return out;
}

/** [D, cells, U] -> [cells, D, U]. */
function cellMajor(a: ArrayLike<number>, D: number, cells: number, U: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let d = 0; d < D; d++)
    for (let p = 0; p < cells; p++) for (let u = 0; u < U; u++) out[(p * D + d) * U + u] = a[(d * cells + p) * U + u]!;
  return out;
}

/**
 * The kernel against the float64 reference: h and c of every cell, then the gradients of x and every weight for
 * loss = sum(R_h * h) (the reference's backward takes dL/dh only, so dL/dc = 0).
 * Tolerances: the kernel computes in float32 (the reference in float64); a cell's values pass through a few
 * dozen float32 operations per step of its scan, so the states differ by ~1e-6; gradients, sums over every
 * cell of such values, by ~1e-5 of their scale. Forward 2e-5 and gradients 1e-4 (relative to their largest
 * magnitude when above 1) leave a margin and are the tolerances the JavaScript orders are held to.
 */
function compare(c: Case): void {
  const [B, H, W, C] = c.shape;
  const D = c.directions.length,
    U = c.units,
    N = D * B * H * W * U;
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
  const r64 = randomArray(N, 33, 1);
  const refGrads = mdlstmReferenceBackward(ref, r64);

  const shape = { B, H, W, C, U, flips: c.directions.map(flipsOf), bounded: !!c.cell?.bounded };
  const wts = {
    K: Float32Array.from(w64.kernel),
    R: Float32Array.from(w64.recurrentKernel),
    bias: Float32Array.from(w64.bias),
    P: w64.peephole ? Float32Array.from(w64.peephole) : undefined,
  };
  const x = Float32Array.from(x64),
    m = mask ? Float32Array.from(mask) : undefined;
  const fwd = simdForward(shape, x, wts, m, true);
  // The kernel's layout is [B, H, W, D, U]; the reference's [D, B, H, W, U].
  expectClose(directionMajor(fwd.h, D, B * H * W, U), ref.h, 2e-5, 'h');
  expectClose(directionMajor(fwd.c!, D, B * H * W, U), ref.c, 2e-5, 'c');
  // Another call in between (as another layer's would), so that backward must restore its own state.
  simdForward({ ...shape, B: 1, H: 2 }, x.subarray(0, 2 * W * C), wts, undefined);
  const g = simdBackward(shape, x, wts, m, fwd, cellMajor(r64, D, B * H * W, U), undefined);
  expectClose(g.gx, refGrads.dx, 1e-4, 'gx');
  expectClose(g.gK, refGrads.kernel, 1e-4, 'gK');
  expectClose(g.gR, refGrads.recurrentKernel, 1e-4, 'gR');
  expectClose(g.gb, refGrads.bias, 1e-4, 'gb');
  if (c.peephole) expectClose(g.gP!, refGrads.peephole!, 1e-4, 'gP');
  else expect(g.gP).toBeUndefined();
}

describe('SIMD kernel vs the float64 reference (forward h and c, gradients of x and every weight)', () => {
  for (const d of DIRS) {
    it(`one direction, ${d}, 1 unit, 3x4 (batch 2, 3 channels)`, () =>
      compare({ shape: [2, 3, 4, 3], units: 1, directions: [d] }));
  }
  it('two directions (tr, bl), 3 units, 1x6 and 5x1 strips', () => {
    compare({ shape: [1, 1, 6, 2], units: 3, directions: ['tr', 'bl'] });
    compare({ shape: [2, 5, 1, 2], units: 3, directions: ['tr', 'bl'] });
  });
  it('three directions (br, tl, tr), 5 units, with peepholes', () =>
    compare({ shape: [2, 4, 3, 2], units: 5, directions: ['br', 'tl', 'tr'], peephole: true }));
  for (const units of [1, 2, 3, 5, 10]) {
    it(`four directions, ${units} units, 5x7`, () => compare({ shape: [1, 5, 7, 3], units, directions: DIRS }));
  }
  it('four directions, 2 units, bounded cell with peepholes, ragged widths and heights', () =>
    compare({
      shape: [3, 4, 6, 2],
      units: 2,
      directions: DIRS,
      widths: [6, 2, 4],
      heights: [4, 3, 1],
      peephole: true,
      cell: { bounded: true },
    }));
  it('four directions, 10 units, standard cell, ragged widths, 20 channels', () =>
    compare({ shape: [2, 3, 9, 20], units: 10, directions: DIRS, widths: [9, 5] }));
  it('directions in an unusual order (bl, br, tl, tr), 3 units, bounded, ragged heights', () =>
    compare({
      shape: [2, 5, 4, 1],
      units: 3,
      directions: ['bl', 'br', 'tl', 'tr'],
      heights: [2, 5],
      cell: { bounded: true },
    }));
});

describe('what the kernel supports', () => {
  it('the standard activations only: anything else is left to the JavaScript paths', () => {
    const cell = { bounded: false, activation: 'tanh', recurrentActivation: 'sigmoid' } as const;
    expect(simdSupports(cell, 4)).toBe(true);
    expect(simdSupports({ ...cell, bounded: true }, 1)).toBe(true);
    expect(simdSupports({ ...cell, recurrentActivation: 'hardSigmoid' }, 4)).toBe(false);
    expect(simdSupports({ ...cell, activation: 'relu' }, 4)).toBe(false);
  });
  it('refuses more than four directions by name (one per f32x4 lane)', () => {
    const f = { flipY: false, flipX: false };
    const shape = { B: 1, H: 1, W: 1, C: 1, U: 1, flips: [f, f, f, f, f], bounded: false };
    const wts = { K: new Float32Array(25), R: new Float32Array(50), bias: new Float32Array(25), P: undefined };
    expect(() => simdForward(shape, new Float32Array(1), wts, undefined)).toThrow(
      /5 directions \(the kernel takes 1 to 4/,
    );
  });
});
