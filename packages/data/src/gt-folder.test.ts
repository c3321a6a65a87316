import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { gtFolderDataset } from './gt-folder.js';
import { openDataset } from './open-dataset.js';

const pre = { height: 16 };

/** A 30x10 white image with a black bar in rows 3..6, as PNG or JPEG by the file's extension. */
async function writeBar(file: string): Promise<void> {
  const px = Buffer.alloc(30 * 10, 255);
  px.fill(0, 3 * 30, 7 * 30);
  mkdirSync(path.dirname(file), { recursive: true });
  await sharp(px, { raw: { width: 30, height: 10, channels: 1 } }).toFile(file);
}

/** A fresh folder holding `images` and the given transcription files. */
async function folder(images: string[], gts: Record<string, string | Buffer>): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'data-gt-'));
  for (const image of images) await writeBar(path.join(dir, image));
  for (const [name, text] of Object.entries(gts)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

describe('gtFolderDataset', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await folder(['b.jpg', 'a.png', 'sub/c.bin.png', 'notes.txt.png'], {
      'a.gt.txt': 'hello\n',
      'b.gt.txt': 'CRLF line\r\n',
      'sub/c.gt.txt': 'cafe\u0301', // NFD: 'e' + combining acute
      'notes.txt.gt.txt': 'dots in the name',
      'orphan.gt.txt': 'no image; ignored',
    });
  });

  it('pairs x.png and x.bin.png with x.gt.txt recursively, sorted by path, NFC and without the line end', async () => {
    const ds = await gtFolderDataset(dir, pre);
    expect(ds.size).toBe(4);
    const rows = Array.from({ length: ds.size }, (_, i) => [ds.id(i), ds.text(i)]);
    expect(rows).toEqual([
      ['a', 'hello'],
      ['b', 'CRLF line'],
      ['notes.txt', 'dots in the name'],
      ['sub/c', 'caf\u00e9'],
    ]);
    const s = await ds.load(3);
    expect(s).toMatchObject({ id: 'sub/c', text: 'caf\u00e9' });
    expect([s.image.width, s.image.height]).toEqual([80, 16]); // the 30x4 bar across the image, with a pixel above and below, at height 16
    expect((await openDataset(`gt:${dir}`, { preprocess: pre })).size).toBe(4);
  });

  it('lists images without a transcription (first three and a count) unless told to ignore them', async () => {
    const d = await folder(['a.png', 'b.png', 'c.png', 'd.png', 'e.png'], { 'c.gt.txt': 'c' });
    await expect(gtFolderDataset(d, pre)).rejects.toThrow(
      `${d}: 4 of 5 images have no transcription (NAME.gt.txt beside NAME.png): a.png, b.png, d.png, and 1 more (set ignoreMissingGt to leave them out)`,
    );
    const ds = await gtFolderDataset(d, pre, { ignoreMissingGt: true });
    expect([ds.size, ds.id(0)]).toEqual([1, 'c']);
  });

  it('names the transcription file and line for bad UTF-8, several lines and empty text', async () => {
    const d = await folder(['x.png'], {});
    const gt = path.join(d, 'x.gt.txt');
    writeFileSync(gt, Buffer.from([0x61, 0xff, 0x0a]));
    await expect(gtFolderDataset(d, pre)).rejects.toThrow(`${gt}:1: not valid UTF-8`);
    writeFileSync(gt, 'one\ntwo\n');
    await expect(gtFolderDataset(d, pre)).rejects.toThrow(`${gt}:2: expected one line of text, found 2 lines`);
    writeFileSync(gt, ' \n');
    await expect(gtFolderDataset(d, pre)).rejects.toThrow(`${gt}:1: empty transcription`);
  });

  it('refuses two images for one transcription, an empty folder and a missing one', async () => {
    const d = await folder(['x.png', 'x.bin.png'], { 'x.gt.txt': 'x' });
    await expect(gtFolderDataset(d, pre)).rejects.toThrow(
      `${path.join(d, 'x.gt.txt')}: transcribes both 'x.bin.png' and 'x.png'; keep one image per .gt.txt`,
    );
    const empty = await folder([], { 'x.gt.txt': 'x' });
    await expect(gtFolderDataset(empty, pre)).rejects.toThrow(
      `${empty}: no line images (.png .jpg .jpeg .tif .tiff .webp)`,
    );
    rmSync(empty, { recursive: true });
    await expect(gtFolderDataset(empty, pre)).rejects.toThrow(`${empty}: cannot read folder (ENOENT)`);
  });

  it('names the image when it cannot be decoded', async () => {
    const d = await folder([], { 'x.gt.txt': 'x', 'x.png': 'not a png' });
    const ds = await gtFolderDataset(d, pre);
    await expect(ds.load(0)).rejects.toThrow(`${path.join(d, 'x.png')}: cannot decode image`);
  });
});

describe('openDataset', () => {
  it('lists the new specs and refuses splitFile outside iam', async () => {
    await expect(openDataset('nope:x')).rejects.toThrow(
      "unknown data spec 'nope:x' (expected one of: mnist-lines[:OPTIONS], mnist-unseen[:OPTIONS], textlines[:OPTIONS], manifest:FILE, iam:DIR, gt:DIR, page:DIR)",
    );
    await expect(openDataset('gt:x', { splitFile: 'train.txt' })).rejects.toThrow(
      "data spec 'gt:x': splitFile applies to iam:DIR only",
    );
    await expect(openDataset('page:')).rejects.toThrow("data spec 'page:': expected page:DIR");
  });
});
