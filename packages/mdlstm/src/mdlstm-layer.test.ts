import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '@scriptorium/runtime';
import { beforeAll, describe, expect, it } from 'vitest';
import { MDLSTM, mdlstmLayer } from './mdlstm-layer.js';
import { maxAbsDiff, randomArray } from './test-util.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu', log: null });
});

describe('MDLSTM layer', () => {
  it('height 1 equals a 1D LSTM forward (tl) and backwards in x (tr), with matching weights', () => {
    const [B, W, C, U] = [2, 6, 3, 4];
    const lstmK = randomArray(C * 4 * U, 1),
      lstmR = randomArray(U * 4 * U, 2),
      lstmB = randomArray(4 * U, 3);
    const xs = tf.tensor3d(Float32Array.from(randomArray(B * W * C, 4, 1)), [B, W, C]);
    for (const [dir, goBackwards] of [
      ['tl', false],
      ['tr', true],
    ] as const) {
      const lstm = tfl.layers.lstm({
        units: U,
        returnSequences: true,
        goBackwards,
        recurrentActivation: 'sigmoid',
        inputShape: [W, C],
      });
      lstm.apply(tfl.input({ shape: [W, C] }));
      lstm.setWeights([
        tf.tensor2d(Float32Array.from(lstmK), [C, 4 * U]),
        tf.tensor2d(Float32Array.from(lstmR), [U, 4 * U]),
        tf.tensor1d(Float32Array.from(lstmB)),
      ]);
      // tfjs LSTM gate blocks: [i, f, c, o]; ours: [i, f_y, f_x, o, g]. f_x takes LSTM's f, g its c; U_x is
      // rows U..2U-1 of the recurrent kernel. f_y and U_y never matter on one row (c_y = h_y = 0).
      const block = (src: Float64Array, rows: number, k: number) => {
        const out: number[] = [];
        for (let r = 0; r < rows; r++) for (let u = 0; u < U; u++) out.push(src[r * 4 * U + k * U + u]!);
        return out;
      };
      const gates = (src: Float64Array, rows: number) => {
        const [i, f, c, o] = [0, 1, 2, 3].map((k) => block(src, rows, k));
        const out = new Float32Array(rows * 5 * U);
        for (let r = 0; r < rows; r++)
          [i, f, f, o, c].forEach((g, k) => out.set(g!.slice(r * U, r * U + U), r * 5 * U + k * U));
        return out;
      };
      const layer = mdlstmLayer({ units: U, directions: [dir] });
      layer.apply(tfl.input({ shape: [1, W, C] }));
      const rec = new Float32Array(2 * U * 5 * U);
      rec.set(gates(lstmR, U), U * 5 * U); // U_x
      layer.setWeights([
        tf.tensor3d(gates(lstmK, C), [1, C, 5 * U]),
        tf.tensor3d(rec, [1, 2 * U, 5 * U]),
        tf.tensor2d(gates(lstmB, 1), [1, 5 * U]),
      ]);
      const ours = (layer.apply(tf.reshape(xs, [B, 1, W, C])) as tf.Tensor).reshape([B, W, U]);
      let theirs = lstm.apply(xs) as tf.Tensor;
      if (goBackwards) theirs = tf.reverse(theirs, 1); // go_backwards returns outputs in processing order
      expect(maxAbsDiff(ours.dataSync(), theirs.dataSync())).toBeLessThan(1e-5);
    }
  });

  it('works inside tf.sequential, trains, and round-trips through the tfjs model format', async () => {
    const model = tfl.sequential({
      layers: [
        mdlstmLayer({ units: 3, inputShape: [4, 5, 2], dropout: 0.3, seed: 1, mergeMode: 'sum' }),
        tfl.layers.flatten(),
        tfl.layers.dense({ units: 1 }),
      ],
    });
    const x = tf.tensor4d(Float32Array.from(randomArray(2 * 4 * 5 * 2, 8, 1)), [2, 4, 5, 2]);
    const y = tf.tensor2d([[1], [-1]]);
    model.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
    const hist = await model.fit(x, y, { epochs: 5, verbose: 0 });
    expect(hist.history.loss!.length).toBe(5);
    const before = model.predict(x) as tf.Tensor;
    // Dropout is inactive at inference: two predictions agree exactly.
    expect(Array.from((model.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from(before.dataSync()));
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        saved = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(saved!));
    const layer = loaded.layers[0] as MDLSTM;
    expect(layer).toBeInstanceOf(MDLSTM);
    expect(layer.getConfig()).toMatchObject({
      units: 3,
      mergeMode: 'sum',
      dropout: 0.3,
      directions: ['tl', 'tr', 'bl', 'br'],
    });
    const after = loaded.predict(x) as tf.Tensor;
    expect(Array.from(after.dataSync())).toEqual(Array.from(before.dataSync()));
  });

  it('takes [x, mask] inputs in a functional model and initialises the forget biases', () => {
    const x = tfl.input({ shape: [3, 4, 1] });
    const m = tfl.input({ shape: [3, 4] });
    const layer = mdlstmLayer({ units: 2, forgetBiasInit: 2 });
    const y = layer.apply([x, m]) as tfl.SymbolicTensor;
    expect(y.shape).toEqual([null, 3, 4, 8]);
    const bias = layer.getWeights()[2]!.arraySync() as number[][];
    // per direction [i, f_y, f_x, o, g] blocks of 2: forget blocks = 2, the others 0.
    expect(bias[0]).toEqual([0, 0, 2, 2, 2, 2, 0, 0, 0, 0]);
    const model = tfl.model({ inputs: [x, m], outputs: y });
    const mask = tf.tensor3d([
      [
        [1, 1, 0, 0],
        [1, 1, 0, 0],
        [0, 0, 0, 0],
      ],
    ]);
    const out = model.predict([tf.ones([1, 3, 4, 1]), mask]) as tf.Tensor;
    const v = out.arraySync() as number[][][][];
    expect(v[0]![0]![3]!.every((e) => e === 0)).toBe(true);
    expect(v[0]![0]![0]!.some((e) => e !== 0)).toBe(true);
  });

  it('returnState adds h and c per direction', () => {
    const layer = mdlstmLayer({ units: 2, directions: ['tl', 'br'], returnState: true });
    const out = layer.apply(tf.ones([3, 2, 2, 1])) as tf.Tensor[];
    expect(out.map((t) => t.shape)).toEqual([
      [3, 2, 2, 4],
      [3, 2],
      [3, 2],
      [3, 2],
      [3, 2],
    ]);
    expect(layer.computeOutputShape([null, 2, 2, 1])).toEqual([
      [null, 2, 2, 4],
      [null, 2],
      [null, 2],
      [null, 2],
      [null, 2],
    ]);
  });

  it('bad configuration and input are named', () => {
    expect(() => mdlstmLayer({ units: 0 })).toThrow('MDLSTM: units = 0 (expected a positive integer)');
    // @ts-expect-error 'max' is not a MergeMode: refused at run time too
    expect(() => mdlstmLayer({ units: 2, mergeMode: 'max' })).toThrow(/unknown value 'max'/);
    const layer = mdlstmLayer({ units: 2 });
    layer.apply(tf.ones([1, 2, 2, 3]));
    expect(() => layer.apply(tf.ones([1, 2, 2, 4]))).toThrow(/4 channels but the layer was built for 3/);
  });
});
