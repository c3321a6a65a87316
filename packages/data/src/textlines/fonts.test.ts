import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { TEXTLINES_CHARSET } from './charset.js';
import { fontsOfSplit, TEXTLINE_FONTS } from './fonts.js';
import { loadFont } from './glyphs.js';
import type { TextLineLayout } from './layout.js';
import { MARGIN, renderTextLine } from './render.js';

const require = createRequire(import.meta.url);

/** A line drawn plainly: no slant, drift, jitter, stroke change, paper or noise; ink 1. */
function plainLayout(font: string, text: string, fontSize = 32): TextLineLayout {
  return {
    text,
    font,
    fontSize,
    letterSpacing: 0,
    wordSpacing: 1,
    slant: 0,
    drift: { amplitude: 0, period: 20, phase: 0 },
    glyphJitter: 0,
    stroke: 0,
    ink: 1,
    paper: 0,
    noise: 0,
    pixelSeed: 1,
  };
}

describe('TEXTLINE_FONTS', () => {
  it('is exactly the 24 fonts chosen for the dataset, each from its @fontsource package', () => {
    const names =
      'caveat indie-flower homemade-apple kalam dancing-script shadows-into-light patrick-hand gloria-hallelujah reenie-beanie rock-salt cedarville-cursive covered-by-your-grace architects-daughter schoolbell satisfy marck-script short-stack delius itim nanum-pen-script swanky-and-moo-moo the-girl-next-door kaushan-script permanent-marker';
    expect(TEXTLINE_FONTS.map((f) => f.name).sort()).toEqual(names.split(' ').sort());
    for (const f of TEXTLINE_FONTS) expect(f.package).toBe(`@fontsource/${f.name}`);
  });

  it('states each licence as the package does', () => {
    for (const f of TEXTLINE_FONTS)
      expect([f.name, f.license]).toEqual([f.name, require(`${f.package}/package.json`).license]);
  });

  it('splits 16 / 4 / 4 by designer, each split with print and cursive hands', () => {
    expect(['train', 'valid', 'test'].map((s) => fontsOfSplit(s as 'train').length)).toEqual([16, 4, 4]);
    const splitsOf = new Map<string, Set<string>>();
    for (const f of TEXTLINE_FONTS) splitsOf.set(f.designer, (splitsOf.get(f.designer) ?? new Set()).add(f.split));
    for (const [designer, splits] of splitsOf) expect([designer, splits.size]).toEqual([designer, 1]);
    for (const split of ['train', 'valid', 'test'] as const) {
      expect(new Set(fontsOfSplit(split).map((f) => f.style))).toEqual(new Set(['print', 'cursive']));
    }
  });
});

describe('glyphs', () => {
  it('every font has a glyph with ink for every character of the charset', () => {
    for (const f of TEXTLINE_FONTS) {
      const font = loadFont(f.name);
      for (const c of TEXTLINES_CHARSET.replace(' ', '')) {
        expect([f.name, c, font.glyph(c).present]).toEqual([f.name, c, true]);
        const ink = renderTextLine(plainLayout(f.name, c, 24)).data.reduce((s, v) => s + v, 0);
        // The least ink at 24 px per em is The Girl Next Door's full stop, 0.87 px^2 (reenie-beanie's is 1.94).
        expect([f.name, c, ink > 0.5]).toEqual([f.name, c, true]);
      }
    }
  });

  it("leaves out '%': Covered By Your Grace has no glyph for it", () => {
    expect(TEXTLINES_CHARSET).not.toContain('%');
    expect(loadFont('covered-by-your-grace').glyph('%').present).toBe(false);
  });

  it('draws a line of all characters inside the image, nothing clipped', () => {
    for (const f of TEXTLINE_FONTS) {
      const { data, width, height } = renderTextLine({
        ...plainLayout(f.name, TEXTLINES_CHARSET, 20),
        slant: 0.3,
        stroke: 1,
      });
      // The outlines' box starts MARGIN px in; the dilation grows it by 1 px, so the outer MARGIN - 1 rows and columns stay blank.
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const border = x < MARGIN - 1 || y < MARGIN - 1 || x >= width - MARGIN + 1 || y >= height - MARGIN + 1;
          if (border && data[y * width + x]! !== 0)
            throw new Error(
              `${f.name}: ink ${data[y * width + x]} at the edge pixel (${x}, ${y}) of ${width} x ${height}`,
            );
        }
      }
      // ... and the ink reaches the box on all four sides (the box is the ink's, not the font's line height).
      const rows = Array.from({ length: height }, (_, y) =>
        data.subarray(y * width, (y + 1) * width).some((v) => v > 0),
      );
      expect([f.name, rows[MARGIN], rows[height - MARGIN - 1]]).toEqual([f.name, true, true]);
    }
  });
});
