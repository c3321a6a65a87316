import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@scriptorium/runtime';
import { beforeAll, describe, expect, it } from 'vitest';
import { assignFlat, flattenNamedTensors, flattenVariables, layoutFromVariables } from './tfjs-variables.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu', log: null });
});

describe('flat parameter buffers and tfjs variables', () => {
  it('flatten in layout order, assign back, and create no lasting tensors', () => {
    const vars = tf.tidy(() => [
      tf.variable(
        tf.tensor2d([
          [1, 2, 3],
          [4, 5, 6],
        ]),
        true,
        'fv/w',
      ),
      tf.variable(tf.tensor1d([7, 8]), true, 'fv/b'),
    ]);
    const before = tf.memory().numTensors;
    const layout = layoutFromVariables(vars);
    expect(layout.entries.map((e) => [e.name, e.offset, e.size])).toEqual([
      ['fv/w', 0, 6],
      ['fv/b', 6, 2],
    ]);
    expect(Array.from(flattenVariables(vars, layout))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    assignFlat(vars, Float32Array.of(8, 7, 6, 5, 4, 3, 2, 1), layout);
    expect(vars[0]!.arraySync()).toEqual([
      [8, 7, 6],
      [5, 4, 3],
    ]);
    expect(vars[1]!.arraySync()).toEqual([2, 1]);
    const grads = tf.tidy(
      () => tf.variableGrads(() => tf.sum(tf.mul(vars[0]!, 3)).add(tf.sum(vars[1]!)) as tf.Scalar, vars).grads,
    );
    // d/dw sum(3w) = 3 everywhere; d/db sum(b) = 1.
    expect(Array.from(flattenNamedTensors(grads, layout))).toEqual([3, 3, 3, 3, 3, 3, 1, 1]);
    tf.dispose(grads);
    expect(tf.memory().numTensors).toBe(before);
    vars.forEach((v) => v.dispose());
  });

  it('name the tensor and shapes on a mismatch', () => {
    const vars = [tf.variable(tf.zeros([2, 2]), true, 'mm/w')];
    const layout = layoutFromVariables(vars);
    expect(() => assignFlat(vars, new Float32Array(3), layout)).toThrow(
      'assignFlat: flat buffer has 3 values, layout expects 4',
    );
    const other = [tf.variable(tf.zeros([4]), true, 'mm/v')];
    expect(() => flattenVariables(other, layout)).toThrow(
      "flattenVariables: tensor 0 ('mm/v') has shape [4], layout entry 'mm/w' expects [2, 2]",
    );
    expect(() => flattenNamedTensors({}, layout)).toThrow("flattenNamedTensors: no tensor named 'mm/w'");
    tf.dispose([...vars, ...other]);
  });
});
