/**
 * One step, without sockets: collecting the shards' answers (StepRun), averaging them weighted by
 * sample count in shard order and applying one Adadelta step into a new buffer (averageAndApply),
 * sorting out non-finite shards (triageNonFinite), the step's report (stepResult), and what is sent and
 * said when a shard is assigned (stepMessage, assignEvent).
 */
import { performance } from 'node:perf_hooks';
import { adadeltaStep, type AdadeltaConfig, type AdadeltaState } from '@scriptorium/adadelta';
import { weightedAverage } from '../average.js';
import { firstNonFinite } from '../frames.js';
import type { StepMsg } from '../protocol.js';
import { CoordinatorError } from './errors.js';
import type { CoordinatorEvent } from './options.js';
import { ShardSchedule, type ScheduledWorker } from './schedule.js';

/** What a worker answered for one shard (a GRADS message and its gradient frame). */
export interface ShardAnswer {
  /** Gradient of the mean loss over the shard's `count` samples. */
  grads: Float32Array;
  lossSum: number;
  /** The averaging weight. */
  count: number;
  computeMs: number;
}

/** A worker as a step reports it. */
export interface StepWorker extends ScheduledWorker {
  readonly id: string;
}

/**
 * The step being run: its shard schedule, the wait until every shard is DONE, and the minWorkers
 * watch (fewer live workers than minWorkers for longer than joinTimeoutMs fails the step).
 */
export class StepRun<W extends StepWorker> {
  readonly schedule: ShardSchedule<W, ShardAnswer>;
  /** Since when fewer than minWorkers are live (null: enough). */
  private shortSince: number | null = null;
  private waiting: { resolve: () => void; reject: (err: Error) => void } | null = null;
  private failure: Error | null = null;

  constructor(step: number, items: readonly unknown[], parts: number, next?: readonly unknown[]) {
    this.schedule = new ShardSchedule(step, items, parts, next);
  }

  get step(): number {
    return this.schedule.step;
  }

  /** Resolves when every shard is DONE (at once if they all are); rejects when the step fails. */
  allAnswered(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.failure) reject(this.failure);
      else if (this.schedule.allDone) resolve();
      else this.waiting = { resolve, reject };
    });
  }

  /** Takes `w`'s answer for shard `index` (check `schedule.refuse` first); true when it was the last one. */
  answer(w: W, index: number, answer: ShardAnswer): boolean {
    this.schedule.complete(w, index, answer);
    if (!this.schedule.allDone) return false;
    this.waiting?.resolve();
    this.waiting = null;
    return true;
  }

  /** Ends the wait with an error (the coordinator closed, too few workers). */
  fail(err: Error): void {
    this.failure ??= err;
    this.waiting?.reject(err);
    this.waiting = null;
  }

  /** Called on every tick with the number of live workers. */
  watchLive(live: number, now: number, minWorkers: number, joinTimeoutMs: number): void {
    if (live >= minWorkers) this.shortSince = null;
    else if (this.shortSince === null) this.shortSince = now;
    else if (now - this.shortSince > joinTimeoutMs) {
      this.fail(
        new CoordinatorError(
          `Coordinator.step ${this.step}: only ${live} live worker(s) for ${now - this.shortSince} ms, minWorkers is ${minWorkers}`,
        ),
      );
    }
  }
}

export interface StepUpdate {
  /** The parameters after the step: a new buffer, or the old one itself when skipped. */
  params: Float32Array;
  skipped: boolean;
  /**
   * Skipped because a lossSum or the averaged gradient is not finite: the shards are then checked
   * one by one (the averaged gradient is scanned by Adadelta anyway, so there is no extra pass
   * when all is well).
   */
  nonFinite: boolean;
  gradNorm: number;
  /** Averaging (and copying the parameters), in ms. */
  averageMs: number;
  /** The Adadelta step, in ms. */
  optimizerMs: number;
}

/**
 * The weighted average of `answers` (in the order given), then one Adadelta step on a copy of
 * `params` (frames already sent may still reference the old buffer: sends are zero-copy). A
 * non-finite value leaves `params` and `state` unchanged (`onNonFinite: 'skip'`); so does a batch
 * whose every sample was left out (all counts 0). `gradBuf` receives the average: it is never
 * sent, so one buffer serves every step.
 */
export function averageAndApply(
  answers: readonly ShardAnswer[],
  params: Float32Array,
  state: AdadeltaState,
  optimizer: AdadeltaConfig,
  gradBuf: Float32Array,
): StepUpdate {
  const t1 = performance.now();
  if (answers.every((a) => a.count === 0)) {
    // Every sample of the batch was left out by the application (bad data, say): nothing to average.
    return { params, skipped: true, nonFinite: false, gradNorm: NaN, averageMs: 0, optimizerMs: 0 };
  }
  const grads = weightedAverage(answers, params.length, gradBuf);
  const next = params.slice();
  const t2 = performance.now();
  const finiteLoss = answers.every((a) => Number.isFinite(a.lossSum));
  const update = finiteLoss
    ? adadeltaStep(next, grads, state, { ...optimizer, onNonFinite: 'skip' })
    : { skipped: true, gradNorm: NaN };
  return {
    params: update.skipped ? params : next,
    skipped: update.skipped,
    nonFinite: update.skipped,
    gradNorm: update.gradNorm,
    averageMs: t2 - t1,
    optimizerMs: performance.now() - t2,
  };
}

/** The first non-finite value of an answer, as text (`gradient[3] = NaN`, `lossSum = Infinity`), or null. */
export function nonFiniteValue(answer: ShardAnswer): string | null {
  const i = firstNonFinite(answer.grads);
  if (i >= 0) return `gradient[${i}] = ${answer.grads[i]}`;
  return Number.isFinite(answer.lossSum) ? null : `lossSum = ${answer.lossSum}`;
}

/** A shard whose non-finite answer was confirmed (by a second worker, or with no other worker left). */
export interface NonFiniteShard {
  shard: number;
  worker: string;
  /** As nonFiniteValue writes it. */
  value: string;
}

/**
 * The averaged gradient was non-finite: a faulty worker, or a diverging model? Each shard answered
 * non-finite goes back to the queue for another worker when that is its first time and another
 * live worker has not tried it (`retried`); otherwise it is `confirmed`. Messages name the worker.
 */
export function triageNonFinite<W extends StepWorker>(
  schedule: ShardSchedule<W, ShardAnswer>,
  live: readonly W[],
): { retried: { worker: W; message: string }[]; confirmed: (NonFiniteShard & { message: string })[] } {
  const retried: { worker: W; message: string }[] = [];
  const confirmed: (NonFiniteShard & { message: string })[] = [];
  for (const { shard, worker, answer } of schedule.answers()) {
    const value = nonFiniteValue(answer);
    if (value === null) continue;
    const what = `non-finite ${value} for step ${schedule.step} shard ${shard.index}`;
    if (schedule.retryElsewhere(shard.index, live))
      retried.push({ worker, message: `${what}; retrying the shard on another worker` });
    else confirmed.push({ shard: shard.index, worker: worker.id, value, message: `${what} (confirmed)` });
  }
  return { retried, confirmed };
}

/** The error of a step whose non-finite gradients were confirmed, with onNonFinite 'throw'. */
export function nonFiniteError(step: number, confirmed: readonly NonFiniteShard[]): Error {
  const r = confirmed[0];
  const where = r
    ? `shard ${r.shard} from worker '${r.worker}' has ${r.value}`
    : 'the averaged gradient non-finite (overflow)';
  return new Error(
    `Coordinator.step ${step}: ${where} (${confirmed.length} shard(s) non-finite, confirmed on a second worker where one was free);` +
      ` parameters left unchanged (set optimizer.onNonFinite: 'skip' to skip such steps)`,
  );
}

export interface ShardReport {
  shard: number;
  worker: string;
  rank: number;
  /** Items in the shard (the application's units). */
  items: number;
  /** Sample count the worker reported (the averaging weight). */
  count: number;
  lossSum: number;
  computeMs: number;
  /** 1 for the first assignment, 2+ after reassignment. */
  attempt: number;
}

export interface StepResult {
  /** Completed steps after this one. */
  step: number;
  /** lossSum / count. */
  loss: number;
  lossSum: number;
  count: number;
  /** One per shard, in shard order. */
  shards: ShardReport[];
  /** Distinct workers whose gradients were used. */
  workers: number;
  /** Shard reassignments during this step. */
  reassigned: number;
  /** True when the optimizer skipped the update (non-finite gradient with onNonFinite 'skip'). */
  skipped: boolean;
  gradNorm: number;
  /** Wall time of step(), from call to return. */
  ms: number;
  /** The longest compute time a worker reported. */
  computeMs: number;
  /** Checking and averaging the gradients (and copying the parameters). */
  averageMs: number;
  /** The Adadelta step. */
  optimizerMs: number;
  /** Path of the checkpoint written after this step, if any. */
  checkpoint?: string;
}

/** One shard's answer with who gave it, as the schedule lists them (in shard order). */
export interface AnsweredShard {
  shard: { index: number; items: readonly unknown[]; attempt: number };
  worker: { key: string; id: string; rank: number };
  answer: ShardAnswer;
}

/** The report of step `step` (`ms` is left 0 for the caller, who knows when the step began). */
export function stepResult(
  step: number,
  answered: readonly AnsweredShard[],
  reassigned: number,
  update: StepUpdate,
): StepResult {
  const lossSum = answered.reduce((s, a) => s + a.answer.lossSum, 0);
  const count = answered.reduce((s, a) => s + a.answer.count, 0);
  return {
    step,
    loss: lossSum / count,
    lossSum,
    count,
    shards: answered.map(({ shard, worker, answer }) => ({
      shard: shard.index,
      worker: worker.id,
      rank: worker.rank,
      items: shard.items.length,
      count: answer.count,
      lossSum: answer.lossSum,
      computeMs: answer.computeMs,
      attempt: shard.attempt,
    })),
    workers: new Set(answered.map((a) => a.worker.key)).size,
    reassigned,
    skipped: update.skipped,
    gradNorm: update.gradNorm,
    ms: 0,
    computeMs: Math.max(...answered.map((a) => a.answer.computeMs)),
    averageMs: update.averageMs,
    optimizerMs: update.optimizerMs,
  };
}

/** The STEP for `shard` at parameter version `version`; `withParams`: a parameter frame follows. */
export function stepMessage(
  step: number,
  shard: { index: number; items: unknown[]; next: unknown[] | undefined },
  version: number,
  withParams: boolean,
): StepMsg {
  const msg: StepMsg = { t: 'STEP', step, shard: shard.index, version, params: withParams, items: shard.items };
  if (shard.next) msg.next = shard.next;
  return msg;
}

/** The 'assign' event of `shard` given to worker `w`. */
export function assignEvent(
  step: number,
  shard: { index: number; items: unknown[]; attempt: number },
  w: { id: string; rank: number; pid?: number },
): CoordinatorEvent {
  const { index, items, attempt } = shard;
  return { type: 'assign', step, shard: index, worker: w.id, rank: w.rank, pid: w.pid, items: items.length, attempt };
}
