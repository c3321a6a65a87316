/**
 * The README's example runs as written (tools/readme-examples.ts: each ```ts block as a module, importing
 * '@scriptorium/models' as a user would): one training step of pham2014 on four mnist-lines lines, a bundle saved
 * and loaded, and `line.png` (a fixture: one mnist-lines line) recognised.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { mnistLines, writeLinePng } from '@scriptorium/data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedOrPrinted, readmeBlocks, runReadmeBlock } from '../../../tools/readme-examples.js';

const blocks = readmeBlocks(path.resolve(__dirname, '../README.md'));
const scratch = mkdtempSync(path.join(tmpdir(), 'models-readme-'));
let linePng: Uint8Array;

beforeAll(async () => {
  const line = await mnistLines({ split: 'test', count: 1, seed: 2, maxDigits: 3 }).load(0);
  await writeLinePng(line.image, path.join(scratch, 'line.png'));
  linePng = readFileSync(path.join(scratch, 'line.png'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('README examples', () => {
  it('has one example, no fragments', () => {
    expect(blocks.map((b) => b.fragment)).toEqual([false]);
  });

  it('trains a step, saves and loads a bundle, and recognises line.png', async () => {
    // The example's initBackend takes whichever backend is installed; the tests use wasm.
    const run = await runReadmeBlock(blocks[0]!, {
      fixtures: { 'line.png': linePng },
      env: { SCRIPTORIUM_BACKEND: 'wasm' },
    });
    expect(run.printed).toEqual(expectedOrPrinted(run));
    // What an untrained model reads is not stated: digits of the alphabet (or nothing), and a confidence in (0, 1].
    expect(run.expected[1]).toBeUndefined();
    expect(run.printed[1]).toMatch(/^[0-9]* (0\.\d\d|1\.00)$/);
  });
});
