import { describe, expect, it } from 'vitest';
import { Rng } from './rng.js';

describe('Rng', () => {
  it('is deterministic by seed and differs between seeds', () => {
    const a = new Rng(42),
      b = new Rng(42),
      c = new Rng(43);
    const xs = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(xs);
  });

  it('uint32 is the raw output behind next(), with every byte uniform', () => {
    const a = new Rng(5),
      b = new Rng(5),
      counts = new Float64Array(256);
    const n = 64_000;
    for (let i = 0; i < n; i++) {
      const u = a.uint32();
      expect(u / 4294967296).toBe(b.next());
      for (let k = 0; k < 4; k++) counts[(u >>> (8 * k)) & 255]! += 1;
    }
    // Chi-square over 256 cells, 255 degrees of freedom: the 99.9% quantile is about 330.
    const expected = (4 * n) / 256;
    expect(counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0)).toBeLessThan(330);
  });

  it('resumes exactly from a saved state', () => {
    const a = new Rng(7);
    for (let i = 0; i < 10; i++) a.next();
    const b = new Rng(0);
    b.setState(a.getState());
    expect(b.next()).toBe(a.next());
  });

  it('has the moments of U[0,1) and N(0,1) within sampling error', () => {
    const r = new Rng(1);
    const n = 100_000;
    let su = 0,
      sn = 0,
      sn2 = 0;
    for (let i = 0; i < n; i++) {
      const u = r.next();
      expect(u >= 0 && u < 1).toBe(true);
      su += u;
      const z = r.normal();
      sn += z;
      sn2 += z * z;
    }
    // Standard errors: uniform mean 0.289/sqrt(n) ~ 0.0009; normal mean 0.0032; variance ~0.0045.
    expect(Math.abs(su / n - 0.5)).toBeLessThan(0.005);
    expect(Math.abs(sn / n)).toBeLessThan(0.015);
    expect(Math.abs(sn2 / n - 1)).toBeLessThan(0.03);
  });

  it('shuffle is a permutation', () => {
    const xs = new Rng(3).shuffle(Array.from({ length: 50 }, (_, i) => i));
    expect([...xs].sort((p, q) => p - q)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(xs).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('rejects a non-finite seed', () => {
    expect(() => new Rng(NaN)).toThrow(/seed must be a finite number/);
  });
});
