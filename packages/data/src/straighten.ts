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
