// Grey-level filters on row-major [h, w] images: 3x3 dilation/erosion and Gaussian blur (augmentation, stroke
// width of rendered and composed lines).

let minMaxRows = new Float32Array(0);

/** Grey-level 3x3 dilation (max; thicker strokes) or erosion (min), separably; the window is clipped at the borders. */
export function minMax3x3(data: Float32Array, h: number, w: number, dilate: boolean): Float32Array {
  const out = new Float32Array(h * w);
  if (minMaxRows.length < h * w) minMaxRows = new Float32Array(Math.max(h * w, 2 * minMaxRows.length));
  const rows = minMaxRows; // scratch, reused between calls: every element used is written first
  // Written out for each case: a shared `pick` function makes this loop several times slower.
  const max3 = (a: number, b: number, c: number) => (a > b ? (a > c ? a : c) : b > c ? b : c);
  const min3 = (a: number, b: number, c: number) => (a < b ? (a < c ? a : c) : b < c ? b : c);
  for (let y = 0; y < h; y++) {
    const o = y * w,
      last = o + w - 1;
    for (let p = o; p <= last; p++) {
      const l = data[p > o ? p - 1 : p]!,
        c = data[p]!,
        r = data[p < last ? p + 1 : p]!;
      rows[p] = dilate ? max3(l, c, r) : min3(l, c, r);
    }
  }
  for (let y = 0; y < h; y++) {
    const o = y * w,
      up = y > 0 ? o - w : o,
      down = y < h - 1 ? o + w : o;
    if (dilate) for (let x = 0; x < w; x++) out[o + x] = max3(rows[up + x]!, rows[o + x]!, rows[down + x]!);
    else for (let x = 0; x < w; x++) out[o + x] = min3(rows[up + x]!, rows[o + x]!, rows[down + x]!);
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
      const k = kernel[i]!,
        src = Math.min(h - 1, Math.max(0, y + i - r)) * w;
      for (let x = 0; x < w; x++) out[y * w + x] = out[y * w + x]! + k * rows[src + x]!;
    }
  return out;
}
