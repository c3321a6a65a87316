import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { serializeAdadeltaState } from '@scriptorium/adadelta';
import { initBackend, Rng } from '@scriptorium/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { latestCheckpoint, loadCheckpoint } from './checkpoint.js';
import { Coordinator } from './coordinator.js';
import type { CoordinatorOptions } from './coordinator/options.js';
import { FAST, OPTIMIZER, spawnWorkers } from './fixtures/harness.js';
import { createTinyModel, initialParams } from './fixtures/tiny-model.js';

const BATCH = 12;
let layout: ReturnType<typeof createTinyModel>['layout'];
let params0: Float32Array;
let tmp: string;

beforeAll(async () => {
  await initBackend({ backend: 'cpu', log: null });
  const model = createTinyModel();
  layout = model.layout;
  params0 = initialParams(model);
  model.dispose();
  tmp = await mkdtemp(path.join(os.tmpdir(), 'dp-resume-'));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

/**
 * The application's side of a run, as the trainer would drive it: it owns the data cursor and
 * an RNG that draws each global batch, and stores both in the checkpoints.
 */
async function train(coord: Coordinator, app: { rng: Rng; cursor: number }, untilStep: number): Promise<void> {
  const workers = spawnWorkers(2, coord.endpoint);
  try {
    await coord.waitForWorkers(2);
    while (coord.completedSteps < untilStep) {
      const batch = Array.from({ length: BATCH }, () => app.rng.int(1000));
      app.cursor += BATCH;
      const r = await coord.step(batch);
      expect(r.count).toBe(BATCH);
    }
  } finally {
    await coord.close();
    await workers.stop();
  }
}

function options(dir: string, app: { rng: Rng; cursor: number }): CoordinatorOptions {
  return {
    layout,
    params: params0,
    optimizer: OPTIMIZER,
    ...FAST,
    checkpoint: {
      dir,
      every: 3,
      keep: 0,
      appState: () => ({ cursor: app.cursor, rng: app.rng.getState(), note: 'app metadata' }),
    },
  };
}

describe('checkpoint and resume', () => {
  it('a run stopped after a checkpoint and resumed ends bit for bit where the uninterrupted run does', async () => {
    // Uninterrupted: 6 steps.
    const dirA = path.join(tmp, 'a');
    const appA = { rng: new Rng(42), cursor: 0 };
    const a = await Coordinator.start(options(dirA, appA));
    await train(a, appA, 6);
    expect(await readdir(dirA)).toEqual(['step-000000003.dpck', 'step-000000006.dpck']);

    // Interrupted: 3 steps (checkpoint written), coordinator and workers gone...
    const dirB = path.join(tmp, 'b');
    const appB1 = { rng: new Rng(42), cursor: 0 };
    await train(await Coordinator.start(options(dirB, appB1)), appB1, 3);

    // ...then a fresh coordinator from the checkpoint, with new worker processes.
    const ck = await loadCheckpoint((await latestCheckpoint(dirB))!, layout);
    expect(ck.step).toBe(3);
    const saved = ck.appState as { cursor: number; rng: number; note: string };
    expect(saved).toEqual({ cursor: 36, rng: appB1.rng.getState(), note: 'app metadata' });
    const appB2 = { rng: new Rng(0), cursor: saved.cursor };
    appB2.rng.setState(saved.rng);
    const b = await Coordinator.start({
      ...options(dirB, appB2),
      params: ck.params,
      optimizerState: ck.optimizerState,
      step: ck.step,
    });
    await train(b, appB2, 6);

    expect(b.completedSteps).toBe(6);
    expect(Buffer.from(b.params.buffer).equals(Buffer.from(a.params.buffer))).toBe(true);
    expect(
      Buffer.from(serializeAdadeltaState(b.optimizerState)).equals(
        Buffer.from(serializeAdadeltaState(a.optimizerState)),
      ),
    ).toBe(true);
    expect(appB2.cursor).toBe(appA.cursor);
    // And the step-6 checkpoints of both runs hold the same parameters.
    const a6 = await loadCheckpoint(path.join(dirA, 'step-000000006.dpck'), layout);
    const b6 = await loadCheckpoint(path.join(dirB, 'step-000000006.dpck'), layout);
    expect(Buffer.from(b6.params.buffer).equals(Buffer.from(a6.params.buffer))).toBe(true);
  });
});
