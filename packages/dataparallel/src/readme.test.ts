/**
 * The README's runnable example runs as written (tools/readme-examples.ts: each ```ts block as a module, importing
 * '@scriptorium/dataparallel' as a user would) and prints what its `// =>` comments say: a coordinator and two
 * in-process workers take one step (count, workers, mean loss), the parameters after it, one shard per worker.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectedOrPrinted, readmeBlocks, runReadmeBlock } from '../../../tools/readme-examples.js';

const blocks = readmeBlocks(path.resolve(__dirname, '../README.md'));

describe('README examples', () => {
  it('has the runnable example, then the multi-process sketch as a fragment', () => {
    // The sketch is a fragment because it needs the reader's tfjs model and data (`variables`, `meanLoss`,
    // `nextBatchIndices`, `validate`, `cursor`, `rng`), spans two files (coordinator and worker.js) and
    // elides the resumed coordinator's options (`...`). Its calls are what coordinator.test.ts, worker.test.ts,
    // launch-local.test.ts and checkpoint.test.ts exercise.
    expect(blocks.map((b) => b.fragment)).toEqual([false, true]);
  });

  it('one step with two in-process workers prints what its comments say', async () => {
    // loss: at w = 0 the samples' losses are (1+4)/2, (9+16)/2, (25+36)/2, (49+64)/2 = 2.5, 12.5, 30.5, 56.5,
    // mean 25.5. The averaged gradient is w - mean(targets) = [-4, -5]; Adadelta's first step moves each value
    // by about sqrt(eps / (1 - rho)) = 0.00447 against the gradient's sign.
    const run = await runReadmeBlock(blocks[0]!);
    expect(run.expected.every((e) => e !== undefined)).toBe(true);
    expect(run.printed).toEqual(expectedOrPrinted(run));
  });
});
