import { beforeAll, describe, expect, it } from 'vitest';
import type { Coordinator } from './coordinator.js';
import type { CoordinatorEvent } from './coordinator/options.js';
import type { StepResult } from './coordinator/step.js';
import { maxAbsDiff, referenceRun } from './fixtures/harness.js';
import { coordinatorFixture } from './fixtures/coordinator-fixture.js';
import { batchIndices } from './fixtures/tiny-model.js';

const BATCH = 12;
const STEPS = 4;

const fx = coordinatorFixture();
const { start, spawn } = fx;
let reference: ReturnType<typeof referenceRun>;

beforeAll(() => {
  reference = referenceRun(STEPS, BATCH);
});

async function runSteps(coord: Coordinator, from: number, to: number): Promise<StepResult[]> {
  const results: StepResult[] = [];
  for (let s = from; s <= to; s++) results.push(await coord.step(batchIndices(s, BATCH)));
  return results;
}

describe('Coordinator with worker processes', () => {
  it.each([1, 2, 3])('%i worker(s) end with the parameters of the single-process loop', async (k) => {
    const coord = await start();
    expect(coord.endpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    const workers = spawn(k, coord.endpoint);
    await coord.waitForWorkers(k);
    const results = await runSteps(coord, 1, STEPS);
    for (const [i, r] of results.entries()) {
      expect(r.step).toBe(i + 1);
      expect(r.count).toBe(BATCH);
      expect(r.shards.map((s) => s.items)).toEqual(Array(k).fill(BATCH / k));
      expect(r.workers).toBe(k);
      // Loss of the step = the reference loss at the same parameters.
      expect(r.loss).toBeCloseTo(reference.losses[i]!, 5);
    }
    // Float tolerance: k shard means averaged in float64 vs one mean over the batch in float32.
    expect(maxAbsDiff(coord.params, reference.params)).toBeLessThan(1e-5);
    expect(maxAbsDiff(coord.params, fx.params0)).toBeGreaterThan(1e-3); // training moved them
    await coord.close();
    const codes = await workers.exited;
    expect(codes, workers.output()).toEqual(Array(k).fill(0));
    // Every worker stopped on BYE holding only the model's 4 variables (no leaked tensors).
    expect(workers.output().match(/"exit":"coordinator closing","shards":\d+,"tensors":4}/g)).toHaveLength(k);
  });

  it('a worker killed with SIGKILL mid-step: its shard is reassigned, every step uses the whole batch', async () => {
    const events: CoordinatorEvent[] = [];
    let victim: number | undefined;
    const coord = await start({
      onEvent: (e) => {
        events.push(e);
        // Step 2, shard 1: kill its worker 100 ms into its 300 ms compute.
        if (e.type === 'assign' && e.step === 2 && e.shard === 1 && e.attempt === 1) {
          victim = e.pid;
          setTimeout(() => process.kill(e.pid!, 'SIGKILL'), 100);
        }
      },
    });
    const workers = spawn(3, coord.endpoint, ['--delay-ms', '300']);
    await coord.waitForWorkers(3);
    const results = await runSteps(coord, 1, STEPS);
    expect(victim).toBeDefined();
    // No sample lost or counted twice: every step's counts add up to the global batch.
    for (const r of results) {
      expect(r.count).toBe(BATCH);
      expect(r.shards.reduce((n, s) => n + s.items, 0)).toBe(BATCH);
    }
    const step2 = results[1]!;
    expect(step2.shards.map((s) => s.items)).toEqual([4, 4, 4]);
    expect(step2.shards[1]!.attempt).toBe(2);
    expect(step2.reassigned).toBe(1);
    expect(step2.workers).toBe(2);
    expect(events.filter((e) => e.type === 'leave')).toHaveLength(1);
    // Later steps are split over the 2 survivors.
    expect(results[2]!.shards.map((s) => s.items)).toEqual([6, 6]);
    expect(maxAbsDiff(coord.params, reference.params)).toBeLessThan(1e-5);
    await coord.close();
    const codes = await workers.exited;
    expect(codes.filter((c) => c === 0)).toHaveLength(2);
    expect(codes.filter((c) => c === null)).toHaveLength(1); // killed by a signal
  });

  it('a worker joining mid-run gets the current parameters and a shard of the next steps', async () => {
    const coord = await start();
    spawn(1, coord.endpoint);
    await coord.waitForWorkers(1);
    const first = await runSteps(coord, 1, 2);
    spawn(1, coord.endpoint);
    await coord.waitForWorkers(2);
    const later = await runSteps(coord, 3, STEPS);
    expect(first.map((r) => r.shards.length)).toEqual([1, 1]);
    expect(later.map((r) => r.shards.length)).toEqual([2, 2]);
    expect(later.map((r) => r.workers)).toEqual([2, 2]);
    // The newcomer computed at the current parameters: the result still matches the reference.
    expect(maxAbsDiff(coord.params, reference.params)).toBeLessThan(1e-5);
  });
});
