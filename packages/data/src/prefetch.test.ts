import { Rng } from '@scriptorium/runtime/rng';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AUGMENT_PRESETS } from './augment.js';
import type { Dataset } from './dataset.js';
import type { LineSample } from './line-image.js';
import { loadSample, Prefetcher, sampleSeed, type PrefetchOptions } from './prefetch.js';

/** Sample i: an 8 x (10 + i % 5) image of pixels drawn from Rng(i). */
function sampleOf(i: number): LineSample {
  const rng = new Rng(i),
    width = 10 + (i % 5);
  return {
    id: `line-${i}`,
    text: `t${i}`,
    image: { data: Float32Array.from({ length: 8 * width }, () => rng.next()), height: 8, width },
  };
}

/**
 * A dataset whose loads finish when the test says (`manual`), or after a random number of event-loop
 * turns; it counts loads started and in flight. Indices in `fail` reject with 'corrupt PNG'.
 */
function fakeDataset(options: { manual?: boolean; fail?: number[]; seed?: number } = {}) {
  const rng = new Rng(options.seed ?? 1);
  const gates: Array<() => void> = [];
  const counts = { started: [] as number[], inFlight: 0, maxInFlight: 0 };
  const dataset: Dataset = {
    name: 'fake',
    size: 100,
    id: (i) => `line-${i}`,
    text: (i) => `t${i}`,
    load: (i) => {
      counts.started.push(i);
      counts.maxInFlight = Math.max(counts.maxInFlight, ++counts.inFlight);
      return new Promise<LineSample>((resolve, reject) => {
        const finish = () => {
          counts.inFlight--;
          if (options.fail?.includes(i)) reject(new Error('corrupt PNG'));
          else resolve(sampleOf(i));
        };
        if (options.manual) gates.push(finish);
        else void turns(rng.int(6)).then(finish);
      });
    },
  };
  /** Finishes the `n` oldest loads still waiting (manual mode). */
  const release = (n = gates.length) => gates.splice(0, n).forEach((finish) => finish());
  return { dataset, counts, release };
}

async function turns(n: number): Promise<void> {
  for (let k = 0; k < n; k++) await new Promise((resolve) => setImmediate(resolve));
}

async function collect(p: Prefetcher): Promise<LineSample[][]> {
  const out: LineSample[][] = [];
  for await (const batch of p) out.push(batch);
  return out;
}

/** The reference: batch by batch, sample by sample, no overlap. */
async function sequential(dataset: Dataset, batches: number[][], options: PrefetchOptions): Promise<LineSample[][]> {
  const out: LineSample[][] = [];
  for (const [k, batch] of batches.entries()) {
    const samples: LineSample[] = [];
    for (const i of batch) samples.push(await loadSample(dataset, i, (options.firstStep ?? 0) + k, options));
    out.push(samples);
  }
  return out;
}

// Unhandled rejections during a test are counted and must stay at zero.
let unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeEach(() => {
  unhandled = [];
  process.on('unhandledRejection', onUnhandled);
});
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toEqual([]);
});

const BATCHES = [[3, 1, 4], [1, 5, 9], [2, 6], [5, 3, 5], [8], [9, 7, 0]];

describe('Prefetcher', () => {
  it('yields the batches in order, equal to sequential loading, with and without augmentation', async () => {
    for (const options of [
      {},
      { augment: AUGMENT_PRESETS.default!, seed: 5 },
      { augment: AUGMENT_PRESETS.default!, seed: 5, firstStep: 100 },
    ]) {
      const expected = await sequential(fakeDataset().dataset, BATCHES, options);
      expect(expected.map((b) => b.map((s) => s.id))).toEqual(BATCHES.map((b) => b.map((i) => `line-${i}`)));
      // Loads finish in random order; depth and concurrency must not change the result.
      for (const [depth, concurrency, seed] of [
        [0, 1, 2],
        [2, 3, 3],
        [4, 16, 4],
      ] as const) {
        const { dataset } = fakeDataset({ seed });
        expect(await collect(new Prefetcher(dataset, BATCHES, { ...options, depth, concurrency }))).toEqual(expected);
      }
    }
  });

  it('seeds augmentation by (seed, step, index): a sample differs between steps, not between runs', async () => {
    const options = { augment: AUGMENT_PRESETS.default!, seed: 5 };
    const [b] = await collect(new Prefetcher(fakeDataset().dataset, [[1, 1]], options));
    const [, b1] = await collect(new Prefetcher(fakeDataset().dataset, [[0], [1]], options));
    expect(b![0]).toEqual(b![1]); // same step, same index
    expect(b1![0]!.image).not.toEqual(b![0]!.image); // index 1 at step 1 vs step 0
    expect(b![0]!.image).not.toEqual(sampleOf(1).image); // augmented at all
    expect(sampleSeed(5, 0, 1)).not.toBe(sampleSeed(5, 1, 0));
  });

  it('loads `depth` batches ahead of the consumer, at most `concurrency` samples at once', async () => {
    const batches = [
      [0, 1],
      [2, 3],
      [4, 5],
      [6, 7],
      [8, 9],
      [10, 11],
    ];
    const { dataset, counts, release } = fakeDataset({ manual: true });
    const p = new Prefetcher(dataset, batches, { depth: 2, concurrency: 100 });
    const first = p.next();
    await turns(3);
    expect(counts.started).toEqual([0, 1, 2, 3, 4, 5]); // batch 0 and the 2 batches ahead
    release(2); // batch 0 only
    expect((await first).value!.map((s) => s.id)).toEqual(['line-0', 'line-1']);
    await turns(3);
    expect(counts.started.length).toBe(6); // nothing new until the consumer takes the next batch
    const second = p.next();
    await turns(3);
    expect(counts.started.length).toBe(8); // batch 3 joins batches 1 and 2
    release();
    expect((await second).value!.map((s) => s.id)).toEqual(['line-2', 'line-3']);
    await p.close();

    // concurrency 3: the earliest samples go first, and each finished load lets one more start.
    const limited = fakeDataset({ manual: true });
    const q = new Prefetcher(limited.dataset, batches, { depth: 2, concurrency: 3 });
    const pending = q.next();
    await turns(3);
    expect(limited.counts.started).toEqual([0, 1, 2]);
    limited.release(1);
    await turns(3);
    expect(limited.counts.started).toEqual([0, 1, 2, 3]);
    for (let k = 0; k < 10; k++) {
      limited.release();
      await turns(3);
    }
    await pending;
    expect(limited.counts.maxInFlight).toBe(3);
    await q.close();
  });

  it('rejects the batch of a failed load, naming the sample, and goes on with the next batches', async () => {
    const { dataset } = fakeDataset({ fail: [7, 9] });
    const p = new Prefetcher(dataset, [[1, 2], [3, 9, 7], [4]], { depth: 2 });
    expect((await p.next()).value!.length).toBe(2);
    // The first failed sample in batch order, whichever failed first in time.
    await expect(p.next()).rejects.toThrow("fake: sample 9 ('line-9'): corrupt PNG");
    expect((await p.next()).value!.map((s) => s.id)).toEqual(['line-4']);
    expect((await p.next()).done).toBe(true);
  });

  it('a batch ahead that fails before it is consumed is not an unhandled rejection', async () => {
    const { dataset, release } = fakeDataset({ manual: true, fail: [5] });
    const p = new Prefetcher(dataset, [[0], [5], [6]], { depth: 2 });
    const first = p.next();
    release(); // batches 1 and 2 settle (1 rejected) while the consumer is still on batch 0
    await turns(5);
    await first;
    await expect(p.next()).rejects.toThrow("sample 5 ('line-5')");
    await p.close();
  });

  it('close() waits for the loads under way, starts no more, and leaves no unhandled rejection', async () => {
    const { dataset, counts, release } = fakeDataset({ manual: true, fail: [0, 1, 2, 3, 4, 5, 6, 7] });
    const p = new Prefetcher(
      dataset,
      [
        [0, 1],
        [2, 3],
        [4, 5],
        [6, 7],
      ],
      { depth: 3, concurrency: 2 },
    );
    const first = p.next();
    first.catch(() => {}); // the consumer gave up on it
    await turns(3);
    expect(counts.started).toEqual([0, 1]);
    let closed = false;
    const closing = p.close().then(() => (closed = true));
    await turns(3);
    expect(closed).toBe(false); // loads 0 and 1 are still under way
    release(); // they fail; the waiting loads see the prefetcher closed and stop
    await closing;
    await turns(3);
    expect(counts.started).toEqual([0, 1]);
    expect((await p.next()).done).toBe(true);
  });

  it('breaking out of for-await closes it', async () => {
    const { dataset, counts } = fakeDataset();
    let finished = false;
    const endless = (function* () {
      try {
        for (let k = 0; ; k++) yield [k % 100];
      } finally {
        finished = true;
      }
    })();
    let n = 0;
    for await (const batch of new Prefetcher(dataset, endless, { depth: 3 })) {
      expect(batch[0]!.id).toBe(`line-${n}`);
      if (++n === 5) break;
    }
    const started = counts.started.length;
    await turns(10);
    expect(counts.started.length).toBe(started);
    expect(started).toBeLessThanOrEqual(5 + 3);
    expect(finished).toBe(true); // the batch generator was closed too
  });

  it('rejects bad options', () => {
    const { dataset } = fakeDataset();
    expect(() => new Prefetcher(dataset, [], { depth: -1 })).toThrow('prefetch: depth = -1 (expected an integer >= 0)');
    expect(() => new Prefetcher(dataset, [], { concurrency: 0 })).toThrow(
      'prefetch: concurrency = 0 (expected a positive integer)',
    );
  });
});
