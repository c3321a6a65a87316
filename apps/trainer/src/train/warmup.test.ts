import { describe, expect, it } from 'vitest';
import { fromWarmup, warmupShare } from './warmup.js';

describe('warm-up curriculum', () => {
  const warmup = { spec: 'mnist-lines:maxDigits=6', steps: 100 };

  it('draws all lines from the warm-up data at first, then a linearly falling share, then none', () => {
    expect([1, 51, 101, 5000].map((s) => warmupShare(warmup, s))).toEqual([1, 0.5, 0, 0]);
    const share = (step: number) => {
      let n = 0;
      for (let i = 0; i < 20000; i++) n += fromWarmup(warmup, 7, step, i) ? 1 : 0;
      return n / 20000;
    };
    expect(share(1)).toBe(1);
    expect(share(101)).toBe(0);
    // Binomial(20000, p): 4 standard deviations are under 0.015.
    expect(Math.abs(share(26) - 0.75)).toBeLessThan(0.015);
    expect(Math.abs(share(76) - 0.25)).toBeLessThan(0.015);
  });

  it('is a pure function of (seed, step, index), and seeds differ', () => {
    const draws = (seed: number) => Array.from({ length: 64 }, (_, i) => fromWarmup(warmup, seed, 51, i));
    expect(draws(3)).toEqual(draws(3));
    expect(draws(3)).not.toEqual(draws(4));
  });
});
