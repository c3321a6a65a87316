import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '@scriptorium/runtime';
import { beforeAll, describe, expect, it } from 'vitest';
import { SeparableLSTM2D, separableLstm2d } from './separable-lstm-2d.js';
import { maxAbsDiff, randomArray } from './test-util.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu', log: null });
});

describe('SeparableLSTM2D', () => {
  for (const mergeMode of ['concat', 'sum', 'mul', 'ave'] as const) {
    it(`equals a bidirectional LSTM run on each row, then on each column (${mergeMode})`, () => {
      const [B, H, W, C, U] = [2, 3, 4, 2, 3];
      const layer = separableLstm2d({ units: U, mergeMode });
      const x = tf.tensor4d(Float32Array.from(randomArray(B * H * W * C, 1, 1)), [B, H, W, C]);
      const out = layer.apply(x) as tf.Tensor;
      const F = mergeMode === 'concat' ? 2 * U : U;
      expect(out.shape).toEqual([B, H, W, F]);
      // The oracle: separate Bidirectional layers with the same weights, applied one row / one column at a time.
      const weights = layer.getWeights();
      const nRow = weights.length / 2;
      const bi = (w: tf.Tensor[], steps: number, feat: number) => {
        const l = tfl.layers.bidirectional({
          mergeMode,
          layer: tfl.layers.lstm({ units: U, returnSequences: true, recurrentActivation: 'sigmoid' }),
        });
        l.build([null, steps, feat]);
        l.setWeights(w);
        return l;
      };
      const rowLayer = bi(weights.slice(0, nRow), W, C),
        colLayer = bi(weights.slice(nRow), H, F);
      const rowOut: tf.Tensor[][] = [];
      for (let b = 0; b < B; b++) {
        rowOut.push([]);
        for (let i = 0; i < H; i++)
          rowOut[b]!.push(rowLayer.apply(tf.slice(x, [b, i, 0, 0], [1, 1, W, C]).reshape([1, W, C])) as tf.Tensor);
      }
      const expected = new Float32Array(B * H * W * F);
      for (let b = 0; b < B; b++)
        for (let j = 0; j < W; j++) {
          const column = tf
            .stack(
              rowOut[b]!.map((r) => tf.slice(r, [0, j, 0], [1, 1, F]).reshape([F])),
              0,
            )
            .reshape([1, H, F]);
          const col = (colLayer.apply(column) as tf.Tensor).dataSync();
          for (let i = 0; i < H; i++) expected.set(col.subarray(i * F, i * F + F), ((b * H + i) * W + j) * F);
        }
      expect(maxAbsDiff(out.dataSync(), expected)).toBeLessThan(1e-5);
    });
  }

  it('saves and loads inside a model', async () => {
    const model = tfl.sequential({
      layers: [
        separableLstm2d({ units: 2, inputShape: [3, 5, 1] }),
        tfl.layers.flatten(),
        tfl.layers.dense({ units: 1 }),
      ],
    });
    const x = tf.tensor4d(Float32Array.from(randomArray(15, 3, 1)), [1, 3, 5, 1]);
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(
        async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }),
      ),
    );
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(saved!));
    expect(loaded.layers[0]).toBeInstanceOf(SeparableLSTM2D);
    expect(Array.from((loaded.predict(x) as tf.Tensor).dataSync())).toEqual(
      Array.from((model.predict(x) as tf.Tensor).dataSync()),
    );
  });
});
