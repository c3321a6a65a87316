import { describe, expect, it } from 'vitest';
import { decodeGreyPng } from './png.js';
import { decodeGreyPngStream } from './png-stream.js';
import { pngChunk } from './test-png.js';
import * as zlib from 'node:zlib';

/** An 8-bit grey PNG of `width` x `height` whose rows are filtered with `filter` (0 to 4). */
function greyPng(width: number, height: number, filter: number, idat = (raw: Buffer) => zlib.deflateSync(raw)): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // depth
  ihdr[9] = 0; // grey
  const raw = Buffer.alloc((width + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width + 1)] = filter;
    for (let x = 0; x < width; x++) raw[y * (width + 1) + 1 + x] = (x * 37 + y * 11) & 255;
  }
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([sig, pngChunk('IHDR', ihdr), pngChunk('IDAT', idat(raw)), pngChunk('IEND', new Uint8Array(0))]);
}

describe('decodeGreyPngStream (the browser form of decodeGreyPng)', () => {
  it("gives exactly the pixels node's zlib path gives, for every filter type", async () => {
    for (let filter = 0; filter <= 4; filter++) {
      const png = greyPng(19, 7, filter);
      const node = decodeGreyPng(png)!;
      const stream = (await decodeGreyPngStream(png))!;
      expect(stream.width).toBe(19);
      expect(stream.height).toBe(7);
      expect(Array.from(stream.data)).toEqual(Array.from(node.data));
    }
  });

  it('refuses what decodeGreyPng refuses: not a PNG, a stream inflating past the image, a damaged stream', async () => {
    expect(await decodeGreyPngStream(new Uint8Array([1, 2, 3]))).toBeUndefined();
    // A stream with one extra row's worth of bytes: inflates past (width + 1) * height.
    const bomb = greyPng(8, 2, 0, (raw) => zlib.deflateSync(Buffer.concat([raw, Buffer.alloc(9)])));
    expect(decodeGreyPng(bomb)).toBeUndefined();
    expect(await decodeGreyPngStream(bomb)).toBeUndefined();
    const damaged = greyPng(8, 2, 0, (raw) => zlib.deflateSync(raw).subarray(0, 6));
    expect(decodeGreyPng(damaged)).toBeUndefined();
    expect(await decodeGreyPngStream(damaged)).toBeUndefined();
  });
});
