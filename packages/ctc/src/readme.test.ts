/**
 * The README's example runs as written (tools/readme-examples.ts: each ```ts block as a module, importing
 * '@scriptorium/ctc' as a user would) and prints what its `// =>` comments say: the loss of random logits,
 * the gradient's shape, the greedy and beam-search (with a character LM) decodings, a CER.
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
    const run = await runReadmeBlock(blocks[0]!, {
      fixtures: { 'corpus.txt': 'the cat sat on the mat\nat a cat\n' }, // the LM's training text
      env: { SCRIPTORIUM_BACKEND: 'cpu' }, // the example's initBackend takes whichever is installed
    });
    expect(run.expected.every((e) => e !== undefined)).toBe(true);
    expect(run.printed).toEqual(expectedOrPrinted(run));
  });
});
