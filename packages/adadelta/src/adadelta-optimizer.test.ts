import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@scriptorium/runtime';
import { beforeAll, describe, expect, it } from 'vitest';
import { Adadelta } from './adadelta-optimizer.js';
import { adadeltaStep } from './adadelta-step.js';
import type { AdadeltaConfig } from './config.js';
import { createAdadeltaState } from './state.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu', log: null });
});

function gradients(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32 - 0.5) * 4;
  });
}

/** Two variables of shapes [3,4] and [5]; gradients derived from the step number. */
function makeVars(prefix: string): [tf.Variable, tf.Variable] {
  return [
    tf.variable(tf.tensor(gradients(12, 1), [3, 4]), true, `${prefix}/w`),
    tf.variable(tf.tensor(gradients(5, 2), [5]), true, `${prefix}/b`),
  ];
}
const stepGrads = (step: number) => [gradients(12, 10 + step), gradients(5, 1000 + step)];

describe('Adadelta (tf.Optimizer)', () => {
  for (const [label, config] of [
    ['defaults', {}],
    ['decoupled decay + clipping', { weightDecay: 0.02, decoupledWeightDecay: true, clipNorm: 1 }],
    ['coupled decay', { weightDecay: 0.02, learningRate: 0.7 }],
  ] as Array<[string, AdadeltaConfig]>) {
    it(`gives the same parameters as the flat step over 100 steps (${label})`, () => {
      const [w, b] = makeVars(`agree-${label}`);
      const flat = new Float32Array([...w.dataSync(), ...b.dataSync()]);
      const state = createAdadeltaState(flat.length);
      const opt = new Adadelta(config);
      for (let step = 0; step < 100; step++) {
        const [gw, gb] = stepGrads(step);
        tf.tidy(() => opt.applyGradients({ [w.name]: tf.tensor(gw!, [3, 4]), [b.name]: tf.tensor(gb!) }));
        adadeltaStep(flat, new Float32Array([...gw!, ...gb!]), state, config);
      }
      const got = [...w.dataSync(), ...b.dataSync()];
      for (let i = 0; i < flat.length; i++) expect(got[i]).toBeCloseTo(flat[i]!, 5);
      expect(opt.iterations).toBe(100);
      opt.dispose();
      tf.dispose([w, b]);
    });
  }

  it('save weights mid-training, load into a new optimizer, continue == uninterrupted', async () => {
    const [w1, b1] = makeVars('resume-a');
    const [w2, b2] = makeVars('resume-b');
    const rename = (n: string) => n.replace('resume-a', 'resume-b');
    const a = new Adadelta();
    let b = new Adadelta();
    for (let step = 0; step < 20; step++) {
      const [gw, gb] = stepGrads(step);
      if (step === 10) {
        const saved = await b.getWeights();
        const copy = saved.map((s) => ({ name: s.name, tensor: s.tensor.clone() }));
        b.dispose();
        b = tf.serialization.SerializationMap.getMap().classNameMap['ScriptoriumAdadelta']![1](
          Adadelta,
          b.getConfig(),
        ) as Adadelta;
        await b.setWeights(copy);
        tf.dispose(copy.map((c) => c.tensor));
      }
      tf.tidy(() => a.applyGradients({ [w1.name]: tf.tensor(gw!, [3, 4]), [b1.name]: tf.tensor(gb!) }));
      tf.tidy(() =>
        b.applyGradients([
          { name: w2.name, tensor: tf.tensor(gw!, [3, 4]) },
          { name: b2.name, tensor: tf.tensor(gb!) },
        ]),
      );
    }
    expect(Array.from(w2.dataSync())).toEqual(Array.from(w1.dataSync()));
    expect(Array.from(b2.dataSync())).toEqual(Array.from(b1.dataSync()));
    expect(b.iterations).toBe(20);
    expect((await a.getWeights()).map((x) => rename(x.name))).toEqual((await b.getWeights()).map((x) => x.name));
    a.dispose();
    b.dispose();
    tf.dispose([w1, b1, w2, b2]);
  });

  it('minimize() drives a quadratic towards its minimum without leaking tensors', () => {
    const x = tf.variable(tf.tensor1d([3, -2]), true, 'quad/x');
    const opt = new Adadelta({ learningRate: 1 });
    const f = () => tf.sum(tf.square(tf.sub(x, tf.tensor1d([1, 1])))) as tf.Scalar;
    opt.minimize(f); // creates the slots
    const start = tf.tidy(() => f().dataSync()[0]!);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 300; i++) opt.minimize(f);
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.tidy(() => f().dataSync()[0]!)).toBeLessThan(start * 0.5);
    opt.dispose();
    x.dispose();
  });

  it('a non-finite gradient throws with the variable name and index; skip changes nothing', () => {
    const x = tf.variable(tf.tensor1d([1, 2, 3]), true, 'nonfinite/x');
    const g = tf.tensor1d([0, 0, NaN]);
    expect(() => new Adadelta().applyGradients({ [x.name]: g })).toThrow(
      "adadelta: gradient of 'nonfinite/x' at flat index 2 is NaN",
    );
    const skip = new Adadelta({ onNonFinite: 'skip' });
    skip.applyGradients({ [x.name]: g });
    expect(Array.from(x.dataSync())).toEqual([1, 2, 3]);
    expect(skip.iterations).toBe(0);
    tf.dispose([x, g]);
  });

  it('round-trips its config and rejects bad hyperparameters', () => {
    const opt = new Adadelta({ rho: 0.9, clipNorm: 2 });
    expect(opt.getConfig()).toMatchObject({ rho: 0.9, clipNorm: 2, learningRate: 1, epsilon: 1e-6 });
    expect(Adadelta.className).toBe('ScriptoriumAdadelta');
    expect(() => new Adadelta({ epsilon: -1 })).toThrow(/epsilon = -1/);
  });
});
