import * as zlib from 'node:zlib';
import type { LineImage } from './line-image.js';
import { crc32Table, greyPngImage, parseGreyPng } from './png-grey.js';

/** CRC-32 of the PNG spec: node's zlib.crc32 (Node 20.15 and later), else a table-driven one. */
const crc32: (data: Uint8Array) => number = (zlib as { crc32?: (data: Uint8Array) => number }).crc32 ?? crc32Table;

/**
 * Decodes the common case of a line image, a non-interlaced greyscale PNG (1 to 16 bits, or 8-bit grey + alpha),
 * straight to ink floats (ink 1, background 0; alpha flattened onto white), with node's zlib and one pass of
 * JavaScript: 4 to 5 times faster than sharp for the same file (docs/benchmarks/data.md).
 *
 * Returns undefined for anything else, which the caller hands to sharp: colour, palette, interlaced files, 16-bit alpha,
 * a grey tRNS key, an ICC profile, images over sharp's pixel limit, and every file that is truncated, has a
 * chunk whose CRC does not match, IHDR out of place, or a zlib stream that fails or inflates past the image
 * (so that sharp's decoder, not this one, reports what is wrong). For the files it decodes, the result is the sharp path's: exactly at 8 bits
 * and below (alpha flattened and truncated as libvips does), and at full precision for 16 bits, where sharp
 * truncates to 8 (so the two differ by less than one 8-bit level). The parsing and pixel code is png-grey.ts,
 * shared with the browser's decodeGreyPngStream.
 */
export function decodeGreyPng(buf: Uint8Array): LineImage | undefined {
  const png = parseGreyPng(buf, crc32);
  if (!png) return undefined;
  let raw: Uint8Array;
  try {
    // No more than the image needs: a stream that inflates further is damaged (or a bomb).
    raw = zlib.inflateSync(png.idat.length === 1 ? png.idat[0]! : Buffer.concat(png.idat), {
      maxOutputLength: png.rawLength,
    });
  } catch {
    return undefined;
  }
  return greyPngImage(png, raw);
}
