/**
 * The README's example runs as written (tools/readme-examples.ts: each ```ts block as a module, importing
 * '@scriptorium/data' as a user would) and prints what its `// =>` comments say: a collated mnist-lines batch's
 * size, height and padding, its first text and labels, and a line read back from a manifest.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedOrPrinted, readmeBlocks, runReadmeBlock } from '../../../tools/readme-examples.js';
import { mnistLines } from './mnist-lines.js';
import { writeSplit } from './image-io.js';

const blocks = readmeBlocks(path.resolve(__dirname, '../README.md'));
const fixtures: Record<string, Uint8Array> = {};
const scratch = mkdtempSync(path.join(tmpdir(), 'data-readme-'));

beforeAll(async () => {
  // lines/test.tsv and its PNGs: two mnist-lines test lines, as `writeSplit` writes them.
  const manifest = await writeSplit(mnistLines({ split: 'test', count: 2, seed: 3 }), path.join(scratch, 'lines'));
  fixtures['lines/test.tsv'] = readFileSync(manifest);
  for (const png of readdirSync(path.join(scratch, 'lines/lines'))) {
    fixtures[`lines/lines/${png}`] = readFileSync(path.join(scratch, 'lines/lines', png));
  }
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('README examples', () => {
  it('has one example, no fragments', () => {
    expect(blocks.map((b) => b.fragment)).toEqual([false]);
  });

  it('prints what its comments say', async () => {
    const run = await runReadmeBlock(blocks[0]!, { fixtures });
    expect(run.expected.every((e) => e !== undefined)).toBe(true);
    expect(run.printed).toEqual(expectedOrPrinted(run));
  });
});
