// The options of a line of MNIST digits: their type, defaults, presets and checks (the layout itself is
// mnist-layout.ts).
import { DataError } from './errors.js';

export type Split = 'train' | 'valid' | 'test';

/** Fractions of each digit class per split, taken by index: train the first 80%, valid the next 10%, test the rest. */
export const SPLIT_FRACTIONS: Record<Split, [number, number]> = { train: [0, 0.8], valid: [0.8, 0.9], test: [0.9, 1] };

/**
 * How a line of digits is laid out and drawn. Lengths are in units of the nominal digit box (MNIST's 28-px
 * square, whose ink is about 20 px tall and 8 to 20 px wide); every draw is uniform in the stated range.
 * The defaults span how people write digits on a line: touching to widely spaced, varying size, slant,
 * drifting and bowed baselines, margins, stroke width, ink contrast and paper noise.
 */
export interface MnistLayoutOptions {
  /** Digits per line, uniform in [minDigits, maxDigits]. Defaults 1 and 15. */
  minDigits: number;
  maxDigits: number;
  /** Per-digit size within a line: [1 - sizeJitter, 1 + sizeJitter]. Default 0.25. */
  sizeJitter: number;
  /** Per-line size of the digits relative to spacing and margins: [1 - lineSizeJitter, 1 + lineSizeJitter]. Default 0.2. */
  lineSizeJitter: number;
  /** Per-digit width relative to height: [1 - aspectJitter, 1 + aspectJitter]. Default 0.15. */
  aspectJitter: number;
  /** Gap between consecutive digits' ink boxes, [minGap, maxGap] (negative: overlapping). Defaults -0.2, 0.8. */
  minGap: number;
  maxGap: number;
  /** Probability that a gap is word-like instead, in [wordGapMin, wordGapMax]. Defaults 0.08, 1.0, 2.2. */
  wordGapP: number;
  wordGapMin: number;
  wordGapMax: number;
  /** Per-line slant (shear, tan of the angle), [-slant, slant]; positive leans right. Default 0.35. */
  slant: number;
  /** Per-digit vertical offset, [-baselineJitter, baselineJitter]. Default 0.08. */
  baselineJitter: number;
  /** Per-line baseline slope (rise per unit of run), [-drift, drift], the rise over the line at most half a digit. Default 0.06. */
  drift: number;
  /** Per-line bow of the baseline: its middle sits up to `curvature` above or below its ends. Default 0.3. */
  curvature: number;
  /** Each margin (left, right, top, bottom) in [0, margin]. Default 0.5. */
  margin: number;
  /**
   * Probabilities of thinner strokes (the soft stroke edges cut: v -> (v - t) / (1 - t), t in [0.15, 0.3]; a 3x3
   * erosion would leave a median 14% of an MNIST digit's ink) and of thicker ones (a 3x3 grey-level dilation).
   * Defaults 0.2, 0.3.
   */
  thinP: number;
  thickP: number;
  /** Paper level in [0, paper] (ink is high: 0 is white paper), ink level in [minInk, 1]. Defaults 0.3, 0.55. */
  paper: number;
  minInk: number;
  /** Paper noise: Gaussian with a standard deviation in [0, noise]. Default 0.05. */
  noise: number;
  /** Per-digit rotation in degrees, [-rotation, rotation]. Default 0 (the unseen layout uses it). */
  rotation: number;
  /** Digits in groups of 2 to `groups`, word gaps between groups and tight gaps inside; 0 is off. Default 0. */
  groups: number;
  /** A sinusoidal baseline: amplitude, about one period per 6 digits. Default 0. */
  wave: number;
}

export const MNIST_LAYOUT_DEFAULTS: Readonly<MnistLayoutOptions> = Object.freeze({
  minDigits: 1,
  maxDigits: 15,
  sizeJitter: 0.25,
  lineSizeJitter: 0.2,
  aspectJitter: 0.15,
  minGap: -0.2,
  maxGap: 0.8,
  wordGapP: 0.08,
  wordGapMin: 1,
  wordGapMax: 2.2,
  slant: 0.35,
  baselineJitter: 0.08,
  drift: 0.06,
  curvature: 0.3,
  margin: 0.5,
  thinP: 0.2,
  thickP: 0.3,
  paper: 0.3,
  minInk: 0.55,
  noise: 0.05,
  rotation: 0,
  groups: 0,
  wave: 0,
});

/**
 * The held-out layout family (`mnist-unseen`): what the default training layout never draws. Digits turn
 * one by one, come in groups like phone or account numbers, and follow a wavy baseline; spacing inside a
 * group is tight, and slant is narrower so the turns, not the shear, dominate.
 */
export const MNIST_UNSEEN_LAYOUT: Readonly<Partial<MnistLayoutOptions>> = Object.freeze({
  minDigits: 4,
  maxDigits: 14,
  rotation: 14,
  groups: 4,
  wave: 0.2,
  curvature: 0,
  drift: 0.03,
  slant: 0.15,
  minGap: -0.1,
  maxGap: 0.35,
  wordGapMin: 0.9,
  wordGapMax: 1.6,
});

/**
 * Tidy lines for the first steps of training (`--warmup-data`): 2 to 6 digits of even size, upright, on a straight
 * baseline, on white paper without margins or noise (the generator's first layout). On the default layout a model
 * stays on CTC's all-blank plateau for thousands of steps; on these lines it leaves it within about 500, and
 * what it learned carries over (docs/benchmarks/main-job.md).
 */
export const MNIST_WARMUP_LAYOUT: Readonly<Partial<MnistLayoutOptions>> = Object.freeze({
  minDigits: 2,
  maxDigits: 6,
  sizeJitter: 0.12,
  lineSizeJitter: 0,
  aspectJitter: 0,
  minGap: -0.04,
  maxGap: 0.3,
  wordGapP: 0,
  slant: 0,
  baselineJitter: 0.03,
  drift: 0,
  curvature: 0,
  margin: 0,
  thinP: 0,
  thickP: 0,
  paper: 0,
  minInk: 0.95,
  noise: 0,
});

/** Checks layout options: every field a finite number in range, digit counts integers with min <= max. */
export function resolveLayout(options: Partial<MnistLayoutOptions>, where: string): MnistLayoutOptions {
  const o = { ...MNIST_LAYOUT_DEFAULTS, ...options };
  for (const [key, value] of Object.entries(o)) {
    if (!(key in MNIST_LAYOUT_DEFAULTS))
      throw new DataError(
        `${where}: unknown option '${key}' (expected one of: ${Object.keys(MNIST_LAYOUT_DEFAULTS).join(', ')})`,
      );
    if (typeof value !== 'number' || !Number.isFinite(value))
      throw new DataError(`${where}: ${key} = ${String(value)} (expected a finite number)`);
  }
  if (
    !Number.isInteger(o.minDigits) ||
    !Number.isInteger(o.maxDigits) ||
    o.minDigits < 1 ||
    o.minDigits > o.maxDigits
  ) {
    throw new DataError(
      `${where}: minDigits ${o.minDigits} / maxDigits ${o.maxDigits} (expected integers, 1 <= minDigits <= maxDigits)`,
    );
  }
  const fractions = [
    'sizeJitter',
    'lineSizeJitter',
    'aspectJitter',
    'thinP',
    'thickP',
    'paper',
    'minInk',
    'wordGapP',
  ] as const;
  for (const key of fractions)
    if (!(o[key] >= 0 && o[key] < 1)) throw new DataError(`${where}: ${key} = ${o[key]} (expected a number in [0, 1))`);
  if (o.thinP + o.thickP > 1)
    throw new DataError(`${where}: thinP + thickP = ${o.thinP + o.thickP} (expected at most 1)`);
  if (o.minInk <= o.paper)
    throw new DataError(
      `${where}: minInk ${o.minInk} must exceed paper ${o.paper}, or ink could vanish into the paper`,
    );
  for (const key of ['slant', 'baselineJitter', 'drift', 'curvature', 'margin', 'noise', 'rotation', 'wave'] as const) {
    if (o[key] < 0) throw new DataError(`${where}: ${key} = ${o[key]} (expected a number >= 0)`);
  }
  if (o.minGap > o.maxGap || o.wordGapMin > o.wordGapMax)
    throw new DataError(
      `${where}: gap ranges must have min <= max (minGap ${o.minGap}, maxGap ${o.maxGap}, wordGapMin ${o.wordGapMin}, wordGapMax ${o.wordGapMax})`,
    );
  if (!Number.isInteger(o.groups) || o.groups === 1 || o.groups < 0)
    throw new DataError(`${where}: groups = ${o.groups} (expected 0 (off) or an integer >= 2)`);
  return o;
}
