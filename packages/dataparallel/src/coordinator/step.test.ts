import { adadeltaStep, createAdadeltaState } from '@scriptorium/adadelta';
import { describe, expect, it } from 'vitest';
import {
  assignEvent,
  averageAndApply,
  nonFiniteError,
  nonFiniteValue,
  triageNonFinite,
  type ShardAnswer,
  stepMessage,
  stepResult,
  StepRun,
} from './step.js';

const answer = (grads: number[], count: number, lossSum = count, computeMs = 1): ShardAnswer => ({
  grads: Float32Array.from(grads),
  lossSum,
  count,
  computeMs,
});

describe('averageAndApply', () => {
  it('averages weighted by count, then takes one Adadelta step into a new buffer', () => {
    const params = Float32Array.of(0, 0);
    const state = createAdadeltaState(2);
    const gradBuf = new Float32Array(2);
    // (1 * [1, -2] + 3 * [3, 2]) / 4 = [10/4, 4/4] = [2.5, 1]
    const u = averageAndApply([answer([1, -2], 1), answer([3, 2], 3)], params, state, { learningRate: 1 }, gradBuf);
    expect(Array.from(gradBuf)).toEqual([2.5, 1]);
    expect([u.skipped, u.nonFinite]).toEqual([false, false]);
    expect(u.params).not.toBe(params); // frames in flight may still reference the old buffer
    expect(Array.from(params)).toEqual([0, 0]);
    // From zero state, x -= sqrt(eps) / sqrt(0.05 g^2 + eps) * g:
    // g = 2.5: 1e-3 * 2.5 / sqrt(0.312501) = 4.472128e-3;  g = 1: 1e-3 / sqrt(0.050001) = 4.472091e-3
    expect(u.params[0]).toBeCloseTo(-4.472128e-3, 8);
    expect(u.params[1]).toBeCloseTo(-4.472091e-3, 8);
    // The same as Adadelta on the hand-averaged gradient, bit for bit.
    const ref = Float32Array.of(0, 0);
    const r = adadeltaStep(ref, Float32Array.of(2.5, 1), createAdadeltaState(2), { learningRate: 1 });
    expect(Array.from(u.params)).toEqual(Array.from(ref));
    expect(u.gradNorm).toBe(r.gradNorm); // sqrt(2.5^2 + 1^2) = 2.6926
    expect(state.iterations).toBe(1);
  });

  it('skips a step whose every sample was left out (all counts 0): same buffer, state untouched', () => {
    const params = Float32Array.of(1, 2);
    const state = createAdadeltaState(2);
    const u = averageAndApply([answer([0, 0], 0), answer([0, 0], 0)], params, state, {}, new Float32Array(2));
    expect(u.params).toBe(params);
    expect([u.skipped, u.nonFinite]).toEqual([true, false]);
    expect(state.iterations).toBe(0);
  });

  it('a non-finite lossSum or gradient skips the step (nonFinite: true), leaving params and state untouched', () => {
    const params = Float32Array.of(1, 2);
    const state = createAdadeltaState(2);
    const byLoss = averageAndApply([answer([1, 1], 2, NaN), answer([1, 1], 2)], params, state, {}, new Float32Array(2));
    expect([byLoss.skipped, byLoss.nonFinite]).toEqual([true, true]);
    expect(byLoss.params).toBe(params);
    const byGrad = averageAndApply(
      [answer([1, Infinity], 2), answer([1, 1], 2)],
      params,
      state,
      { onNonFinite: 'throw' },
      new Float32Array(2),
    );
    expect([byGrad.skipped, byGrad.nonFinite]).toEqual([true, true]); // 'skip' whatever the configured policy
    expect(byGrad.params).toBe(params);
    expect(Array.from(state.accumGrad)).toEqual([0, 0]);
    expect(state.iterations).toBe(0);
  });
});

describe('non-finite shards', () => {
  it('nonFiniteValue names the first bad gradient, else a bad lossSum', () => {
    expect(nonFiniteValue(answer([1, NaN, Infinity], 1))).toBe('gradient[1] = NaN');
    expect(nonFiniteValue(answer([1, 2], 1, -Infinity))).toBe('lossSum = -Infinity');
    expect(nonFiniteValue(answer([1, 2], 1))).toBeNull();
  });

  it('nonFiniteError names the step, the first confirmed shard and its worker', () => {
    expect(nonFiniteError(4, [{ shard: 1, worker: 'w-a', value: 'gradient[0] = NaN' }]).message).toBe(
      "Coordinator.step 4: shard 1 from worker 'w-a' has gradient[0] = NaN (1 shard(s) non-finite, confirmed on a second worker where one was free);" +
        " parameters left unchanged (set optimizer.onNonFinite: 'skip' to skip such steps)",
    );
    // Every shard finite, yet the average overflowed.
    expect(nonFiniteError(2, []).message).toMatch(
      /^Coordinator.step 2: the averaged gradient non-finite \(overflow\) \(0 shard\(s\)/,
    );
  });
});

describe('StepRun', () => {
  const a = { key: 'a', id: 'worker-a', rank: 0 };
  const b = { key: 'b', id: 'worker-b', rank: 1 };

  it('allAnswered resolves when the last shard is answered', async () => {
    const run = new StepRun(1, [1, 2, 3, 4], 2);
    run.schedule.assign([a, b], 0);
    let done = false;
    const answered = run.allAnswered().then(() => (done = true));
    expect(run.answer(b, 1, answer([1], 2))).toBe(false);
    await Promise.resolve();
    expect(done).toBe(false);
    expect(run.answer(a, 0, answer([1], 2))).toBe(true);
    await answered;
    expect(done).toBe(true);
    await expect(run.allAnswered()).resolves.toBeUndefined(); // at once when all are DONE
  });

  it('fails when fewer than minWorkers stay live for longer than joinTimeoutMs', async () => {
    const run = new StepRun(3, [1, 2], 2);
    const answered = run.allAnswered();
    run.watchLive(1, 0, 2, 100); // short since 0
    run.watchLive(2, 50, 2, 100); // enough again: the clock restarts
    run.watchLive(1, 60, 2, 100);
    run.watchLive(1, 160, 2, 100); // 100 ms short: not yet (strictly longer)
    run.watchLive(1, 161, 2, 100);
    await expect(answered).rejects.toThrow('Coordinator.step 3: only 1 live worker(s) for 101 ms, minWorkers is 2');
    await expect(run.allAnswered()).rejects.toThrow('only 1 live worker(s)'); // a failed step stays failed
  });

  it('triageNonFinite retries a non-finite shard elsewhere the first time, and confirms it the second', () => {
    const run = new StepRun(2, [1, 2, 3, 4], 2);
    run.schedule.assign([a, b], 0);
    run.answer(a, 0, answer([NaN, 0], 2));
    run.answer(b, 1, answer([1, 1], 2));
    const first = triageNonFinite(run.schedule, [a, b]);
    expect(first.retried.map((r) => [r.worker.id, r.message])).toEqual([
      ['worker-a', 'non-finite gradient[0] = NaN for step 2 shard 0; retrying the shard on another worker'],
    ]);
    expect(first.confirmed).toEqual([]);
    run.schedule.assign([a, b], 1); // shard 0 goes to b
    run.answer(b, 0, answer([NaN, 0], 2));
    const second = triageNonFinite(run.schedule, [a, b]);
    expect(second.retried).toEqual([]);
    expect(second.confirmed).toEqual([
      {
        shard: 0,
        worker: 'worker-b',
        value: 'gradient[0] = NaN',
        message: 'non-finite gradient[0] = NaN for step 2 shard 0 (confirmed)',
      },
    ]);
  });
});

describe('stepResult', () => {
  it('reports the loss over all samples, one line per shard in shard order, distinct workers', () => {
    const a = { key: 'a', id: 'worker-a', rank: 0 };
    const b = { key: 'b', id: 'worker-b', rank: 1 };
    const update = {
      params: new Float32Array(1),
      skipped: false,
      nonFinite: false,
      gradNorm: 3,
      averageMs: 0.5,
      optimizerMs: 0.25,
    };
    const r = stepResult(
      7,
      [
        { shard: { index: 0, items: [1, 2], attempt: 1 }, worker: a, answer: answer([0], 2, 3, 40) },
        { shard: { index: 1, items: [3, 4], attempt: 2 }, worker: a, answer: answer([0], 1, 3, 10) }, // reassigned to a
        { shard: { index: 2, items: [5], attempt: 1 }, worker: b, answer: answer([0], 1, 2, 25) },
      ],
      1,
      update,
    );
    // loss = (3 + 3 + 2) / (2 + 1 + 1) = 2
    expect([r.step, r.loss, r.lossSum, r.count, r.workers, r.reassigned, r.computeMs]).toEqual([7, 2, 8, 4, 2, 1, 40]);
    expect(r.shards.map((s) => [s.shard, s.worker, s.rank, s.items, s.attempt])).toEqual([
      [0, 'worker-a', 0, 2, 1],
      [1, 'worker-a', 0, 2, 2],
      [2, 'worker-b', 1, 1, 1],
    ]);
    expect([r.skipped, r.gradNorm, r.averageMs, r.optimizerMs, r.ms]).toEqual([false, 3, 0.5, 0.25, 0]);
  });
});

describe('stepMessage and assignEvent', () => {
  it('a STEP names the shard, its items and version, says whether parameters follow, and carries the hint only when given', () => {
    const shard = { index: 1, items: [4, 5], next: undefined, attempt: 2 };
    expect(stepMessage(3, shard, 2, true)).toEqual({
      t: 'STEP',
      step: 3,
      shard: 1,
      version: 2,
      params: true,
      items: [4, 5],
    });
    expect(stepMessage(3, { ...shard, next: [6] }, 2, false)).toMatchObject({ params: false, next: [6] });
    expect(assignEvent(3, shard, { id: 'w', rank: 0, pid: 9 })).toEqual({
      type: 'assign',
      step: 3,
      shard: 1,
      worker: 'w',
      rank: 0,
      pid: 9,
      items: 2,
      attempt: 2,
    });
  });
});
