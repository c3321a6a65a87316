/**
 * What the trainer's next-batch hint saves: a pham2014 replica trained in-process on PNG files (64 px high
 * mnist-lines of 20 to 24 digits, about 950 px wide, decoded by sharp), with and without the hint. Reports the
 * time a step waits for its lines (decode + normalise + augment not yet done when the step starts) and the
 * whole step.
 *
 * Run from the repo root:
 *   node --import tsx --conditions=@scriptorium/source tools/bench/prefetch.ts [--steps 12] [--batch 4]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Alphabet, AUGMENT_PRESETS, DEFAULT_PREPROCESS, mnistLines, writeSplit } from '@scriptorium/data';
import { initBackend } from '@scriptorium/runtime';
import { createReplica, type TrainJob } from '../../apps/trainer/src/job.js';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const STEPS = arg('steps', 12),
  BATCH = arg('batch', 4);

await initBackend({ backend: 'wasm', log: null });
const dir = mkdtempSync(path.join(tmpdir(), 'bench-prefetch-'));
try {
  const lines = (STEPS + 2) * BATCH;
  const manifest = await writeSplit(
    mnistLines({ split: 'train', count: lines, seed: 1, height: 64, minDigits: 20, maxDigits: 24 }),
    dir,
  );
  const job: TrainJob = {
    arch: 'pham2014',
    modelOptions: { dropout: 0 },
    alphabet: Alphabet.fromTexts(['0123456789']).toJSON(),
    data: { spec: `manifest:${manifest}`, count: lines, seed: 1 },
    preprocess: { ...DEFAULT_PREPROCESS, height: 64 },
    augment: AUGMENT_PRESETS.default,
    seed: 1,
  };
  console.log(
    `pham2014 at 64 px, in-process, batch ${BATCH}, ${STEPS} timed steps after one warm-up, wasm backend, node ${process.version}\n`,
  );
  console.log('| next-batch hint | data wait ms/step | step ms | lines prefetched |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const hinted of [false, true]) {
    const replica = await createReplica(job);
    const params = Float32Array.from(replica.variables.flatMap((v) => Array.from(v.dataSync())));
    const batch = (s: number) => Array.from({ length: BATCH }, (_, k) => s * BATCH + k);
    let total = 0,
      waitBefore = 0;
    for (let s = 0; s <= STEPS; s++) {
      if (s === 1) waitBefore = replica.loadStats.waitMs; // step 0 is the warm-up
      const t0 = performance.now();
      await replica.computeGradients(params, batch(s), s + 1, hinted ? batch(s + 1) : undefined);
      if (s > 0) total += performance.now() - t0;
    }
    const wait = (replica.loadStats.waitMs - waitBefore) / STEPS;
    console.log(
      `| ${hinted ? 'yes' : 'no'} | ${wait.toFixed(1)} | ${(total / STEPS).toFixed(0)} | ${replica.loadStats.prefetched} |`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
