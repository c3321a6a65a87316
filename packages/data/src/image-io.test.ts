import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeImage, loadLine, writeSplit } from './image-io.js';
import { normalizeLine } from './normalize.js';
import { manifestDataset } from './manifest.js';
import { mnistLines } from './mnist-lines.js';

const dir = mkdtempSync(path.join(tmpdir(), 'data-io-'));

/** A 40x10 white image with a black bar in columns 10..29, rows 3..6. */
function barPixels(channels: 1 | 3 | 4): Buffer {
  const px = Buffer.alloc(40 * 10 * channels, 255);
  for (let y = 3; y < 7; y++)
    for (let x = 10; x < 30; x++) for (let c = 0; c < Math.min(channels, 3); c++) px[(y * 40 + x) * channels + c] = 0;
  return px;
}

describe('decodeImage', () => {
  for (const [format, channels] of [
    ['png', 1],
    ['png', 3],
    ['jpeg', 3],
    ['tiff', 1],
    ['webp', 3],
  ] as const) {
    it(`decodes ${format} (${channels} channels) with ink high and background 0`, async () => {
      const file = path.join(dir, `bar-${channels}.${format}`);
      await sharp(barPixels(channels), { raw: { width: 40, height: 10, channels } })
        .toFormat(format, { quality: 100 })
        .toFile(file);
      const img = await decodeImage(file);
      expect([img.width, img.height]).toEqual([40, 10]);
      const tol = format === 'jpeg' || format === 'webp' ? 0.1 : 0;
      expect(img.data[5 * 40 + 20]).toBeGreaterThanOrEqual(1 - tol); // ink
      expect(img.data[0]).toBeLessThanOrEqual(tol); // background
    });
  }

  it('decodes 16-bit PNG and flattens alpha onto white', async () => {
    const file16 = path.join(dir, 'bar16.png');
    await sharp(barPixels(1), { raw: { width: 40, height: 10, channels: 1 } })
      .toColourspace('grey16')
      .png()
      .toFile(file16);
    expect((await decodeImage(file16)).data[5 * 40 + 20]).toBeCloseTo(1, 2);
    // Fully transparent black everywhere except an opaque bar: transparent pixels become white (background 0).
    const rgba = Buffer.alloc(40 * 10 * 4, 0);
    for (let y = 3; y < 7; y++) for (let x = 10; x < 30; x++) rgba[(y * 40 + x) * 4 + 3] = 255;
    const fileA = path.join(dir, 'alpha.png');
    await sharp(rgba, { raw: { width: 40, height: 10, channels: 4 } })
      .png()
      .toFile(fileA);
    const img = await decodeImage(fileA);
    expect(img.data[0]).toBeCloseTo(0, 5);
    expect(img.data[5 * 40 + 20]).toBeCloseTo(1, 5);
  });

  it('names the file for missing, truncated and undecodable images', async () => {
    await expect(decodeImage(path.join(dir, 'nope.png'))).rejects.toThrow(/nope.png: file not found/);
    const good = await sharp(barPixels(1), { raw: { width: 40, height: 10, channels: 1 } })
      .png()
      .toBuffer();
    const trunc = path.join(dir, 'trunc.png');
    writeFileSync(trunc, good.subarray(0, good.length / 2));
    await expect(decodeImage(trunc)).rejects.toThrow(/trunc.png: cannot decode image/);
    const junk = path.join(dir, 'junk.png');
    writeFileSync(junk, 'not an image');
    await expect(decodeImage(junk)).rejects.toThrow(/junk.png: cannot decode image/);
  });
});

describe('normalizeLine', () => {
  it('crops empty margins and scales to the height keeping the aspect ratio', async () => {
    const file = path.join(dir, 'norm.png');
    await sharp(barPixels(1), { raw: { width: 40, height: 10, channels: 1 } })
      .png()
      .toFile(file);
    // The ink box is 20x4; at height 32 it becomes 160x32, or with the 1-pixel pad of the paper background 22x6, 117x32.
    const img = await loadLine(file, { height: 32, background: 'zero' });
    expect([img.width, img.height]).toEqual([160, 32]);
    const padded = await loadLine(file, { height: 32 });
    expect([padded.width, padded.height]).toEqual([117, 32]);
    const uncropped = await loadLine(file, { height: 20, cropMargins: false });
    expect([uncropped.width, uncropped.height]).toEqual([80, 20]);
    const capped = await normalizeLine(
      { data: new Float32Array(100 * 10).fill(1), width: 100, height: 10 },
      { height: 10, maxWidth: 50 },
    );
    expect(capped.width).toBe(50);
  });

  it('keeps one grey value per pixel in place when it rescales', async () => {
    // Ink in the left half of a 12x6 image, rows 1..4; scaled to height 12 it is 24x12 with the same layout.
    const w = 12,
      h = 6,
      src = new Float32Array(w * h);
    for (let y = 1; y < 5; y++) for (let x = 0; x < 6; x++) src[y * w + x] = 1;
    const img = await normalizeLine(
      { data: src, width: w, height: h },
      { height: 12, cropMargins: false, contrastNormalize: false },
    );
    expect([img.width, img.height, img.data.length]).toEqual([24, 12, 24 * 12]);
    for (let y = 0; y < 12; y++) {
      for (let x = 0; x < 24; x++) {
        // Away from the edges of the ink box (where interpolation blends), the value is the source pixel's.
        const sy = Math.floor(y / 2),
          sx = Math.floor(x / 2);
        const nearEdge = [1, 5].some((e) => Math.abs(y / 2 - e) < 1) || Math.abs(x / 2 - 6) < 1;
        if (!nearEdge) expect(img.data[y * 24 + x], `(${x}, ${y})`).toBeCloseTo(src[sy * w + sx]!, 1);
      }
    }
  });
});

describe('manifest datasets', () => {
  it('reads path<TAB>text with comments, relative to the manifest, and round-trips writeSplit', async () => {
    const out = path.join(dir, 'split');
    const manifest = await writeSplit(mnistLines({ split: 'valid', count: 3, seed: 1 }), out);
    const ds = await manifestDataset(manifest, { height: 32 });
    expect(ds.size).toBe(3);
    const src = mnistLines({ split: 'valid', count: 3, seed: 1 });
    for (let i = 0; i < 3; i++) {
      expect(ds.text(i)).toBe(src.text(i));
      expect((await ds.load(i)).image.height).toBe(32);
    }
    // Ids with path separators, dots and spaces (or repeated) still give one file each, inside lines/.
    const ids = ['a/b c', '../up', 'a/b c', '.hidden'];
    const odd = {
      name: 'odd',
      size: 4,
      id: (i: number) => ids[i]!,
      text: (i: number) => `t${i}`,
      load: async (i: number) => ({
        id: ids[i]!,
        text: `t${i}`,
        image: { data: new Float32Array(8 * 4).fill(1), width: 8, height: 4 },
      }),
    };
    const oddManifest = await writeSplit(odd, path.join(dir, 'odd'));
    const back = await manifestDataset(oddManifest, { height: 4 });
    expect(Array.from({ length: 4 }, (_, i) => back.id(i))).toEqual([
      'lines/a_b_c.png',
      'lines/__up.png',
      'lines/a_b_c-2.png',
      'lines/_hidden.png',
    ]);
    expect(Array.from({ length: 4 }, (_, i) => back.text(i))).toEqual(['t0', 't1', 't2', 't3']);
  });

  it('names the file and line for bad rows and missing images', async () => {
    const m = path.join(dir, 'bad.tsv');
    writeFileSync(m, '# comment\nlines/a.png\tok\nlines/b.png\n');
    await expect(manifestDataset(m, { height: 32 })).rejects.toThrow(
      `${m}:3: expected 2 tab-separated columns (path, transcription), found 1`,
    );
    writeFileSync(m, 'lines/a.png\t  \n');
    await expect(manifestDataset(m, { height: 32 })).rejects.toThrow(`${m}:1: empty transcription for 'lines/a.png'`);
    writeFileSync(m, '\n# c\nlines/missing.png\thello\n');
    const ds = await manifestDataset(m, { height: 32 });
    await expect(ds.load(0)).rejects.toThrow(
      `${m}:3: 'lines/missing.png' not found (paths are relative to the manifest)`,
    );
    writeFileSync(m, Buffer.from([0x61, 0x09, 0x62, 0x0a, 0x61, 0x09, 0xff, 0xfe, 0x0a]));
    await expect(manifestDataset(m, { height: 32 })).rejects.toThrow(`${m}:2: not valid UTF-8`);
    await expect(manifestDataset(`${m}.missing`, { height: 32 })).rejects.toThrow(`${m}.missing: manifest not found`);
  });
});
