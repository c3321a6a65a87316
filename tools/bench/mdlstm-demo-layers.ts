// The MDLSTM op alone at the shapes of pham2014's layers in the demo (4 lines of mnist-lines per worker, with a
// mask as the model passes one): forward + backward via tf.grads, fastest of 5 one-second runs.
// Run: node --import tsx --conditions=@scriptorium/source tools/bench/mdlstm-demo-layers.ts [cells|diagonals|simd|auto]
import * as tf from '@tensorflow/tfjs-core';
import { mdlstm } from '@scriptorium/mdlstm';
import { initBackend } from '@scriptorium/runtime';

await initBackend({ backend: 'wasm', log: null });
const implementation = (process.argv[2] ?? 'auto') as 'cells' | 'diagonals' | 'simd' | 'auto';
// [batch, height, width, channels, units]: layer 1 (2x2 blocks of a 32 x 128 px batch), layer 2, layer 3.
const LAYERS: Array<[number, number, number, number, number]> = [
  [4, 16, 64, 4, 2],
  [4, 4, 32, 6, 10],
  [4, 1, 16, 20, 50],
];
for (const [B, H, W, C, U] of LAYERS) {
  const D = 4;
  const x = tf.randomUniform([B, H, W, C]);
  const w = {
    kernel: tf.randomUniform([D, C, 5 * U], -0.3, 0.3),
    recurrentKernel: tf.randomUniform([D, 2 * U, 5 * U], -0.3, 0.3),
    bias: tf.zeros([D, 5 * U]),
  };
  const mask = tf.ones([B, H, W]);
  const step = () =>
    tf.tidy(() => {
      const loss = (xx: tf.Tensor, k: tf.Tensor, r: tf.Tensor) =>
        tf.sum(
          tf.mul(
            mdlstm(xx, { kernel: k, recurrentKernel: r, bias: w.bias }, { implementation, mask }) as tf.Tensor,
            0.1,
          ),
        );
      tf.grads(loss)([x, w.kernel, w.recurrentKernel]).forEach((g) => g.dataSync());
    });
  for (let i = 0; i < 20; i++) step();
  let best = Infinity;
  for (let rep = 0; rep < 5; rep++) {
    const t0 = performance.now();
    let n = 0;
    while (performance.now() - t0 < 1000) {
      step();
      n++;
    }
    best = Math.min(best, (performance.now() - t0) / n);
  }
  console.log(`${implementation}: ${U} units, [${B}, ${H}, ${W}, ${C}], 4 directions: fwd+bwd ${best.toFixed(1)} ms`);
  tf.dispose([x, w.kernel, w.recurrentKernel, w.bias, mask]);
}
