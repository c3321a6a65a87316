import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Alphabet, AUGMENT_PRESETS, DEFAULT_PREPROCESS, LineCache, mnistLines, writeSplit } from '@scriptorium/data';
import { initBackend } from '@scriptorium/runtime';
import { beforeAll, describe, expect, it } from 'vitest';
import { createReplica, type TrainJob } from './job.js';

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
