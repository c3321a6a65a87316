import { describe, expect, it } from 'vitest';
import type { CellOptions, Direction } from './config.js';
import { mdlstmReference, mdlstmReferenceBackward, type ReferenceInput } from './reference.js';
import { DIRS, randomArray, randomWeights } from './test-util.js';

/** Loss = sum(R * h); returns it for the given input. */
function loss(input: ReferenceInput, r: Float64Array): number {
  const { h } = mdlstmReference(input);
  let s = 0;
  for (let i = 0; i < h.length; i++) s += h[i]! * r[i]!;
  return s;
}

function checkFiniteDifferences(cell: CellOptions, peephole: boolean, directions: Direction[], mask?: Float64Array) {
  const [B, H, W, C, U] = [2, 3, 4, 2, 2];
  const input: ReferenceInput = {
    x: randomArray(B * H * W * C, 5, 1),
    shape: [B, H, W, C],
    units: U,
    directions,
    weights: randomWeights(directions.length, C, U, 11, peephole),
    mask,
    cell,
  };
  const r = randomArray(directions.length * B * H * W * U, 99, 1);
  const grads = mdlstmReferenceBackward(mdlstmReference(input), r);
  const eps = 1e-6;
  const check = (arr: Float64Array, grad: Float64Array) => {
    for (let k = 0; k < arr.length; k += Math.max(1, Math.floor(arr.length / 23))) {
      const old = arr[k]!;
      arr[k] = old + eps;
      const up = loss(input, r);
      arr[k] = old - eps;
      const down = loss(input, r);
      arr[k] = old;
      // Central differences are accurate to O(eps^2) ~ 1e-10 here; rounding adds ~1e-9.
      expect(Math.abs((up - down) / (2 * eps) - grad[k]!)).toBeLessThan(1e-6);
    }
  };
  check(input.x, grads.dx);
  check(input.weights.kernel, grads.kernel);
  check(input.weights.recurrentKernel, grads.recurrentKernel);
  check(input.weights.bias, grads.bias);
  if (peephole) check(input.weights.peephole!, grads.peephole!);
}

describe('mdlstmReference', () => {
  it('computes a 1x1 grid by hand', () => {
    // One cell, one unit, one channel, no predecessors: a = w*x + b per gate.
    // x = 1, kernel gates [i, f_y, f_x, o, g] = [0.5, 0, 0, 1, 2], bias 0:
    // c = sig(0.5) * tanh(2) = 0.6224593 * 0.9640276 = 0.6000680; h = sig(1) * tanh(c) = 0.7310586 * 0.5370979 = 0.3926500
    const r = mdlstmReference({
      x: Float64Array.of(1),
      shape: [1, 1, 1, 1],
      units: 1,
      directions: ['tl'],
      weights: {
        kernel: Float64Array.of(0.5, 0, 0, 1, 2),
        recurrentKernel: new Float64Array(10),
        bias: new Float64Array(5),
      },
    });
    expect(r.c[0]).toBeCloseTo(0.600068, 6);
    expect(r.h[0]).toBeCloseTo(0.39265, 6);
  });

  it('each direction starts from its own corner', () => {
    // Zero input weights except a bias; with recurrent weights the first cell of the scan has no predecessors,
    // so it equals the 1x1 value and differs from every other cell's.
    const w = randomWeights(4, 1, 1, 3);
    w.kernel.fill(0);
    const r = mdlstmReference({ x: new Float64Array(6), shape: [1, 2, 3, 1], units: 1, directions: DIRS, weights: w });
    const corner = { tl: [0, 0], tr: [0, 2], bl: [1, 0], br: [1, 2] } as const;
    DIRS.forEach((d, k) => {
      const single = mdlstmReference({
        x: new Float64Array(1),
        shape: [1, 1, 1, 1],
        units: 1,
        directions: [d],
        weights: {
          kernel: new Float64Array(5),
          recurrentKernel: w.recurrentKernel.slice(k * 10, k * 10 + 10),
          bias: w.bias.slice(k * 5, k * 5 + 5),
        },
      });
      const [i, j] = corner[d];
      expect(r.h[k * 6 + i * 3 + j]).toBeCloseTo(single.h[0]!, 12);
    });
  });

  it('backward matches finite differences (plain cell, all directions)', () => checkFiniteDifferences({}, false, DIRS));
  it('backward matches finite differences (bounded cell with peepholes)', () =>
    checkFiniteDifferences({ bounded: true }, true, ['br', 'tl']));
  it('backward matches finite differences (hardSigmoid gates, relu activation)', () =>
    checkFiniteDifferences({ recurrentActivation: 'hardSigmoid', activation: 'tanh' }, false, ['tr']));
  it('backward matches finite differences with a mask', () => {
    const mask = new Float64Array(2 * 3 * 4).fill(1);
    for (const k of [3, 7, 11, 20, 21, 22, 23]) mask[k] = 0;
    checkFiniteDifferences({}, false, DIRS, mask);
  });
});
