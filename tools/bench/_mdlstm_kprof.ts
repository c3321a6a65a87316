import * as tf from '@tensorflow/tfjs-core';
import { mdlstm } from '@scriptorium/mdlstm';
import { initBackend } from '@scriptorium/runtime';
const be = process.argv[2] ?? 'wasm';
const impl = (process.argv[3] ?? 'wavefront') as 'fused' | 'wavefront';
const [U, C, H, W] = (process.argv[4] ?? '2,4,32,256').split(',').map(Number) as [number, number, number, number];
await initBackend({ backend: be, log: null });
const D = 4, B = 8;
const x = tf.randomUniform([B, H, W, C]) as tf.Tensor4D;
const w = { kernel: tf.randomUniform([D, C, 5 * U], -0.3, 0.3), recurrentKernel: tf.randomUniform([D, 2 * U, 5 * U], -0.3, 0.3), bias: tf.zeros([D, 5 * U]) };
const fwd = () => tf.tidy(() => (mdlstm(x, w, { implementation: impl }) as tf.Tensor).dataSync());
fwd();
const t0 = performance.now(); fwd(); console.log('plain', (performance.now()-t0).toFixed(0));
const info = await tf.profile(fwd);
const agg = new Map<string, [number, number, number]>();
for (const k of info.kernels) { const a = agg.get(k.name) ?? [0, 0, 0]; a[0]++; a[1] += (k.kernelTimeMs as number) || 0; a[2] += k.outputShapes.reduce((s, sh) => s + sh.reduce((p, q) => p * q, 1), 0); agg.set(k.name, a); }
let tot = 0; for (const [, a] of agg) tot += a[1];
console.log('kernels', info.kernels.length, 'total kernel ms', tot.toFixed(0));
for (const [n, a] of [...agg].sort((p, q) => q[1][1] - p[1][1])) console.log(n.padEnd(20), String(a[0]).padStart(6), a[1].toFixed(1).padStart(8), 'ms', (a[2] / a[0]).toFixed(0).padStart(8), 'avg out elems');
