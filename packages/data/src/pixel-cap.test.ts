import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { DataError } from './errors.js';
import { decodeImage } from './image-io.js';
import {
  checkEncodedImagePixels,
  DEFAULT_MAX_IMAGE_PIXELS,
  MAX_IMAGE_PIXELS_ENV,
  maxImagePixels,
  pngSize,
  setMaxImagePixels,
} from './pixel-cap.js';
import { decodeGreyPng } from './png.js';
import { pngChunk as chunk } from './test-png.js';

/** A valid all-white one-bit PNG of width x height: grey (colour type 0), or with a 2-entry palette (type 3, which goes to sharp). */
function onebitPng(width: number, height: number, palette = false): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([1, palette ? 3 : 0, 0, 0, 0], 8);
  const stride = Math.ceil(width / 8) + 1; // a filter byte (0) and the row
  const raw = Buffer.alloc(stride * height, 0xff);
  for (let y = 0; y < height; y++) raw[y * stride] = 0;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    ...(palette ? [chunk('PLTE', Buffer.from([0, 0, 0, 255, 255, 255]))] : []),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A JPEG whose frame header (SOF0) declares width x height: a small real JPEG with its size patched. */
async function jpegDeclaring(width: number, height: number): Promise<Buffer> {
  const jpeg = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#ffffff' } })
    .jpeg({ optimiseCoding: false })
    .toBuffer();
  const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
  expect(sof).toBeGreaterThan(0);
  jpeg.writeUInt16BE(height, sof + 5); // FFC0, length (2), precision (1), height (2), width (2)
  jpeg.writeUInt16BE(width, sof + 7);
  return jpeg;
}

afterEach(() => {
  setMaxImagePixels(undefined);
  delete process.env[MAX_IMAGE_PIXELS_ENV];
});

describe('the pixel cap of decoded images', () => {
  it('refuses a 9000x8000 one-bit PNG of a few KB (288 MB as floats) from its header, naming the file and the cap', async () => {
    const png = onebitPng(9000, 8000);
    expect(png.length).toBeLessThan(20_000);
    // The fast path decodes whatever its header declares (a 600x600 one here: 360,000 floats; 9000x8000 would be 72 M).
    expect(decodeGreyPng(onebitPng(600, 600))?.data.length).toBe(360_000);
    const err = await checkEncodedImagePixels(png, 'lines/huge.png').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).toBe(
      `lines/huge.png: image of 9000x8000 = 72,000,000 pixels is over the cap of 64,000,000 (raise it with ${MAX_IMAGE_PIXELS_ENV}=N or setMaxImagePixels)`,
    );
    expect(DEFAULT_MAX_IMAGE_PIXELS).toBe(64_000_000);
    await checkEncodedImagePixels(onebitPng(8000, 8000), 'ok.png'); // 64 MP: at the cap, allowed (a 600-dpi A4 page is 35 MP)
  });

  it('refuses the images that go to sharp too: a palette PNG and a JPEG, by their headers', async () => {
    await expect(checkEncodedImagePixels(onebitPng(9000, 8000, true), 'p.png')).rejects.toThrow(
      /^p\.png: image of 9000x8000 = 72,000,000 pixels is over the cap/,
    );
    const jpeg = await jpegDeclaring(10000, 8000);
    expect((await sharp(jpeg).metadata()).width).toBe(10000);
    await expect(checkEncodedImagePixels(jpeg, 'scan.jpg')).rejects.toThrow(
      /^scan\.jpg: image of 10000x8000 = 80,000,000 pixels is over the cap of 64,000,000/,
    );
    await checkEncodedImagePixels(await jpegDeclaring(8000, 5000), 'scan.jpg');
    // Bytes that are no image are left to the decoder to report.
    await checkEncodedImagePixels(Buffer.from('not an image'), 'x.png');
  });

  it('decodeImage checks the cap before it decodes', async () => {
    const png = onebitPng(20, 10);
    setMaxImagePixels(199);
    await expect(decodeImage(png, 'lines/a.png')).rejects.toThrow(
      new DataError(
        'lines/a.png: image of 20x10 = 200 pixels is over the cap of 199 (raise it with SCRIPTORIUM_MAX_IMAGE_PIXELS=N or setMaxImagePixels)',
      ),
    );
    setMaxImagePixels(200);
    expect((await decodeImage(png, 'lines/a.png')).data.length).toBe(200);
  });

  it('is raised (or lowered) by setMaxImagePixels or SCRIPTORIUM_MAX_IMAGE_PIXELS; the setter wins', async () => {
    const png = onebitPng(20, 10); // 200 pixels
    process.env[MAX_IMAGE_PIXELS_ENV] = '199';
    expect(maxImagePixels()).toBe(199);
    await expect(checkEncodedImagePixels(png, 'a.png')).rejects.toThrow(
      'a.png: image of 20x10 = 200 pixels is over the cap of 199',
    );
    setMaxImagePixels(200);
    await checkEncodedImagePixels(png, 'a.png');
    setMaxImagePixels(undefined);
    process.env[MAX_IMAGE_PIXELS_ENV] = '50_000_000';
    expect(() => maxImagePixels()).toThrow(
      new DataError(`${MAX_IMAGE_PIXELS_ENV}: NaN is not a pixel count (expected a positive integer)`),
    );
    expect(() => setMaxImagePixels(0)).toThrow(
      'setMaxImagePixels: 0 is not a pixel count (expected a positive integer)',
    );
    delete process.env[MAX_IMAGE_PIXELS_ENV];
    expect(maxImagePixels()).toBe(DEFAULT_MAX_IMAGE_PIXELS);
  });

  it('reads a PNG size from IHDR only, and nothing from other bytes', () => {
    expect(pngSize(onebitPng(7, 3))).toEqual({ width: 7, height: 3 });
    expect(pngSize(Buffer.from('GIF89a....................'))).toBeUndefined();
  });
});
