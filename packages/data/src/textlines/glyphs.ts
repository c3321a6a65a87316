import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as opentypeModule from 'opentype.js';
import { DataError } from '../errors.js';
import { flattenPath, signedArea2 } from './flatten.js';
import { TEXTLINE_FONTS } from './fonts.js';

/** A glyph ready to place, in em units (1 = the font size), y up. */
export interface GlyphOutline {
  /** False where the font maps the character to .notdef (its "missing" box). */
  present: boolean;
  advance: number;
  /** Closed polygons [x0, y0, x1, y1, ...], outer contours counter-clockwise in every glyph (see outlineOf). */
  polygons: Float64Array[];
}

/** A loaded font: glyph outlines and kerning, each computed once per character (pair) and kept. */
export interface HandFont {
  name: string;
  glyph(char: string): GlyphOutline;
  /** Kerning between two characters, em (usually negative or 0). */
  kerning(left: string, right: string): number;
}

/** Flattening tolerance, em: 0.1 px at 50 px per em, below what the anti-aliasing can show. */
const TOLERANCE = 0.002;

// In node, opentype.js resolves to its UMD build (everything on `default`); bundlers take its ES module (named exports).
const opentype: typeof opentypeModule =
  'parse' in opentypeModule
    ? opentypeModule
    : (opentypeModule as unknown as { default: typeof opentypeModule }).default;
const require = createRequire(import.meta.url);
const loaded = new Map<string, HandFont>();

/** The @fontsource file of a font: its latin subset, weight 400, normal style, as WOFF (which opentype.js reads). */
export function fontFile(name: string): string {
  return require.resolve(`@fontsource/${name}/files/${name}-latin-400-normal.woff`);
}

/** Loads (once) one of TEXTLINE_FONTS by name. */
export function loadFont(name: string): HandFont {
  const cached = loaded.get(name);
  if (cached) return cached;
  if (!TEXTLINE_FONTS.some((f) => f.name === name)) {
    throw new DataError(`textlines: font '${name}' (expected one of ${TEXTLINE_FONTS.map((f) => f.name).join(', ')})`);
  }
  let font: opentypeModule.Font;
  try {
    const bytes = readFileSync(fontFile(name));
    font = opentype.parse(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  } catch (err) {
    throw new DataError(`textlines: cannot load font '${name}' from @fontsource/${name} (${(err as Error).message})`);
  }
  const glyphs = new Map<string, GlyphOutline>();
  const kerns = new Map<string, number>();
  const em = font.unitsPerEm;
  const hand: HandFont = {
    name,
    glyph(char) {
      let g = glyphs.get(char);
      if (!g) glyphs.set(char, (g = outlineOf(font.charToGlyph(char), em)));
      return g;
    },
    kerning(left, right) {
      const key = left + right;
      let k = kerns.get(key);
      if (k === undefined)
        kerns.set(key, (k = font.getKerningValue(font.charToGlyph(left), font.charToGlyph(right)) / em));
      return k;
    },
  };
  loaded.set(name, hand);
  return hand;
}

/**
 * A glyph's outline flattened into polygons, in em units. The non-zero rule fills one glyph the same whichever
 * way its contours run, but where two glyphs overlap (joined cursive letters, tight spacing) a clockwise one
 * would cancel a counter-clockwise one; so each glyph is turned, if needed, to make its largest contour
 * counter-clockwise.
 */
function outlineOf(glyph: opentypeModule.Glyph, em: number): GlyphOutline {
  const polygons = flattenPath(glyph.path.commands, TOLERANCE * em).map((p) => Float64Array.from(p, (v) => v / em));
  let largest = 0;
  for (const p of polygons) {
    const a = signedArea2(p);
    if (Math.abs(a) > Math.abs(largest)) largest = a;
  }
  if (largest < 0) polygons.forEach(reversePolygon);
  return { present: glyph.index !== 0, advance: (glyph.advanceWidth ?? 0) / em, polygons };
}

function reversePolygon(p: Float64Array): void {
  for (let i = 0, j = p.length - 2; i < j; i += 2, j -= 2) {
    [p[i], p[j]] = [p[j]!, p[i]!];
    [p[i + 1], p[j + 1]] = [p[j + 1]!, p[i + 1]!];
  }
}
