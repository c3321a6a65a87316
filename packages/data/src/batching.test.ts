import { describe, expect, it } from 'vitest';
import { Alphabet } from './alphabet.js';
import { collate } from './collate.js';
import { BatchSampler, paddingRatio, shard } from './sampler.js';

describe('Alphabet', () => {
  it('is built in code-point order with the blank at 0, NFC-normalised, and round-trips', () => {
    // 'é' written as e + combining acute is one NFC character.
    const a = Alphabet.fromTexts(['ba', 'ce\u0301', 'a b']);
    expect(a.chars).toEqual([' ', 'a', 'b', 'c', 'é']);
    expect(a.size).toBe(6);
    expect(a.encode('cab é')).toEqual([4, 2, 3, 1, 5]);
    expect(a.decode([4, 0, 2, 3])).toBe('cab');
    expect(Alphabet.fromJSON(JSON.parse(JSON.stringify(a))).equals(a)).toBe(true);
  });

  it('unknown characters: an error listing them, or dropped by policy', () => {
    const a = Alphabet.fromTexts(['abc']);
    expect(() => a.encode('axbyx')).toThrow('characters not in the alphabet: "x", "y" in "axbyx"');
    expect(a.encode('axb', 'drop')).toEqual([1, 2]);
    expect(() => Alphabet.fromJSON({ format: 'other' }, 'model/alphabet.json')).toThrow(
      /model\/alphabet.json: not a Scriptorium alphabet/,
    );
  });
});

describe('collate', () => {
  it('pads images and labels and records widths and lengths', () => {
    const a = Alphabet.fromTexts(['0123456789']);
    const img = (w: number, v: number) => ({ data: new Float32Array(2 * w).fill(v), width: w, height: 2 });
    const b = collate(
      [
        { id: 'x', image: img(3, 0.5), text: '12' },
        { id: 'y', image: img(5, 1), text: '345' },
      ],
      a,
      { padWidthTo: 4 },
    );
    expect([b.batchSize, b.height, b.width, b.maxLabelLength]).toEqual([2, 2, 8, 3]);
    expect(Array.from(b.widths)).toEqual([3, 5]);
    expect(Array.from(b.labelLengths)).toEqual([2, 3]);
    expect(Array.from(b.labels)).toEqual([2, 3, 0, 4, 5, 6]);
    // Row 0 of sample 0: three 0.5 values then padding zeros.
    expect(Array.from(b.images.subarray(0, 8))).toEqual([0.5, 0.5, 0.5, 0, 0, 0, 0, 0]);
    expect(() => collate([{ id: 'z', image: img(2, 0), text: 'a' }], a)).toThrow(
      /sample 'z': characters not in the alphabet: "a"/,
    );
  });
});

describe('BatchSampler and shards', () => {
  const widths = Array.from({ length: 1000 }, (_, i) => 20 + ((i * 7919) % 400));

  it('every epoch covers each sample exactly once, in a new order', () => {
    const s = new BatchSampler({ size: 103, batchSize: 10, seed: 1 });
    const e0 = Array.from({ length: s.batchesPerEpoch }, () => s.next());
    const e1 = Array.from({ length: s.batchesPerEpoch }, () => s.next());
    for (const e of [e0, e1]) expect(e.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 103 }, (_, i) => i));
    expect(e1.flat()).not.toEqual(e0.flat());
    expect(s.epoch).toBe(1);
  });

  it('bucketing by width lowers padding against random batches', () => {
    const random = new BatchSampler({ size: 1000, batchSize: 16, seed: 2, bucketWindow: 0 }).batchesOf(0);
    const bucketed = new BatchSampler({ size: 1000, batchSize: 16, seed: 2, widths }).batchesOf(0);
    expect(bucketed.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(paddingRatio(bucketed, widths)).toBeLessThan(paddingRatio(random, widths) / 3);
  });

  it('resumes exactly from a saved state', () => {
    const a = new BatchSampler({ size: 50, batchSize: 8, seed: 9, widths: widths.slice(0, 50) });
    for (let k = 0; k < 9; k++) a.next();
    const b = new BatchSampler({ size: 50, batchSize: 8, seed: 9, widths: widths.slice(0, 50) });
    b.setState(a.getState());
    for (let k = 0; k < 10; k++) expect(b.next()).toEqual(a.next());
  });

  it('peek() shows the batch next() returns, across epoch boundaries, without moving', () => {
    const s = new BatchSampler({ size: 20, batchSize: 8, seed: 4 }); // 3 batches per epoch
    for (let k = 0; k < 8; k++) {
      const peeked = s.peek();
      expect(s.peek()).toEqual(peeked);
      expect(s.next()).toEqual(peeked);
    }
    expect(s.epoch).toBe(2);
  });

  it('shards are disjoint and cover the indices', () => {
    const idx = Array.from({ length: 37 }, (_, i) => i * 3);
    const parts = [0, 1, 2, 3].map((r) => shard(idx, r, 4));
    expect(parts.flat().sort((a, b) => a - b)).toEqual(idx);
    expect(new Set(parts.flat()).size).toBe(idx.length);
    expect(() => shard(idx, 4, 4)).toThrow('shard: rank = 4 (expected 0..3)');
  });
});
