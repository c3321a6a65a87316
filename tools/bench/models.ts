// One pham2014 training step (forward, CTC, backward, Adadelta update) on wasm and cpu.
// Run: node --import tsx --conditions=@scriptorium/source tools/bench/models.ts [wasm|cpu ...]
import * as tf from '@tensorflow/tfjs-core';
import { Adadelta } from '@scriptorium/adadelta';
import { Alphabet, collate, mnistLines, type LineSample } from '@scriptorium/data';
import { buildModel } from '@scriptorium/models';
import { initBackend } from '@scriptorium/runtime';

const alphabet = Alphabet.fromTexts(['0123456789']);

/** 8 synthetic 64x1024 lines: mnist digits scaled to 64 px, repeated along the line until 1024 px wide. */
function wideLines(): LineSample[] {
  const ds = mnistLines({ split: 'train', count: 8, seed: 3, height: 64, minDigits: 20, maxDigits: 30 });
  return Array.from({ length: 8 }, (_, i) => {
    const s = ds.compose(i);
    const data = new Float32Array(64 * 1024);
    for (let y = 0; y < 64; y++) for (let x = 0; x < 1024; x++) data[y * 1024 + x] = s.image.data[y * s.image.width + (x % s.image.width)]!;
    return { id: s.id, text: s.text, image: { data, height: 64, width: 1024 } };
  });
}

async function timeStep(height: number, samples: LineSample[], reps: number): Promise<{ ms: number; params: number }> {
  const m = buildModel('pham2014', { alphabetSize: alphabet.size, height, seed: 1 });
  const opt = new Adadelta();
  const batch = collate(samples, alphabet, { padWidthTo: m.widthMultiple });
  const step = () => {
    const { grads } = m.lossAndGrads(batch);
    opt.applyGradients(grads);
    tf.dispose(Object.values(grads));
  };
  step(); // warm-up
  const t0 = performance.now();
  for (let r = 0; r < reps; r++) step();
  const ms = (performance.now() - t0) / reps;
  const params = m.model.countParams();
  tf.disposeVariables();
  return { ms, params };
}

const backends = process.argv.slice(2).length ? process.argv.slice(2) : ['wasm', 'cpu'];
console.log('| backend | batch | params | ms/step | lines/s |');
console.log('| --- | --- | ---: | ---: | ---: |');
const mnist = mnistLines({ split: 'train', count: 16, seed: 1 });
const digits = Array.from({ length: 16 }, (_, i) => mnist.compose(i));
const wide = wideLines();
for (const backend of backends) {
  await initBackend({ backend, log: null });
  const a = await timeStep(32, digits, 5);
  console.log(`| ${backend} | 16 mnist-lines (32 px high, ${Math.round(digits.reduce((s, d) => s + d.image.width, 0) / 16)} px wide on average) | ${a.params} | ${a.ms.toFixed(0)} | ${((16 * 1000) / a.ms).toFixed(1)} |`);
  const b = await timeStep(64, wide, 2);
  console.log(`| ${backend} | 8 lines of 64x1024 px | ${b.params} | ${b.ms.toFixed(0)} | ${((8 * 1000) / b.ms).toFixed(1)} |`);
}
