import { DataError } from '../errors.js';
import { CORPUS_WORDS } from './corpus.js';

/**
 * How textlines draws a line: a flat object of numbers, so a dataset spec such as
 * `textlines:maxWords=6,slant=0.2` can set any of them. Each "min"/"max" pair is a uniform range drawn per line;
 * lengths are in em (the font size) unless stated.
 */
export const TEXTLINES_DEFAULTS = {
  /** Words per line, uniform in [minWords, maxWords]; the corpus is cut into lines of 2 to 10 words. */
  minWords: 2,
  maxWords: 10,
  /**
   * Font size (the em) in line heights (preprocess.height): 0.9 to 1.4 is 29 to 45 px for 32 px lines. A line's ink
   * is about 1.1 em tall, so the rendered line is mostly reduced to the line height, never much enlarged.
   */
  minFontSize: 0.9,
  maxFontSize: 1.4,
  /** Tracking: extra space after every glyph, em (negative: letters touch or overlap). */
  minLetterSpacing: -0.03,
  maxLetterSpacing: 0.06,
  /** Word spacing, as a multiple of the font's own space width. */
  minWordSpacing: 0.8,
  maxWordSpacing: 1.6,
  /** Slant: a horizontal shear uniform in [-slant, slant] (tan of the angle; 0.25 is 14 degrees), positive leaning right. */
  slant: 0.25,
  /** Baseline drift: a sinusoid along the line, amplitude uniform in [0, baselineDrift] em, period 15 to 60 em. */
  baselineDrift: 0.12,
  /** Each glyph shifted up or down by a uniform [-glyphJitter, glyphJitter] em: letters never sit quite on one line. */
  glyphJitter: 0.03,
  /**
   * Stroke width: probability of thinner strokes (3x3 grey erosion, skipped where it would take half the ink) and
   * of thicker ones (3x3 dilation); either is blended in at a weight uniform in [0.25, 1], for widths in between.
   */
  thinP: 0.15,
  thickP: 0.25,
  /** Ink level (1 = full ink), uniform in [minInk, maxInk]. */
  minInk: 0.6,
  maxInk: 1,
  /** Paper level (0 = white), uniform in [minPaper, maxPaper]; must stay below minInk. */
  minPaper: 0,
  maxPaper: 0.15,
  /** Paper noise: Gaussian, standard deviation uniform in [0, noise], in ink units. */
  noise: 0.04,
};

export type TextLinesConfig = typeof TEXTLINES_DEFAULTS;

/** [lowest, highest] for every option; `int` marks the whole numbers. */
const RANGES: Record<keyof TextLinesConfig, [number, number, 'int'?]> = {
  minWords: [CORPUS_WORDS[0], CORPUS_WORDS[1], 'int'],
  maxWords: [CORPUS_WORDS[0], CORPUS_WORDS[1], 'int'],
  minFontSize: [0.2, 5],
  maxFontSize: [0.2, 5],
  minLetterSpacing: [-0.5, 1],
  maxLetterSpacing: [-0.5, 1],
  minWordSpacing: [0, 5],
  maxWordSpacing: [0, 5],
  slant: [0, 1],
  baselineDrift: [0, 1],
  glyphJitter: [0, 0.5],
  thinP: [0, 1],
  thickP: [0, 1],
  minInk: [0, 1],
  maxInk: [0, 1],
  minPaper: [0, 1],
  maxPaper: [0, 1],
  noise: [0, 0.5],
};

/** Pairs that must be ordered: [smaller, larger, strictly]. */
const ORDERED: Array<[keyof TextLinesConfig, keyof TextLinesConfig, boolean]> = [
  ['minWords', 'maxWords', false],
  ['minFontSize', 'maxFontSize', false],
  ['minLetterSpacing', 'maxLetterSpacing', false],
  ['minWordSpacing', 'maxWordSpacing', false],
  ['minInk', 'maxInk', false],
  ['minPaper', 'maxPaper', false],
  ['maxPaper', 'minInk', true],
];

/**
 * TEXTLINES_DEFAULTS overridden by `options` (its fields that are not drawing options, `skip`, are left out).
 * An unknown name, a value that is not a finite number, one out of range or a min above its max is a DataError
 * naming the option and what was expected.
 */
export function resolveTextLinesConfig(
  options: Record<string, unknown>,
  skip: readonly string[] = [],
): TextLinesConfig {
  const names = Object.keys(TEXTLINES_DEFAULTS) as Array<keyof TextLinesConfig>;
  const config: TextLinesConfig = { ...TEXTLINES_DEFAULTS };
  for (const [key, value] of Object.entries(options)) {
    if (skip.includes(key) || value === undefined) continue;
    if (!(key in TEXTLINES_DEFAULTS))
      throw new DataError(`textlines: unknown option '${key}' (expected one of ${[...skip, ...names].join(', ')})`);
    const name = key as keyof TextLinesConfig;
    const [lo, hi, int] = RANGES[name];
    if (typeof value !== 'number' || !Number.isFinite(value))
      throw new DataError(
        `textlines: ${name} = ${typeof value === 'number' ? value : JSON.stringify(value)} (expected a number)`,
      );
    if (value < lo || value > hi || (int && !Number.isInteger(value))) {
      throw new DataError(
        `textlines: ${name} = ${value} (expected ${int ? 'an integer' : 'a number'} in [${lo}, ${hi}])`,
      );
    }
    config[name] = value;
  }
  for (const [a, b, strict] of ORDERED) {
    if (strict ? !(config[a] < config[b]) : !(config[a] <= config[b])) {
      throw new DataError(
        `textlines: ${a} = ${config[a]}, ${b} = ${config[b]} (expected ${a} ${strict ? '<' : '<='} ${b})`,
      );
    }
  }
  if (config.thinP + config.thickP > 1)
    throw new DataError(
      `textlines: thinP + thickP = ${config.thinP + config.thickP} (expected at most 1: a line is thinned or thickened, not both)`,
    );
  return config;
}
