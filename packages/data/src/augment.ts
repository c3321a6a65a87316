import type { Rng } from '@scriptorium/runtime/rng';
import { DataError } from './errors.js';
import type { LineImage } from './line-image.js';

/**
 * Random line-image augmentation. Every transform is off by default; each field is the extent of a
 * random range, drawn per call from the rng. Applied in this order: stroke width, warp (affine and
 * elastic in one bilinear resampling), blur, brightness/contrast, noise; the result is clamped to [0, 1].
 */
export interface AugmentConfig {
  /** Slant: horizontal shear by an angle uniform in [-shear, shear] degrees; positive leans strokes right. Default 0. */
  shear?: number;
  /** Horizontal scale (aspect-ratio change), uniform in [scale[0], scale[1]]. Default [1, 1]. */
  scale?: [number, number];
  /** Rotation by an angle uniform in [-rotation, rotation] degrees; the rotated box is scaled to fit the height. Default 0. */
  rotation?: number;
  /** Elastic distortion: RMS displacement in px of a smoothed random displacement field. Default 0 (off). */
  elasticAlpha?: number;
  /** Smoothness of the elastic field: Gaussian sigma in px (larger: smoother, longer-range bends). Default 6. */
  elasticSigma?: number;
  /** Probability of thinning strokes (3x3 grey-level erosion). Default 0. */
  erodeP?: number;
  /** Probability of thickening strokes (3x3 grey-level dilation); never together with erosion. Default 0. */
  dilateP?: number;
  /** Gaussian blur with sigma uniform in [0, blurSigma] px. Default 0. */
  blurSigma?: number;
  /** Ink contrast factor uniform in [1 - contrast, 1 + contrast]: v -> c v + b. Default 0. */
  contrast?: number;
  /** Brightness offset b uniform in [-brightness, brightness] (lifts or darkens the background). Default 0. */
  brightness?: number;
  /** Additive Gaussian pixel noise, standard deviation. Default 0. */
  noiseStd?: number;
}

export const DEFAULT_AUGMENT: Required<AugmentConfig> = {
  shear: 0,
  scale: [1, 1],
  rotation: 0,
  elasticAlpha: 0,
  elasticSigma: 6,
  erodeP: 0,
  dilateP: 0,
  blurSigma: 0,
  contrast: 0,
  brightness: 0,
  noiseStd: 0,
};

/** Named configurations: 'none' (identity) and 'default' (mild, for 32 to 64 px lines). */
export const AUGMENT_PRESETS: Readonly<Record<string, AugmentConfig>> = {
  none: {},
  default: { shear: 10, scale: [0.9, 1.1], rotation: 1, elasticAlpha: 1, elasticSigma: 6, erodeP: 0.2, dilateP: 0.2, noiseStd: 0.03 },
};

/** Augments one line image; pure in (img, config, rng state). The height is kept; the width may change. */
export function augmentLine(img: LineImage, config: AugmentConfig, rng: Rng): LineImage {
  if (img.data.length !== img.height * img.width) {
    throw new DataError(`augmentLine: ${img.data.length} values for a ${img.height} x ${img.width} image (expected one per pixel)`);
  }
  const c = { ...DEFAULT_AUGMENT, ...config };
  const { height } = img;
  let { data, width } = img;

  const u = c.erodeP + c.dilateP > 0 ? rng.next() : 1;
  if (u < c.erodeP) data = minMax3x3(data, height, width, false);
  else if (u < c.erodeP + c.dilateP) data = minMax3x3(data, height, width, true);

  const warp = c.shear > 0 || c.scale[0] !== 1 || c.scale[1] !== 1 || c.rotation > 0 || c.elasticAlpha > 0;
  if (warp) ({ data, width } = warpLine({ data, height, width }, c, rng));

  if (c.blurSigma > 0) {
    const sigma = rng.uniform(0, c.blurSigma);
    if (sigma > 0) data = gaussianBlur(data, height, width, sigma);
  }

  const contrast = c.contrast > 0 ? rng.uniform(1 - c.contrast, 1 + c.contrast) : 1;
  const brightness = c.brightness > 0 ? rng.uniform(-c.brightness, c.brightness) : 0;
  const out = scaleShift(data, contrast, brightness);
  if (c.noiseStd > 0) addGaussianNoise(out, c.noiseStd, rng);
  clamp01(out);
  return { data: out, height, width };
}

/**
 * Random affine (horizontal scale, shear, rotation about the centre) plus elastic displacement, sampled
 * bilinearly (outside the source: background 0). The transformed image box is fitted to the original
 * height, as normalisation would fit a slanted or rotated line, and the width grows or shrinks to hold it.
 */
function warpLine(img: LineImage, c: Required<AugmentConfig>, rng: Rng): { data: Float32Array; width: number } {
  const { data, height: h, width: w } = img;
  const deg = Math.PI / 180;
  const s = c.scale[0] !== c.scale[1] ? rng.uniform(c.scale[0], c.scale[1]) : c.scale[0];
  const tanShear = c.shear > 0 ? Math.tan(rng.uniform(-c.shear, c.shear) * deg) : 0;
  const rot = c.rotation > 0 ? rng.uniform(-c.rotation, c.rotation) * deg : 0;
  // Forward map about the centre, A = R(rot) * Shear * diag(s, 1): (u, v) -> (a u + b v, d u + e v).
  const [cos, sin] = [Math.cos(rot), Math.sin(rot)];
  let [a, b, d, e] = [cos * s, -cos * tanShear - sin, sin * s, -sin * tanShear + cos];
  // Box of the transformed corners; scale by k so that it is exactly h high.
  const xs = [-1, 1].flatMap((su) => [-1, 1].map((sv) => a * su * (w / 2) + b * sv * (h / 2)));
  const ys = [-1, 1].flatMap((su) => [-1, 1].map((sv) => d * su * (w / 2) + e * sv * (h / 2)));
  const k = h / (Math.max(...ys) - Math.min(...ys));
  [a, b, d, e] = [a * k, b * k, d * k, e * k];
  const outW = Math.max(1, Math.round(k * (Math.max(...xs) - Math.min(...xs))));
  const det = a * e - b * d;
  const [ia, ib, id, ie] = [e / det, -b / det, -d / det, a / det];

  const field = c.elasticAlpha > 0 ? displacementField(h, outW, c.elasticAlpha, c.elasticSigma, rng) : undefined;
  const out = new Float32Array(h * outW);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < outW; x++) {
      const p = y * outW + x;
      // Pixel centres at +0.5; the output centre (outW/2, h/2) maps to the source centre (w/2, h/2).
      let u = x + 0.5 - outW / 2, v = y + 0.5 - h / 2;
      if (field) { u += field.dx[p]!; v += field.dy[p]!; }
      out[p] = bilinear(data, h, w, ia * u + ib * v + w / 2 - 0.5, id * u + ie * v + h / 2 - 0.5);
    }
  }
  return { data: out, width: outW };
}

/** Bilinear sample at index coordinates (fx, fy); zero outside the image. */
function bilinear(data: Float32Array, h: number, w: number, fx: number, fy: number): number {
  const x0 = Math.floor(fx), y0 = Math.floor(fy);
  const tx = fx - x0, ty = fy - y0;
  if (x0 >= 0 && y0 >= 0 && x0 < w - 1 && y0 < h - 1) {
    const p = y0 * w + x0; // all four neighbours inside: the common case
    return (1 - ty) * ((1 - tx) * data[p]! + tx * data[p + 1]!) + ty * ((1 - tx) * data[p + w]! + tx * data[p + w + 1]!);
  }
  const [a, b] = [pixel(data, h, w, x0, y0), pixel(data, h, w, x0 + 1, y0)];
  const [c, d] = [pixel(data, h, w, x0, y0 + 1), pixel(data, h, w, x0 + 1, y0 + 1)];
  return (1 - ty) * ((1 - tx) * a + tx * b) + ty * ((1 - tx) * c + tx * d);
}

/** Pixel (x, y), or 0 outside the image. */
function pixel(data: Float32Array, h: number, w: number, x: number, y: number): number {
  return x >= 0 && x < w && y >= 0 && y < h ? data[y * w + x]! : 0;
}

/**
 * An [h, w] displacement field (dx, dy) of Gaussian white noise smoothed by a Gaussian of `sigma` px,
 * scaled to RMS `alpha` px. The noise is drawn and smoothed on a grid with a node every ~sigma px, then
 * upsampled bilinearly: the smoothed field has almost no detail finer than sigma (its spectrum at that
 * grid's Nyquist frequency is exp(-pi^2 / 2) < 1%), so this comes close to smoothing every pixel at
 * ~1/sigma^2 the cost.
 */
function displacementField(h: number, w: number, alpha: number, sigma: number, rng: Rng): { dx: Float32Array; dy: Float32Array } {
  const step = Math.max(1, Math.floor(sigma));
  const gh = Math.ceil(h / step) + 1, gw = Math.ceil(w / step) + 1;
  const coarse = [0, 1].map(() => {
    const noise = new Float32Array(gh * gw);
    addGaussianNoise(noise, 1, rng);
    return gaussianBlur(noise, gh, gw, sigma / step);
  });
  let sumSq = 0;
  for (const g of coarse) for (const v of g) sumSq += v * v;
  const gain = sumSq > 0 ? alpha / Math.sqrt(sumSq / (2 * gh * gw)) : 0;
  const [dx, dy] = coarse.map((g) => upsample(g, gh, gw, step, h, w, gain));
  return { dx: dx!, dy: dy! };
}

/** Bilinear upsampling of a grid with a node every `step` px (node j at pixel j * step) to [h, w], times `gain`. */
export function upsample(grid: Float32Array, gh: number, gw: number, step: number, h: number, w: number, gain: number): Float32Array {
  const rows = new Float32Array(gh * w); // along x first
  for (let j = 0; j < gh; j++)
    for (let x = 0; x < w; x++) {
      const i = Math.floor(x / step), t = x / step - i, p = j * gw + i;
      rows[j * w + x] = i + 1 < gw ? (1 - t) * grid[p]! + t * grid[p + 1]! : grid[p]!;
    }
  const out = new Float32Array(h * w);
  for (let y = 0; y < h; y++) {
    const j = Math.floor(y / step), t = y / step - j, j1 = Math.min(gh - 1, j + 1);
    for (let x = 0; x < w; x++) out[y * w + x] = gain * ((1 - t) * rows[j * w + x]! + t * rows[j1 * w + x]!);
  }
  return out;
}

/** Grey-level 3x3 dilation (max; thicker strokes) or erosion (min), separably; the window is clipped at the borders. */
export function minMax3x3(data: Float32Array, h: number, w: number, dilate: boolean): Float32Array {
  const pick = (a: number, b: number) => (dilate ? Math.max(a, b) : Math.min(a, b));
  const rows = new Float32Array(h * w);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      let v = data[p]!;
      if (x > 0) v = pick(v, data[p - 1]!);
      if (x < w - 1) v = pick(v, data[p + 1]!);
      rows[p] = v;
    }
  const out = new Float32Array(h * w);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      let v = rows[p]!;
      if (y > 0) v = pick(v, rows[p - w]!);
      if (y < h - 1) v = pick(v, rows[p + w]!);
      out[p] = v;
    }
  return out;
}

/** Separable Gaussian blur (kernel radius ceil(3 sigma), normalised), edge pixels replicated beyond the borders. */
export function gaussianBlur(data: Float32Array, h: number, w: number, sigma: number): Float32Array {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const kernel = Float32Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const sum = kernel.reduce((s, v) => s + v, 0);
  for (let i = 0; i < kernel.length; i++) kernel[i] = kernel[i]! / sum;
  const rows = new Float32Array(h * w);
  const padded = new Float32Array(w + 2 * r); // one row with its edge pixels replicated r times
  for (let y = 0; y < h; y++) {
    const row = data.subarray(y * w, (y + 1) * w);
    padded.fill(row[0]!, 0, r);
    padded.set(row, r);
    padded.fill(row[w - 1]!, r + w);
    for (let x = 0; x < w; x++) {
      let v = 0;
      for (let i = 0; i <= 2 * r; i++) v += kernel[i]! * padded[x + i]!;
      rows[y * w + x] = v;
    }
  }
  const out = new Float32Array(h * w); // columns: whole rows at a time, clamped row index
  for (let y = 0; y < h; y++)
    for (let i = 0; i <= 2 * r; i++) {
      const k = kernel[i]!, src = Math.min(h - 1, Math.max(0, y + i - r)) * w;
      for (let x = 0; x < w; x++) out[y * w + x] = out[y * w + x]! + k * rows[src + x]!;
    }
  return out;
}

/** A new array of a * data + b. */
function scaleShift(data: Float32Array, a: number, b: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let p = 0; p < out.length; p++) out[p] = a * data[p]! + b;
  return out;
}

function clamp01(data: Float32Array): void {
  for (let p = 0; p < data.length; p++) data[p] = Math.min(1, Math.max(0, data[p]!));
}

/** Adds N(0, std^2) to every element (Marsaglia's polar method: a pair of normals per accepted point). */
function addGaussianNoise(data: Float32Array, std: number, rng: Rng): void {
  for (let p = 0; p < data.length; ) {
    const u = 2 * rng.next() - 1, v = 2 * rng.next() - 1, r2 = u * u + v * v;
    if (r2 >= 1 || r2 === 0) continue;
    const f = std * Math.sqrt((-2 * Math.log(r2)) / r2);
    data[p] = data[p]! + f * u;
    if (p + 1 < data.length) data[p + 1] = data[p + 1]! + f * v;
    p += 2;
  }
}

/**
 * Validates an augmentation config read from JSON or flags: an object of AugmentConfig fields, or a
 * preset name. Errors name `where`, the field, the value and what was expected.
 */
export function parseAugmentConfig(obj: unknown, where = 'augment'): AugmentConfig {
  if (typeof obj === 'string') {
    const preset = AUGMENT_PRESETS[obj];
    if (!preset) throw new DataError(`${where}: unknown preset '${obj}' (expected one of ${Object.keys(AUGMENT_PRESETS).join(', ')})`);
    return { ...preset };
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw new DataError(`${where}: expected an object of augmentation fields or a preset name, got ${JSON.stringify(obj)}`);
  }
  const fields = obj as Record<string, unknown>;
  const out: AugmentConfig = {};
  const num = (key: keyof AugmentConfig, ok: (v: number) => boolean, expected: string): number | undefined => {
    const v = fields[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new DataError(`${where}: ${key} = ${JSON.stringify(v)} (expected ${expected})`);
    return v;
  };
  for (const key of Object.keys(fields)) {
    if (!(key in DEFAULT_AUGMENT)) throw new DataError(`${where}: unknown field '${key}' (expected ${Object.keys(DEFAULT_AUGMENT).join(', ')})`);
  }
  const assign = <K extends keyof AugmentConfig>(key: K, value: AugmentConfig[K] | undefined) => {
    if (value !== undefined) out[key] = value;
  };
  assign('shear', num('shear', (v) => v >= 0 && v < 60, 'degrees in [0, 60)'));
  assign('rotation', num('rotation', (v) => v >= 0 && v <= 45, 'degrees in [0, 45]'));
  assign('elasticAlpha', num('elasticAlpha', (v) => v >= 0, 'px >= 0'));
  assign('elasticSigma', num('elasticSigma', (v) => v > 0, 'px > 0'));
  assign('erodeP', num('erodeP', (v) => v >= 0 && v <= 1, 'a probability in [0, 1]'));
  assign('dilateP', num('dilateP', (v) => v >= 0 && v <= 1, 'a probability in [0, 1]'));
  assign('blurSigma', num('blurSigma', (v) => v >= 0, 'px >= 0'));
  assign('contrast', num('contrast', (v) => v >= 0 && v < 1, 'a number in [0, 1)'));
  assign('brightness', num('brightness', (v) => v >= 0 && v <= 1, 'a number in [0, 1]'));
  assign('noiseStd', num('noiseStd', (v) => v >= 0, 'a standard deviation >= 0'));
  if (fields.scale !== undefined) {
    const s = fields.scale;
    if (!Array.isArray(s) || s.length !== 2 || !s.every((v) => typeof v === 'number' && Number.isFinite(v)) || !(s[0] > 0 && s[0] <= s[1])) {
      throw new DataError(`${where}: scale = ${JSON.stringify(s)} (expected [min, max] with 0 < min <= max)`);
    }
    out.scale = [s[0], s[1]];
  }
  if ((out.erodeP ?? 0) + (out.dilateP ?? 0) > 1) {
    throw new DataError(`${where}: erodeP + dilateP = ${(out.erodeP ?? 0) + (out.dilateP ?? 0)} (expected at most 1: they never apply together)`);
  }
  return out;
}
