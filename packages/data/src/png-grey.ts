/**
 * The grey PNG decoder's JavaScript part, free of Node built-ins: chunk parsing, row filters, grey levels to ink.
 * Inflating the image data is the caller's: node's zlib in png.ts, the platform's DecompressionStream in
 * png-stream.ts (browsers). The same bytes give the same pixels through either.
 */
import type { LineImage } from './line-image.js';

/** sharp's default `limitInputPixels` (0x3FFF squared): larger images go to sharp, which refuses them. */
const MAX_PIXELS = 0x3fff * 0x3fff;

const CRC_TABLE = Int32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});

/** CRC-32 of the PNG spec, table-driven. */
export function crc32Table(data: Uint8Array): number {
  let c = -1;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 255]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Whether the bytes start with the PNG signature. */
function isPng(buf: Uint8Array): boolean {
  if (buf.length < 8) return false;
  for (let i = 0; i < 8; i++) if (buf[i] !== SIGNATURE[i]) return false;
  return true;
}

/** A grey PNG's header and its compressed image data, before inflating. */
export interface GreyPng {
  width: number;
  height: number;
  depth: number;
  alpha: boolean;
  /** The IDAT chunks' data, in order (one zlib stream). */
  idat: Uint8Array[];
  /** Bytes the inflated stream holds: (stride + 1) * height. */
  rawLength: number;
}

/**
 * Parses the chunks of a non-interlaced greyscale PNG (1 to 16 bits, or 8-bit grey + alpha); undefined for
 * anything else (see decodeGreyPng in png.ts for the list).
 */
export function parseGreyPng(buf: Uint8Array, crc32: (data: Uint8Array) => number = crc32Table): GreyPng | undefined {
  if (!isPng(buf)) return undefined;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = 8,
    width = 0,
    height = 0,
    depth = 0,
    colourType = -1;
  const idat: Uint8Array[] = [];
  let ended = false;
  while (pos + 12 <= buf.length) {
    const length = view.getUint32(pos);
    const type = String.fromCharCode(buf[pos + 4]!, buf[pos + 5]!, buf[pos + 6]!, buf[pos + 7]!);
    const start = pos + 8,
      end = start + length;
    if (length > 0x7fffffff || end + 4 > buf.length) return undefined; // truncated
    if (crc32(buf.subarray(pos + 4, end)) !== view.getUint32(end)) return undefined; // damaged chunk
    if ((type === 'IHDR') !== (pos === 8)) return undefined; // IHDR first, and only once
    if (type === 'IHDR') {
      if (length !== 13) return undefined;
      width = view.getUint32(start);
      height = view.getUint32(start + 4);
      depth = buf[start + 8]!;
      colourType = buf[start + 9]!;
      const [compression, filter, interlace] = [buf[start + 10], buf[start + 11], buf[start + 12]];
      if (compression !== 0 || filter !== 0 || interlace !== 0) return undefined;
      if (colourType !== 0 && colourType !== 4) return undefined;
      if (![1, 2, 4, 8, 16].includes(depth) || (colourType === 4 && depth !== 8)) return undefined;
      if (width * height > MAX_PIXELS) return undefined;
    } else if (type === 'IDAT') {
      idat.push(buf.subarray(start, end));
    } else if (type === 'IEND') {
      ended = true;
      break;
    } else if (type === 'tRNS' || type === 'iCCP' || type === 'PLTE') {
      return undefined;
    }
    pos = end + 4;
  }
  if (!ended || width === 0 || height === 0 || idat.length === 0) return undefined;
  const alpha = colourType === 4;
  const stride = Math.ceil((width * depth * (alpha ? 2 : 1)) / 8);
  return { width, height, depth, alpha, idat, rawLength: (stride + 1) * height };
}

/** The line image from the inflated data of `png` (modified in place); undefined when it is short or a row filter is unknown. */
export function greyPngImage(png: GreyPng, raw: Uint8Array): LineImage | undefined {
  const { width, height, depth, alpha } = png;
  if (raw.length < png.rawLength) return undefined;
  const bitsPerPixel = depth * (alpha ? 2 : 1);
  const stride = Math.ceil((width * bitsPerPixel) / 8);
  const bpp = Math.max(1, bitsPerPixel >> 3); // bytes to the left neighbour, for the filters
  if (!unfilter(raw, stride, height, bpp)) return undefined;
  return { data: toInk(raw, width, height, stride, depth, alpha), width, height };
}

/** Undoes the PNG row filters in place; the rows stay at (1 + stride) * y + 1. False on an unknown filter type. */
function unfilter(raw: Uint8Array, stride: number, height: number, bpp: number): boolean {
  for (let y = 0; y < height; y++) {
    const row = y * (stride + 1) + 1,
      prev = row - stride - 1,
      type = raw[row - 1];
    const hasPrev = y > 0;
    switch (type) {
      case 0:
        break;
      case 1:
        for (let i = bpp; i < stride; i++) raw[row + i] = (raw[row + i]! + raw[row + i - bpp]!) & 255;
        break;
      case 2:
        if (hasPrev) for (let i = 0; i < stride; i++) raw[row + i] = (raw[row + i]! + raw[prev + i]!) & 255;
        break;
      case 3:
        for (let i = 0; i < stride; i++) {
          const left = i >= bpp ? raw[row + i - bpp]! : 0,
            up = hasPrev ? raw[prev + i]! : 0;
          raw[row + i] = (raw[row + i]! + ((left + up) >> 1)) & 255;
        }
        break;
      case 4:
        for (let i = 0; i < stride; i++) {
          const a = i >= bpp ? raw[row + i - bpp]! : 0;
          const b = hasPrev ? raw[prev + i]! : 0;
          const c = hasPrev && i >= bpp ? raw[prev + i - bpp]! : 0;
          const p = a + b - c,
            pa = Math.abs(p - a),
            pb = Math.abs(p - b),
            pc = Math.abs(p - c);
          raw[row + i] = (raw[row + i]! + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)) & 255;
        }
        break;
      default:
        return false;
    }
  }
  return true;
}

/** Ink for each 8-bit grey level: 1 - v / 255. */
const INK_8BIT = Float32Array.from({ length: 256 }, (_, v) => 1 - v / 255);

/** Unfiltered grey (or grey + alpha) samples to ink floats. */
function toInk(
  raw: Uint8Array,
  width: number,
  height: number,
  stride: number,
  depth: number,
  alpha: boolean,
): Float32Array {
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const row = y * (stride + 1) + 1,
      o = y * width;
    if (depth === 8 && !alpha) {
      for (let x = 0; x < width; x++) out[o + x] = INK_8BIT[raw[row + x]!]!;
    } else if (depth === 8) {
      // As libvips flattens: in the pixel's own range, truncated to an 8-bit level (checked on all 65,536 pairs).
      for (let x = 0; x < width; x++) {
        const g = raw[row + 2 * x]!,
          a = raw[row + 2 * x + 1]!;
        out[o + x] = 1 - Math.floor((g * a + 255 * (255 - a)) / 255) / 255;
      }
    } else if (depth === 16 && !alpha) {
      for (let x = 0; x < width; x++) out[o + x] = 1 - ((raw[row + 2 * x]! << 8) | raw[row + 2 * x + 1]!) / 65535;
    } else {
      // 1, 2 or 4 bits, packed from the high bits of each byte.
      const max = (1 << depth) - 1,
        perByte = 8 / depth;
      for (let x = 0; x < width; x++) {
        const byte = raw[row + Math.floor(x / perByte)]!,
          shift = 8 - depth * ((x % perByte) + 1);
        out[o + x] = 1 - ((byte >> shift) & max) / max;
      }
    }
  }
  return out;
}
