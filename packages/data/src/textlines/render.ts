import { Rng } from '@scriptorium/runtime/rng';
import { minMax3x3 } from '../filters.js';
import type { LineImage } from '../line-image.js';
import { loadFont } from './glyphs.js';
import type { TextLineLayout } from './layout.js';
import { fillPolygons } from './rasterize.js';

/** Blank pixels around the ink box of the outlines: room for a dilation's extra pixel, and nothing touches an edge. */
export const MARGIN = 3;

/** A line's glyph outlines in pixels (y down), shifted so their bounding box starts at (MARGIN, MARGIN). */
export interface PlacedLine {
  polygons: Float64Array[];
  width: number;
  height: number;
}

/**
 * Places the glyphs of a laid-out line: advance widths, kerning, tracking and word spacing along the pen, then
 * per point the slant (a shear about the baseline), the baseline drift (a function of the pen position) and
 * the glyph's own vertical jitter. Font outlines have y up; the image has y down, hence the minus signs.
 */
export function placeGlyphs(layout: TextLineLayout, rng: Rng): PlacedLine {
  const font = loadFont(layout.font);
  const { fontSize: size, slant, drift } = layout;
  const space = font.glyph(' ').advance * layout.wordSpacing;
  const polygons: Float64Array[] = [];
  let [minX, minY, maxX, maxY] = [Infinity, Infinity, -Infinity, -Infinity];
  const chars = [...layout.text];
  let pen = 0; // em
  chars.forEach((c, k) => {
    if (c === ' ') {
      pen += space + layout.letterSpacing;
      return;
    }
    const g = font.glyph(c);
    const dy = rng.uniform(-layout.glyphJitter, layout.glyphJitter);
    for (const p of g.polygons) {
      const q = new Float64Array(p.length);
      for (let j = 0; j < p.length; j += 2) {
        const x = pen + p[j]!,
          v = p[j + 1]!;
        const X = (x + slant * v) * size;
        const Y = (-v + dy + drift.amplitude * Math.sin((2 * Math.PI * x) / drift.period + drift.phase)) * size;
        [q[j], q[j + 1]] = [X, Y];
        if (X < minX) minX = X;
        if (X > maxX) maxX = X;
        if (Y < minY) minY = Y;
        if (Y > maxY) maxY = Y;
      }
      polygons.push(q);
    }
    const next = chars[k + 1];
    pen += g.advance + layout.letterSpacing + (next && next !== ' ' ? font.kerning(c, next) : 0);
  });
  if (!(maxX >= minX)) return { polygons: [], width: 2 * MARGIN, height: 2 * MARGIN };
  for (const q of polygons) {
    for (let j = 0; j < q.length; j += 2) {
      q[j] = q[j]! - minX + MARGIN;
      q[j + 1] = q[j + 1]! - minY + MARGIN;
    }
  }
  return { polygons, width: Math.ceil(maxX - minX) + 2 * MARGIN, height: Math.ceil(maxY - minY) + 2 * MARGIN };
}

/**
 * Renders a laid-out line at its font size (not yet scaled to the line height): glyph coverage, stroke width,
 * then paper + (ink - paper) * coverage plus Gaussian paper noise, clamped to [0, 1] (ink high).
 */
export function renderTextLine(layout: TextLineLayout): LineImage {
  const rng = new Rng(layout.pixelSeed);
  const { polygons, width, height } = placeGlyphs(layout, rng);
  const data = fillPolygons(polygons, width, height);
  if (layout.stroke !== 0) changeStrokes(data, width, height, layout.stroke);
  inkOnPaper(data, layout.ink, layout.paper, layout.noise, rng);
  return { data, width, height };
}

/**
 * Thickens (stroke > 0) or thins (stroke < 0) strokes in place: a 3x3 grey dilation or erosion blended in at weight
 * |stroke|, which moves each anti-aliased edge out or in by about |stroke| px. A hairline font would all but vanish
 * under erosion, so thinning is skipped where it would take more than half the ink.
 */
function changeStrokes(data: Float32Array, width: number, height: number, stroke: number): void {
  const t = Math.abs(stroke);
  const morphed = minMax3x3(data, height, width, stroke > 0);
  let before = 0,
    after = 0;
  for (let p = 0; p < data.length; p++) {
    const v = data[p]! + t * (morphed[p]! - data[p]!);
    morphed[p] = v;
    before += data[p]!;
    after += v;
  }
  if (stroke < 0 && after < 0.5 * before) return;
  data.set(morphed);
}

/**
 * Coverage to grey levels in place: paper + (ink - paper) * coverage + noise, clamped to [0, 1]. The noise is
 * Irwin-Hall: the sum of the four bytes of one random uint32 has mean 510 and standard deviation
 * sqrt(4 (256^2 - 1) / 12) = 147.8, near enough Gaussian for paper grain at a quarter of Box-Muller's cost.
 */
function inkOnPaper(data: Float32Array, ink: number, paper: number, noise: number, rng: Rng): void {
  const scale = noise / 147.8;
  for (let p = 0; p < data.length; p++) {
    let v = paper + (ink - paper) * data[p]!;
    if (noise > 0) {
      const r = rng.uint32();
      v += ((r & 255) + ((r >>> 8) & 255) + ((r >>> 16) & 255) + (r >>> 24) - 510) * scale;
    }
    data[p] = v < 0 ? 0 : v > 1 ? 1 : v;
  }
}
