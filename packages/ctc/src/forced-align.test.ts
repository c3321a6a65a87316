import { Rng } from '@scriptorium/runtime';
import { describe, expect, it } from 'vitest';
import { collapsePath, forEachPath } from './ctc-brute-force.js';
import { forcedAlign } from './forced-align.js';

/** Frame runs of each label in a path, the plain way. */
function runs(path: number[], blank: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  path.forEach((c, t) => {
    if (c === blank) return;
    if (t > 0 && path[t - 1] === c) out[out.length - 1]![1] = t + 1;
    else out.push([t, t + 1]);
  });
  return out;
}

describe('forcedAlign', () => {
  it("finds the labelling's most probable path, as brute force does (score and spans)", () => {
    const rng = new Rng(31);
    let checked = 0;
    for (let k = 0; k < 30; k++) {
      const [T, C] = [1 + rng.int(6), 2 + rng.int(3)];
      const blank = rng.int(C);
      const data = Float32Array.from({ length: T * C }, () => rng.normal() * 2);
      const label = Array.from({ length: rng.int(Math.min(T, 3) + 1) }, () => (blank + 1 + rng.int(C - 1)) % C);
      let bestP = 0;
      let bestPath: number[] | null = null;
      forEachPath(data, T, C, (path, p) => {
        if (p > bestP && collapsePath(path, blank).join() === label.join()) [bestP, bestPath] = [p, [...path]];
      });
      const [a] = forcedAlign({ data, shape: [1, T, C] }, [T], [label], { blank });
      if (!bestPath) {
        expect(a!.score).toBe(-Infinity);
        continue;
      }
      expect(a!.score).toBeCloseTo(Math.log(bestP), 5);
      expect(a!.spans).toEqual(runs(bestPath, blank));
      checked++;
    }
    expect(checked).toBeGreaterThan(15);
  });
});
