import { describe, expect, it } from 'vitest';
import { DataError } from '../errors.js';
import { fontsOfSplit } from './fonts.js';
import { TEXTLINES_DEFAULTS } from './options.js';
import { textLines } from './textlines.js';

const words = (line: string) => line.split(' ').length;

describe('textLines', () => {
  it('is deterministic in (seed, index): the same pixels twice, others for another seed or index', () => {
    const a = textLines({ split: 'valid', count: 10, seed: 3 }), b = textLines({ split: 'valid', count: 10, seed: 3 });
    const c = textLines({ split: 'valid', count: 10, seed: 4 });
    for (const i of [0, 7]) {
      const [x, y, z] = [a.compose(i), b.compose(i), c.compose(i)];
      expect(y).toEqual(x);
      expect(z.image.data).not.toEqual(x.image.data);
    }
    expect(a.compose(1).image.data).not.toEqual(a.compose(2).image.data);
  });

  it('names lines and the dataset by split, seed and index', () => {
    const ds = textLines({ split: 'test', count: 5, seed: 9 });
    expect([ds.name, ds.size, ds.id(4)]).toEqual(['textlines:test', 5, 'textlines-test-9-4']);
  });

  it('gives text(i) without rendering, equal to the composed line, in a font of the split', async () => {
    const ds = textLines({ split: 'test', count: 40, seed: 1 });
    const fonts = new Set(fontsOfSplit('test').map((f) => f.name));
    for (let i = 0; i < 40; i += 3) {
      const s = ds.compose(i);
      expect([i, ds.text(i)]).toEqual([i, s.text]);
      expect(fonts.has(s.font)).toBe(true);
    }
    expect(await ds.load(5)).toEqual(ds.compose(5));
  });

  it('draws 2 to 10 words, or the range asked for', () => {
    const all = textLines({ split: 'valid', count: 400, seed: 2 });
    const counts = Array.from({ length: 400 }, (_, i) => words(all.text(i)));
    expect(Math.min(...counts)).toBe(2);
    expect(Math.max(...counts)).toBe(10);
    const short = textLines({ split: 'valid', count: 100, seed: 2, minWords: 3, maxWords: 4 });
    for (let i = 0; i < 100; i++) expect(words(short.text(i))).toBeGreaterThanOrEqual(3), expect(words(short.text(i))).toBeLessThanOrEqual(4);
  });

  it('normalises to the preprocess height, values in [0, 1]', () => {
    for (const [options, height] of [[{}, 32], [{ height: 48 }, 48], [{ preprocess: { height: 40 } }, 40]] as const) {
      const ds = textLines({ split: 'train', count: 4, seed: 5, ...options });
      for (let i = 0; i < 4; i++) {
        const { image } = ds.compose(i);
        expect(image.height).toBe(height);
        expect(image.data.length).toBe(image.width * image.height);
        expect(image.data.every((v) => v >= 0 && v <= 1)).toBe(true);
        // Contrast normalised before scaling, so the darkest pixel is 1 less what the resampling averages away.
        expect(Math.max(...image.data)).toBeGreaterThan(0.9);
      }
    }
  });

  it('refuses bad options by name', () => {
    const base = { split: 'train' as const, count: 3, seed: 1 };
    const bad = (o: Record<string, unknown>) => () => textLines({ ...base, ...o } as never);
    expect(bad({ slnat: 0.2 })).toThrow(DataError);
    expect(bad({ slnat: 0.2 })).toThrow(/unknown option 'slnat' \(expected one of split, count, seed, height, preprocess, minWords, .*noise\)/);
    expect(bad({ maxWords: '6' })).toThrow("textlines: maxWords = \"6\" (expected a number)");
    expect(bad({ slant: Number.NaN })).toThrow('textlines: slant = NaN (expected a number)');
    expect(bad({ maxWords: 12 })).toThrow('textlines: maxWords = 12 (expected an integer in [2, 10])');
    expect(bad({ minWords: 2.5 })).toThrow('textlines: minWords = 2.5 (expected an integer in [2, 10])');
    expect(bad({ minFontSize: 50 })).toThrow('textlines: minFontSize = 50, maxFontSize = 44 (expected minFontSize <= maxFontSize)');
    expect(bad({ maxPaper: 0.7 })).toThrow('textlines: maxPaper = 0.7, minInk = 0.6 (expected maxPaper < minInk)');
    expect(bad({ thinP: 0.5, thickP: 0.6 })).toThrow('thinP + thickP = 1.1 (expected at most 1');
    expect(bad({ split: 'dev' })).toThrow("textlines: split 'dev' (expected train, valid or test)");
    expect(bad({ count: 0 })).toThrow('textlines: count = 0 (expected a positive integer)');
    expect(bad({ height: 0 })).toThrow('textlines: height = 0 (expected a positive integer)');
  });

  it('takes every default by name', () => {
    const ds = textLines({ split: 'valid', count: 2, seed: 1, ...TEXTLINES_DEFAULTS });
    expect(ds.compose(0)).toEqual(textLines({ split: 'valid', count: 2, seed: 1 }).compose(0));
  });
});
