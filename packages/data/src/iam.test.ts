import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { DataError } from './errors.js';
import { iamDataset } from './iam.js';
import { openDataset } from './open-dataset.js';

const root = mkdtempSync(path.join(tmpdir(), 'data-iam-'));
const pre = { height: 16 };

/** A 30x10 white PNG with a black bar in rows 3..6. */
async function writeBar(file: string): Promise<void> {
  const px = Buffer.alloc(30 * 10, 255);
  px.fill(0, 3 * 30, 7 * 30);
  mkdirSync(path.dirname(file), { recursive: true });
  await sharp(px, { raw: { width: 30, height: 10, channels: 1 } })
    .png()
    .toFile(file);
}

const LINES = [
  '#--- lines.txt ---------------------------------------------------------------#',
  '# format: a01-000u-00 ok 154 19 408 746 1663 91 A|MOVE|to|stop|Mr.|Gaitskell',
  'a01-000u-00 ok 154 19 408 746 1661 89 A|MOVE|to|stop|Mr.|Gaitskell|from',
  'a01-000u-01 err 156 19 395 932 1850 105 nominating|any|more|Labour',
  '',
  'a01-000x-00 ok 157 16 408 768 1782 87 life|peers|is|to',
].join('\n');

beforeAll(async () => {
  mkdirSync(path.join(root, 'ascii'));
  writeFileSync(path.join(root, 'ascii', 'lines.txt'), `${LINES}\n`);
  await writeBar(path.join(root, 'lines/a01/a01-000u/a01-000u-00.png'));
  await writeBar(path.join(root, 'lines/a01/a01-000u/a01-000u-01.png'));
  // a01-000x-00 has no image.
});

describe('iamDataset', () => {
  it("reads ascii/lines.txt, turns '|' into spaces and keeps err lines by default", async () => {
    const ds = await iamDataset(root, pre);
    expect(ds.size).toBe(3);
    expect([ds.id(0), ds.id(1), ds.id(2)]).toEqual(['a01-000u-00', 'a01-000u-01', 'a01-000x-00']);
    expect(ds.text(0)).toBe('A MOVE to stop Mr. Gaitskell from');
    expect(ds.text(1)).toBe('nominating any more Labour'); // an 'err' line, kept
    const s = await ds.load(0);
    expect(s).toMatchObject({ id: 'a01-000u-00', text: 'A MOVE to stop Mr. Gaitskell from' });
    // The ink box is the 30x4 bar across the image, 30x6 with a pixel of margin above and below; at height 16, 80 wide.
    expect([s.image.width, s.image.height]).toEqual([80, 16]);
  });

  it('drops err lines with skipErr', async () => {
    const ds = await iamDataset(root, pre, { skipErr: true });
    expect([ds.size, ds.id(0), ds.id(1)]).toEqual([2, 'a01-000u-00', 'a01-000x-00']);
  });

  it('refuses an empty transcription, naming the file, line and id', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'data-iam-empty-'));
    // The 9th field on holds the words joined by '|': nothing but separators is no text.
    for (const text of ['|', '|||', '| |']) {
      writeFileSync(
        path.join(dir, 'lines.txt'),
        `# header\nb01-001-07 ok 170 5 1 2 3 4 a|b\nb01-001-08 err 170 5 1 2 3 4 ${text}\n`,
      );
      const err = await iamDataset(dir, pre).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DataError);
      expect((err as Error).message).toBe(`${path.join(dir, 'lines.txt')}:3: empty transcription for 'b01-001-08'`);
    }
  });

  it('joins stray spaces in the transcription field as spaces, and reads DIR/lines.txt', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'data-iam-flat-'));
    writeFileSync(
      path.join(dir, 'lines.txt'),
      'b01-001-07 ok 170 5 1 2 3 4 a|b c\nb01-001-08 ok 170 5 1 2 3 4 &quot;Yes,&quot;|he|said\n',
    );
    const ds = await iamDataset(dir, pre);
    expect(ds.text(0)).toBe('a b c');
    expect(ds.text(1)).toBe('"Yes," he said'); // IAM's &quot; is a double quote
  });

  it('reads a split list of line and form ids in its order', async () => {
    const split = path.join(root, 'split.txt');
    writeFileSync(split, '# validation\na01-000x-00\n\na01-000u\n');
    const ds = await iamDataset(root, pre, { split });
    expect([ds.id(0), ds.id(1), ds.id(2)]).toEqual(['a01-000x-00', 'a01-000u-00', 'a01-000u-01']);
    expect((await iamDataset(root, pre, { split, skipErr: true })).size).toBe(2);
    const viaSpec = await openDataset(`iam:${root}`, { splitFile: split, preprocess: pre });
    expect(viaSpec.size).toBe(3);
  });

  it('names the split file and line for unknown and repeated ids', async () => {
    const split = path.join(root, 'bad-split.txt');
    writeFileSync(split, 'a01-000u-00\nz99-999-99\n');
    await expect(iamDataset(root, pre, { split })).rejects.toThrow(
      `${split}:2: 'z99-999-99' is neither a line id nor a form id in ${path.join(root, 'ascii', 'lines.txt')}`,
    );
    writeFileSync(split, 'a01-000u-00\na01-000u\n');
    await expect(iamDataset(root, pre, { split })).rejects.toThrow(
      `${split}:2: line 'a01-000u-00' is already in the split (line 1)`,
    );
    await expect(iamDataset(root, pre, { split: path.join(root, 'nope.txt') })).rejects.toThrow(
      `${path.join(root, 'nope.txt')}: split list not found`,
    );
  });

  it('names lines.txt and the line for malformed records and bad UTF-8', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'data-iam-bad-'));
    const file = path.join(dir, 'lines.txt');
    const cases: [string, string][] = [
      [
        '# c\na01-000u-00 ok 154 19 408 746 1661\n',
        `${file}:2: expected 9 space-separated fields (id, ok|err, grey level, components, x, y, w, h, transcription), found 7`,
      ],
      [
        'a01-000u-00 okay 154 19 408 746 1661 89 A\n',
        `${file}:1: expected segmentation result 'ok' or 'err', found 'okay'`,
      ],
      ['a01-000u-00 ok 154 19 408 7x6 1661 89 A\n', `${file}:1: expected an integer y in field 6, found '7x6'`],
      ['a01-000u ok 154 19 408 746 1661 89 A\n', `${file}:1: expected a line id like 'a01-000u-00', found 'a01-000u'`],
      [
        'a01-000u-00 ok 1 1 1 1 1 1 A\na01-000u-00 ok 1 1 1 1 1 1 B\n',
        `${file}:2: duplicate line id 'a01-000u-00' (first on line 1)`,
      ],
    ];
    for (const [text, message] of cases) {
      writeFileSync(file, text);
      await expect(iamDataset(dir, pre)).rejects.toThrow(message);
    }
    writeFileSync(
      file,
      Buffer.concat([
        Buffer.from('# ok\na01-000u-00 ok 1 1 1 1 1 1 A\na01-000u-01 ok 1 1 1 1 1 1 '),
        Buffer.from([0xc3, 0x28, 0x0a]),
      ]),
    );
    await expect(iamDataset(dir, pre)).rejects.toThrow(`${file}:3: not valid UTF-8`);
    await expect(iamDataset(path.join(dir, 'none'), pre)).rejects.toThrow(
      `${path.join(dir, 'none')}: no lines.txt or ascii/lines.txt`,
    );
  });

  it('names lines.txt, the line and the expected path for a missing image', async () => {
    const ds = await iamDataset(root, pre);
    const file = path.join(root, 'ascii', 'lines.txt');
    await expect(ds.load(2)).rejects.toThrow(
      `${file}:6: 'a01-000x-00': image ${path.join(root, 'lines/a01/a01-000x/a01-000x-00.png')} not found`,
    );
  });
});
