import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { Dataset } from './dataset.js';
import { DataError } from './errors.js';
import type { LineImage } from './line-image.js';

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
}

export const DEFAULT_PREPROCESS: Required<PreprocessConfig> = { height: 32, cropMargins: true, contrastNormalize: true, maxWidth: 2048 };

export type ImageInput = string | Buffer | { data: Uint8Array | Uint8ClampedArray | Float32Array; width: number; height: number; channels: number };

/**
 * Decodes PNG, JPEG, TIFF or WebP (8 or 16 bit, grey or colour; alpha flattened onto white), or raw pixels,
 * to a float line image with ink high (1) and background 0.
 */
export async function decodeImage(input: ImageInput, source = typeof input === 'string' ? input : 'image'): Promise<LineImage> {
  if (typeof input === 'object' && !Buffer.isBuffer(input)) {
    const { data, width, height, channels } = input;
    if (!(width > 0 && height > 0 && channels >= 1 && data.length === width * height * channels)) {
      throw new DataError(`${source}: raw pixels of ${data.length} values do not match ${width}x${height}x${channels}`);
    }
    const scale = data instanceof Float32Array ? 1 : 255;
    const out = new Float32Array(width * height);
    for (let p = 0; p < width * height; p++) {
      let v = 0;
      for (let c = 0; c < Math.min(channels, 3); c++) v += data[p * channels + c]!;
      out[p] = 1 - v / Math.min(channels, 3) / scale;
    }
    return { data: out, width, height };
  }
  try {
    const { data, info } = await sharp(input, { failOn: 'error' })
      .flatten({ background: '#ffffff' })
      .greyscale()
      .toColourspace('b-w')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.width === 0 || info.height === 0) throw new DataError(`${source}: zero-size image`);
    const out = new Float32Array(info.width * info.height);
    for (let p = 0; p < out.length; p++) out[p] = 1 - data[p * info.channels]! / 255;
    return { data: out, width: info.width, height: info.height };
  } catch (err) {
    if (err instanceof DataError) throw err;
    const msg = (err as Error).message.split('\n')[0];
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || /missing|no such file/i.test(msg ?? '')) {
      throw new DataError(`${source}: file not found`);
    }
    throw new DataError(`${source}: cannot decode image (${msg})`);
  }
}

/** Crops empty margins, normalises contrast and scales to the configured height (aspect kept). */
export async function normalizeLine(img: LineImage, config: PreprocessConfig = DEFAULT_PREPROCESS): Promise<LineImage> {
  const c = { ...DEFAULT_PREPROCESS, ...config };
  let { data, width, height } = img;
  if (c.contrastNormalize) {
    let max = 0;
    for (let p = 0; p < data.length; p++) if (data[p]! > max) max = data[p]!;
    if (max > 0 && max < 1) {
      const scaled = new Float32Array(data.length);
      for (let p = 0; p < data.length; p++) scaled[p] = data[p]! / max;
      data = scaled;
    }
  }
  if (c.cropMargins) {
    let x0 = width, x1 = -1, y0 = height, y1 = -1;
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++)
        if (data[y * width + x]! > 0.05) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
    if (x1 >= 0) {
      const w = x1 - x0 + 1, h = y1 - y0 + 1, cropped = new Float32Array(w * h);
      for (let y = 0; y < h; y++) cropped.set(data.subarray((y0 + y) * width + x0, (y0 + y) * width + x0 + w), y * w);
      [data, width, height] = [cropped, w, h];
    }
  }
  const outW = Math.max(1, Math.min(c.maxWidth, Math.round((width * c.height) / height)));
  if (outW === width && c.height === height) return { data, width, height };
  const bytes = inkBytes(data);
  // sharp widens a 1-channel raw input to sRGB on resize; ask for one grey channel back.
  const resized = await sharp(bytes, { raw: { width, height, channels: 1 } })
    .resize(outW, c.height, { fit: 'fill' })
    .toColourspace('b-w')
    .raw()
    .toBuffer({ resolveWithObject: true });
  const n = outW * c.height, ch = resized.info.channels, out = new Float32Array(n);
  for (let p = 0; p < n; p++) out[p] = resized.data[p * ch]! / 255;
  return { data: out, width: outW, height: c.height };
}

/**
 * Ink values (clamped to [0, 1]) as 8-bit grey, ink 255 or, with `dark`, ink 0 on white. An index loop: a mapped
 * `Uint8Array.from(data, fn)` costs about 15 ms for a 64 x 950 line.
 */
export function inkBytes(data: Float32Array, dark = false): Buffer {
  const bytes = Buffer.allocUnsafe(data.length);
  for (let p = 0; p < data.length; p++) {
    const v = Math.round(Math.min(1, Math.max(0, data[p]!)) * 255);
    bytes[p] = dark ? 255 - v : v;
  }
  return bytes;
}

/** Decode + normalise. */
export async function loadLine(input: ImageInput, config: PreprocessConfig = DEFAULT_PREPROCESS, source?: string): Promise<LineImage> {
  return normalizeLine(await decodeImage(input, source), config);
}

/** Writes a line image as an 8-bit grey PNG (ink dark on white), atomically. */
export async function writeLinePng(img: LineImage, file: string): Promise<void> {
  const bytes = inkBytes(img.data, true);
  const tmp = `${file}.tmp-${process.pid}`;
  await sharp(bytes, { raw: { width: img.width, height: img.height, channels: 1 } }).png().toFile(tmp);
  await rename(tmp, file);
}

/** Writes every sample of a dataset as PNG files plus `manifest.tsv` (path<TAB>text); returns the manifest path. */
export async function writeSplit(dataset: Dataset, dir: string): Promise<string> {
  await mkdir(path.join(dir, 'lines'), { recursive: true });
  const rows: string[] = [`# ${dataset.name}: ${dataset.size} lines`];
  const used = new Set<string>();
  for (let i = 0; i < dataset.size; i++) {
    const s = await dataset.load(i);
    // Ids may hold '/', '..' or spaces (a gt folder's relative path, say): one flat, safe file name per line.
    let name = s.id.replace(/[^\w.-]+/g, '_').replace(/^\.+/, '_') || 'line';
    if (used.has(name)) name = `${name}-${i}`;
    used.add(name);
    const rel = `lines/${name}.png`;
    await writeLinePng(s.image, path.join(dir, rel));
    rows.push(`${rel}\t${s.text}`);
  }
  const manifest = path.join(dir, 'manifest.tsv');
  await writeFile(`${manifest}.tmp`, `${rows.join('\n')}\n`);
  await rename(`${manifest}.tmp`, manifest);
  return manifest;
}
