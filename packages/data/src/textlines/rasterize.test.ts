import { describe, expect, it } from 'vitest';
import { flattenPath, type PathCommand } from './flatten.js';
import { fillPolygons, SUBSAMPLES } from './rasterize.js';

const total = (img: Float32Array) => img.reduce((s, v) => s + v, 0);

/** Counter-clockwise (y down: clockwise on screen) rectangle [x0, x1] x [y0, y1]. */
const rect = (x0: number, y0: number, x1: number, y1: number) => [x0, y0, x0, y1, x1, y1, x1, y0];
const reversed = (p: number[]) => p.flatMap((_, i) => (i % 2 ? [] : [p[p.length - 2 - i]!, p[p.length - 1 - i]!]));

/** Oracle: the exact area of a convex polygon inside pixel [px, px + 1] x [py, py + 1], by Sutherland-Hodgman clipping. */
function pixelArea(poly: number[], px: number, py: number): number {
  let pts = Array.from({ length: poly.length / 2 }, (_, i) => [poly[2 * i]!, poly[2 * i + 1]!] as [number, number]);
  const clip = (
    inside: (p: [number, number]) => boolean,
    cut: (a: [number, number], b: [number, number]) => [number, number],
  ) => {
    const out: Array<[number, number]> = [];
    pts.forEach((b, i) => {
      const a = pts[(i + pts.length - 1) % pts.length]!;
      if (inside(b)) {
        if (!inside(a)) out.push(cut(a, b));
        out.push(b);
      } else if (inside(a)) out.push(cut(a, b));
    });
    pts = out;
  };
  const atX =
    (x: number) =>
    (a: [number, number], b: [number, number]): [number, number] => [
      x,
      a[1] + ((x - a[0]) * (b[1] - a[1])) / (b[0] - a[0]),
    ];
  const atY =
    (y: number) =>
    (a: [number, number], b: [number, number]): [number, number] => [
      a[0] + ((y - a[1]) * (b[0] - a[0])) / (b[1] - a[1]),
      y,
    ];
  clip((p) => p[0] >= px, atX(px));
  clip((p) => p[0] <= px + 1, atX(px + 1));
  clip((p) => p[1] >= py, atY(py));
  clip((p) => p[1] <= py + 1, atY(py + 1));
  let a = 0;
  pts.forEach((p, i) => {
    const q = pts[(i + 1) % pts.length]!;
    a += p[0] * q[1] - q[0] * p[1];
  });
  return Math.abs(a) / 2;
}

describe('fillPolygons', () => {
  it('covers an axis-aligned rectangle exactly when its top and bottom fall on sample rows', () => {
    // y edges at multiples of 1 / SUBSAMPLES (0.2): every pixel's coverage is its exact overlap area, e.g. pixel (1, 2)
    // overlaps [1.3, 2] x [2.2, 3] = 0.7 * 0.8 = 0.56.
    expect(SUBSAMPLES).toBe(5);
    const r = rect(1.3, 2.2, 5.6, 4.6);
    const img = fillPolygons([r], 8, 6);
    for (let y = 0; y < 6; y++) for (let x = 0; x < 8; x++) expect(img[y * 8 + x]).toBeCloseTo(pixelArea(r, x, y), 5);
    expect(img[2 * 8 + 1]).toBeCloseTo(0.56, 5);
    expect(total(img)).toBeCloseTo(4.3 * 2.4, 4);
  });

  it('gives a triangle its exact area, and each pixel its clipped area to within the vertical sampling', () => {
    // Vertices on sample rows: the width is linear between sample rows, so the midpoint rule is exact in total.
    const tri = [2.3, 1.2, 17.9, 6.4, 6.1, 11.8];
    const img = fillPolygons([tri], 20, 13);
    const area = Math.abs((17.9 - 2.3) * (11.8 - 1.2) - (6.1 - 2.3) * (6.4 - 1.2)) / 2; // 71.8
    expect(total(img)).toBeCloseTo(area, 3);
    let worst = 0;
    for (let y = 0; y < 13; y++)
      for (let x = 0; x < 20; x++) worst = Math.max(worst, Math.abs(img[y * 20 + x]! - pixelArea(tri, x, y)));
    // Within a pixel the covered width bends where an edge crosses a pixel column; 5 samples miss at most a
    // fraction of a sample row's worth there (measured 0.015).
    expect(worst).toBeLessThan(0.03);
  });

  it('fills a circle of radius r with pi r^2 of ink', () => {
    // Four cubic quarter arcs (control distance 0.5523 r: radius error 0.03%), flattened to 0.01 px.
    const [cx, cy, r, k] = [15.3, 14.7, 10, 0.5523 * 10];
    const commands: PathCommand[] = [
      { type: 'M', x: cx + r, y: cy },
      { type: 'C', x1: cx + r, y1: cy + k, x2: cx + k, y2: cy + r, x: cx, y: cy + r },
      { type: 'C', x1: cx - k, y1: cy + r, x2: cx - r, y2: cy + k, x: cx - r, y: cy },
      { type: 'C', x1: cx - r, y1: cy - k, x2: cx - k, y2: cy - r, x: cx, y: cy - r },
      { type: 'C', x1: cx + k, y1: cy - r, x2: cx + r, y2: cy - k, x: cx + r, y: cy },
      { type: 'Z' },
    ];
    const img = fillPolygons(flattenPath(commands, 0.01), 32, 30);
    expect(total(img) / (Math.PI * r * r)).toBeCloseTo(1, 2);
    expect(img[15 * 32 + 15]).toBe(1); // the centre
    expect(img[0]).toBe(0);
  });

  it('uses the non-zero rule: a reversed inner square is a hole, a same-direction one is not', () => {
    const outer = rect(1, 1, 11, 11),
      inner = rect(4, 4, 8, 8);
    const hole = fillPolygons([outer, reversed(inner)], 12, 12);
    expect(total(hole)).toBeCloseTo(100 - 16, 4);
    expect(hole[6 * 12 + 6]).toBe(0);
    expect(hole[2 * 12 + 2]).toBe(1);
    // Winding 2 inside the inner square: still ink (an even-odd fill would leave a hole).
    const twice = fillPolygons([outer, inner], 12, 12);
    expect(total(twice)).toBeCloseTo(100, 4);
    expect(twice[6 * 12 + 6]).toBe(1);
  });

  it('unions overlapping shapes without adding up their coverage', () => {
    const img = fillPolygons([rect(1, 1, 5, 5), rect(3, 3, 7, 7)], 8, 8);
    expect(total(img)).toBeCloseTo(16 + 16 - 4, 4);
    expect(Math.max(...img)).toBe(1);
  });

  it('clips what lies outside the image', () => {
    const img = fillPolygons([rect(-3, -2, 2.5, 3)], 4, 4);
    expect(total(img)).toBeCloseTo(2.5 * 3, 4);
    expect(fillPolygons([rect(5, 5, 9, 9)], 4, 4).every((v) => v === 0)).toBe(true);
  });
});
