import { lineRng, SPLIT_SALT } from '../mnist-layout.js';
import type { Split } from '../mnist-layout-options.js';
import { corpusLinesOfLength } from './corpus.js';
import { fontsOfSplit } from './fonts.js';
import type { TextLinesConfig } from './options.js';

/** Everything about line i but its pixels: all of the line's random draws happen here (about a microsecond). */
export interface TextLineLayout {
  /** The corpus line, in capitals for a font that has no lowercase (TextLineFont.capitals): what is drawn and its transcription. */
  text: string;
  /** A TEXTLINE_FONTS name. */
  font: string;
  /** Px per em (at the rendering, before scaling to the line height). */
  fontSize: number;
  /** Em after every glyph. */
  letterSpacing: number;
  /** Multiple of the font's space width. */
  wordSpacing: number;
  /** Horizontal shear, x += slant * height above the baseline. */
  slant: number;
  /** Baseline offset drift(x) = amplitude * sin(2 pi x / period + phase), all in em (down positive). */
  drift: { amplitude: number; period: number; phase: number };
  /** Largest per-glyph vertical offset, em. */
  glyphJitter: number;
  /** Stroke width change: a 3x3 dilation (positive) or erosion (negative) blended in at weight |stroke|; 0 for none. */
  stroke: number;
  ink: number;
  paper: number;
  /** Standard deviation of the paper noise. */
  noise: number;
  /** Seeds the per-glyph offsets and the noise, which the renderer draws. */
  pixelSeed: number;
}

/** Lays out line i of a split, to be scaled to `lineHeight` px: font, text and drawing parameters, deterministic in (seed, i). */
export function layoutTextLine(
  i: number,
  seed: number,
  split: Split,
  c: TextLinesConfig,
  lineHeight: number,
): TextLineLayout {
  const rng = lineRng(seed ^ SPLIT_SALT[split], i);
  const fonts = fontsOfSplit(split);
  const font = fonts[rng.int(fonts.length)]!;
  // Words first, then a line of that many words: the word count is uniform whatever the corpus's mix.
  const lines = corpusLinesOfLength(split, c.minWords + rng.int(c.maxWords - c.minWords + 1));
  const line = lines[rng.int(lines.length)]!;
  const text = font.capitals ? line.toUpperCase() : line;
  const fontSize = lineHeight * rng.uniform(c.minFontSize, c.maxFontSize);
  const letterSpacing = rng.uniform(c.minLetterSpacing, c.maxLetterSpacing);
  const wordSpacing = rng.uniform(c.minWordSpacing, c.maxWordSpacing);
  const slant = rng.uniform(-c.slant, c.slant);
  const drift = {
    amplitude: rng.uniform(0, c.baselineDrift),
    period: rng.uniform(15, 60),
    phase: rng.uniform(0, 2 * Math.PI),
  };
  const u = rng.next(),
    weight = rng.uniform(0.25, 1);
  const stroke = u < c.thinP ? -weight : u < c.thinP + c.thickP ? weight : 0;
  const ink = rng.uniform(c.minInk, c.maxInk);
  const paper = rng.uniform(c.minPaper, c.maxPaper);
  const noise = rng.uniform(0, c.noise);
  return {
    text,
    font: font.name,
    fontSize,
    letterSpacing,
    wordSpacing,
    slant,
    drift,
    glyphJitter: c.glyphJitter,
    stroke,
    ink,
    paper,
    noise,
    pixelSeed: rng.uint32(),
  };
}
