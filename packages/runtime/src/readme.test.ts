/**
 * The README's example runs as written (tools/readme-examples.ts: each ```ts block as a module, importing
 * '@scriptorium/runtime' as a user would) and prints what its `// =>` comments say.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectedOrPrinted, readmeBlocks, runReadmeBlock } from '../../../tools/readme-examples.js';

const blocks = readmeBlocks(path.resolve(__dirname, '../README.md'));

describe('README examples', () => {
  it('has one example, no fragments', () => {
    expect(blocks.map((b) => b.fragment)).toEqual([false]);
  });

  it("initBackend('auto') reports the backend it chose; Rng(1) draws the stated first number", async () => {
    // SCRIPTORIUM_BACKEND wins over the example's 'auto' (as the README says): the tests never load tfjs-node.
    const run = await runReadmeBlock(blocks[0]!, { env: { SCRIPTORIUM_BACKEND: 'wasm' } });
    expect(run.printed).toEqual(expectedOrPrinted(run));
    expect(run.expected[0]).toBeUndefined(); // the summary depends on the machine
    expect(run.printed[0]).toMatch(/\bwasm\b/);
  });
});
