import { Rng } from '@scriptorium/runtime';
import { describe, expect, it } from 'vitest';
import { beamSearchDecode, type LmScorer } from './beam-search-decode.js';
import { CharNgramLm } from './char-ngram-lm.js';
import { labellingLogProbs } from './ctc-brute-force.js';
import { forcedAlign } from './forced-align.js';
import { greedyDecode } from './greedy-decode.js';

function randomCase(rng: Rng, maxT = 5) {
  const T = 1 + rng.int(maxT);
  const C = 2 + rng.int(3);
  const blank = [0, C - 1][rng.int(2)]!;
  const data = Float32Array.from({ length: T * C }, () => rng.normal() * 1.5);
  return { T, C, blank, data };
}

/** Brute-force labellings sorted by score, best first, with an optional per-labelling bonus. */
function ranked(scores: Map<string, number>, bonus: (labels: number[]) => number = () => 0) {
  return [...scores]
    .map(([key, s]) => {
      const labels = key === '' ? [] : key.split(',').map(Number);
      return { labels, score: s + bonus(labels) };
    })
    .sort((a, b) => b.score - a.score);
}

describe('beamSearchDecode', () => {
  it('with a beam wide enough to keep every prefix, returns the brute-force top labellings and log-probs', () => {
    const rng = new Rng(41);
    for (let k = 0; k < 25; k++) {
      const { T, C, blank, data } = randomCase(rng);
      const expected = ranked(labellingLogProbs(data, T, C, blank)).slice(0, 4);
      const [got] = beamSearchDecode({ data, shape: [1, T, C] }, [T], { beamWidth: 500, topPaths: 4, blank });
      expect(got!.map((r) => r.labels)).toEqual(expected.map((r) => r.labels));
      got!.forEach((r, i) => expect(r.score).toBeCloseTo(expected[i]!.score, 9));
    }
  });

  it('with an LM, weight and insertion bonus: brute force rescored by lmWeight*log P_lm + bonus*length', () => {
    const rng = new Rng(42);
    // A random bigram table over 4 classes (context -1 = start); blank column unused.
    const table = Array.from({ length: 5 }, () => Array.from({ length: 4 }, () => Math.log(0.05 + rng.next())));
    const lm: LmScorer = (prefix, next) => table[(prefix.at(-1) ?? -1) + 1]![next]!;
    const [lmWeight, insertionBonus] = [0.7, 0.4];
    for (let k = 0; k < 20; k++) {
      const [T, C, blank] = [1 + rng.int(5), 4, 0];
      const x = Float32Array.from({ length: T * C }, () => rng.normal() * 1.5);
      const lmTotal = (labels: number[]) =>
        labels.reduce((s, c, i) => s + lmWeight * lm(labels.slice(0, i), c) + insertionBonus, 0);
      const expected = ranked(labellingLogProbs(x, T, C, blank), lmTotal).slice(0, 3);
      const [got] = beamSearchDecode({ data: x, shape: [1, T, C] }, [T], {
        beamWidth: 500,
        topPaths: 3,
        lm,
        lmWeight,
        insertionBonus,
      });
      expect(got!.map((r) => r.labels)).toEqual(expected.map((r) => r.labels));
      got!.forEach((r, i) => expect(r.score).toBeCloseTo(expected[i]!.score, 9));
    }
  });

  it('an LM that forbids a label (a lexicon) keeps it out of every result', () => {
    const rng = new Rng(43);
    const data = Float32Array.from({ length: 6 * 3 }, () => rng.normal());
    for (let t = 0; t < 6; t++) data[t * 3 + 2] += 3; // class 2 is the most likely everywhere
    const [got] = beamSearchDecode({ data, shape: [1, 6, 3] }, [6], {
      beamWidth: 8,
      topPaths: 3,
      lm: (_, next) => (next === 2 ? -Infinity : Math.log(0.5)),
    });
    for (const r of got!) expect(r.labels).not.toContain(2);
  });

  it('width 1 equals greedy when every frame has a class above 3/4', () => {
    // Exactness of width 1: each step, the single prefix P goes to P + c (score total * y_c) or stays (total * y_blank
    // + pnb * y_last). With the best class above q = 3/4 (> 1/sqrt 2), the move greedy makes always scores highest,
    // including a repeated label after a blank frame, where pb / pnb >= q / (1 - q) > 1 / (2q - 1).
    const rng = new Rng(44);
    for (let k = 0; k < 100; k++) {
      const [T, C] = [2 + rng.int(12), 3 + rng.int(3)];
      const data = new Float32Array(T * C);
      for (let t = 0; t < T; t++) {
        for (let c = 0; c < C; c++) data[t * C + c] = rng.normal() * 0.5;
        data[t * C + rng.int(C)] += 5; // e^5 / (e^5 + (C - 1) e^1) > 0.9 for C <= 5
      }
      const x = { data, shape: [1, T, C] as const };
      const [greedy] = greedyDecode(x, [T]);
      const beam = beamSearchDecode(x, [T], { beamWidth: 1 })[0]![0]!;
      expect(beam.labels).toEqual(greedy!.labels);
      expect(beam.score).toBeGreaterThanOrEqual(greedy!.score - 1e-9); // the labelling sums paths, greedy has one
    }
  });

  it('spans come from the best alignment of each returned labelling', () => {
    const rng = new Rng(45);
    const { T, C, blank, data } = randomCase(rng, 6);
    const results = beamSearchDecode({ data, shape: [1, T, C] }, [T], { beamWidth: 50, topPaths: 3, blank })[0]!;
    for (const r of results) {
      const [a] = forcedAlign({ data, shape: [1, T, C] }, [T], [r.labels], { blank });
      expect(r.spans).toEqual(a!.spans);
      expect(r.spans.length).toBe(r.labels.length);
    }
  });

  it('decodes batches with their own lengths, and zero frames as the empty labelling', () => {
    const rng = new Rng(46);
    const [T, C] = [5, 3];
    const data = Float32Array.from({ length: 2 * T * C }, () => rng.normal());
    data.fill(NaN, T * C + 3 * C); // sample 1 uses 3 frames
    const both = beamSearchDecode({ data, shape: [2, T, C] }, [5, 3], { beamWidth: 20, topPaths: 2 });
    const second = beamSearchDecode({ data: data.slice(T * C, T * C + 3 * C), shape: [1, 3, C] }, [3], {
      beamWidth: 20,
      topPaths: 2,
    });
    expect(both[1]).toEqual(second[0]);
    expect(beamSearchDecode({ data: new Float32Array(0), shape: [1, 0, 3] }, [0])).toEqual([
      [{ labels: [], score: 0, spans: [] }],
    ]);
  });

  it('rejects topPaths above beamWidth and a zero width', () => {
    const x = { data: new Float32Array(6), shape: [1, 2, 3] as const };
    expect(() => beamSearchDecode(x, [2], { beamWidth: 2, topPaths: 3 })).toThrow(
      /topPaths: 3; expected an integer in \[1, beamWidth = 2\]/,
    );
    expect(() => beamSearchDecode(x, [2], { beamWidth: 0 })).toThrow(/beamWidth: 0; expected an integer >= 1/);
  });

  it('uses a CharNgramLm scorer: the LM breaks an acoustic tie toward the trained spelling', () => {
    // Frames: 'a' sure, then 'b' vs 'c' equally likely, then blank. Trained text says 'ab', never 'ac'.
    const alphabet = ['', 'a', 'b', 'c'];
    const lm = CharNgramLm.train('ab\nab\nab\nb', { order: 2, alphabet });
    const p = [
      [0.05, 0.9, 0.025, 0.025],
      [0.1, 0.05, 0.425, 0.425],
      [0.9, 0.04, 0.03, 0.03],
    ];
    const data = Float32Array.from(p.flat().map(Math.log));
    const x = { data, shape: [1, 3, 4] as const };
    const withLm = beamSearchDecode(x, [3], { beamWidth: 8, lm: lm.scorer(), lmWeight: 1 })[0]![0]!;
    expect(withLm.labels).toEqual([1, 2]);
    // P_lm(c | a) < P_lm(b | a): the tie is broken by the LM alone.
    expect(lm.logProb([1], 3)).toBeLessThan(lm.logProb([1], 2));
  });
});
