import { describe, expect, it } from 'vitest';
import { flattenPath, signedArea2 } from './flatten.js';

describe('flattenPath', () => {
  it('keeps lines as they are and closes a contour at Z or at the next M', () => {
    const polys = flattenPath(
      [
        { type: 'M', x: 0, y: 0 },
        { type: 'L', x: 4, y: 0 },
        { type: 'L', x: 4, y: 3 },
        { type: 'Z' },
        { type: 'M', x: 10, y: 0 },
        { type: 'L', x: 12, y: 0 },
        { type: 'L', x: 12, y: 2 },
        { type: 'M', x: 20, y: 0 },
        { type: 'L', x: 21, y: 0 },
        { type: 'L', x: 21, y: 1 },
      ],
      0.1,
    );
    expect(polys).toEqual([
      [0, 0, 4, 0, 4, 3],
      [10, 0, 12, 0, 12, 2],
      [20, 0, 21, 0, 21, 1],
    ]);
    expect(signedArea2(polys[0]!)).toBe(12); // counter-clockwise with y up: 2 * (4 * 3 / 2)
  });

  it('splits a quadratic into points on the curve whose chords stay within the tolerance', () => {
    // B(t) = (1-t)^2 (0,0) + 2t(1-t) (50,100) + t^2 (100,0): its second difference is 200, so the chord error of n
    // steps is 200 / (4 n^2) <= 0.5 for n = 10.
    const [poly] = flattenPath(
      [{ type: 'M', x: 0, y: 0 }, { type: 'Q', x1: 50, y1: 100, x: 100, y: 0 }, { type: 'Z' }],
      0.5,
    );
    expect(poly!.length / 2).toBe(11);
    for (let i = 0; i < poly!.length; i += 2) {
      const t = poly![i]! / 100; // x = 100 t on this curve
      expect(poly![i + 1]).toBeCloseTo(200 * t * (1 - t), 9);
    }
    // The chord of the steepest-curving step, at its midpoint: off the curve by 200 / (4 * 10^2) = 0.5 at most.
    const mid = (poly![10]! + poly![12]!) / 2,
      chordY = (poly![11]! + poly![13]!) / 2;
    expect(200 * (mid / 100) * (1 - mid / 100) - chordY).toBeLessThanOrEqual(0.5 + 1e-9);
  });

  it('splits a cubic by its larger second difference', () => {
    // Second differences (0,0)-2(0,60)+(60,60) = (60,-60) and (0,60)-2(60,60)+(60,0) = (-60,-60), |.| = 84.85;
    // n = ceil(sqrt(3 * 84.85 / 4 / 0.25)) = 16.
    const [poly] = flattenPath(
      [
        { type: 'M', x: 0, y: 0 },
        { type: 'C', x1: 0, y1: 60, x2: 60, y2: 60, x: 60, y: 0 },
      ],
      0.25,
    );
    expect(poly!.length / 2).toBe(17);
  });
});
