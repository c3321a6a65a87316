import type { Dataset } from '../dataset.js';
import { DataError } from '../errors.js';
import { DEFAULT_PREPROCESS, normalizeLineSync, type PreprocessConfig } from '../normalize.js';
import type { LineSample } from '../line-image.js';
import type { Split } from '../mnist-lines.js';
import { TEXTLINES_YEARS } from './corpus.js';
import { layoutTextLine } from './layout.js';
import { resolveTextLinesConfig, type TextLinesConfig } from './options.js';
import { renderTextLine } from './render.js';

export interface TextLinesOptions extends Partial<TextLinesConfig> {
  split: Split;
  /** Lines in the dataset. */
  count: number;
  /** Everything (font, text, drawing, pixels) is a function of the seed and the line index. */
  seed: number;
  /** Line height after normalisation, px; short for preprocess.height (default 32). */
  height?: number;
  /** How a rendered line is normalised, as for every other dataset. Default DEFAULT_PREPROCESS. */
  preprocess?: PreprocessConfig;
}

export interface TextLineSample extends LineSample {
  /** The TEXTLINE_FONTS name it was drawn in. */
  font: string;
}

/** The fields of TextLinesOptions that are not drawing options. */
const DATASET_FIELDS = ['split', 'count', 'seed', 'height', 'preprocess'] as const;

/**
 * English text lines (State of the Union addresses, public domain) rendered in handwriting fonts, composed on
 * the fly and normalised like any loaded line. Splits share neither a font designer nor an address year (see
 * TEXTLINE_FONTS and TEXTLINES_YEARS); line i is a pure function of (seed, i).
 */
export function textLines(options: TextLinesOptions): Dataset & { compose(i: number): TextLineSample } {
  const { split, count, seed } = options;
  if (!(split in TEXTLINES_YEARS)) throw new DataError(`textlines: split '${split}' (expected train, valid or test)`);
  if (!Number.isInteger(count) || count < 1)
    throw new DataError(`textlines: count = ${count} (expected a positive integer)`);
  if (!Number.isInteger(seed)) throw new DataError(`textlines: seed = ${seed} (expected an integer)`);
  const config = resolveTextLinesConfig(options as unknown as Record<string, unknown>, DATASET_FIELDS);
  const height = options.height ?? options.preprocess?.height ?? DEFAULT_PREPROCESS.height;
  if (!Number.isInteger(height) || height < 1)
    throw new DataError(`textlines: height = ${height} (expected a positive integer)`);
  const preprocess: PreprocessConfig = { ...DEFAULT_PREPROCESS, ...options.preprocess, height };
  const id = (i: number) => `textlines-${split}-${seed}-${i}`;
  const compose = (i: number): TextLineSample => {
    const layout = layoutTextLine(i, seed, split, config, height);
    return {
      id: id(i),
      text: layout.text,
      font: layout.font,
      image: normalizeLineSync(renderTextLine(layout), preprocess),
    };
  };
  return {
    name: `textlines:${split}`,
    size: count,
    id,
    // The layout alone: the random draws without the pixels.
    text: (i) => layoutTextLine(i, seed, split, config, height).text,
    load: async (i) => compose(i),
    compose,
  };
}
