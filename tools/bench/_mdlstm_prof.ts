import * as tf from '@tensorflow/tfjs-core';
import { mdlstm } from '@scriptorium/mdlstm';
import { initBackend } from '@scriptorium/runtime';
const be = process.argv[2] ?? 'wasm';
const impl = (process.argv[3] ?? 'fused') as 'fused' | 'wavefront';
const [U, C, H, W] = (process.argv[4] ?? '2,4,32,256').split(',').map(Number) as [number, number, number, number];
await initBackend({ backend: be, log: null });
const D = 4, B = 8;
const x = tf.randomUniform([B, H, W, C]) as tf.Tensor4D;
const w = { kernel: tf.randomUniform([D, C, 5 * U], -0.3, 0.3), recurrentKernel: tf.randomUniform([D, 2 * U, 5 * U], -0.3, 0.3), bias: tf.zeros([D, 5 * U]) };
const fwd = () => tf.tidy(() => (mdlstm(x, w, { implementation: impl }) as tf.Tensor).dataSync());
const bwd = () => tf.tidy(() => { const g = tf.grads((xx: tf.Tensor, k: tf.Tensor, r: tf.Tensor) => tf.sum(mdlstm(xx, { kernel: k, recurrentKernel: r, bias: w.bias }, { implementation: impl }) as tf.Tensor))([x, w.kernel, w.recurrentKernel]); g.forEach((t) => t.dataSync()); });
for (const [name, fn] of [['fwd', fwd], ['fwd+bwd', bwd]] as const) {
  fn();
  const ts: number[] = [];
  for (let i = 0; i < 4; i++) { const t0 = performance.now(); fn(); ts.push(performance.now() - t0); }
  console.log(be, impl, `${U},${C},${H}x${W}`, name, 'min', Math.min(...ts).toFixed(1), 'ms', 'all', ts.map((t) => t.toFixed(0)).join(' '));
}
