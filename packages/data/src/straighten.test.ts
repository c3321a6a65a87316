import { describe, expect, it } from 'vitest';
import { normalizeLineSync } from './normalize.js';
import { characterHeight, deslantLine, type GreyImage, inkCentres, lineSlant, straightenLine } from './straighten.js';

/**
 * A line of `n` ink blocks (6 wide, 10 tall, 4 apart) on paper `paper`, each block's top at `top(x)` for its left
 * edge x: a drifting or bowed baseline drawn without any of straighten.ts.
 */
function blocks(n: number, top: (x: number) => number, paper = 0, height = 60): GreyImage {
  const width = 10 * n + 10,
    data = new Float32Array(width * height).fill(paper);
  for (let k = 0; k < n; k++) {
    const x0 = 5 + 10 * k,
      y0 = Math.round(top(x0));
    for (let y = y0; y < y0 + 10; y++) for (let x = x0; x < x0 + 6; x++) data[y * width + x] = 1;
  }
  return { data, width, height };
}

/** The first and last ink row of each block (columns 5 + 10k to 10 + 10k), by a plain scan of the image. */
function blockRows(img: GreyImage, n: number): Array<[number, number]> {
  const rows: Array<[number, number]> = [];
  for (let k = 0; k < n; k++) {
    let first = Infinity,
      last = -Infinity;
    for (let x = 5 + 10 * k; x < 11 + 10 * k; x++)
      for (let y = 0; y < img.height; y++)
        if (img.data[y * img.width + x]! > 0.5) [first, last] = [Math.min(first, y), Math.max(last, y)];
    rows.push([first, last]);
  }
  return rows;
}

describe('characterHeight', () => {
  it('is the 75th percentile of the ink extents of the columns with ink, not the height of the line', () => {
    const drifting = blocks(12, (x) => 5 + x / 4);
    expect(characterHeight(drifting.data, drifting.width, drifting.height, 0.5)).toBe(10);
    expect(characterHeight(new Float32Array(20), 5, 4, 0.5)).toBeUndefined();
  });
});

describe('inkCentres', () => {
  it('is the ink-weighted mean row under a Gaussian window, brute-forced per column', () => {
    const img = blocks(6, (x) => 10 + 8 * Math.sin(x / 9)),
      sigma = 4;
    const centres = inkCentres(img.data, img.width, img.height, 0.5, sigma)!;
    for (const x of [5, 17, 33, 48]) {
      let m = 0,
        s = 0;
      for (let u = 0; u < img.width; u++) {
        const g = Math.exp(-0.5 * ((u - x) / sigma) ** 2);
        if (Math.abs(u - x) > Math.ceil(3 * sigma)) continue;
        for (let y = 0; y < img.height; y++) {
          const w = img.data[y * img.width + u]! - 0.5;
          if (w > 0) [m, s] = [m + g * w, s + g * w * y];
        }
      }
      expect(centres[x]).toBeCloseTo(s / m, 9);
    }
    // The blank margins take the nearest known centre.
    expect(centres[0]).toBe(centres[Math.ceil(5 - 3 * sigma) < 0 ? 0 : 1]);
    expect(inkCentres(new Float32Array(20), 5, 4, 0.5, 2)).toBeUndefined();
  });
});

describe('straightenLine', () => {
  it('levels a drifting baseline: the blocks end on rows within a pixel of each other, each keeping its height', () => {
    const n = 12,
      img = blocks(n, (x) => 4 + (x * 30) / 125);
    const before = blockRows(img, n);
    expect(before[n - 1]![0] - before[0]![0]).toBeGreaterThanOrEqual(25);
    const out = straightenLine(img, 0.5, 0);
    const after = blockRows(out, n);
    // The ends of a line see neighbours on one side only, so their smoothed centre lags: all but the two outermost
    // blocks on each side land within a row of each other.
    const inner = after.slice(2, -2).map(([top]) => top);
    expect(Math.max(...inner) - Math.min(...inner)).toBeLessThanOrEqual(1);
    const tops = after.map(([top]) => top);
    expect(Math.max(...tops) - Math.min(...tops)).toBeLessThanOrEqual(6);
    // Columns of one block may move by a row more or less than each other, no more.
    for (const [first, last] of after) expect(last - first).toBeLessThanOrEqual(10);
  });

  it('levels a bowed baseline as well, and so shrinks the ink box the line is scaled by', () => {
    const n = 14,
      bow = (x: number) => 30 - 20 * Math.sin((Math.PI * x) / 145);
    const img = blocks(n, bow, 0.2);
    const out = straightenLine(img, 0.5, 0.2);
    const tops = blockRows(out, n)
      .slice(2, -2)
      .map(([top]) => top);
    expect(Math.max(...tops) - Math.min(...tops)).toBeLessThanOrEqual(2);
    // Normalised to 20 rows, the straightened line is wider (its characters taller): about 30 / 12 rows of ink box.
    const plain = normalizeLineSync(img, { height: 20, straighten: false }),
      level = normalizeLineSync(img, { height: 20, straighten: true });
    expect(level.width / plain.width).toBeGreaterThan(1.8);
  });

  it('moves whole columns by whole rows: every column is its input column shifted, the rest paper', () => {
    const img = blocks(9, (x) => 6 + 10 * Math.cos(x / 14), 0.1);
    img.data[3 * img.width + 2] = 0.7; // a grey speck: values are moved, never resampled
    const out = straightenLine(img, 0.5, 0.1);
    expect(out.width).toBe(img.width);
    for (let x = 0; x < img.width; x++) {
      const column = (im: GreyImage) => Array.from({ length: im.height }, (_, y) => im.data[y * im.width + x]!);
      const src = column(img),
        dst = column(out);
      const matches = Array.from({ length: out.height - img.height + 1 }, (_, d) => d).filter((d) =>
        dst.every((v, y) => v === (y >= d && y < d + img.height ? src[y - d] : Math.fround(0.1))),
      );
      expect(matches.length, `column ${x}`).toBeGreaterThan(0);
    }
  });

  it('returns a straight line, a blank image and a single block unchanged', () => {
    const straight = blocks(8, () => 20);
    expect(straightenLine(straight, 0.5, 0)).toBe(straight);
    const blank = { data: new Float32Array(100), width: 10, height: 10 };
    expect(straightenLine(blank, 0.5, 0)).toBe(blank);
    const one = blocks(1, () => 3);
    expect(straightenLine(one, 0.5, 0)).toBe(one);
  });
});

/** Upright bars (2 px wide, 16 tall, 9 apart) sheared by `s`: row y's ink moves right by s * (middle - y). */
function slantedBars(s: number): GreyImage {
  const width = 120,
    height = 20,
    middle = (height - 1) / 2,
    data = new Float32Array(width * height);
  for (let y = 2; y < 18; y++)
    for (let k = 0; k < 10; k++) {
      const x = 15 + 9 * k + s * (middle - y);
      const x0 = Math.floor(x),
        f = x - x0;
      data[y * width + x0] += 1 - f;
      data[y * width + x0 + 1] += 1;
      data[y * width + x0 + 2] += f;
    }
  return { data, width, height };
}

describe('lineSlant and deslantLine', () => {
  it('finds the shear of slanted upright strokes to within a step (0.05), either way', () => {
    for (const s of [-0.5, -0.2, 0, 0.15, 0.4])
      expect(Math.abs(lineSlant(slantedBars(s), 0.1) - s)).toBeLessThanOrEqual(0.05);
    expect(lineSlant({ data: new Float32Array(30), width: 6, height: 5 }, 0.1)).toBe(0);
  });

  it('stands the strokes upright: each bar then spans at most 4 columns (7 or more before) over its 16 rows, on a widened canvas', () => {
    const img = slantedBars(0.4),
      out = deslantLine(img, 0.1, 0);
    expect(out.height).toBe(img.height);
    expect(out.width).toBeGreaterThan(img.width);
    const barColumns = (im: GreyImage) => {
      let columns = 0;
      for (let x = 0; x < im.width; x++) {
        let ink = 0;
        for (let y = 0; y < im.height; y++) ink += im.data[y * im.width + x]!;
        if (ink > 0.5) columns++;
      }
      return columns / 10;
    };
    expect(barColumns(img)).toBeGreaterThan(7);
    expect(barColumns(out)).toBeLessThanOrEqual(4);
    // Linear interpolation keeps each row's ink.
    const rowInk = (im: GreyImage, y: number) =>
      im.data.subarray(y * im.width, (y + 1) * im.width).reduce((a, v) => a + v, 0);
    for (const y of [2, 9, 17]) expect(rowInk(out, y)).toBeCloseTo(rowInk(img, y), 4);
    const upright = slantedBars(0);
    expect(deslantLine(upright, 0.1, 0)).toBe(upright);
  });
});
