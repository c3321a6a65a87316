import type { LineImage } from './line-image.js';
import { greyPngImage, parseGreyPng } from './png-grey.js';

/**
 * decodeGreyPng for platforms without node's zlib (browsers): the same parsing and pixel code (png-grey.ts), the zlib
 * stream inflated by the platform's DecompressionStream. Undefined for the same files, so the caller can fall back to
 * its own decoder (a browser's createImageBitmap).
 */
export async function decodeGreyPngStream(buf: Uint8Array): Promise<LineImage | undefined> {
  const png = parseGreyPng(buf);
  if (!png) return undefined;
  const raw = await inflateAtMost(png.idat, png.rawLength);
  return raw && greyPngImage(png, raw);
}

/** The zlib stream made of `parts`, inflated; undefined when it fails or inflates past `limit` bytes (damaged, or a bomb). */
async function inflateAtMost(parts: Uint8Array[], limit: number): Promise<Uint8Array | undefined> {
  const input = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (input.set(p, at), at + p.length), 0);
  const out = new Uint8Array(limit);
  let at = 0;
  const stream = new Blob([input]).stream().pipeThrough(new DecompressionStream('deflate'));
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return out.subarray(0, at);
      if (at + value.length > limit) {
        await reader.cancel();
        return undefined;
      }
      out.set(value, at);
      at += value.length;
    }
  } catch {
    return undefined;
  }
}
