// Baseline straightening: each column is shifted vertically so that the line's smoothed centre of ink runs level.
// Undoes drift, bowed and wavy baselines before a line is cropped and scaled to the model's height, so that its
// characters keep more of that height. The centre is smoothed over about one character height on either side,
// so single characters keep their shape and their offsets from their neighbours (what a writer means by a
// raised or lowered character) while the line's slope and bends go.

/** A grey-level image, row-major. */
export interface GreyImage {
  data: Float32Array;
  width: number;
  height: number;
}

/**
 * The typical height of one character in px: the 75th percentile of the ink extents (first to last ink row) of the
 * columns with ink. A column crosses one character (two where they overlap), so this follows a character's
 * height, not the line's. Undefined when no column has ink.
 */
export function characterHeight(
  data: Float32Array,
  width: number,
  height: number,
  threshold: number,
): number | undefined {
  const extents: number[] = [];
  for (let x = 0; x < width; x++) {
    let first = -1,
      last = -1;
    for (let y = 0, p = x; y < height; y++, p += width) {
      if (data[p]! > threshold) {
        if (first < 0) first = y;
        last = y;
      }
    }
    if (first >= 0) extents.push(last - first + 1);
  }
  if (extents.length === 0) return undefined;
  extents.sort((a, b) => a - b);
  return extents[Math.floor(0.75 * (extents.length - 1))]!;
}

/**
 * The smoothed centre of ink per column: the ink-weighted mean row over a Gaussian window of `sigma` columns
 * (weights: how far each pixel is above `threshold`). Columns with no ink within reach take the nearest centre.
 * Undefined when the image has no ink.
 */
export function inkCentres(
  data: Float32Array,
  width: number,
  height: number,
  threshold: number,
  sigma: number,
): Float64Array | undefined {
  const mass = new Float64Array(width),
    moment = new Float64Array(width);
  for (let y = 0; y < height; y++) {
    for (let x = 0, p = y * width; x < width; x++, p++) {
      const w = data[p]! - threshold;
      if (w > 0) {
        mass[x] += w;
        moment[x] += w * y;
      }
    }
  }
  const reach = Math.ceil(3 * sigma),
    kernel = new Float64Array(2 * reach + 1);
  for (let k = -reach; k <= reach; k++) kernel[k + reach] = Math.exp((-0.5 * k * k) / (sigma * sigma));
  const centres = new Float64Array(width).fill(Number.NaN);
  for (let x = 0; x < width; x++) {
    let m = 0,
      s = 0;
    for (let k = Math.max(-reach, -x); k <= reach && x + k < width; k++) {
      m += kernel[k + reach]! * mass[x + k]!;
      s += kernel[k + reach]! * moment[x + k]!;
    }
    if (m > 1e-9) centres[x] = s / m;
  }
  const known = centres.findIndex((c) => !Number.isNaN(c));
  if (known < 0) return undefined;
  // Fill the gaps (wide blank stretches) with the nearest known centre: forwards, then the leading run backwards.
  for (let x = known + 1; x < width; x++) if (Number.isNaN(centres[x])) centres[x] = centres[x - 1]!;
  for (let x = known - 1; x >= 0; x--) centres[x] = centres[x + 1]!;
  return centres;
}

/**
 * Shifts each column by a whole number of rows so that the smoothed centre of ink (inkCentres, sigma = one
 * character height) lies on one row; the canvas grows by the spread of the shifts, filled with `fill` (the paper),
 * so no ink is lost. Whole rows keep every pixel's value (no resampling blur: a one-pixel speck stays one pixel,
 * which cropping ignores). `threshold` is the ink level (as for cropping). Lines without ink come back unchanged.
 */
export function straightenLine(img: GreyImage, threshold: number, fill: number): GreyImage {
  const { data, width, height } = img;
  const charHeight = characterHeight(data, width, height, threshold);
  if (charHeight === undefined) return img;
  const centres = inkCentres(data, width, height, threshold, Math.max(2, charHeight));
  if (!centres) return img;
  // Shifts are whole rows relative to the centre of all the ink, so that columns near it (a straight line, most of
  // any line) are not moved by rounding.
  let mass = 0,
    moment = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0, p = y * width; x < width; x++, p++) {
      const w = data[p]! - threshold;
      if (w > 0) {
        mass += w;
        moment += w * centres[x]!;
      }
    }
  }
  const mean = moment / mass,
    rows = Int32Array.from(centres, (c) => Math.round(c - mean));
  let lo = Infinity,
    hi = -Infinity;
  for (const r of rows) {
    lo = Math.min(lo, r);
    hi = Math.max(hi, r);
  }
  if (lo === hi) return img;
  // Column x moves down by hi - rows[x]: every centre lands on row hi.
  const outHeight = height + hi - lo,
    out = new Float32Array(width * outHeight).fill(fill);
  for (let x = 0; x < width; x++) {
    const down = hi - rows[x]!;
    for (let y = 0, p = x, q = down * width + x; y < height; y++, p += width, q += width) out[q] = data[p]!;
  }
  return { data: out, width, height: outHeight };
}

/** The shears deslant tries: tan of the angle from -0.7 to 0.7 in steps of 0.05. */
const SHEARS = Array.from({ length: 29 }, (_, k) => (k - 14) / 20);

/**
 * The line's slant as a shear s (tan of the angle, positive: leaning right): of the shears x' = x + s * (y - middle) (rows run downwards)
 * tried (SHEARS), the one under which the columns' ink is most concentrated, the sum of squared column sums of ink
 * (weights above `threshold`) being largest; upright strokes then stand in as few columns as they can. 0 for a line
 * without ink. The projection-profile measure of slant estimation (e.g. Vinciarelli & Luettin 2001 use a variant).
 */
export function lineSlant(img: GreyImage, threshold: number): number {
  const { data, width, height } = img,
    middle = (height - 1) / 2,
    reach = Math.ceil(0.7 * middle) + 1;
  const profile = new Float64Array(width + 2 * reach);
  let best = 0,
    bestScore = 0;
  for (const s of SHEARS) {
    profile.fill(0);
    for (let y = 0; y < height; y++) {
      const dx = reach + s * (y - middle);
      for (let x = 0, p = y * width; x < width; x++, p++) {
        const w = data[p]! - threshold;
        if (w > 0) {
          // Split between the two nearest columns, so that the score varies smoothly with s.
          const u = x + dx,
            u0 = Math.floor(u),
            f = u - u0;
          profile[u0] += w * (1 - f);
          profile[u0 + 1] += w * f;
        }
      }
    }
    let score = 0;
    for (const v of profile) score += v * v;
    if (score > bestScore * (1 + 1e-9)) [best, bestScore] = [s, score];
  }
  return best;
}

/**
 * Removes the line's slant (lineSlant): each row is shifted by s * (y - middle), linearly interpolated, on a canvas
 * widened by the spread of the shifts and filled with `fill`, so no ink is lost. Lines with no measurable slant
 * (s = 0) come back unchanged.
 */
export function deslantLine(img: GreyImage, threshold: number, fill: number): GreyImage {
  const s = lineSlant(img, threshold);
  if (s === 0) return img;
  const { data, width, height } = img,
    middle = (height - 1) / 2,
    spread = Math.ceil(Math.abs(s) * middle),
    outWidth = width + 2 * spread,
    out = new Float32Array(outWidth * height);
  for (let y = 0; y < height; y++) {
    // Output column X of row y reads input column X - spread - s * (y - middle) (rows run downwards).
    const off = -s * (y - middle) - spread;
    for (let X = 0, q = y * outWidth; X < outWidth; X++, q++) {
      const x = X + off,
        x0 = Math.floor(x),
        f = x - x0;
      const a = x0 >= 0 && x0 < width ? data[y * width + x0]! : fill;
      const b = x0 + 1 >= 0 && x0 + 1 < width ? data[y * width + x0 + 1]! : fill;
      out[q] = a + f * (b - a);
    }
  }
  return { data: out, width: outWidth, height };
}
