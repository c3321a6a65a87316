import { Rng } from '@scriptorium/runtime';
import { describe, expect, it } from 'vitest';
import { expNonPositive } from './fast-exp.js';

describe('expNonPositive', () => {
  it('agrees with Math.exp to 1e-15 relative on [-700, 0] and near 0', () => {
    const rng = new Rng(1);
    let worst = 0;
    const xs = [0, -1e-300, -1e-9, -Math.LN2 / 128, -Math.LN2, -1, -700];
    for (let i = 0; i < 20000; i++) xs.push(-rng.uniform(0, i % 2 ? 1 : 700));
    for (const x of xs) worst = Math.max(worst, Math.abs(expNonPositive(x) / Math.exp(x) - 1));
    expect(worst).toBeLessThan(1e-15);
  });

  it('underflows like Math.exp: subnormals above -745, 0 below, 0 at -Infinity, NaN stays NaN', () => {
    expect(expNonPositive(-740) / Math.exp(-740)).toBeCloseTo(1, 3); // subnormal: fewer significant digits
    expect(expNonPositive(-746)).toBe(0);
    expect(expNonPositive(-Infinity)).toBe(0);
    expect(expNonPositive(NaN)).toBeNaN();
  });
});
