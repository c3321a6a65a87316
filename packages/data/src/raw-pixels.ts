import { DataError } from './errors.js';
import type { LineImage } from './line-image.js';

/** Interleaved pixels: 8-bit (0 black to 255 white) or float (0 to 1) samples, `channels` per pixel. */
export interface RawPixels {
  data: Uint8Array | Uint8ClampedArray | Float32Array;
  width: number;
  height: number;
  channels: number;
}

/**
 * Raw pixels to a line image, ink high (1): the mean of the first three channels (a fourth, alpha, is ignored:
 * flatten onto white first, as a browser canvas filled white does). `source` names the input in errors.
 */
export function rawPixelsToLine(input: RawPixels, source = 'image'): LineImage {
  const { data, width, height, channels } = input;
  if (!(width > 0 && height > 0 && channels >= 1 && data.length === width * height * channels)) {
    throw new DataError(`${source}: raw pixels of ${data.length} values do not match ${width}x${height}x${channels}`);
  }
  const scale = data instanceof Float32Array ? 1 : 255;
  const used = Math.min(channels, 3);
  const out = new Float32Array(width * height);
  for (let p = 0; p < width * height; p++) {
    let v = 0;
    for (let c = 0; c < used; c++) v += data[p * channels + c]!;
    out[p] = 1 - v / used / scale;
  }
  return { data: out, width, height };
}
