/**
 * The cap on the pixels of one decoded image. A small file can declare a huge image (a 5 KB PNG of
 * 6000x6000 one-bit pixels decodes to 144 MB of floats); the cap refuses it from its header, before anything
 * is decoded. Default 64 MP (DEFAULT_MAX_IMAGE_PIXELS); raised with the environment variable
 * SCRIPTORIUM_MAX_IMAGE_PIXELS (read when the cap is first needed, so it reaches local workers too) or
 * setMaxImagePixels(n), which wins over it.
 */
import sharp from 'sharp';
import { DataError } from './errors.js';

/**
 * 64 million pixels (256 MB as floats). A text line at 600 dpi is a few hundred thousand; a whole page (PAGE XML
 * decodes the page image) at 300 dpi A4 is 8.7 MP and at 600 dpi 35 MP, which the cap lets through; a 600-dpi A3
 * page (70 MP) needs it raised.
 */
export const DEFAULT_MAX_IMAGE_PIXELS = 64_000_000;
export const MAX_IMAGE_PIXELS_ENV = 'SCRIPTORIUM_MAX_IMAGE_PIXELS';

let override: number | undefined;

function checkCap(n: number, what: string): number {
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new DataError(`${what}: ${n} is not a pixel count (expected a positive integer)`);
  return n;
}

/** Sets the cap for this process (undefined: back to the environment variable or the default). */
export function setMaxImagePixels(n: number | undefined): void {
  override = n === undefined ? undefined : checkCap(n, 'setMaxImagePixels');
}

/** The cap in force: setMaxImagePixels's, else SCRIPTORIUM_MAX_IMAGE_PIXELS, else DEFAULT_MAX_IMAGE_PIXELS. */
export function maxImagePixels(): number {
  if (override !== undefined) return override;
  const env = process.env[MAX_IMAGE_PIXELS_ENV];
  return env === undefined || env === '' ? DEFAULT_MAX_IMAGE_PIXELS : checkCap(Number(env), MAX_IMAGE_PIXELS_ENV);
}

/** Throws a DataError naming `source` and the cap when a width x height image is over it. */
export function checkImagePixels(width: number, height: number, source: string): void {
  const cap = maxImagePixels();
  if (width * height > cap) {
    throw new DataError(
      `${source}: image of ${width}x${height} = ${(width * height).toLocaleString('en-US')} pixels is over the cap of ` +
        `${cap.toLocaleString('en-US')} (raise it with ${MAX_IMAGE_PIXELS_ENV}=N or setMaxImagePixels)`,
    );
  }
}

/** Width and height from a PNG's IHDR (the first chunk), or undefined when `bytes` do not start like a PNG. */
export function pngSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length < 24 || signature.some((b, i) => bytes[i] !== b)) return undefined;
  if (String.fromCharCode(bytes[12]!, bytes[13]!, bytes[14]!, bytes[15]!) !== 'IHDR') return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/**
 * Checks an encoded image against the cap from its header alone: a PNG's IHDR, else what sharp reads of
 * the header (JPEG, TIFF, WebP...). A header that cannot be read is left to the decoder to report.
 */
export async function checkEncodedImagePixels(bytes: Uint8Array, source: string): Promise<void> {
  let size = pngSize(bytes);
  if (!size) {
    try {
      const meta = await sharp(bytes, { limitInputPixels: false }).metadata();
      if (meta.width !== undefined && meta.height !== undefined) size = { width: meta.width, height: meta.height }; // the first page: the one decoded
    } catch {
      return; // not an image sharp knows: the decoder says what is wrong
    }
  }
  if (size) checkImagePixels(size.width, size.height, source);
}
