import { describe, expect, it } from 'vitest';
import { splitBatch } from './split.js';

describe('splitBatch', () => {
  it('makes contiguous shards whose sizes differ by at most one, extras first', () => {
    // 10 items over 3 parts: 10 = 4 + 3 + 3.
    expect(splitBatch([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 3)).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6],
      [7, 8, 9],
    ]);
    expect(splitBatch(['a', 'b'], 1)).toEqual([['a', 'b']]);
  });

  it('keeps every item exactly once, in order, for every batch size and part count', () => {
    for (let n = 1; n <= 20; n++) {
      for (let parts = 1; parts <= 6; parts++) {
        const items = Array.from({ length: n }, (_, i) => i);
        const shards = splitBatch(items, parts);
        expect(shards.flat()).toEqual(items);
        expect(shards.length).toBe(Math.min(n, parts));
        const sizes = shards.map((s) => s.length);
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      }
    }
  });

  it('omits empty shards and rejects a bad part count', () => {
    expect(splitBatch([1, 2], 4)).toEqual([[1], [2]]);
    expect(splitBatch([], 3)).toEqual([]);
    expect(() => splitBatch([1], 0)).toThrow('splitBatch: parts must be a positive integer, got 0');
  });
});
