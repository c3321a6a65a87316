import { describe, expect, it } from 'vitest';
import type { TextLineLayout } from './layout.js';
import { renderTextLine } from './render.js';

/** A line drawn plainly: no slant, drift, jitter, stroke change, paper or noise; ink 1. */
const plain = (text: string, over: Partial<TextLineLayout> = {}): TextLineLayout => ({
  text,
  font: 'patrick-hand',
  fontSize: 40,
  letterSpacing: 0,
  wordSpacing: 1,
  slant: 0,
  drift: { amplitude: 0, period: 20, phase: 0 },
  glyphJitter: 0,
  stroke: 0,
  ink: 1,
  paper: 0,
  noise: 0,
  pixelSeed: 1,
  ...over,
});

/** Ink-weighted mean of x over the rows [y0, y1). */
function meanX(img: { data: Float32Array; width: number }, y0: number, y1: number): number {
  let s = 0,
    sx = 0;
  for (let y = y0; y < y1; y++)
    for (let x = 0; x < img.width; x++) (s += img.data[y * img.width + x]!), (sx += x * img.data[y * img.width + x]!);
  return sx / s;
}
const ink = (d: Float32Array, from = 0, to = d.length) => d.subarray(from, to).reduce((s, v) => s + v, 0);

describe('renderTextLine', () => {
  it('draws glyphs upright: the bar of a T at the top, the foot of an L at the bottom', () => {
    for (const [c, top] of [
      ['T', true],
      ['L', false],
    ] as const) {
      const { data, width, height } = renderTextLine(plain(c));
      const upper = ink(data, 0, (height >> 1) * width),
        lower = ink(data, (height >> 1) * width);
      expect([c, upper > lower]).toEqual([c, top]);
    }
  });

  it('leans a positive slant to the right', () => {
    const img = renderTextLine(plain('l', { slant: 0.3 }));
    const q = img.height >> 2;
    // Across the middle half of the stroke, x moves right by 0.3 per pixel up: about 0.3 * (height / 2).
    expect(meanX(img, q, 2 * q) - meanX(img, 2 * q, 3 * q)).toBeCloseTo(0.3 * q, 0);
  });

  it('puts ink and paper at their levels: background = paper, full ink = ink', () => {
    const { data } = renderTextLine(plain('W', { ink: 0.8, paper: 0.1 }));
    expect(Math.min(...data)).toBeCloseTo(0.1, 6);
    expect(Math.max(...data)).toBeCloseTo(0.8, 6);
  });

  it('adds paper noise of about the asked standard deviation', () => {
    const { data, width } = renderTextLine(plain('a b', { paper: 0.3, noise: 0.05 }));
    const row = Array.from(data.subarray(0, width)); // the top margin row: paper only
    const mean = row.reduce((s, v) => s + v, 0) / row.length;
    const std = Math.sqrt(row.reduce((s, v) => s + (v - mean) ** 2, 0) / row.length);
    expect(mean).toBeCloseTo(0.3, 1);
    expect(std).toBeGreaterThan(0.03);
    expect(std).toBeLessThan(0.07);
  });

  it('thickens strokes by the weight asked, and thins them only where half the ink survives', () => {
    for (const font of ['patrick-hand', 'reenie-beanie', 'the-girl-next-door']) {
      const base = ink(renderTextLine(plain('minimum', { font, fontSize: 20 })).data);
      const [half, full] = [0.5, 1].map((stroke) =>
        ink(renderTextLine(plain('minimum', { font, fontSize: 20, stroke })).data),
      );
      expect(half).toBeGreaterThan(base);
      expect(full).toBeGreaterThan(half);
      const thin = ink(renderTextLine(plain('minimum', { font, fontSize: 20, stroke: -1 })).data);
      expect(thin).toBeLessThanOrEqual(base);
      expect(thin).toBeGreaterThanOrEqual(0.5 * base);
    }
  });

  it('moves the baseline with the drift', () => {
    const flat = renderTextLine(plain('xxxxxxxxxxxx'));
    const wavy = renderTextLine(plain('xxxxxxxxxxxx', { drift: { amplitude: 0.2, period: 4, phase: 0 } }));
    // Twelve x's (about 6 em) on a sinusoid of 0.2 em amplitude and 4 em period: the ink box grows by nearly
    // 2 * 0.2 * 40 = 16 px.
    expect(wavy.height - flat.height).toBeGreaterThan(12);
    expect(wavy.height - flat.height).toBeLessThanOrEqual(17);
  });
});
