/// <reference lib="dom" />
import { decodeGreyPngStream, rawPixelsToLine, type LineImage } from '@scriptorium/data/browser';

/**
 * An uploaded image file as a line image (ink high). Grey PNGs, the usual line images, decode through the same
 * JavaScript as in Node (so Node and the page give the model the same input); anything else through the browser's
 * own decoders, flattened onto white.
 */
export async function fileToLine(file: Blob): Promise<LineImage> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  const grey = await decodeGreyPngStream(bytes);
  if (grey) return grey;
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    throw new Error('the browser cannot decode this file as an image (PNG, JPEG, WebP, GIF or BMP expected)');
  }
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, bitmap.width, bitmap.height);
  ctx.drawImage(bitmap, 0, 0);
  const { data, width, height } = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
  return rawPixelsToLine({ data, width, height, channels: 4 }, 'upload');
}
