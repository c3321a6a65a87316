/**
 * A worker's --data-root: every file a data spec leads to (manifest lines, IAM ids, gt folders, PAGE imageFilename)
 * must resolve, symlinks followed, inside the root; without a root, anything the user typed is opened as before.
 */
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { openDataset } from './open-dataset.js';

const base = mkdtempSync(path.join(tmpdir(), 'data-root-'));
const root = path.join(base, 'root'),
  outside = path.join(base, 'outside');

async function png(file: string): Promise<void> {
  mkdirSync(path.dirname(file), { recursive: true });
  const px = Buffer.alloc(30 * 10, 255);
  for (let y = 3; y < 7; y++) for (let x = 2; x < 28; x++) px[y * 30 + x] = 0;
  await sharp(px, { raw: { width: 30, height: 10, channels: 1 } })
    .png()
    .toFile(file);
}

beforeAll(async () => {
  await png(path.join(root, 'in.png'));
  await png(path.join(outside, 'secret.png'));
  symlinkSync(path.join(outside, 'secret.png'), path.join(root, 'link.png'));
  writeFileSync(
    path.join(root, 'train.tsv'),
    `in.png\tok\n../outside/secret.png\tup\nlink.png\tlinked\n${path.join(outside, 'secret.png')}\tabsolute\n`,
  );
  // gt folder: one honest pair and one transcription that is a symlink out.
  await png(path.join(root, 'gt/a.png'));
  writeFileSync(path.join(root, 'gt/a.gt.txt'), 'a\n');
  writeFileSync(path.join(outside, 'b.gt.txt'), 'b\n');
  await png(path.join(root, 'gt/b.png'));
  symlinkSync(path.join(outside, 'b.gt.txt'), path.join(root, 'gt/b.gt.txt'));
  // PAGE whose imageFilename climbs out of the root.
  mkdirSync(path.join(root, 'page'));
  const coords = '<Coords points="0,0 29,0 29,9 0,9"/>';
  writeFileSync(
    path.join(root, 'page/p.xml'),
    `<PcGts><Page imageFilename="../../outside/secret.png"><TextRegion id="r">${coords}<TextLine id="l">${coords}<TextEquiv><Unicode>x</Unicode></TextEquiv></TextLine></TextRegion></Page></PcGts>`,
  );
  // IAM: an id whose path climbs out (lines/../../outside/...) cannot be written as an IAM id, so a symlinked image.
  mkdirSync(path.join(root, 'iam/lines/a01/a01-000u'), { recursive: true });
  writeFileSync(path.join(root, 'iam/lines.txt'), 'a01-000u-00 ok 154 19 408 746 1661 89 A|MOVE\n');
  symlinkSync(path.join(outside, 'secret.png'), path.join(root, 'iam/lines/a01/a01-000u/a01-000u-00.png'));
});

describe('--data-root', () => {
  it('a manifest inside the root loads its own images and refuses ../, symlinked and absolute ones by name', async () => {
    const ds = await openDataset(`manifest:${path.join(root, 'train.tsv')}`, { dataRoot: root });
    expect((await ds.load(0)).text).toBe('ok');
    for (const [i, name] of [
      [1, '../outside/secret.png'],
      [2, 'link.png'],
      [3, path.join(outside, 'secret.png')],
    ] as const) {
      await expect(ds.load(i)).rejects.toThrow(
        `'${name}': '${path.resolve(root, name)}' is outside the data root ${root} (a worker opens only files inside its --data-root)`,
      );
    }
    // Without a root (a local run: the user typed the path), all four load as before.
    const free = await openDataset(`manifest:${path.join(root, 'train.tsv')}`);
    for (let i = 0; i < 4; i++) expect((await free.load(i)).image.height).toBe(32);
  });

  it('a manifest outside the root is refused before it is read', async () => {
    writeFileSync(path.join(outside, 'm.tsv'), 'secret.png\tx\n');
    await expect(openDataset(`manifest:${path.join(outside, 'm.tsv')}`, { dataRoot: root })).rejects.toThrow(
      /^manifest: '.*m\.tsv' is outside the data root/,
    );
    // A file outside that does not exist is refused the same way: the message does not tell whether it exists.
    await expect(openDataset(`manifest:${path.join(outside, 'nope.tsv')}`, { dataRoot: root })).rejects.toThrow(
      /^manifest: '.*nope\.tsv' is outside the data root/,
    );
  });

  it('gt folders, PAGE imageFilename and IAM images that resolve outside are refused; a missing root is named', async () => {
    await expect(openDataset(`gt:${path.join(root, 'gt')}`, { dataRoot: root })).rejects.toThrow(
      /^transcription: '.*b\.gt\.txt' is outside the data root/,
    );
    await expect(openDataset(`page:${path.join(root, 'page')}`, { dataRoot: root })).rejects.toThrow(
      /p\.xml:1: imageFilename: '.*secret\.png' is outside the data root/,
    );
    const iam = await openDataset(`iam:${path.join(root, 'iam')}`, { dataRoot: root });
    await expect(iam.load(0)).rejects.toThrow(/'a01-000u-00': '.*a01-000u-00\.png' is outside the data root/);
    await expect(openDataset('mnist-lines', { dataRoot: path.join(base, 'nope') })).rejects.toThrow(
      `data root '${path.join(base, 'nope')}': cannot resolve it (ENOENT)`,
    );
  });
});
