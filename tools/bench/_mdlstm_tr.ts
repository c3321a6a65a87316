import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@scriptorium/runtime';
for (const be of ['wasm', 'cpu']) {
  await initBackend({ backend: be, log: null });
  const cases: Array<[number[], number[]]> = [
    [[4, 8 * 32 * 256 * 5, 2], [1, 0, 2]],
    [[4, 8, 32, 256, 5, 2], [1, 2, 3, 4, 0, 5]],
    [[8, 32, 287, 5 * 8], [2, 1, 0, 3]],
    [[8, 32, 287, 5, 8], [3, 2, 1, 0, 4]],
    [[1024, 1280], [1, 0]],
  ];
  for (const [shape, perm] of cases) {
    const x = tf.randomNormal(shape);
    tf.tidy(() => tf.transpose(x, perm).dataSync());
    const t0 = performance.now(); let k = 0;
    while (performance.now() - t0 < 500) { tf.tidy(() => { tf.transpose(x, perm).dataSync(); }); k++; }
    const ms = (performance.now() - t0) / k;
    console.log(be, JSON.stringify(shape), JSON.stringify(perm), ms.toFixed(1), 'ms', (ms * 1e6 / x.size).toFixed(1), 'ns/elem');
    x.dispose();
  }
}
