/**
 * What each augmentation transform buys on mnist-lines: pham2014 trained in-process for a fixed number of steps
 * (the demo's model flags, batches bucketed by width) under each augmentation spec, then scored on the validation splits of the training
 * layout (mnist-lines) and of the held-out layout (mnist-unseen). Test splits are left for the demo's report.
 * Fixed steps, not time, so runs sharing the machine compare fairly; `--parallel 2` runs two at once. Like the
 * demo, each run starts with `--warmup-steps` steps of warm-up lines (MNIST_WARMUP_LAYOUT; 0: none), augmented too.
 *
 * Run from the repo root:
 *   node --import tsx --conditions=@scriptorium/source tools/bench/augment-sweep.ts [--steps 3000] [--warmup-steps 2000] [--parallel 2] [--only NAME,...]
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { MNIST_WARMUP_LAYOUT, openDataset, syntheticSpec } from '@scriptorium/data';
import { Recognizer } from '@scriptorium/models';
import { initBackend } from '@scriptorium/runtime';
import { evaluate } from '../../apps/trainer/src/train/evaluate.js';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : dflt;
};
const STEPS = Number(arg('steps', '3000')),
  WARMUP = Number(arg('warmup-steps', '2000')),
  PARALLEL = Number(arg('parallel', '2')),
  OUT = arg('out', 'runs/augment-sweep');
const CONFIGS: Record<string, string> = {
  none: 'none',
  default: 'default',
  strong: 'strong',
  'default-shear': 'default:shear=0',
  'default-scale': 'default:scale=1..1',
  'default-rotation': 'default:rotation=0',
  'default-elastic': 'default:elasticAlpha=0',
  // The stroke-width transforms left `default` after the 2026-12-03 sweep; this measures them again.
  'default+stroke': 'default:erodeP=0.2,dilateP=0.2',
  'default-noise': 'default:noiseStd=0',
};
const only = arg('only', '');
const names = only ? only.split(',') : Object.keys(CONFIGS);

function train(name: string): Promise<void> {
  const args = [
    '--import',
    'tsx',
    '--conditions=@scriptorium/source',
    'apps/trainer/src/main.ts',
    'train',
    '--model',
    'pham2014',
    '--data',
    'mnist-lines',
    '--workers',
    '0',
    '--batch',
    '8',
    '--dropout',
    '0',
    '--mdlstm-cell',
    'bounded',
    '--ema',
    '0.999',
    '--train-lines',
    '100000',
    ...(WARMUP > 0
      ? ['--warmup-data', syntheticSpec('mnist-lines', MNIST_WARMUP_LAYOUT), '--warmup-steps', String(WARMUP)]
      : []),
    '--bucket',
    '20',
    '--max-steps',
    String(STEPS),
    '--eval-every',
    String(STEPS),
    '--augment',
    CONFIGS[name]!,
    '--out',
    path.join(OUT, name),
    '--backend',
    'wasm',
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err = (err + d).slice(-2000)));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${name}: exit ${code}\n${err}`))));
  });
}

mkdirSync(OUT, { recursive: true });
const queue = [...names];
await Promise.all(
  Array.from({ length: PARALLEL }, async () => {
    for (let name = queue.shift(); name; name = queue.shift()) await train(name);
  }),
);
await initBackend({ backend: 'wasm', log: null });
console.log(
  `| augmentation | spec | valid CER, training layout | valid CER, unseen layout |\n| --- | --- | ---: | ---: |`,
);
for (const name of names) {
  const rec = await Recognizer.load(path.join(OUT, name, 'best'));
  const cers: string[] = [];
  for (const spec of ['mnist-lines', 'mnist-unseen']) {
    const ds = await openDataset(spec, { split: 'valid', count: 400, seed: 777, preprocess: rec.meta.preprocess });
    cers.push(`${(100 * (await evaluate(rec, ds)).cer).toFixed(2)}%`);
  }
  console.log(`| ${name} | \`${CONFIGS[name]}\` | ${cers.join(' | ')} |`);
}
