/**
 * Separable image resampling with a triangle filter that widens with the reduction factor (so that every
 * source pixel contributes when shrinking: antialiased, like Pillow's BILINEAR), and bilinear interpolation
 * when enlarging. Float in, float out; no clamping is needed, since every weight is non-negative and each
 * output is a weighted mean of its sources.
 */

/** The filter taps of one axis: output i reads `taps` sources from `start[i]`, weights from `i * width`. */
interface Taps {
  start: Int32Array;
  weights: Float64Array;
  width: number;
  /** Taps per output, the same for all (zero weights pad the outputs that need fewer). */
  taps: number;
}

/**
 * Taps mapping `inSize` samples (the window [offset, offset + inSize) of a longer axis) to `outSize`. Pixel
 * centres align: output centre i + 0.5 sits at source position (i + 0.5) * inSize / outSize. Taps falling
 * outside the window are dropped and the rest renormalised (edges are not darkened).
 */
export function filterTaps(inSize: number, outSize: number, offset = 0, gain = 1): Taps {
  const scale = inSize / outSize,
    support = Math.max(1, scale);
  const width = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize),
    count = new Int32Array(outSize),
    weights = new Float64Array(outSize * width);
  for (let i = 0; i < outSize; i++) {
    const centre = (i + 0.5) * scale - 0.5; // in source index coordinates
    const lo = Math.max(0, Math.ceil(centre - support)),
      hi = Math.min(inSize - 1, Math.floor(centre + support));
    let sum = 0,
      n = 0;
    for (let j = lo; j <= hi; j++) {
      const w = 1 - Math.abs(j - centre) / support;
      if (w > 0) {
        if (n === 0) start[i] = j;
        weights[i * width + n] = w;
        sum += w;
        n++;
      } else if (n > 0) break;
    }
    if (n === 0) {
      // Can only happen when support reaches no source centre: take the nearest source pixel.
      start[i] = Math.min(inSize - 1, Math.max(0, Math.round(centre)));
      weights[i * width] = 1;
      sum = 1;
      n = 1;
    }
    for (let k = 0; k < n; k++) weights[i * width + k] = (weights[i * width + k]! / sum) * gain;
    count[i] = n;
  }
  // Every output gets the same number of taps, `taps` (zero weights pad the short ones; starts near the end
  // move left so that no tap reads past the window), so that the loops below can be unrolled.
  let taps = 1;
  for (let i = 0; i < outSize; i++) taps = Math.max(taps, count[i]!);
  taps = Math.min(inSize, taps);
  for (let i = 0; i < outSize; i++) {
    const shift = Math.max(0, start[i]! + taps - inSize);
    if (shift > 0) {
      for (let k = count[i]! - 1; k >= 0; k--) weights[i * width + k + shift] = weights[i * width + k]!;
      for (let k = 0; k < shift; k++) weights[i * width + k] = 0;
      start[i] -= shift;
    }
    start[i] += offset;
  }
  return { start, weights, width, taps };
}

let scratchBuf = new Float32Array(0);

/** A reused buffer of at least n floats (contents undefined): saves allocating, and collecting, one per line. */
function scratch(n: number): Float32Array {
  if (scratchBuf.length < n) scratchBuf = new Float32Array(Math.max(n, 2 * scratchBuf.length));
  return scratchBuf;
}

/**
 * Resamples the window (x0, y0, w, h) of a row-major `srcWidth`-wide image to outW x outH, multiplying
 * every value by `gain`: vertically first (over the window's columns only), then horizontally.
 */
export function resampleWindow(
  src: Float32Array,
  srcWidth: number,
  x0: number,
  y0: number,
  w: number,
  h: number,
  outW: number,
  outH: number,
  gain = 1,
): Float32Array {
  const ty = filterTaps(h, outH, y0, gain),
    tx = filterTaps(w, outW, 0);
  // Vertical: each output row is a weighted sum of a few source rows, summed in registers for up to 4 taps
  // (3 when shrinking 1.5x, the common case) rather than accumulated in `mid` tap by tap.
  const mid = scratch(outH * w); // every element is written below before it is read
  const n = ty.taps;
  for (let i = 0; i < outH; i++) {
    const o = i * w,
      base = i * ty.width,
      r = ty.start[i]! * srcWidth + x0;
    const [w0, w1, w2, w3] = [ty.weights[base]!, ty.weights[base + 1]!, ty.weights[base + 2]!, ty.weights[base + 3]!];
    const [r1, r2, r3] = [r + srcWidth, r + 2 * srcWidth, r + 3 * srcWidth];
    if (n === 1) for (let x = 0; x < w; x++) mid[o + x] = w0 * src[r + x]!;
    else if (n === 2) for (let x = 0; x < w; x++) mid[o + x] = w0 * src[r + x]! + w1 * src[r1 + x]!;
    else if (n === 3) for (let x = 0; x < w; x++) mid[o + x] = w0 * src[r + x]! + w1 * src[r1 + x]! + w2 * src[r2 + x]!;
    else if (n === 4)
      for (let x = 0; x < w; x++)
        mid[o + x] = w0 * src[r + x]! + w1 * src[r1 + x]! + w2 * src[r2 + x]! + w3 * src[r3 + x]!;
    else {
      mid.fill(0, o, o + w);
      for (let k = 0; k < n; k++) {
        const wt = ty.weights[base + k]!,
          s = r + k * srcWidth;
        for (let x = 0; x < w; x++) mid[o + x] = mid[o + x]! + wt * src[s + x]!;
      }
    }
  }
  const out = new Float32Array(outH * outW),
    k = tx.taps,
    tw = tx.width,
    wx = tx.weights,
    sx = tx.start;
  for (let i = 0; i < outH; i++) {
    const row = i * w,
      o = i * outW;
    if (k === 3) {
      for (let j = 0, b = 0; j < outW; j++, b += tw) {
        const s = row + sx[j]!;
        out[o + j] = wx[b]! * mid[s]! + wx[b + 1]! * mid[s + 1]! + wx[b + 2]! * mid[s + 2]!;
      }
    } else if (k === 4) {
      for (let j = 0, b = 0; j < outW; j++, b += tw) {
        const s = row + sx[j]!;
        out[o + j] = wx[b]! * mid[s]! + wx[b + 1]! * mid[s + 1]! + wx[b + 2]! * mid[s + 2]! + wx[b + 3]! * mid[s + 3]!;
      }
    } else {
      for (let j = 0, b = 0; j < outW; j++, b += tw) {
        const s = row + sx[j]!;
        let v = 0;
        for (let t = 0; t < k; t++) v += wx[b + t]! * mid[s + t]!;
        out[o + j] = v;
      }
    }
  }
  return out;
}
