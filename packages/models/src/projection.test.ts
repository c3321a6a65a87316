import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { Alphabet } from '@scriptorium/data';
import { initBackend } from '@scriptorium/runtime';
import { describe, expect, it } from 'vitest';
import { loadBundle, saveBundle } from './bundle.js';
import { sha256 } from './bundle-check.js';
import { buildModel } from './htr-model.js';
import { Projection } from './layers.js';

// The reference is tfjs-layers' own Dense layer, given the same weights: its forward pass and the gradient tfjs
// derives for a matMul (transposed products) against Projection's explicit transposes.
describe.each(['cpu', 'wasm'] as const)('Projection on %s', (backend) => {
  it.each([
    { shape: [3, 2, 5, 7], units: 4, useBias: false, activation: 'tanh' as const },
    { shape: [2, 1, 9, 13], units: 11, useBias: true, activation: 'linear' as const },
    { shape: [4, 6], units: 3, useBias: true, activation: 'tanh' as const },
  ])('matches tfl.layers.dense in value and in the gradients of input, kernel and bias ($shape -> $units)', async ({
    shape,
    units,
    useBias,
    activation,
  }) => {
    await initBackend({ backend, log: null });
    const x = tf.randomNormal(shape, 0, 1, 'float32', 7);
    const ours = new Projection({ units, useBias, activation, name: 'p' });
    const dense = tfl.layers.dense({ units, useBias, activation, name: 'd' });
    ours.apply(x);
    dense.apply(x);
    dense.setWeights(ours.getWeights());
    expect(ours.getWeights().map((w) => w.shape)).toEqual(dense.getWeights().map((w) => w.shape));
    expect(ours.weights.map((w) => w.originalName)).toEqual(['p/kernel', ...(useBias ? ['p/bias'] : [])]);

    // A loss that weights every output differently, so a transposed or misplaced gradient cannot cancel out.
    const outShape = [...shape.slice(0, -1), units];
    const r = tf.randomUniform(outShape, -1, 1, 'float32', 3);
    const lossOf = (layer: tfl.layers.Layer) => (input: tf.Tensor) =>
      tf.sum(tf.mul(layer.apply(input) as tf.Tensor, r));
    const grads = (layer: tfl.layers.Layer) => {
      const vars = layer.trainableWeights.map((w) => w.read() as tf.Variable);
      const { value, grads: g } = tf.variableGrads(() => lossOf(layer)(x) as tf.Scalar, vars);
      const dx = tf.grad(lossOf(layer))(x);
      return { value: value.dataSync()[0]!, dx: [...dx.dataSync()], dw: vars.map((v) => [...g[v.name]!.dataSync()]) };
    };
    const a = grads(ours);
    const b = grads(dense);
    expect(a.value).toBeCloseTo(b.value, 3);
    expect(maxDiff(a.dx, b.dx)).toBeLessThan(1e-5);
    expect(a.dw.length).toBe(useBias ? 2 : 1);
    a.dw.forEach((dw, i) => expect(maxDiff(dw, b.dw[i]!)).toBeLessThan(1e-4));
    expect((ours.apply(x) as tf.Tensor).shape).toEqual(outShape);
  });
});

function maxDiff(a: number[], b: number[]): number {
  expect(a.length).toBe(b.length);
  return Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));
}

describe('bundles saved before Projection', () => {
  it('load with tfl Dense layers in their topology and give the same logits', async () => {
    await initBackend({ backend: 'wasm', log: null });
    const alphabet = Alphabet.fromTexts(['0123456789']);
    const dir = mkdtempSync(path.join(tmpdir(), 'projection-'));
    const built = buildModel('pham2014', { alphabetSize: alphabet.size, seed: 5, units: [2, 4, 8] });
    await saveBundle(path.join(dir, 'new'), { model: built, alphabet });
    // The same bundle as written before this layer existed: 'Dense' in the topology, hashes recomputed.
    cpSync(path.join(dir, 'new'), path.join(dir, 'old'), { recursive: true });
    const modelFile = path.join(dir, 'old', 'model.json');
    const json = JSON.parse(readFileSync(modelFile, 'utf8'));
    let renamed = 0;
    for (const layer of json.modelTopology.config.layers) {
      if (layer.class_name !== 'Projection') continue;
      layer.class_name = 'Dense';
      renamed++;
    }
    expect(renamed).toBe(3); // conv1, conv2, output
    writeFileSync(modelFile, JSON.stringify(json));
    const metaFile = path.join(dir, 'old', 'bundle.json');
    const meta = JSON.parse(readFileSync(metaFile, 'utf8'));
    meta.sha256['model.json'] = sha256(readFileSync(modelFile));
    writeFileSync(metaFile, JSON.stringify(meta));

    const [fresh, old] = [await loadBundle(path.join(dir, 'new')), await loadBundle(path.join(dir, 'old'))];
    expect(old.model.model.layers.filter((l) => l.getClassName() === 'Dense').map((l) => l.name)).toEqual([
      'conv1',
      'conv2',
      'output',
    ]);
    const image = tf.randomUniform([2, 32, 64, 1], 0, 1, 'float32', 9);
    const mask = tf.ones([2, 32, 64, 1]);
    const a = (fresh.model.model.predict([image, mask]) as tf.Tensor).dataSync();
    const b = (old.model.model.predict([image, mask]) as tf.Tensor).dataSync();
    expect(a.length).toBeGreaterThan(0);
    expect(Math.max(...a.map((v, i) => Math.abs(v - b[i]!)))).toBeLessThan(1e-5);
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses an activation it does not implement, naming it', () => {
    const args = { units: 2, activation: 'relu', name: 'p' } as unknown as ConstructorParameters<typeof Projection>[0];
    expect(() => new Projection(args)).toThrow(/'p': activation 'relu' \(expected linear or tanh\)/);
  });
});
