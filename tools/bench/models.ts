// One pham2014 training step (forward, CTC, backward, Adadelta update) on wasm and cpu.
// Run: node --import tsx --conditions=@scriptorium/source tools/bench/models.ts [wasm|cpu ...]
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { Adadelta } from '@scriptorium/adadelta';
import { ctcLoss } from '@scriptorium/ctc';
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
    for (let y = 0; y < 64; y++)
      for (let x = 0; x < 1024; x++) data[y * 1024 + x] = s.image.data[y * s.image.width + (x % s.image.width)]!;
    return { id: s.id, text: s.text, image: { data, height: 64, width: 1024 } };
  });
}

/** Mean ms of fn over reps after one warm-up call. */
function timeIt(fn: () => void, reps: number): number {
  fn();
  const t0 = performance.now();
  for (let r = 0; r < reps; r++) fn();
  return (performance.now() - t0) / reps;
}

async function timeStep(height: number, samples: LineSample[], reps: number): Promise<{ ms: number; params: number }> {
  const m = buildModel('pham2014', { alphabetSize: alphabet.size, height, seed: 1 });
  const opt = new Adadelta();
  const batch = collate(samples, alphabet, { padWidthTo: m.widthMultiple });
  const ms = timeIt(() => {
    const { grads } = m.lossAndGrads(batch);
    opt.applyGradients(grads);
    tf.dispose(Object.values(grads));
  }, reps);
  const params = m.model.countParams();
  tf.disposeVariables();
  return { ms, params };
}

/**
 * Where a training step's time goes: each layer alone (forward, and forward + backward to its input and
 * weights) on the inputs it sees in the real model, then the CTC loss and the Adadelta update.
 */
function perLayer(samples: LineSample[], reps: number): Array<{ part: string; fwd: number; fwdBwd: number }> {
  const m = buildModel('pham2014', { alphabetSize: alphabet.size, height: 32, seed: 1 });
  const batch = collate(samples, alphabet, { padWidthTo: m.widthMultiple });
  const B = batch.batchSize;
  const inputs = m.inputs(batch);
  const layers = m.model.layers.filter((l) => l.getClassName() !== 'InputLayer');
  const symbolic = layers.map((l) => (Array.isArray(l.input) ? l.input : [l.input]));
  const unique = [...new Set(symbolic.flat())];
  const probe = tfl.model({ inputs: m.model.inputs, outputs: unique });
  const values = probe.apply(inputs) as tf.Tensor[];
  const rows: Array<{ part: string; fwd: number; fwdBwd: number }> = [];
  for (const [li, layer] of layers.entries()) {
    const ins = symbolic[li]!.map((t) => values[unique.indexOf(t)]!);
    if (layer.name.startsWith('mask')) continue; // mask pooling: no gradient, negligible
    const x = tf.variable(ins[0]!);
    const vars = [x, ...layer.trainableWeights.map((w) => w.read() as tf.Variable)];
    const apply = () => layer.apply(ins.length === 1 ? x : [x, ...ins.slice(1)], { training: true }) as tf.Tensor;
    const fwd = timeIt(() => tf.tidy(() => void apply().dataSync()), reps);
    const fwdBwd = timeIt(
      () => tf.tidy(() => tf.dispose(Object.values(tf.variableGrads(() => tf.sum(apply()) as tf.Scalar, vars).grads))),
      reps,
    );
    rows.push({ part: `${layer.name} (${layer.getClassName()}, in [${ins[0]!.shape.join(', ')}])`, fwd, fwdBwd });
    x.dispose();
  }
  const logits = tf.variable(m.forward(batch));
  const labels = tf.tensor2d(batch.labels, [B, batch.maxLabelLength], 'int32');
  const loss = () =>
    ctcLoss({
      logits,
      labels,
      logitLengths: m.outputLengths(batch.widths),
      labelLengths: batch.labelLengths,
      reduction: 'mean',
    });
  rows.push({
    part: `CTC loss (logits [${logits.shape.join(', ')}])`,
    fwd: timeIt(() => tf.tidy(() => void loss().dataSync()), reps),
    fwdBwd: timeIt(
      () => tf.tidy(() => tf.dispose(Object.values(tf.variableGrads(() => loss() as tf.Scalar, [logits]).grads))),
      reps,
    ),
  });
  const opt = new Adadelta();
  const grads = Object.fromEntries(m.variables.map((v) => [v.name, tf.onesLike(v)]));
  rows.push({
    part: `Adadelta update (${m.model.countParams()} parameters)`,
    fwd: NaN,
    fwdBwd: timeIt(() => opt.applyGradients(grads), reps),
  });
  tf.dispose([...inputs, labels, logits, ...values, ...Object.values(grads)]);
  tf.disposeVariables();
  return rows;
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
  console.log(
    `| ${backend} | 16 mnist-lines (32 px high, ${Math.round(digits.reduce((s, d) => s + d.image.width, 0) / 16)} px wide on average) | ${a.params} | ${a.ms.toFixed(0)} | ${((16 * 1000) / a.ms).toFixed(1)} |`,
  );
  const b = await timeStep(64, wide, 2);
  console.log(
    `| ${backend} | 8 lines of 64x1024 px | ${b.params} | ${b.ms.toFixed(0)} | ${((8 * 1000) / b.ms).toFixed(1)} |`,
  );
}
for (const backend of backends) {
  await initBackend({ backend, log: null });
  console.log(`\n${backend}: where the time goes (16 mnist-lines, each part alone, ms)\n`);
  console.log('| part | forward | forward + backward |');
  console.log('| --- | ---: | ---: |');
  const rows = perLayer(digits, 5);
  for (const r of rows)
    console.log(`| ${r.part} | ${Number.isNaN(r.fwd) ? '' : r.fwd.toFixed(1)} | ${r.fwdBwd.toFixed(1)} |`);
  console.log(`| sum of parts | | ${rows.reduce((s, r) => s + r.fwdBwd, 0).toFixed(1)} |`);
}
