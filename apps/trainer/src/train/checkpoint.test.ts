import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createAdadeltaState } from '@scriptorium/adadelta';
import { createLayout, listCheckpoints, saveCheckpoint } from '@scriptorium/dataparallel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { latestRunCheckpoint } from './checkpoint.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'trainer-resume-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const layout = createLayout([{ name: 'w', shape: [4] }]);

/** Checkpoints of steps 1, 2 and 3 in a new directory (the app state is a stand-in: only the step matters here). */
async function saved(name: string): Promise<string[]> {
  const sub = path.join(dir, name);
  for (const step of [1, 2, 3]) {
    await saveCheckpoint(sub, {
      step,
      layout,
      params: new Float32Array(4).fill(step),
      optimizerState: createAdadeltaState(4),
      appState: { step },
    });
  }
  return listCheckpoints(sub);
}

async function flipByte(file: string, fromEnd: number): Promise<void> {
  const buf = await readFile(file);
  buf[buf.length - fromEnd]! ^= 0x10;
  await writeFile(file, buf);
}

describe('latestRunCheckpoint (train --resume)', () => {
  it('resumes from the newest checkpoint when it verifies, saying nothing', async () => {
    const files = await saved('good');
    const lines: string[] = [];
    const ck = await latestRunCheckpoint(path.dirname(files[0]!), (l) => lines.push(l));
    expect([ck.step, ck.path, lines]).toEqual([3, files[2], []]);
  });

  it('falls back to the newest checkpoint that verifies, naming each one it skipped and why', async () => {
    const [one, two, three] = await saved('fallback');
    await flipByte(three!, 40); // a flipped bit: the hash fails
    const buf = await readFile(two!);
    await writeFile(two!, buf.subarray(0, buf.length - 10)); // truncated, as by a full disk
    const lines: string[] = [];
    const ck = await latestRunCheckpoint(path.dirname(one!), (l) => lines.push(l));
    expect([ck.step, ck.path, ck.params[0]]).toEqual([1, one, 1]);
    expect(lines).toEqual([
      expect.stringMatching(new RegExp(`^train --resume: skipping ${three}: SHA-256 mismatch .*: corrupt file$`)),
      `train --resume: skipping ${two}: file has ${buf.length - 10} bytes, expected ${buf.length} (truncated or corrupt)`,
    ]);
  });

  it('is a usage error naming every checkpoint when none verifies, or when there is none', async () => {
    const files = await saved('none');
    for (const f of files) await flipByte(f, 40);
    const sub = path.dirname(files[0]!);
    const err = await latestRunCheckpoint(sub, () => {}).catch((e: Error) => e);
    expect(err).toMatchObject({
      name: 'UsageError',
      message: expect.stringMatching(new RegExp(`^train --resume: no checkpoint in ${sub} verifies \\(`)),
    });
    for (const f of files) expect((err as Error).message).toContain(`${f}: SHA-256 mismatch`);
    await expect(latestRunCheckpoint(path.join(dir, 'empty'))).rejects.toThrow(
      `train --resume: no checkpoint in ${path.join(dir, 'empty')}`,
    );
  });
});
