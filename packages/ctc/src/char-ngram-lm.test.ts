import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Rng } from '@scriptorium/runtime';
import { describe, expect, it } from 'vitest';
import { CharNgramLm } from './char-ngram-lm.js';
import { charNgramLmFromFile } from './char-ngram-lm-file.js';

const alphabet = ['', 'a', 'b', 'c'];

describe('CharNgramLm', () => {
  it('interpolated Witten-Bell probabilities, hand-worked for a bigram model', () => {
    // Text 'aab' / 'b', order 2, 3 characters (uniform 1/3).
    // Unigram: N = 4 (a:2, b:2), T = 2: P(a) = (2 + 2/3) / 6 = 4/9, P(c) = (0 + 2/3) / 6 = 1/9.
    // After start: a:1, b:1, N = 2, T = 2: P(a | ^) = (1 + 2 * 4/9) / 4 = 17/36.
    // After 'a': a:1, b:1: P(b | a) = (1 + 2 * 4/9) / 4 = 17/36; P(c | a) = (0 + 2 * 1/9) / 4 = 1/18.
    // After 'b': never seen, so the unigram: P(c | b) = 1/9.
    const lm = CharNgramLm.train('aab\nb', { order: 2, alphabet });
    expect(Math.exp(lm.logProb([], 1))).toBeCloseTo(17 / 36, 12);
    expect(Math.exp(lm.logProb([1], 2))).toBeCloseTo(17 / 36, 12);
    expect(Math.exp(lm.logProb([2, 1], 3))).toBeCloseTo(1 / 18, 12);
    expect(Math.exp(lm.logProb([1, 2], 3))).toBeCloseTo(1 / 9, 12);
    expect(lm.logProb([1], 0)).toBe(-Infinity); // the blank is not a character
  });

  it('with a word boundary, contexts stop at it: hand-worked for a trigram model', () => {
    // Text 'ab ba', order 3, classes a b ' ' (uniform 1/3), boundary ' '. Contexts counted: [^ ^] a, [^ a] b,
    // [a b] ' ', then [W ' '] b (W: start of word, in place of what came before the space), [' ' b] a.
    // Unigram: a:2, b:2, ' ':1, N = 5, T = 3: P(c) = (N(c) + 1) / 8, so P(b) = 3/8.
    // After ' ': b:1: P(b | ' ') = (1 + 3/8) / 2 = 11/16. After [W ' ']: b:1: P(b | W ' ') = (1 + 11/16) / 2 = 27/32.
    const abc = ['', 'a', 'b', ' '];
    const wb = CharNgramLm.train('ab ba', { order: 3, alphabet: abc, wordBoundary: ' ' });
    expect(Math.exp(wb.logProb([1, 3], 2))).toBeCloseTo(27 / 32, 12); // 'a ' + b: the 'a' is cut off
    expect(Math.exp(wb.logProb([2, 2, 3], 2))).toBeCloseTo(27 / 32, 12); // any word before the space: the same
    // Without the boundary, [a ' '] was never seen ([b ' '] was): only the bigram answers.
    const plain = CharNgramLm.train('ab ba', { order: 3, alphabet: abc });
    expect(Math.exp(plain.logProb([1, 3], 2))).toBeCloseTo(11 / 16, 12);
    // The scorer and a JSON round trip keep the boundary.
    const back = CharNgramLm.fromJSON(JSON.parse(JSON.stringify(wb.toJSON())));
    expect([back.wordBoundary, back.scorer()([2, 2, 3], 2)]).toEqual([' ', wb.logProb([2, 2, 3], 2)]);
    expect(() => CharNgramLm.train('ab', { order: 3, alphabet, wordBoundary: ' ' })).toThrow(
      "wordBoundary: ' ' is not in the alphabet",
    );
  });

  it('is a distribution over the alphabet in every context (orders 1 to 4)', () => {
    const rng = new Rng(51);
    const text = Array.from({ length: 30 }, () =>
      Array.from({ length: rng.int(8) }, () => 'abc'[rng.int(3)]).join(''),
    ).join('\n');
    for (let order = 1; order <= 4; order++) {
      const lm = CharNgramLm.train(text, { order, alphabet });
      for (let k = 0; k < 20; k++) {
        const prefix = Array.from({ length: rng.int(5) }, () => 1 + rng.int(3));
        const total = [1, 2, 3].reduce((s, c) => s + Math.exp(lm.logProb(prefix, c)), 0);
        expect(total).toBeCloseTo(1, 12);
      }
    }
  });

  it('scorer() gives logProb for every call, also when one prefix array is extended between calls', () => {
    const lm = CharNgramLm.train('abcab\ncab\nbca', { order: 3, alphabet });
    const score = lm.scorer();
    const prefix: number[] = [];
    for (const c of [1, 2, 2, 3, 1, 1]) {
      for (const next of [1, 2, 3, 2]) expect(score(prefix, next)).toBe(lm.logProb([...prefix], next));
      prefix.push(c);
    }
    expect(score([2, 3], 0)).toBe(-Infinity);
  });

  it('round-trips through JSON, and trains from a file like from text', () => {
    const text = 'abcab\ncab\n\nbbbx'; // 'x' is not in the alphabet: skipped and counted
    const lm = CharNgramLm.train(text, { order: 3, alphabet });
    expect(lm.unknownCharacters).toBe(1);
    const copy = CharNgramLm.fromJSON(JSON.parse(JSON.stringify(lm.toJSON())));
    const dir = mkdtempSync(path.join(tmpdir(), 'ctc-lm-'));
    try {
      writeFileSync(path.join(dir, 'corpus.txt'), text);
      const fromFile = charNgramLmFromFile(path.join(dir, 'corpus.txt'), { order: 3, alphabet });
      for (const prefix of [[], [1], [1, 2], [3, 1, 2], [2, 2, 2]]) {
        for (const c of [1, 2, 3]) {
          expect(copy.logProb(prefix, c)).toBe(lm.logProb(prefix, c));
          expect(fromFile.logProb(prefix, c)).toBe(lm.logProb(prefix, c));
        }
      }
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('rejects bad alphabets, orders and JSON', () => {
    expect(() => CharNgramLm.train('', { order: 2, alphabet: ['', 'a', 'a'] })).toThrow(
      /alphabet\[2\]: 'a' is already alphabet\[1\]/,
    );
    expect(() => CharNgramLm.train('', { order: 2, alphabet: ['', 'ab'] })).toThrow(
      /alphabet\[1\]: 'ab' is not a single character/,
    );
    expect(() => CharNgramLm.train('', { order: 0, alphabet })).toThrow(/order: 0; expected an integer >= 1/);
    const json = CharNgramLm.train('ab', { order: 2, alphabet }).toJSON();
    json.ngrams.push([1, 9, 1]);
    expect(() => CharNgramLm.fromJSON(json)).toThrow(/ngrams\[2\]: \[1, 9, 1\] is not/);
  });
});
