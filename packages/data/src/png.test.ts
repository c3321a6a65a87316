import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { Rng } from '@scriptorium/runtime/rng';
import { decodeGreyPng } from './png.js';
import { crc32, pngChunk as chunk } from './test-png.js';

/**
 * A minimal PNG encoder for the tests: grey (colour type 0) or grey + alpha (4) samples at any depth, each row
 * with its own filter type (cycling through all five, so the decoder's every filter is exercised), the IDAT
 * split in two chunks.
 */
function encodePng(
  samples: number[],
  width: number,
  height: number,
  depth: number,
  alpha: boolean,
  extra: Buffer[] = [],
): Buffer {
  const channels = alpha ? 2 : 1,
    bits = depth * channels,
    stride = Math.ceil((width * bits) / 8),
    bpp = Math.max(1, bits >> 3);
  const rows: Uint8Array[] = [];
  for (let y = 0; y < height; y++) {
    const row = new Uint8Array(stride);
    for (let x = 0; x < width * channels; x++) {
      const v = samples[y * width * channels + x]!;
      if (depth === 16) [row[2 * x], row[2 * x + 1]] = [v >> 8, v & 255];
      else if (depth === 8) row[x] = v;
      else row[Math.floor((x * depth) / 8)]! |= v << (8 - depth * ((x % (8 / depth)) + 1));
    }
    rows.push(row);
  }
  const filtered = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    const type = y % 5,
      cur = rows[y]!,
      up = y > 0 ? rows[y - 1]! : new Uint8Array(stride);
    filtered[y * (stride + 1)] = type;
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? cur[i - bpp]! : 0,
        b = up[i]!,
        c = i >= bpp ? up[i - bpp]! : 0;
      const p = a + b - c,
        [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
      const pred = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][type]!;
      filtered[y * (stride + 1) + 1 + i] = (cur[i]! - pred) & 255;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  [ihdr[8], ihdr[9]] = [depth, alpha ? 4 : 0];
  const z = deflateSync(filtered),
    half = z.length >> 1;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    ...extra,
    chunk('IDAT', z.subarray(0, half)),
    chunk('IDAT', z.subarray(half)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** The sharp path of decodeImage, as the oracle. */
async function viaSharp(png: Buffer): Promise<Float32Array> {
  const { data, info } = await sharp(png, { failOn: 'error' })
    .flatten({ background: '#ffffff' })
    .greyscale()
    .toColourspace('b-w')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  return Float32Array.from({ length: info.width * info.height }, (_, p) => 1 - data[p * info.channels]! / 255);
}

describe('decodeGreyPng', () => {
  const width = 37,
    height = 11; // odd width: packed rows end mid-byte
  for (const depth of [1, 2, 4, 8, 16]) {
    for (const alpha of depth === 8 ? [false, true] : [false]) {
      it(`decodes grey${alpha ? ' + alpha' : ''} at ${depth} bits through every filter type, as sharp does`, async () => {
        const rng = new Rng(depth * 2 + Number(alpha)),
          max = 2 ** depth - 1,
          channels = alpha ? 2 : 1;
        const samples = Array.from({ length: width * height * channels }, (_, i) =>
          alpha && i % 2 === 1 ? [0, max, rng.int(max + 1)][rng.int(3)]! : rng.int(max + 1),
        );
        const png = encodePng(samples, width, height, depth, alpha);
        const img = decodeGreyPng(png)!;
        expect([img.width, img.height]).toEqual([width, height]);
        const oracle = await viaSharp(png);
        for (let p = 0; p < width * height; p++) {
          const g = samples[p * channels]!,
            a = alpha ? samples[p * channels + 1]! / max : 1;
          // By hand: the grey level flattened onto white, as ink.
          expect(Math.abs(img.data[p]! - (1 - (g * a + max * (1 - a)) / max)), `pixel ${p}`).toBeLessThan(
            alpha && depth === 8 ? 1 / 255 : 1e-6,
          );
          // sharp truncates 16 bits to 8; below 16 bits the two agree exactly.
          if (depth < 16) expect(img.data[p], `pixel ${p} vs sharp`).toBe(oracle[p]);
          else expect(Math.abs(img.data[p]! - oracle[p]!), `pixel ${p} vs sharp`).toBeLessThan(1 / 255);
        }
      });
    }
  }

  it('leaves colour, palette, interlaced, keyed-transparent and damaged files to sharp', async () => {
    const grey = Buffer.alloc(20 * 6, 128);
    expect(
      decodeGreyPng(
        await sharp(grey, { raw: { width: 20, height: 6, channels: 1 } })
          .toColourspace('b-w')
          .png()
          .toBuffer(),
      ),
    ).toBeDefined();
    const rgb = await sharp(Buffer.alloc(20 * 6 * 3, 99), { raw: { width: 20, height: 6, channels: 3 } })
      .png()
      .toBuffer();
    expect(decodeGreyPng(rgb)).toBeUndefined();
    const palette = await sharp(Buffer.alloc(20 * 6 * 3, 99), { raw: { width: 20, height: 6, channels: 3 } })
      .png({ palette: true })
      .toBuffer();
    expect(decodeGreyPng(palette)).toBeUndefined();
    const interlaced = await sharp(grey, { raw: { width: 20, height: 6, channels: 1 } })
      .png({ progressive: true })
      .toBuffer();
    expect(decodeGreyPng(interlaced)).toBeUndefined();
    const greyAlpha16 = await sharp(Buffer.alloc(20 * 6 * 2, 200), { raw: { width: 20, height: 6, channels: 2 } })
      .toColourspace('grey16')
      .png()
      .toBuffer();
    expect(decodeGreyPng(greyAlpha16)).toBeUndefined();
    const samples = Array.from({ length: 20 * 6 }, (_, i) => i % 256);
    expect(decodeGreyPng(encodePng(samples, 20, 6, 8, false, [chunk('tRNS', Buffer.from([0, 7]))]))).toBeUndefined();
    const good = encodePng(samples, 20, 6, 8, false);
    expect(decodeGreyPng(good)).toBeDefined();
    expect(decodeGreyPng(good.subarray(0, good.length - 20))).toBeUndefined(); // truncated: no IEND
    // Damage inside the first IDAT's data (8 signature + 25 IHDR bytes, then its length and type): the CRC catches it.
    const corrupt = Buffer.from(good);
    corrupt[33 + 8 + 2] = corrupt[33 + 8 + 2]! ^ 0xff;
    expect(decodeGreyPng(corrupt)).toBeUndefined();
    // The same damage with the CRC made to match: zlib's own check (or the output length) catches it.
    const recrc = Buffer.from(corrupt),
      idatLength = recrc.readUInt32BE(33);
    recrc.writeUInt32BE(crc32(recrc.subarray(33 + 4, 33 + 8 + idatLength)), 33 + 8 + idatLength);
    expect(decodeGreyPng(recrc)).toBeUndefined();
    // IHDR twice, or after another chunk.
    const ihdr = good.subarray(8, 33);
    expect(decodeGreyPng(Buffer.concat([good.subarray(0, 33), ihdr, good.subarray(33)]))).toBeUndefined();
    expect(
      decodeGreyPng(Buffer.concat([good.subarray(0, 8), chunk('tEXt', Buffer.from('a\0b')), good.subarray(8)])),
    ).toBeUndefined();
    // A well-formed ancillary chunk after IHDR is fine.
    expect(
      decodeGreyPng(Buffer.concat([good.subarray(0, 33), chunk('tEXt', Buffer.from('a\0b')), good.subarray(33)])),
    ).toBeDefined();
    // More pixels than sharp's limit: left to sharp, which refuses them.
    const huge = Buffer.from(good);
    huge.writeUInt32BE(20000, 16);
    huge.writeUInt32BE(20000, 20);
    huge.writeUInt32BE(crc32(huge.subarray(12, 29)), 29);
    expect(decodeGreyPng(huge)).toBeUndefined();
    expect(decodeGreyPng(Buffer.from('not an image'))).toBeUndefined();
  });
});
