import type { Rng } from '@scriptorium/runtime/rng';
import { DataError } from './errors.js';
import { gaussianBlur, minMax3x3 } from './filters.js';
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
  /** Additive Gaussian pixel noise, standard deviation (tails cut at 3.7 std, see NORMAL_TABLE). Default 0. */
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

/**
 * Named configurations: 'none' (identity), 'default' (mild, for 32 to 64 px lines) and 'strong'; their sweep is in
 * docs/benchmarks/augment.md. `default` has no stroke-width change (erosion/dilation): of its transforms that one
 * cost the most in the sweep (validation CER 55.9% with it, 44.1% without, at 3,000 steps of mnist-lines).
 */
export const AUGMENT_PRESETS: Readonly<Record<string, AugmentConfig>> = {
  none: {},
  default: { shear: 10, scale: [0.9, 1.1], rotation: 1, elasticAlpha: 1, elasticSigma: 6, noiseStd: 0.03 },
  strong: {
    shear: 20,
    scale: [0.75, 1.3],
    rotation: 2,
    elasticAlpha: 2,
    elasticSigma: 6,
    erodeP: 0.25,
    dilateP: 0.3,
    blurSigma: 0.8,
    contrast: 0.3,
    brightness: 0.12,
    noiseStd: 0.06,
  },
};

/**
 * Augments one line image; pure in (img, config, rng state). The height is kept; the width may change.
 * Apart from stroke width and blur, everything happens in one pass over the output pixels: displacement,
 * bilinear sampling, contrast, noise and clamping (about 2 ms for a 64 x 950 line, docs/benchmarks/data.md).
 */
export function augmentLine(img: LineImage, config: AugmentConfig, rng: Rng): LineImage {
  if (img.data.length !== img.height * img.width) {
    throw new DataError(
      `augmentLine: ${img.data.length} values for a ${img.height} x ${img.width} image (expected one per pixel)`,
    );
  }
  const c = { ...DEFAULT_AUGMENT, ...config };
  const { height } = img;
  let { data } = img;

  const u = c.erodeP + c.dilateP > 0 ? rng.next() : 1;
  if (u < c.erodeP) data = minMax3x3(data, height, img.width, false);
  else if (u < c.erodeP + c.dilateP) data = minMax3x3(data, height, img.width, true);

  const warp = c.shear > 0 || c.scale[0] !== 1 || c.scale[1] !== 1 || c.rotation > 0 || c.elasticAlpha > 0;
  const map = warp ? warpMap(img.width, height, c, rng) : undefined;
  const width = map ? map.outW : img.width;
  const blurSigma = c.blurSigma > 0 ? rng.uniform(0, c.blurSigma) : 0;
  const contrast = c.contrast > 0 ? rng.uniform(1 - c.contrast, 1 + c.contrast) : 1;
  const brightness = c.brightness > 0 ? rng.uniform(-c.brightness, c.brightness) : 0;
  // Blur is linear and its kernel sums to 1, so contrast commutes with it: both go into the sampling pass,
  // and noise and clamping follow the blur when there is one.
  const noiseStd = c.noiseStd;
  const late = blurSigma > 0;
  let out: Float32Array = new Float32Array(height * width);
  for (let y = 0; y < height; y++) {
    const o = y * width;
    if (map) map.row(data, y, out, o);
    else out.set(data.subarray(o, o + width), o);
    if (late) {
      if (contrast !== 1 || brightness !== 0)
        for (let x = o; x < o + width; x++) out[x] = contrast * out[x]! + brightness;
    } else finishRow(out, o, o + width, contrast, brightness, noiseStd, rng);
  }
  if (late) {
    out = gaussianBlur(out, height, width, blurSigma);
    finishRow(out, 0, out.length, 1, 0, noiseStd, rng);
  }
  return { data: out, height, width };
}

/**
 * Inverse of the standard normal CDF, by Acklam's rational approximation (relative error below 1.2e-9).
 */
export function normalQuantile(p: number): number {
  const a = [
    -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1,
    2.506628277459239,
  ];
  const b = [
    -5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1,
  ];
  const c = [
    -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) =>
    (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
    ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5,
    r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
    (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}

/**
 * 4,096 equally likely values of a standard normal, the quantiles at (k + 0.5) / 4096, rescaled to unit
 * variance (the grid and the cut tails take off 0.016% of the standard deviation): a draw is a 12-bit index, so one 32-bit random number
 * gives two. Tails end at 3.7 std.
 */
const NORMAL_TABLE = (() => {
  const t = Float64Array.from({ length: 4096 }, (_, k) => normalQuantile((k + 0.5) / 4096));
  const std = Math.sqrt(t.reduce((s, v) => s + v * v, 0) / t.length);
  return Float32Array.from(t, (v) => v / std);
})();

/**
 * v -> clamp01(a v + b + noise) on out[from, to), the noise Gaussian (from NORMAL_TABLE) with standard
 * deviation `std` (clamped to [0, 1] unless `clamp` is false): about 0.5 ms for a 64 x 950 line, against 1.8 ms
 for the Box-Muller polar method it replaced.
 */
export function finishRow(
  out: Float32Array,
  from: number,
  to: number,
  a: number,
  b: number,
  std: number,
  rng: Rng,
  clamp = true,
): void {
  if (std === 0) {
    for (let p = from; p < to; p++) {
      const v = a * out[p]! + b;
      out[p] = !clamp ? v : v < 0 ? 0 : v > 1 ? 1 : v;
    }
    return;
  }
  // rng.uint32() inlined (mulberry32 on a local state, written back: the same numbers), two pixels per draw.
  let s = rng.getState();
  for (let p = from; p < to; p += 2) {
    s = (s + 0x6d2b79f5) | 0;
    const t0 = Math.imul(s ^ (s >>> 15), s | 1);
    const t = t0 ^ (t0 + Math.imul(t0 ^ (t0 >>> 7), t0 | 61));
    const r = t ^ (t >>> 14);
    let v = a * out[p]! + b + std * NORMAL_TABLE[r & 4095]!;
    out[p] = !clamp ? v : v < 0 ? 0 : v > 1 ? 1 : v;
    if (p + 1 < to) {
      v = a * out[p + 1]! + b + std * NORMAL_TABLE[(r >>> 16) & 4095]!;
      out[p + 1] = !clamp ? v : v < 0 ? 0 : v > 1 ? 1 : v;
    }
  }
  rng.setState(s);
}

interface WarpMap {
  outW: number;
  /** Samples output row y of the warped image from `src` into out[o, o + outW). */
  row(src: Float32Array, y: number, out: Float32Array, o: number): void;
}

/**
 * Random affine (horizontal scale, shear, rotation about the centre) plus elastic displacement, sampled
 * bilinearly (outside the source: background 0). The transformed image box is fitted to the original
 * height, as normalisation would fit a slanted or rotated line, and the width grows or shrinks to hold it.
 */
function warpMap(w: number, h: number, c: Required<AugmentConfig>, rng: Rng): WarpMap {
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
  const field = c.elasticAlpha > 0 ? elasticField(h, c.elasticAlpha, c.elasticSigma, outW, rng) : undefined;
  return {
    outW,
    row(src, y, out, o) {
      field?.row(y);
      sampleRow(src, w, h, outW, y, ia, ib, id, ie, field, out, o);
    },
  };
}

/**
 * Output row y of the warp: pixel x reads the source at the inverse affine map (ia ib; id ie) of its offset
 * from the output centre, displaced by (dx[x], dy[x]), bilinearly. Pixel centres at +0.5; the output centre
 * (outW/2, h/2) maps to the source centre (w/2, h/2).
 */
function sampleRow(
  src: Float32Array,
  w: number,
  h: number,
  outW: number,
  y: number,
  ia: number,
  ib: number,
  id: number,
  ie: number,
  field: ElasticField | undefined,
  out: Float32Array,
  o: number,
): void {
  const v0 = y + 0.5 - h / 2,
    cx = w / 2 - 0.5,
    cy = h / 2 - 0.5;
  // The displacement is linear between the field's nodes, so the source position is linear in x within each
  // segment between nodes (one segment for the whole row without a field): stepped, not recomputed.
  const step = field ? field.step : outW;
  for (let xs = 0, i = 0; xs < outW; xs += step, i++) {
    const nx = field ? field.nodesX[i]! : 0,
      ny = field ? field.nodesY[i]! : 0;
    const dnx = field ? (field.nodesX[i + 1]! - nx) / step : 0,
      dny = field ? (field.nodesY[i + 1]! - ny) / step : 0;
    const u = xs + 0.5 - outW / 2 + nx,
      v = v0 + ny;
    let fx = ia * u + ib * v + cx,
      fy = id * u + ie * v + cy;
    const dfx = ia * (1 + dnx) + ib * dny,
      dfy = id * (1 + dnx) + ie * dny;
    const xe = Math.min(outW, xs + step);
    for (let x = xs; x < xe; x++, fx += dfx, fy += dfy) {
      const x0 = Math.floor(fx),
        y0 = Math.floor(fy),
        tx = fx - x0,
        ty = fy - y0;
      let value: number;
      if (x0 >= 0 && y0 >= 0 && x0 < w - 1 && y0 < h - 1) {
        const p = y0 * w + x0; // all four neighbours inside: the common case
        const top = src[p]! + tx * (src[p + 1]! - src[p]!),
          bottom = src[p + w]! + tx * (src[p + w + 1]! - src[p + w]!);
        value = top + ty * (bottom - top);
      } else if (x0 < -1 || y0 < -1 || x0 >= w || y0 >= h) {
        value = 0;
      } else {
        const top = (1 - tx) * pixel(src, h, w, x0, y0) + tx * pixel(src, h, w, x0 + 1, y0);
        const bottom = (1 - tx) * pixel(src, h, w, x0, y0 + 1) + tx * pixel(src, h, w, x0 + 1, y0 + 1);
        value = (1 - ty) * top + ty * bottom;
      }
      out[o + x] = value;
    }
  }
}

/** Pixel (x, y), or 0 outside the image. */
function pixel(data: Float32Array, h: number, w: number, x: number, y: number): number {
  return x >= 0 && x < w && y >= 0 && y < h ? data[y * w + x]! : 0;
}

interface ElasticField {
  /** Pixels between nodes (node i at pixel i * step, along both axes). */
  step: number;
  /** The current row's nodes (gw each), interpolated along y by `row(y)`. */
  nodesX: Float32Array;
  nodesY: Float32Array;
  row(y: number): void;
}

/**
 * A displacement field (dx, dy) for an output h px high and at least w wide: Gaussian white noise smoothed
 * by a Gaussian of `sigma` px, scaled to RMS `alpha` px. The noise is drawn and smoothed on a grid with a
 * node every ~sigma px and interpolated bilinearly (along y by `row`, along x by the sampler): the smoothed
 * field has almost no detail finer than sigma (its spectrum at that grid's Nyquist frequency is
 * exp(-pi^2 / 2) < 1%), so this comes close to smoothing every pixel at ~1/sigma^2 the cost.
 */
export function elasticField(h: number, alpha: number, sigma: number, w: number, rng: Rng): ElasticField {
  const step = Math.max(1, Math.floor(sigma));
  const gh = Math.ceil(h / step) + 1,
    gw = Math.ceil(w / step) + 1;
  const [gx, gy] = [0, 1].map(() => {
    const noise = new Float32Array(gh * gw);
    finishRow(noise, 0, noise.length, 0, 0, 1, rng, false); // standard normal noise (no clamping)
    return gaussianBlur(noise, gh, gw, sigma / step);
  }) as [Float32Array, Float32Array];
  let sumSq = 0;
  for (let p = 0; p < gx.length; p++) sumSq += gx[p]! * gx[p]! + gy[p]! * gy[p]!;
  const gain = sumSq > 0 ? alpha / Math.sqrt(sumSq / (2 * gh * gw)) : 0;
  const nodesX = new Float32Array(gw),
    nodesY = new Float32Array(gw);
  return {
    step,
    nodesX,
    nodesY,
    row(y) {
      gridRow(gx, gh, gw, step, y, gain, nodesX);
      gridRow(gy, gh, gw, step, y, gain, nodesY);
    },
  };
}

/** Row y (a pixel row; node row j at pixel j * step) of a grid interpolated linearly along y, times `gain`, into `nodes`. */
export function gridRow(
  grid: Float32Array,
  gh: number,
  gw: number,
  step: number,
  y: number,
  gain: number,
  nodes: Float32Array,
): void {
  const j = Math.floor(y / step),
    ty = y / step - j,
    j0 = Math.min(gh - 1, j) * gw,
    j1 = Math.min(gh - 1, j + 1) * gw;
  for (let i = 0; i < gw; i++) nodes[i] = gain * (grid[j0 + i]! + ty * (grid[j1 + i]! - grid[j0 + i]!));
}
