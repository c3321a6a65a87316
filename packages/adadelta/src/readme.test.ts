/**
 * The README's examples run as written (tools/readme-examples.ts: each ```ts block as a module, importing
 * '@scriptorium/adadelta' as a user would) and print what their `// =>` comments say: the flat step's
 * gradient norm and parameters after one step, the state's size in bytes, and the optimizer's parameters
 * after the same step and its config.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectedOrPrinted, readmeBlocks, runReadmeBlock } from '../../../tools/readme-examples.js';

const blocks = readmeBlocks(path.resolve(__dirname, '../README.md'));

describe('README examples', () => {
  it('has two examples, no fragments', () => {
    expect(blocks.map((b) => b.fragment)).toEqual([false, false]);
  });

  it.each([0, 1])('example %i prints what its comments say', async (i) => {
    const run = await runReadmeBlock(blocks[i]!);
    expect(run.expected.every((e) => e !== undefined)).toBe(true);
    expect(run.printed).toEqual(expectedOrPrinted(run));
  });
});
