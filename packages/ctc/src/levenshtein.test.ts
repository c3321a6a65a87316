import { Rng } from '@scriptorium/runtime';
import { describe, expect, it } from 'vitest';
import { levenshtein } from './levenshtein.js';

/** The recursive definition, memoised: the slow reference. */
function reference<T>(a: readonly T[], b: readonly T[]): number {
  const memo = new Map<string, number>();
  const d = (i: number, j: number): number => {
    if (i === 0) return j;
    if (j === 0) return i;
    const key = `${i},${j}`;
    if (!memo.has(key)) {
      memo.set(key, Math.min(d(i - 1, j) + 1, d(i, j - 1) + 1, d(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1)));
    }
    return memo.get(key)!;
  };
  return d(a.length, b.length);
}

describe('levenshtein', () => {
  it('known distances: kitten/sitting 3, flaw/lawn 2, empty sides', () => {
    expect(levenshtein([...'kitten'], [...'sitting'])).toBe(3); // k->s, e->i, +g
    expect(levenshtein([...'flaw'], [...'lawn'])).toBe(2); // -f, +n
    expect(levenshtein([], [1, 2, 3])).toBe(3);
    expect(levenshtein(['a'], [])).toBe(1);
    expect(levenshtein(['the', 'cat'], ['the', 'cat'])).toBe(0);
  });

  it('matches the recursive definition on random short sequences', () => {
    const rng = new Rng(8);
    for (let k = 0; k < 200; k++) {
      const a = Array.from({ length: rng.int(7) }, () => rng.int(3));
      const b = Array.from({ length: rng.int(7) }, () => rng.int(3));
      expect(levenshtein(a, b)).toBe(reference(a, b));
    }
  });
});
