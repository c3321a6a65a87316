/**
 * The README's example runs as written (tools/readme-examples.ts: each ```ts block as a module, importing
 * '@scriptorium/mdlstm' as a user would) and prints what its `// =>` comments say: the layer's symbolic output
 * shape, and the shape of a real forward pass through a model built on it.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectedOrPrinted, readmeBlocks, runReadmeBlock } from '../../../tools/readme-examples.js';

const blocks = readmeBlocks(path.resolve(__dirname, '../README.md'));

describe('README examples', () => {
  it('has one example, no fragments', () => {
    expect(blocks.map((b) => b.fragment)).toEqual([false]);
  });

  it('prints what its comments say', async () => {
    // The example's initBackend takes whichever backend is installed; the tests use wasm (the SIMD kernel).
    const run = await runReadmeBlock(blocks[0]!, { env: { SCRIPTORIUM_BACKEND: 'wasm' } });
    expect(run.expected.every((e) => e !== undefined)).toBe(true);
    expect(run.printed).toEqual(expectedOrPrinted(run));
  });
});
