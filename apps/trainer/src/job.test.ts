import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Alphabet, AUGMENT_PRESETS, DEFAULT_PREPROCESS, LineCache, mnistLines, writeSplit } from '@scriptorium/data';
import { initBackend } from '@scriptorium/runtime';
import { beforeAll, describe, expect, it } from 'vitest';
import { createReplica, jobDifferences, type TrainJob } from './job.js';
import { fromMix, mixLine } from './train/mix.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'trainer-job-'));
let manifest = '';

// Six short mnist-lines written as PNG files: a file dataset, decoded by sharp on libuv's threads.
beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: null });
  manifest = await writeSplit(mnistLines({ split: 'train', count: 6, seed: 5, minDigits: 2, maxDigits: 3 }), tmp);
});

const job = (extra: Partial<Omit<TrainJob, 'arch' | 'modelOptions'>> = {}): TrainJob => ({
  arch: 'pham2014',
  modelOptions: { dropout: 0 },
  alphabet: Alphabet.fromTexts(['0123456789']).toJSON(),
  data: { spec: `manifest:${manifest}`, count: 6, seed: 1 },
  preprocess: { ...DEFAULT_PREPROCESS, height: 32 },
  augment: AUGMENT_PRESETS.default,
  seed: 3,
  ...extra,
});

describe('replica data loading', () => {
  it('a next-step hint loads those lines ahead, and the gradients are the same as without it', async () => {
    const plain = await createReplica(job());
    const hinted = await createReplica(job());
    // Both start from the same parameters (those the model was built with, same seed).
    const init = Float32Array.from(plain.variables.flatMap((v) => Array.from(v.dataSync())));
    const steps = [
      [0, 1],
      [2, 3],
      [4, 5],
    ];
    for (let s = 0; s < steps.length; s++) {
      const a = await plain.computeGradients(init, steps[s]!, s + 1);
      const b = await hinted.computeGradients(init, steps[s]!, s + 1, steps[s + 1]);
      expect(Array.from(b.grads)).toEqual(Array.from(a.grads));
      expect(b.lossSum).toBe(a.lossSum);
    }
    expect(plain.loadStats).toMatchObject({ loaded: 6, prefetched: 0 });
    expect(hinted.loadStats).toMatchObject({ loaded: 6, prefetched: 4 }); // steps 2 and 3 were loaded ahead
  });

  it('with cacheMb, lines are decoded once and augmented afresh each step (same gradients)', async () => {
    const plain = await createReplica(job());
    const cached = await createReplica(job({ cacheMb: 16 }));
    expect(cached.dataset).toBeInstanceOf(LineCache);
    const init = Float32Array.from(plain.variables.flatMap((v) => Array.from(v.dataSync())));
    for (let s = 1; s <= 3; s++) {
      const a = await plain.computeGradients(init, [0, 1, 2], s);
      const b = await cached.computeGradients(init, [0, 1, 2], s);
      expect(Array.from(b.grads)).toEqual(Array.from(a.grads));
    }
    expect((cached.dataset as LineCache).stats()).toMatchObject({ misses: 3, hits: 6 });
  });

  it("with a warm-up, every line of step 1 is the warm-up data's, and none after its last step", async () => {
    const warmup = { spec: 'mnist-lines:minDigits=1,maxDigits=2', steps: 4 };
    const warmed = await createReplica(job({ warmup }));
    const plain = await createReplica(job());
    const warmOnly = await createReplica(job({ data: { spec: warmup.spec, count: 6, seed: 1 } }));
    const init = Float32Array.from(plain.variables.flatMap((v) => Array.from(v.dataSync())));
    const grads = async (r: typeof plain, step: number) =>
      Array.from((await r.computeGradients(init, [0, 1, 2], step)).grads);
    expect(await grads(warmed, 1)).toEqual(await grads(warmOnly, 1));
    expect(await grads(warmed, 5)).toEqual(await grads(plain, 5));
    expect(await grads(warmed, 5)).not.toEqual(await grads(warmOnly, 5));
  });

  it('with a mix, each line drawn for it is the mix line mixLine picks, the others training lines', async () => {
    const mix = { spec: 'mnist-lines:minDigits=1,maxDigits=2', share: 0.5 };
    // Without augmentation a line is the same wherever it stands in a step, so a replica of the mix data alone, given
    // the mix lines drawn, computes the same batch. (The mix data opens with the training data's count and seed.)
    const mixed = await createReplica(job({ mix, augment: undefined }));
    const plain = await createReplica(job({ augment: undefined }));
    const mixOnly = await createReplica(job({ data: { spec: mix.spec, count: 6, seed: 1 }, augment: undefined }));
    const init = Float32Array.from(plain.variables.flatMap((v) => Array.from(v.dataSync())));
    const grads = async (r: typeof plain, step: number, lines: number[]) =>
      Array.from((await r.computeGradients(init, lines, step)).grads);
    const lines = [0, 1, 2],
      seed = job().seed;
    // A step whose three lines are all mix lines, and one with none (each 1 in 8 at P = 0.5).
    const steps = Array.from({ length: 64 }, (_, k) => k + 1);
    const all = steps.find((s) => lines.every((i) => fromMix(mix, seed, s, i)))!;
    const none = steps.find((s) => lines.every((i) => !fromMix(mix, seed, s, i)))!;
    const picked = lines.map((i) => mixLine(seed, all, i, mixOnly.dataset.size));
    expect(await grads(mixed, all, lines)).toEqual(await grads(mixOnly, all, picked));
    expect(await grads(mixed, none, lines)).toEqual(await grads(plain, none, lines));
    expect(await grads(mixed, all, lines)).not.toEqual(await grads(plain, all, lines));
    // The job sent to workers carries the mix: a worker with another one is told so.
    expect(jobDifferences(job({ mix }), job())).toEqual(['mix']);
  });

  it('refuses a job with a field it does not know, rather than train without it', async () => {
    const future = { ...job(), curriculum: { steps: 3 } } as unknown as TrainJob;
    await expect(createReplica(future)).rejects.toThrow(
      /^job: unknown field\(s\) curriculum \(written by a newer scriptorium\? expected: arch, modelOptions, /,
    );
  });

  it("with a dataRoot (a remote worker's --data-root), data outside it is refused by name; inside it trains", async () => {
    const elsewhere = mkdtempSync(path.join(tmpdir(), 'trainer-elsewhere-'));
    await expect(createReplica(job(), { dataRoot: elsewhere })).rejects.toThrow(
      `manifest: '${manifest}' is outside the data root ${elsewhere}`,
    );
    const inside = await createReplica(job(), { dataRoot: tmp });
    expect(inside.layout.size).toBeGreaterThan(0);
    inside.model.model.dispose();
  });
});
