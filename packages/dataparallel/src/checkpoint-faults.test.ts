/**
 * Checkpoint faults and what is promised (issue 18):
 * - a short write (full disk, file size limit) or a failing write: the save rejects naming the file,
 *   its temporary file is removed, and no older checkpoint is pruned;
 * - a write that claims bytes it did not write: caught by reading the file back and hashing it;
 * - writes are split below the ~2 GiB one write call moves;
 * - an edit of the header (step, application state) fails the SHA-256, which covers the whole file;
 * - checkpoints of the older formats 1 and 2 still load (their hash covers the payload only).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { serializeAdadeltaState } from '@scriptorium/adadelta';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkpointFileName,
  listCheckpoints,
  loadCheckpoint,
  saveCheckpoint,
  type CheckpointData,
} from './checkpoint.js';
import { writeFully, type WriteAt } from './file-io.js';
import { BIG_LAYOUT, bigCheckpoint } from './fixtures/big-checkpoint.js';

const here = path.dirname(fileURLToPath(import.meta.url));
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dp-ckpt-faults-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** A directory holding the verified checkpoints of steps 1, 2 and 3. */
async function threeSaved(name: string): Promise<string> {
  const sub = path.join(dir, name);
  for (const step of [1, 2, 3]) await saveCheckpoint(sub, bigCheckpoint(step), { keep: 3 });
  return sub;
}

/** Every file in `sub` is one of steps 1 to 3, and each loads. */
async function stillIntact(sub: string): Promise<void> {
  expect(await readdir(sub)).toEqual([1, 2, 3].map(checkpointFileName));
  for (const f of await listCheckpoints(sub)) await loadCheckpoint(f, BIG_LAYOUT);
}

/** Writes at most `max` bytes per call, and nothing once `budget` bytes are written (as a full disk does). */
function shortWriter(max: number, budget = Infinity): WriteAt {
  let written = 0;
  return async (fh, buffer, offset, length, position) => {
    const n = Math.min(max, length, budget - written);
    if (n <= 0) return 0;
    written += n;
    return (await fh.write(buffer, offset, n, position)).bytesWritten;
  };
}

describe('checkpoint faults', () => {
  it('short writes are continued until every byte is written', async () => {
    const sub = path.join(dir, 'short');
    const file = await saveCheckpoint(sub, bigCheckpoint(5), { write: shortWriter(1000) });
    expect((await loadCheckpoint(file, BIG_LAYOUT)).params).toEqual(bigCheckpoint(5).params);
  });

  it('a write that stops (disk full) rejects the save, removes the temporary file and prunes nothing', async () => {
    const sub = await threeSaved('full');
    await expect(saveCheckpoint(sub, bigCheckpoint(4), { keep: 3, write: shortWriter(4096, 100_000) })).rejects.toThrow(
      /step-000000004\.dpck\.\d+\.\d+\.tmp: a write of \d+ bytes at offset 100000 wrote 0 \(disk full or file size limit\?\); 100000 of \d+ bytes written/,
    );
    await stillIntact(sub);
  });

  it('a write that throws (ENOSPC) rejects the save with that error, and leaves the directory as it was', async () => {
    const sub = await threeSaved('enospc');
    const failing: WriteAt = async () => {
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    };
    await expect(saveCheckpoint(sub, bigCheckpoint(4), { keep: 3, write: failing })).rejects.toThrow(/ENOSPC/);
    await stillIntact(sub);
  });

  it('a write that claims bytes it did not write is caught by reading the file back', async () => {
    const sub = await threeSaved('liar');
    let calls = 0;
    const liar: WriteAt = async (fh, buffer, offset, length, position) => {
      // The third chunk (the parameters) is reported written but never reaches the file.
      if (++calls === 3) return length;
      return (await fh.write(buffer, offset, length, position)).bytesWritten;
    };
    await expect(saveCheckpoint(sub, bigCheckpoint(4), { keep: 3, write: liar })).rejects.toThrow(
      /\.tmp: read back \d+ bytes \(expected \d+\) that do not hash to what was written; checkpoint not saved/,
    );
    await stillIntact(sub);
  });

  it('under a real file size limit (ulimit -f 100, as a full disk) the save fails and step 1 survives', async () => {
    const sub = await threeSaved('ulimit');
    const fixture = path.join(here, 'fixtures/save-checkpoint.ts');
    const script = `ulimit -f 100 && exec "${process.execPath}" --import tsx --conditions=@scriptorium/source "${fixture}" "${sub}" 4`;
    const result = await promisify(execFile)('bash', ['-c', script]).then(
      (r) => ({ code: 0, stdout: r.stdout }),
      (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
    );
    // 100 KiB = 102400 bytes get written, then the next write fails with EFBIG.
    expect(result).toEqual({ code: 1, stdout: expect.stringMatching(/EFBIG/) });
    await stillIntact(sub);
  });

  it('writes are split into calls of at most the given size', async () => {
    const sub = path.join(dir, 'split');
    const asked: number[] = [];
    const record: WriteAt = async (fh, buffer, offset, length, position) => {
      asked.push(length);
      return (await fh.write(buffer, offset, length, position)).bytesWritten;
    };
    await mkdir(sub, { recursive: true });
    const fh = await open(path.join(sub, 'f'), 'w');
    try {
      expect(await writeFully(fh, 'f', [new Uint8Array(250).fill(7), new Uint8Array(30)], record, 100)).toBe(280);
    } finally {
      await fh.close();
    }
    expect(asked).toEqual([100, 100, 50, 30]);
    expect(Array.from(await readFile(path.join(sub, 'f'))).slice(245, 255)).toEqual([7, 7, 7, 7, 7, 0, 0, 0, 0, 0]);
  });

  it('an edit of the header (step, application state) fails the SHA-256', async () => {
    const file = await saveCheckpoint(path.join(dir, 'edit'), bigCheckpoint(3));
    const good = (await readFile(file)).toString('latin1');
    for (const [from, to] of [
      ['"step":3', '"step":7'],
      ['"cursor":3', '"cursor":9'],
    ]) {
      expect(good).toContain(from);
      await writeFile(file, Buffer.from(good.replace(from!, to!), 'latin1'));
      await expect(loadCheckpoint(file)).rejects.toThrow(`${file}: SHA-256 mismatch`);
    }
  });

  it('a format 1 header whose step is not a step count is refused', async () => {
    const file = path.join(dir, 'legacy-step.dpck');
    await writeFile(file, legacyCheckpoint(1, { ...bigCheckpoint(6), step: -1 }));
    await expect(loadCheckpoint(file)).rejects.toThrow(
      `${file}: header.step -1 is not a step count (expected an integer >= 0)`,
    );
  });

  it('checkpoints of formats 1 and 2 still load', async () => {
    const d = bigCheckpoint(6);
    for (const format of [1, 2] as const) {
      const file = path.join(dir, `legacy-${format}.dpck`);
      await writeFile(
        file,
        legacyCheckpoint(format, { ...d, extras: format === 2 ? { ema: Float32Array.from([1, 2, 3]) } : {} }),
      );
      const ck = await loadCheckpoint(file, BIG_LAYOUT);
      expect([ck.step, ck.appState, ck.params]).toEqual([6, { cursor: 6 }, d.params]);
      expect(ck.extras).toEqual(format === 2 ? { ema: Float32Array.from([1, 2, 3]) } : {});
      // Their hash covers the payload: a flipped parameter bit is still caught.
      const bad = await readFile(file);
      bad[bad.length - 100]! ^= 1;
      await writeFile(file, bad);
      await expect(loadCheckpoint(file)).rejects.toThrow(/SHA-256 mismatch/);
    }
  });
});

/**
 * A checkpoint as formats 1 and 2 wrote it: 'SCDPCKPT' | u32 format | u32 header length | header | params
 * | optimizer state | extras (format 2), with the SHA-256 of the payload (format 2: with the extras' names and
 * lengths before their bytes) in the header.
 */
function legacyCheckpoint(format: 1 | 2, d: CheckpointData): Buffer {
  const params = Buffer.from(d.params.buffer, d.params.byteOffset, d.params.byteLength);
  const optimizer = serializeAdadeltaState(d.optimizerState);
  const extras = Object.entries(d.extras ?? {});
  const list = extras.map(([name, a]) => ({ name, length: a.length }));
  const hash = createHash('sha256').update(params).update(optimizer);
  if (format === 2) hash.update(JSON.stringify(list));
  const extraBytes = extras.map(([, a]) => Buffer.from(a.buffer, a.byteOffset, a.byteLength));
  for (const b of extraBytes) hash.update(b);
  const header = Buffer.from(
    JSON.stringify({
      format,
      step: d.step,
      runId: '',
      createdAt: '2026-01-01T00:00:00.000Z',
      layout: d.layout,
      paramsBytes: params.length,
      optimizerBytes: optimizer.length,
      sha256: hash.digest('hex'),
      appState: d.appState,
      ...(format === 2 ? { extras: list } : {}),
    }),
  );
  const prefix = Buffer.alloc(16);
  prefix.write('SCDPCKPT', 0, 'latin1');
  prefix.writeUInt32LE(format, 8);
  prefix.writeUInt32LE(header.length, 12);
  return Buffer.concat([prefix, header, params, optimizer, ...extraBytes]);
}
