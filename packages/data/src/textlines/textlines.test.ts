import { describe, expect, it } from 'vitest';
import { DataError } from '../errors.js';
import { fontsOfSplit } from './fonts.js';
import { layoutTextLine } from './layout.js';
import { TEXTLINES_DEFAULTS } from './options.js';
import { textLines, type TextLinesOptions } from './textlines.js';

const words = (line: string) => line.split(' ').length;

describe('textLines', () => {
  it('is deterministic in (seed, index): the same pixels twice, others for another seed or index', () => {
    const a = textLines({ split: 'valid', count: 10, seed: 3 }),
      b = textLines({ split: 'valid', count: 10, seed: 3 });
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

  it('writes and transcribes lines in capitals in the fonts without lowercase', () => {
    const capitals = new Set(
      fontsOfSplit('train')
        .filter((f) => f.capitals)
        .map((f) => f.name),
    );
    expect(capitals).toEqual(new Set(['permanent-marker', 'rock-salt']));
    let seen = 0;
    for (let i = 0; i < 300; i++) {
      const s = layoutTextLine(i, 1, 'train', TEXTLINES_DEFAULTS, 32); // the font and text without the pixels
      if (!capitals.has(s.font)) continue;
      seen++;
      expect(s.text).toBe(s.text.toUpperCase());
    }
    expect(seen).toBeGreaterThan(10); // 2 fonts of 16: about 37 of 300
  });

  it('draws 2 to 10 words, or the range asked for', () => {
    const all = textLines({ split: 'valid', count: 400, seed: 2 });
    const counts = Array.from({ length: 400 }, (_, i) => words(all.text(i)));
    expect(Math.min(...counts)).toBe(2);
    expect(Math.max(...counts)).toBe(10);
    const short = textLines({ split: 'valid', count: 100, seed: 2, minWords: 3, maxWords: 4 });
    for (let i = 0; i < 100; i++)
      expect(words(short.text(i))).toBeGreaterThanOrEqual(3), expect(words(short.text(i))).toBeLessThanOrEqual(4);
  });

  it('normalises to the preprocess height, values in [0, 1]', () => {
    for (const [options, height] of [
      [{}, 32],
      [{ height: 48 }, 48],
      [{ preprocess: { height: 40 } }, 40],
    ] as const) {
      const ds = textLines({ split: 'train', count: 4, seed: 5, ...options });
      for (let i = 0; i < 4; i++) {
        const { image } = ds.compose(i);
        expect(image.height).toBe(height);
        expect(image.data.length).toBe(image.width * image.height);
        expect(image.data.every((v) => v >= 0 && v <= 1)).toBe(true);
        // Contrast normalised before scaling, so the darkest pixel is 1 less what the reduction averages away (the
        // least seen, 0.85, a thin pen).
        expect(Math.max(...image.data)).toBeGreaterThan(0.5);
      }
    }
  });

  it('refuses a bad split, count, seed or height, and bad drawing options (see options.test.ts), by name', () => {
    // Options as they may arrive from JSON: any value under any name (the type would refuse them at compile time).
    const bad = (o: Record<string, unknown>) => () =>
      textLines({ split: 'train', count: 3, seed: 1, ...o } as TextLinesOptions);
    expect(bad({ split: 'dev' })).toThrow(DataError);
    expect(bad({ split: 'dev' })).toThrow("textlines: split 'dev' (expected train, valid or test)");
    expect(bad({ count: 0 })).toThrow('textlines: count = 0 (expected a positive integer)');
    expect(bad({ seed: 1.5 })).toThrow('textlines: seed = 1.5 (expected an integer)');
    expect(bad({ height: 0 })).toThrow('textlines: height = 0 (expected a positive integer)');
    expect(bad({ slnat: 0.2 })).toThrow(
      /unknown option 'slnat' \(expected one of split, count, seed, height, preprocess, minWords, .*noise\)/,
    );
  });

  it('takes every default by name', () => {
    const ds = textLines({ split: 'valid', count: 2, seed: 1, ...TEXTLINES_DEFAULTS });
    expect(ds.compose(0)).toEqual(textLines({ split: 'valid', count: 2, seed: 1 }).compose(0));
  });
});
