import { DataError } from './errors.js';
import type { LineImage } from './line-image.js';
import { resampleWindow } from './resample.js';
import { deslantLine, straightenLine } from './straighten.js';

/** Preprocessing shared by training and recognition; saved with a model bundle. */
export interface PreprocessConfig {
  /** Line height after normalisation, px (aspect ratio kept). Default 32. */
  height: number;
  /** Crop empty margins (rows/columns without ink) before scaling. Default true. */
  cropMargins?: boolean;
  /** Stretch grey levels so the darkest ink is 1 and the background 0. Default true. */
  contrastNormalize?: boolean;
  /** Widest line after scaling, px; wider lines are squeezed horizontally. Default 2048. */
  maxWidth?: number;
  /**
   * Where the background is. 'paper' (the default): the paper is the median grey level (paperLevel), whatever its shade and grain;
   * contrast normalisation maps it to 0 and the darkest ink to 1, and margins are cropped to the rows and columns with
   * at least 2 pixels above 30% of that range (paper noise and specks do not hold a margin open). 'zero' (bundles
   * saved before 2026-12-03 have no field and mean it): the background is 0, contrast normalisation only scales
   * the darkest ink to 1, and any pixel above 5% of it holds a margin open, so grey or noisy paper is never cropped.
   */
  background?: 'paper' | 'zero';
  /**
   * With cropMargins, level the baseline before cropping: each column is shifted so that the line's centre of ink, smoothed over about
   * one character height either side, runs level (straighten.ts). Drifting, bowed and wavy lines then keep their
   * characters taller at the model's height. Default true; bundles saved before 2026-12-04 have no field and mean false.
   */
  straighten?: boolean;
  /**
   * With cropMargins, remove the line's slant after straightening: rows are sheared by the slant under which the
   * columns' ink is most concentrated (lineSlant in straighten.ts). Default false.
   */
  deslant?: boolean;
}

export const DEFAULT_PREPROCESS: Required<PreprocessConfig> = {
  height: 32,
  cropMargins: true,
  contrastNormalize: true,
  maxWidth: 2048,
  background: 'paper',
  straighten: true,
  deslant: false,
};

/** Fraction of the paper-to-ink range above which a pixel counts as ink when cropping ('paper' background). */
const INK_THRESHOLD = 0.3;

/**
 * The paper's grey level: the median of the values (clamped to [0, 1], from a 256-bin histogram), since paper is most
 * of a line image; where the median lies above the middle of the 5th percentile and `max` (ink covers most of the
 * image), the 5th percentile instead. Faint ink on dark paper keeps the median: both are measured from the image.
 */
export function paperLevel(data: Float32Array, max: number): number {
  const hist = new Uint32Array(256);
  for (let p = 0; p < data.length; p++) {
    const v = data[p]!;
    hist[v >= 1 ? 255 : v > 0 ? Math.round(v * 255) : 0]!++;
  }
  const percentile = (q: number) => {
    let k = 0;
    for (let seen = hist[0]!; seen < q * data.length; ) seen += hist[++k]!;
    return k / 255;
  };
  const median = percentile(0.5),
    low = percentile(0.05);
  return median > (low + max) / 2 ? low : median;
}

/**
 * The ink box [x0, y0, w, h]: the first to the last row and column with at least `need` pixels above `threshold`
 * (with 1 where none has that many), widened by `pad` pixels within the image; undefined when no pixel is above it.
 */
export function inkWindow(
  data: Float32Array,
  width: number,
  height: number,
  threshold: number,
  need: number,
  pad: number,
): [number, number, number, number] | undefined {
  const rows = new Uint32Array(height),
    cols = new Uint32Array(width);
  for (let y = 0; y < height; y++) {
    let n = 0;
    for (let x = 0, p = y * width; x < width; x++, p++)
      if (data[p]! > threshold) {
        n++;
        cols[x]!++;
      }
    rows[y] = n;
  }
  const span = (counts: Uint32Array): [number, number] | undefined => {
    for (const k of new Set([need, 1])) {
      const first = counts.findIndex((n) => n >= k);
      if (first >= 0) return [first, counts.findLastIndex((n) => n >= k)];
    }
    return undefined;
  };
  const xs = span(cols),
    ys = span(rows);
  if (!xs || !ys) return undefined;
  const [x0, y0] = [Math.max(0, xs[0] - pad), Math.max(0, ys[0] - pad)];
  const [x1, y1] = [Math.min(width - 1, xs[1] + pad), Math.min(height - 1, ys[1] + pad)];
  return [x0, y0, x1 - x0 + 1, y1 - y0 + 1];
}

/**
 * Crops empty margins, normalises contrast and scales to the configured height (aspect kept), in one
 * resampling pass (see resample.ts: a triangle filter widened when shrinking). Synchronous; `normalizeLine`
 * is its promise-returning form.
 */
export function normalizeLineSync(img: LineImage, config: PreprocessConfig = DEFAULT_PREPROCESS): LineImage {
  const c = { ...DEFAULT_PREPROCESS, ...config };
  if (img.data.length !== img.width * img.height)
    throw new DataError(
      `normalizeLine: ${img.data.length} values for a ${img.height} x ${img.width} image (expected one per pixel)`,
    );
  let max = 0;
  for (let p = 0; p < img.data.length; p++) if (img.data[p]! > max) max = img.data[p]!;
  // Output = (value - paper) * gain, clamped to [0, 1] where the paper level is subtracted.
  const paper = c.background === 'paper' && max > 0 ? paperLevel(img.data, max) : 0;
  const range = max - paper;
  const gain = c.contrastNormalize && range > 0 && range < 1 ? 1 / range : 1;
  const inkLevel = c.background === 'paper' ? paper + INK_THRESHOLD * range : 0.05 / gain;
  let level = c.straighten && c.cropMargins && range > 0 ? straightenLine(img, inkLevel, paper) : img;
  if (c.deslant && c.cropMargins && range > 0) level = deslantLine(level, inkLevel, paper);
  const { data, width, height } = level;
  let box: [number, number, number, number] = [0, 0, width, height];
  if (c.cropMargins) {
    const found =
      c.background === 'paper'
        ? inkWindow(data, width, height, inkLevel, 2, 1)
        : inkWindow(data, width, height, inkLevel, 1, 0);
    if (found && range > 0) box = found;
  }
  const [x0, y0, w, h] = box;
  const outW = Math.max(1, Math.min(c.maxWidth, Math.round((w * c.height) / h)));
  let out: Float32Array;
  if (outW === w && c.height === h) {
    out = new Float32Array(w * h);
    for (let y = 0; y < h; y++) {
      const s = (y0 + y) * width + x0;
      for (let x = 0; x < w; x++) out[y * w + x] = data[s + x]! * gain;
    }
  } else {
    out = resampleWindow(data, width, x0, y0, w, h, outW, c.height, gain);
  }
  if (c.contrastNormalize && paper > 0) {
    const off = paper * gain;
    for (let p = 0; p < out.length; p++) out[p] = Math.min(1, Math.max(0, out[p]! - off));
  }
  return { data: out, width: outW, height: c.height };
}

/** Crops empty margins, normalises contrast and scales to the configured height (aspect kept). */
export async function normalizeLine(img: LineImage, config: PreprocessConfig = DEFAULT_PREPROCESS): Promise<LineImage> {
  return normalizeLineSync(img, config);
}
