import { describe, expect, it } from 'vitest';
import { DataError } from '../errors.js';
import { resolveTextLinesConfig, TEXTLINES_DEFAULTS } from './options.js';

describe('resolveTextLinesConfig', () => {
  it('takes the defaults, overridden by name; undefined and the skipped fields are left alone', () => {
    expect(resolveTextLinesConfig({})).toEqual(TEXTLINES_DEFAULTS);
    expect(resolveTextLinesConfig({ maxWords: 6, slant: 0.2, noise: undefined, split: 'x' }, ['split'])).toEqual({
      ...TEXTLINES_DEFAULTS,
      maxWords: 6,
      slant: 0.2,
    });
  });

  it('refuses an unknown name, listing the valid ones', () => {
    expect(() => resolveTextLinesConfig({ slnat: 0.2 })).toThrow(DataError);
    expect(() => resolveTextLinesConfig({ slnat: 0.2 }, ['split'])).toThrow(
      `textlines: unknown option 'slnat' (expected one of split, ${Object.keys(TEXTLINES_DEFAULTS).join(', ')})`,
    );
  });

  it('refuses a value that is not a finite number', () => {
    expect(() => resolveTextLinesConfig({ maxWords: '6' })).toThrow('textlines: maxWords = "6" (expected a number)');
    expect(() => resolveTextLinesConfig({ slant: Number.NaN })).toThrow('textlines: slant = NaN (expected a number)');
    expect(() => resolveTextLinesConfig({ noise: Infinity })).toThrow(
      'textlines: noise = Infinity (expected a number)',
    );
  });

  it('refuses a value out of its range, or a fraction where a whole number is expected', () => {
    expect(() => resolveTextLinesConfig({ maxWords: 12 })).toThrow(
      'textlines: maxWords = 12 (expected an integer in [2, 10])',
    );
    expect(() => resolveTextLinesConfig({ minWords: 2.5 })).toThrow(
      'textlines: minWords = 2.5 (expected an integer in [2, 10])',
    );
    expect(() => resolveTextLinesConfig({ thinP: -0.1 })).toThrow(
      'textlines: thinP = -0.1 (expected a number in [0, 1])',
    );
  });

  it('refuses a minimum above its maximum, paper as dark as ink, and thinning plus thickening above 1', () => {
    expect(() => resolveTextLinesConfig({ minFontSize: 1.5 })).toThrow(
      'textlines: minFontSize = 1.5, maxFontSize = 1.4 (expected minFontSize <= maxFontSize)',
    );
    expect(() => resolveTextLinesConfig({ maxPaper: 0.6 })).toThrow(
      'textlines: maxPaper = 0.6, minInk = 0.6 (expected maxPaper < minInk)',
    );
    expect(() => resolveTextLinesConfig({ thinP: 0.5, thickP: 0.6 })).toThrow(
      'textlines: thinP + thickP = 1.1 (expected at most 1: a line is thinned or thickened, not both)',
    );
  });
});
