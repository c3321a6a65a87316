import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createAdadeltaState } from '@scriptorium/adadelta';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkpointFileName,
  latestCheckpoint,
  listCheckpoints,
  loadCheckpoint,
  saveCheckpoint,
  type CheckpointData,
} from './checkpoint.js';
import { createLayout } from './layout.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dp-ckpt-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const layout = createLayout([
  { name: 'w', shape: [2, 3] },
  { name: 'b', shape: [3] },
]);

function data(step: number): CheckpointData {
  const state = createAdadeltaState(9);
  state.accumGrad.fill(0.25);
  state.accumDelta[4] = 1e-7;
  state.iterations = step;
  return {
    step,
    layout,
    params: Float32Array.from({ length: 9 }, (_, i) => i / 7 - 0.5),
    optimizerState: state,
    appState: { cursor: step * 12, rng: 123456789, meta: { model: 'tiny' } },
    runId: 'run-1',
  };
}

describe('checkpoints', () => {
  it('round-trip parameters, optimizer state, step and application state exactly', async () => {
    const d = data(3);
    const file = await saveCheckpoint(path.join(dir, 'rt'), d);
    expect(path.basename(file)).toBe('step-000000003.dpck');
    const ck = await loadCheckpoint(file, layout);
    expect(ck.step).toBe(3);
    expect(Array.from(ck.params)).toEqual(Array.from(d.params));
    expect(Array.from(ck.optimizerState.accumGrad)).toEqual(Array.from(d.optimizerState.accumGrad));
    expect(Array.from(ck.optimizerState.accumDelta)).toEqual(Array.from(d.optimizerState.accumDelta));
    expect(ck.optimizerState.iterations).toBe(3);
    expect(ck.appState).toEqual(d.appState);
    expect(ck.runId).toBe('run-1');
    expect(ck.layout).toEqual(layout);
  });

  it('carry named extra arrays, covered by the checksum; none when not given', async () => {
    const ema = Float32Array.from({ length: 9 }, (_, i) => -i / 3),
      other = Float32Array.from([Math.PI, -0]);
    const file = await saveCheckpoint(path.join(dir, 'extras'), { ...data(4), extras: { ema, other } });
    const ck = await loadCheckpoint(file, layout);
    expect(Object.keys(ck.extras)).toEqual(['ema', 'other']);
    expect(Buffer.from(ck.extras.ema!.buffer).equals(Buffer.from(ema.buffer))).toBe(true);
    expect(Object.is(ck.extras.other![1], -0)).toBe(true);
    expect(ck.params).toEqual(data(4).params);
    const plain = await saveCheckpoint(path.join(dir, 'no-extras'), data(4));
    expect((await loadCheckpoint(plain)).extras).toEqual({});
    // Every file is written in format 3 (the hash at the end covers the header too).
    expect([(await readFile(plain)).readUInt32LE(8), (await readFile(file)).readUInt32LE(8)]).toEqual([3, 3]);
    await expect(
      saveCheckpoint(path.join(dir, 'bad-name'), { ...data(4), extras: { __proto__x: ema, 'a b': ema } }),
    ).rejects.toThrow(/extra array name 'a b'/);
    // A header edit that re-splits the same bytes ([ema 9, other 2] -> [ema 8, other 3]) fails the checksum.
    const edited = (await readFile(file))
      .toString('latin1')
      .replace(
        '{"name":"ema","length":9},{"name":"other","length":2}',
        '{"name":"ema","length":8},{"name":"other","length":3}',
      );
    const editedFile = path.join(dir, 'extras', 'edited.dpck');
    await writeFile(editedFile, Buffer.from(edited, 'latin1'));
    await expect(loadCheckpoint(editedFile)).rejects.toThrow(/SHA-256 mismatch/);
    const dup = (await readFile(file))
      .toString('latin1')
      .replace('{"name":"other","length":2}', '{"name":"ema"  ,"length":2}'); // same header length
    await writeFile(editedFile, Buffer.from(dup, 'latin1'));
    await expect(loadCheckpoint(editedFile)).rejects.toThrow(/distinct names/);
    const buf = await readFile(file);
    buf[buf.length - 32 - 3]! ^= 0x40; // inside the last extra array (the last 32 bytes are the hash)
    await writeFile(file, buf);
    await expect(loadCheckpoint(file)).rejects.toThrow(/SHA-256 mismatch/);
    await writeFile(file, buf.subarray(0, buf.length - 4));
    await expect(loadCheckpoint(file)).rejects.toThrow(/truncated or corrupt/);
  });

  it('leave no temporary files, keep the newest `keep`, and find the latest', async () => {
    const sub = path.join(dir, 'keep');
    for (const step of [1, 2, 10, 3]) await saveCheckpoint(sub, data(step), { keep: 2 });
    expect(await readdir(sub)).toEqual([checkpointFileName(3), checkpointFileName(10)]);
    expect(await latestCheckpoint(sub)).toBe(path.join(sub, checkpointFileName(10)));
    expect(await listCheckpoints(path.join(dir, 'missing'))).toEqual([]);
    expect(await latestCheckpoint(path.join(dir, 'missing'))).toBeNull();
  });

  it('say what differs when the model layout does not match', async () => {
    const file = await saveCheckpoint(path.join(dir, 'layout'), data(1));
    const other = createLayout([
      { name: 'w', shape: [2, 4] },
      { name: 'b', shape: [3] },
      { name: 'c', shape: [1] },
    ]);
    await expect(loadCheckpoint(file, other)).rejects.toThrow(
      `${file}: parameter layout differs from the model's: tensor 'w' has shape [2, 3], expected [2, 4]; tensor 'b' is at offset 6 (size 3), expected offset 8 (size 3); position 1; tensor 'c' [1] is missing`,
    );
  });

  it('detect corruption, truncation, foreign files and future formats', async () => {
    const file = await saveCheckpoint(path.join(dir, 'bad'), data(2));
    const good = await readFile(file);
    const flipped = Buffer.from(good);
    flipped[flipped.length - 32 - 20]! ^= 0x01; // in the optimizer state
    await writeFile(file, flipped);
    await expect(loadCheckpoint(file)).rejects.toThrow(/SHA-256 mismatch .*corrupt file/);
    await writeFile(file, good.subarray(0, good.length - 4));
    await expect(loadCheckpoint(file)).rejects.toThrow(
      `file has ${good.length - 4} bytes, expected ${good.length} (truncated or corrupt)`,
    );
    await writeFile(file, Buffer.from('hello world, not a checkpoint'));
    await expect(loadCheckpoint(file)).rejects.toThrow("not a dataparallel checkpoint (magic 'SCDPCKPT' missing)");
    const future = Buffer.from(good);
    future.writeUInt32LE(99, 8);
    await writeFile(file, future);
    await expect(loadCheckpoint(file)).rejects.toThrow(
      'checkpoint format 99 is not supported (this version reads 1 to 3)',
    );
  });

  it('refuse parameters that do not fit the layout', async () => {
    await expect(saveCheckpoint(dir, { ...data(1), params: new Float32Array(4) })).rejects.toThrow(
      'saveCheckpoint: params has 4 values, layout expects 9',
    );
  });
});
