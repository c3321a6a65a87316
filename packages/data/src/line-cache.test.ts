import { describe, expect, it } from 'vitest';
import { AUGMENT_PRESETS } from './augment.js';
import type { Dataset } from './dataset.js';
import { LineCache } from './line-cache.js';
import type { LineSample } from './line-image.js';
import { Prefetcher } from './prefetch.js';

/** Sample i is a 10 x 10 image (400 bytes of float32) filled with i / 100; loads are counted per index. */
function countingDataset(fail: number[] = []) {
  const loads: number[] = [];
  const dataset: Dataset = {
    name: 'counting',
    size: 100,
    id: (i) => `line-${i}`,
    text: (i) => `t${i}`,
    load: async (i) => {
      loads.push(i);
      await new Promise((resolve) => setImmediate(resolve));
      if (fail.includes(i)) throw new Error('cannot decode image');
      return {
        id: `line-${i}`,
        text: `t${i}`,
        image: { data: new Float32Array(100).fill(i / 100), height: 10, width: 10 },
      };
    },
  };
  return { dataset, loads };
}

describe('LineCache', () => {
  it('serves repeated loads from memory, and concurrent loads of one index with one load', async () => {
    const { dataset, loads } = countingDataset();
    const cache = new LineCache(dataset, { maxBytes: 10_000 });
    const first = await Promise.all([0, 1, 2, 1].map((i) => cache.load(i)));
    const again = await Promise.all([2, 1, 0].map((i) => cache.load(i)));
    expect(loads).toEqual([0, 1, 2]);
    expect(again).toEqual([first[2], first[1], first[0]]);
    expect(again[0]).toBe(first[2]); // the same object: cached samples are shared
    expect(cache.stats()).toEqual({ hits: 4, misses: 3, bytes: 1200, entries: 3 });
    expect([cache.name, cache.size, cache.id(4), cache.text(4)]).toEqual(['counting', 100, 'line-4', 't4']);
  });

  it('evicts the least recently used lines to stay within the byte budget', async () => {
    const { dataset, loads } = countingDataset();
    const cache = new LineCache(dataset, { maxBytes: 1000 }); // room for 2 lines of 400 bytes
    for (const i of [0, 1]) await cache.load(i);
    await cache.load(0); // 0 is now more recent than 1
    await cache.load(2); // evicts 1
    expect(cache.stats()).toMatchObject({ bytes: 800, entries: 2 });
    await cache.load(0);
    await cache.load(2);
    expect(loads).toEqual([0, 1, 2]);
    await cache.load(1);
    expect(loads).toEqual([0, 1, 2, 1]);
    expect(cache.stats().bytes).toBeLessThanOrEqual(1000);
    // A line larger than the whole budget is served but not kept.
    const tiny = new LineCache(dataset, { maxBytes: 300 });
    await tiny.load(5);
    await tiny.load(5);
    expect(tiny.stats()).toEqual({ hits: 0, misses: 2, bytes: 0, entries: 0 });
  });

  it('does not cache failures: the next load tries again', async () => {
    const { dataset, loads } = countingDataset([3]);
    const cache = new LineCache(dataset, { maxBytes: 10_000 });
    await expect(cache.load(3)).rejects.toThrow('cannot decode image');
    await expect(cache.load(3)).rejects.toThrow('cannot decode image');
    expect(loads).toEqual([3, 3]);
    expect(cache.stats().entries).toBe(0);
  });

  it('under a Prefetcher, a second epoch loads nothing, and augmentation still differs per step', async () => {
    const { dataset, loads } = countingDataset();
    const cache = new LineCache(dataset, { maxBytes: 1 << 20 });
    const epoch = [
      [0, 1, 2],
      [3, 4, 5],
    ];
    const out: LineSample[][] = [];
    for await (const batch of new Prefetcher(cache, [...epoch, ...epoch], {
      augment: AUGMENT_PRESETS.default!,
      seed: 1,
    }))
      out.push(batch);
    expect(loads.sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(out[2]![0]!.id).toBe('line-0');
    expect(out[2]![0]!.image).not.toEqual(out[0]![0]!.image); // step 2 vs step 0
    expect((await cache.load(0)).image.data.every((v) => v === 0)).toBe(true); // the cached line was not modified
  });

  it('rejects a bad budget', () => {
    expect(() => new LineCache(countingDataset().dataset, { maxBytes: -1 })).toThrow(
      'line cache: maxBytes = -1 (expected a number of bytes >= 0)',
    );
  });
});
