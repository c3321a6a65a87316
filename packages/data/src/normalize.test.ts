import { Rng } from '@scriptorium/runtime/rng';
import { describe, expect, it } from 'vitest';
import { inkWindow, normalizeLineSync, paperLevel } from './normalize.js';

/** A w x h page of grey `paper` with uniform noise of +-`noise`, and ink `ink` in the rectangle [x0, x1) x [y0, y1). */
function page(w: number, h: number, paper: number, noise: number, ink: number, [x0, x1, y0, y1]: number[], seed = 1) {
  const rng = new Rng(seed),
    data = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++)
      data[y * w + x] = x >= x0! && x < x1! && y >= y0! && y < y1! ? ink : paper + noise * (2 * rng.next() - 1);
  }
  return { data, width: w, height: h };
}

describe('paperLevel', () => {
  it('is the median grey level (to the 1/255 of its histogram), or the 5th percentile where ink covers most of the image', () => {
    const img = page(120, 40, 0.3, 0.08, 0.9, [10, 50, 5, 30]);
    const sorted = Float32Array.from(img.data).sort();
    expect(Math.abs(paperLevel(img.data, 0.9) - sorted[Math.floor(sorted.length / 2)]!)).toBeLessThanOrEqual(1 / 255);
    // Ink on 90% of the image: the median is ink, the 5th percentile paper.
    const dense = page(20, 10, 0.2, 0, 0.8, [0, 18, 0, 10]);
    expect(paperLevel(dense.data, 0.8)).toBeCloseTo(0.2, 6);
    // Faded ink (0.55) on darker paper (0.3 +- 0.03): the median, not the 5th percentile; the paper then maps to ~0.
    const faint = page(100, 40, 0.3, 0.03, 0.55, [10, 60, 10, 20]);
    const level = paperLevel(faint.data, 0.55);
    expect(Math.abs(level - 0.3)).toBeLessThan(0.01);
    const out = normalizeLineSync(faint, { height: 40, cropMargins: false });
    expect(out.data.reduce((a, v) => a + v, 0) / out.data.length).toBeLessThan(0.15 + 0.05); // ink covers 12.5% at 1
  });
});

describe('inkWindow', () => {
  it('is the box of rows and columns with enough ink pixels, padded within the image', () => {
    const img = page(60, 20, 0, 0, 1, [12, 40, 5, 9]);
    img.data[2 * 60 + 55] = 1; // a speck: one pixel alone in its row and column
    expect(inkWindow(img.data, 60, 20, 0.5, 2, 0)).toEqual([12, 5, 28, 4]);
    expect(inkWindow(img.data, 60, 20, 0.5, 1, 0)).toEqual([12, 2, 44, 7]);
    expect(inkWindow(img.data, 60, 20, 0.5, 2, 3)).toEqual([9, 2, 34, 10]);
    expect(inkWindow(img.data, 60, 20, 1.5, 2, 0)).toBeUndefined();
  });
});

describe('normalizeLineSync', () => {
  it("'paper': grey noisy paper becomes 0 and is cropped to the ink (plus a pixel), the ink becomes 1", () => {
    // Ink 40 x 10 at (30, 12) on 0.35 paper with +-0.1 noise; the box with its 1-pixel pad is 42 x 12.
    const img = page(100, 36, 0.35, 0.1, 0.85, [30, 70, 12, 22]);
    const out = normalizeLineSync(img, { height: 12 });
    expect([out.width, out.height]).toEqual([42, 12]);
    for (let y = 0; y < 12; y++) {
      for (let x = 0; x < 42; x++) {
        const v = out.data[y * 42 + x]!;
        const inside = x >= 1 && x < 41 && y >= 1 && y < 11;
        // Paper is (value - median) / (0.85 - median) clamped at 0: at most 0.1 / 0.5 above 0.
        if (inside) expect(v, `(${x}, ${y})`).toBeCloseTo(1, 5);
        else expect(v, `(${x}, ${y})`).toBeLessThanOrEqual(0.1 / (0.85 - 0.35) + 0.02);
      }
    }
  });

  it("'zero' (bundles before the paper level): noise at 5% of the ink holds the margins open, and paper keeps its grey", () => {
    const img = page(100, 36, 0.35, 0.1, 0.85, [30, 70, 12, 22]);
    const out = normalizeLineSync(img, { height: 36, background: 'zero' });
    expect([out.width, out.height]).toEqual([100, 36]);
    // Contrast only divides by the darkest ink: a paper pixel keeps value / 0.85.
    expect(out.data[0]).toBeCloseTo(img.data[0]! / 0.85, 5);
  });

  it('a speck in the margin does not hold it open, and an image without ink (uniform grey) becomes blank paper', () => {
    const img = page(80, 30, 0, 0, 1, [20, 50, 10, 20]);
    img.data[1 * 80 + 75] = 1;
    expect(normalizeLineSync(img, { height: 12 }).width).toBe(Math.round((32 * 12) / 12));
    const grey = normalizeLineSync(
      { data: new Float32Array(40 * 10).fill(0.4), width: 40, height: 10 },
      { height: 20 },
    );
    expect([grey.width, grey.height, Math.max(...grey.data)]).toEqual([80, 20, 0]);
  });
});
