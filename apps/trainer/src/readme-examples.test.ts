/**
 * Every `npx scriptorium ...` line of the README's "Using it" block runs, with its own flags, on small fixtures
 * named as the README names them (lines/train.tsv, line1.png, page.xml, ...). Training examples get flags that
 * make them short (--max-steps 2 and small batches) on top of theirs; nothing else is changed.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { mnistLines, writeLinePng, writeSplit } from '@scriptorium/data';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../../..');
const MAIN = path.resolve(__dirname, 'main.ts');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const cwd = mkdtempSync(path.join(tmpdir(), 'readme-'));
/** What makes a README training example short here. */
const SHORT_TRAIN = [
  '--max-steps',
  '2',
  '--batch',
  '4',
  '--eval-every',
  '2',
  '--valid-lines',
  '4',
  '--backend',
  'wasm',
  '--quiet',
];

/** The README's `npx scriptorium` lines under "Using it", comments dropped, as argument lists. */
function readmeExamples(): string[][] {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Using it'));
  const block = section.slice(section.indexOf('```sh') + 5, section.indexOf('```', section.indexOf('```sh') + 5));
  return block
    .split('\n')
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter((l) => l.startsWith('npx scriptorium '))
    .map((l) => l.slice('npx scriptorium '.length).split(/\s+/));
}

beforeAll(async () => {
  const lines = (count: number, seed: number) =>
    mnistLines({ split: 'train', count, seed, minDigits: 2, maxDigits: 4 });
  // Manifests where the README has them: lines/train.tsv and lines/test.tsv, mine/train.tsv (paths relative to each).
  for (const [dir, name, count, seed] of [
    ['lines', 'train.tsv', 16, 1],
    ['lines', 'test.tsv', 4, 2],
    ['mine', 'train.tsv', 8, 3],
  ] as const) {
    const manifest = await writeSplit(lines(count, seed), path.join(cwd, dir, name.replace('.tsv', '')));
    writeFileSync(
      path.join(cwd, dir, name),
      readFileSync(manifest, 'utf8').replace(/^lines\//gm, `${name.replace('.tsv', '')}/lines/`),
    );
  }
  const line = lines(1, 4).compose(0);
  await writeLinePng(line.image, path.join(cwd, 'line1.png'));
  await sharp(path.join(cwd, 'line1.png')).jpeg({ quality: 95 }).toFile(path.join(cwd, 'line2.jpg'));
  writeFileSync(path.join(cwd, 'corpus.txt'), '0123 4567\n89 0011\n');
  // A PAGE file whose one TextLine is line1.png's whole image.
  const w = line.image.width - 1,
    h = line.image.height - 1;
  const box = `<Coords points="0,0 ${w},0 ${w},${h} 0,${h}"/>`;
  writeFileSync(
    path.join(cwd, 'page.xml'),
    `<?xml version="1.0"?>\n<PcGts><Page imageFilename="line1.png"><TextRegion id="r">${box}<TextLine id="l1">${box}</TextLine></TextRegion></Page></PcGts>\n`,
  );
  mkdirSync(path.join(cwd, 'runs'), { recursive: true });
});

describe('the README examples', () => {
  it('each `npx scriptorium` line of "Using it" runs on small fixtures and writes what it says', async () => {
    const examples = readmeExamples();
    expect(examples.map((a) => a[0])).toEqual([
      'train',
      'eval',
      'recognize',
      'lm',
      'recognize',
      'recognize',
      'train',
      'keys',
    ]);
    for (const args of examples) {
      const full = args[0] === 'train' ? [...args, ...SHORT_TRAIN] : args;
      const r = await promisify(execFile)(
        process.execPath,
        ['--import', TSX, '--conditions=@scriptorium/source', MAIN, ...full],
        { cwd },
      ).catch((err: { code: number; stderr: string }) => err);
      expect('code' in r ? r.code : 0, `scriptorium ${full.join(' ')}\n${'stderr' in r ? r.stderr : ''}`).toBe(0);
    }
    for (const f of [
      'runs/iam/best/bundle.json',
      'runs/iam/test.jsonl',
      'runs/iam/lm.json',
      'page.out.xml',
      'runs/mine/best/bundle.json',
      'coordinator.keys',
    ]) {
      expect(existsSync(path.join(cwd, f)), f).toBe(true);
    }
    expect(readFileSync(path.join(cwd, 'page.out.xml'), 'utf8')).toMatch(
      /<TextLine id="l1"><Coords [^>]*\/><TextEquiv conf="[\d.]+"><Unicode>/,
    );
  }, 300_000);
});
