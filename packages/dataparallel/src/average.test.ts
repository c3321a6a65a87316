import { describe, expect, it } from 'vitest';
import { Rng } from '@scriptorium/runtime';
import { weightedAverage } from './average.js';

/** The slow, obvious reference: for each element, sum_i count_i * g_i[j] over sum_i count_i. */
function referenceAverage(shards: { grads: Float32Array; count: number }[], size: number): number[] {
  const out: number[] = [];
  for (let j = 0; j < size; j++) {
    let num = 0;
    let den = 0;
    for (const s of shards) {
      num += s.count * s.grads[j]!;
      den += s.count;
    }
    out.push(num / den);
  }
  return out;
}

describe('weightedAverage', () => {
  it('weights each shard mean by its sample count (hand-worked)', () => {
    // [1, 2] over 1 sample and [4, 8] over 3: [(1 + 12) / 4, (2 + 24) / 4] = [3.25, 6.5].
    const avg = weightedAverage(
      [
        { grads: Float32Array.of(1, 2), count: 1 },
        { grads: Float32Array.of(4, 8), count: 3 },
      ],
      2,
    );
    expect(Array.from(avg)).toEqual([3.25, 6.5]);
  });

  it('matches the reference on random shards, for 1 to 6 shards (unrolled and generic paths)', () => {
    const rng = new Rng(3);
    const size = 50;
    for (const counts of [[3], [5, 0], [5, 2], [5, 0, 7, 2], [1, 2, 3, 4], [1, 2, 3, 4, 5], [6, 5, 4, 3, 2, 1]]) {
      const shards = counts.map((count) => ({ grads: Float32Array.from({ length: size }, () => rng.normal()), count }));
      const avg = weightedAverage(shards, size);
      const ref = referenceAverage(shards, size);
      for (let j = 0; j < size; j++) expect(avg[j]).toBeCloseTo(ref[j]!, 6);
    }
  });

  it('k shard means weighted by count equal the mean over all samples', () => {
    // Per-sample "gradients" g_s = s; the mean over 0..9 is 4.5 whatever the split.
    const samples = Array.from({ length: 10 }, (_, s) => s);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    for (const cut of [[10], [3, 7], [1, 4, 5]]) {
      let start = 0;
      const shards = cut.map((n) => {
        const part = samples.slice(start, (start += n));
        return { grads: Float32Array.of(mean(part)), count: n };
      });
      expect(weightedAverage(shards, 1)[0]).toBeCloseTo(4.5, 6);
    }
  });

  it('throws for a wrong gradient length or no samples', () => {
    expect(() => weightedAverage([{ grads: new Float32Array(3), count: 1 }], 4)).toThrow(
      'a shard has 3 gradients, expected 4',
    );
    expect(() => weightedAverage([{ grads: new Float32Array(4), count: 0 }], 4)).toThrow('total sample count is 0');
  });
});
