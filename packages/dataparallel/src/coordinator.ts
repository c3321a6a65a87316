/**
 * The coordinator: owns the master parameters and the Adadelta state, splits each global batch
 * across the live workers, reassigns the shards of dead or late workers, averages the gradients
 * weighted by sample count and applies the optimizer step. See docs/protocol.md.
 *
 * This file wires the socket to the parts, each with one job (in coordinator/): options.ts (options,
 * defaults, checks), bind.ts (the ROUTER, CURVE), wire.ts (frames in and out, closing), bounds.ts
 * (what an inbound message may be), membership.ts (ranks, HELLO, WELCOME, liveness), schedule.ts
 * (which worker computes which shard), step.ts (collect the answers, average, apply, report).
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type * as zmq from 'zeromq';
import { ADADELTA_DEFAULTS, createAdadeltaState, type AdadeltaState } from '@scriptorium/adadelta';
import { saveCheckpoint } from './checkpoint.js';
import type { ZapHandler } from './curve.js';
import { frameFloats } from './frames.js';
import type { ParamLayout } from './layout.js';
import { defaultLogger, type Logger } from './logger.js';
import type { GradsMsg, HelloMsg, Message } from './protocol.js';
import { bindRouter } from './coordinator/bind.js';
import { Wire } from './coordinator/wire.js';
import { inboundMessage } from './coordinator/bounds.js';
import {
  evictions,
  Membership,
  StallClock,
  welcomeMessage,
  workerInfo,
  type WorkerInfo,
  type WorkerRecord,
} from './coordinator/membership.js';
import {
  checkStepArguments,
  resolveCoordinatorOptions,
  type CoordinatorEvent,
  type CoordinatorOptions,
  type ResolvedCoordinatorOptions,
  type StepOptions,
} from './coordinator/options.js';
import {
  assignEvent,
  averageAndApply,
  nonFiniteError,
  stepMessage,
  stepResult,
  StepRun,
  triageNonFinite,
  type StepResult,
  type StepUpdate,
} from './coordinator/step.js';

export class Coordinator {
  /** The bound endpoint, with the real port (e.g. 'tcp://127.0.0.1:41234'). */
  readonly endpoint: string;
  readonly runId = randomUUID();
  readonly layout: ParamLayout;
  /** Messages dropped as malformed or unexpected. */
  dropped = 0;

  private paramsBuf: Float32Array;
  private readonly gradBuf: Float32Array;
  private lrOverride: { learningRate: number } | Record<string, never> = {};
  private optState: AdadeltaState;
  private completed: number;
  private readonly members = new Membership();
  private current: StepRun<WorkerRecord> | null = null;
  private closed = false;
  private readonly wire: Wire;
  private readonly loop: Promise<void>;
  private readonly ticker: NodeJS.Timeout;
  private readonly clock: StallClock;
  private readonly log: Logger;

  private constructor(
    private readonly router: zmq.Router,
    private readonly zap: ZapHandler | null,
    private readonly options: CoordinatorOptions,
    private readonly resolved: ResolvedCoordinatorOptions,
  ) {
    this.layout = options.layout;
    this.endpoint = router.lastEndpoint ?? options.endpoint ?? '';
    this.paramsBuf = Float32Array.from(options.params);
    this.gradBuf = new Float32Array(options.layout.size);
    this.optState = options.optimizerState ?? createAdadeltaState(options.layout.size);
    this.completed = options.step ?? 0;
    this.log = options.log ?? defaultLogger;
    this.wire = new Wire(this.router, this.log, () => this.probe());
    this.loop = this.wire.receive(
      (frames) => this.onMessage(frames),
      () => this.closed,
    );
    this.clock = new StallClock(Math.max(10, Math.min(500, resolved.heartbeatMs / 2)));
    this.ticker = setInterval(() => this.tick(), this.clock.periodMs);
    this.ticker.unref();
  }

  /** Validates the options, binds the socket (and the ZAP handler with CURVE) and starts serving. */
  static async start(options: CoordinatorOptions): Promise<Coordinator> {
    const resolved = resolveCoordinatorOptions(options);
    const { router, zap } = await bindRouter(resolved, options.curve, options.log ?? defaultLogger);
    return new Coordinator(router, zap, options, resolved);
  }

  /** The current parameters (replaced, not mutated, by each step: do not modify). */
  get params(): Float32Array {
    return this.paramsBuf;
  }
  get optimizerState(): AdadeltaState {
    return this.optState;
  }
  /** Completed steps (optimizer steps applied, counting those before a resume). */
  get completedSteps(): number {
    return this.completed;
  }
  get liveWorkers(): number {
    return this.members.size;
  }
  get workerList(): WorkerInfo[] {
    return this.members.list().map((w) => workerInfo(w, this.current?.schedule.heldBy(w) !== undefined));
  }

  /** Resolves once at least `n` workers are live; rejects after `timeoutMs` (default options.joinTimeoutMs). */
  waitForWorkers(n: number, timeoutMs = this.resolved.joinTimeoutMs): Promise<void> {
    return this.members.waitFor(n, timeoutMs, this.endpoint);
  }

  /**
   * Sets the learning rate of the following steps (a schedule), in place of options.optimizer.learningRate.
   * Not part of checkpoints: a resumed run sets it again from its schedule.
   */
  setLearningRate(lr: number): void {
    if (!(Number.isFinite(lr) && lr >= 0))
      throw new Error(`Coordinator.setLearningRate: ${lr}, expected a finite number >= 0`);
    this.lrOverride = { learningRate: lr };
  }

  /**
   * One synchronous data-parallel step over the global batch `items` (sample indices or any
   * msgpack-serialisable shard items): split into contiguous shards over the live workers,
   * gradients averaged weighted by sample count, then one Adadelta step. Its phases are those of
   * docs/protocol.md: WAIT_WORKERS -> RUNNING (all shards DONE) -> AVERAGE -> ADADELTA -> CHECKPOINT?
   */
  async step(items: readonly unknown[], options: StepOptions = {}): Promise<StepResult> {
    if (this.closed) throw new Error('Coordinator.step: the coordinator is closed');
    if (this.current) throw new Error('Coordinator.step: a step is already running');
    checkStepArguments(items, options);
    const t0 = performance.now();
    await this.waitForWorkers(this.resolved.minWorkers);
    const run = new StepRun<WorkerRecord>(this.completed + 1, items, this.members.size, options.next);
    this.current = run;
    const update = await this.runShards(run).finally(() => {
      this.current = null;
    });
    this.paramsBuf = update.params;
    this.completed = run.step;
    const result = stepResult(run.step, run.schedule.answers(), run.schedule.reassigned, update);
    const ck = this.options.checkpoint;
    if (ck?.every !== undefined && run.step % ck.every === 0)
      result.checkpoint = await this.saveCheckpoint(ck.appState?.());
    result.ms = performance.now() - t0;
    return result;
  }

  /** Writes a checkpoint of the current state (plus the application's `extras` arrays) into `options.checkpoint.dir` now. */
  async saveCheckpoint(appState?: unknown, extras?: Record<string, Float32Array>): Promise<string> {
    const ck = this.options.checkpoint;
    if (!ck) throw new Error('Coordinator.saveCheckpoint: options.checkpoint.dir is not set');
    const path = await saveCheckpoint(
      ck.dir,
      {
        step: this.completed,
        layout: this.layout,
        params: this.paramsBuf,
        optimizerState: this.optState,
        appState,
        runId: this.runId,
        ...(extras ? { extras } : {}),
      },
      { keep: ck.keep },
    );
    this.emit({ type: 'checkpoint', step: this.completed, path });
    return path;
  }

  /** Says BYE to every worker and closes the sockets. A running step() rejects. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.ticker);
    this.current?.fail(new Error('Coordinator: closed during the step'));
    for (const w of this.members.close()) this.wire.bye(w.routingId, 'coordinator closing', `worker '${w.id}'`);
    await this.wire.close();
    await this.loop;
    await this.zap?.close();
  }

  // ---- the step: RUNNING -> AVERAGE -> ADADELTA ----

  /**
   * Waits until every shard is DONE, then averages and applies. A non-finite result sends the
   * shards answered non-finite back to RUNNING on other workers (once each); confirmed, it is the
   * optimizer's onNonFinite policy that decides: throw, or skip the step.
   */
  private async runShards(run: StepRun<WorkerRecord>): Promise<StepUpdate> {
    const answered = run.allAnswered();
    this.pump();
    await answered;
    const answers = run.schedule.answers().map((a) => a.answer);
    const optimizer = { ...this.options.optimizer, ...this.lrOverride };
    const update = averageAndApply(answers, this.paramsBuf, this.optState, optimizer, this.gradBuf);
    if (!update.nonFinite) return update;
    const { retried, confirmed } = triageNonFinite(run.schedule, this.members.list());
    for (const r of retried) this.drop(`worker '${r.worker.id}' (rank ${r.worker.rank})`, r.message);
    for (const c of confirmed) this.log('warn', `worker '${c.worker}': ${c.message}`);
    if (retried.length > 0) return this.runShards(run);
    if ((this.options.optimizer?.onNonFinite ?? ADADELTA_DEFAULTS.onNonFinite) === 'throw')
      throw nonFiniteError(run.step, confirmed);
    return update;
  }

  /** Gives the QUEUED shards of the running step to free workers and sends them. */
  private pump(): void {
    const run = this.current;
    if (!run || this.closed) return;
    const { step } = run;
    for (const { shard, worker: w } of run.schedule.assign(this.members.list(), Date.now())) {
      this.emit(assignEvent(step, shard, w));
      this.sendStep(w, step, shard);
    }
  }

  /** STEP for `shard`, with the parameters when `w` does not hold the current version. */
  private sendStep(
    w: WorkerRecord,
    step: number,
    shard: { index: number; items: unknown[]; next: unknown[] | undefined },
  ): void {
    const withParams = w.version !== this.completed;
    w.version = this.completed;
    void this.sendTo(w, stepMessage(step, shard, this.completed, withParams), withParams ? this.paramsBuf : undefined);
  }

  // ---- messages ----

  private onMessage(frames: Buffer[]): void {
    const rid = frames[0];
    if (!rid) return;
    const key = rid.toString('hex');
    const w = this.members.get(key);
    const peer = w ? `worker '${w.id}' (rank ${w.rank})` : `unknown peer ${key.slice(0, 16)}`;
    const inbound = inboundMessage(frames.slice(1), w !== undefined, this.layout.size * 4);
    if ('refused' in inbound) return this.drop(peer, inbound.refused);
    const { msg, data } = inbound;
    if (msg.t === 'HELLO') return this.onHello(rid, key, msg, peer);
    if (!w) return this.drop(peer, `${msg.t} before HELLO`);
    w.lastSeen = Date.now();
    switch (msg.t) {
      case 'GRADS':
        return this.onGrads(w, msg, data!, peer);
      case 'HEARTBEAT':
        void this.sendTo(w, { t: 'HEARTBEAT' });
        return;
      case 'BYE':
        return this.removeWorker(w, `left (${msg.reason})`, false);
      default:
        return this.drop(peer, `unexpected ${msg.t} from a worker`);
    }
  }

  private onHello(rid: Buffer, key: string, msg: HelloMsg, peer: string): void {
    if (this.closed) return;
    const outcome = this.members.hello(key, msg);
    if (outcome.kind === 'refuse') {
      this.drop(peer, outcome.drop);
      this.wire.bye(rid, outcome.reason, peer);
    } else if (outcome.kind === 'again') {
      const w = outcome.worker;
      w.lastSeen = Date.now();
      w.version = this.completed;
      void this.sendTo(w, this.welcomeFor(w), this.paramsBuf);
      // A rejoining worker drops a STEP that reached it while it was CONNECTING (after a stall of
      // this process, say): send its shard again. If it was still computing it, the second answer
      // is dropped as not assigned.
      const run = this.current;
      const shard = run?.schedule.heldBy(w);
      if (run && shard) this.sendStep(w, run.step, shard);
    } else {
      if (outcome.replaces) this.removeWorker(outcome.replaces, 'rejoined (sent HELLO again)', false);
      const w = this.members.add(key, rid, msg, this.completed, Date.now(), outcome.replaces?.rank);
      void this.sendTo(w, this.welcomeFor(w), this.paramsBuf);
      this.log(
        'info',
        `worker '${w.id}' joined as rank ${w.rank}${w.host ? ` (${w.host} pid ${w.pid})` : ''}; ${this.members.size} live`,
      );
      this.emit({ type: 'join', worker: w.id, rank: w.rank, pid: w.pid, host: w.host });
      this.pump();
    }
  }

  private welcomeFor(w: WorkerRecord): Message {
    const { heartbeatMs, config } = this.resolved;
    return welcomeMessage(w, { run: this.runId, version: this.completed, layout: this.layout, heartbeatMs, config });
  }

  private onGrads(w: WorkerRecord, msg: GradsMsg, frame: Buffer, peer: string): void {
    const run = this.current;
    if (!run || msg.step !== run.step) {
      return this.drop(
        peer,
        `GRADS for step ${msg.step}, current step is ${run ? run.step : `none (${this.completed} done)`}`,
      );
    }
    const refused = run.schedule.refuse(w, msg.shard);
    if (refused) return this.drop(peer, refused);
    const grads = frameFloats(frame, this.layout.size);
    if (!grads)
      return this.drop(
        peer,
        `gradient frame of ${frame.byteLength} bytes, expected ${this.layout.size * 4} (${this.layout.size} float32)`,
      );
    const last = run.answer(w, msg.shard, { grads, lossSum: msg.lossSum, count: msg.count, computeMs: msg.computeMs });
    if (!last) this.pump();
  }

  private drop(peer: string, reason: string): void {
    this.dropped++;
    this.log('warn', `dropped message from ${peer}: ${reason}`);
    this.emit({ type: 'drop', peer, reason });
  }

  private emit(event: CoordinatorEvent): void {
    try {
      this.options.onEvent?.(event);
    } catch (err) {
      this.log('error', `onEvent handler threw: ${(err as Error).message}`);
    }
  }

  private sendTo(w: WorkerRecord, msg: Message, tensor?: Float32Array): Promise<void> {
    return this.wire.send(w.routingId, msg, tensor).catch((err: Error & { code?: string }) => {
      this.log('debug', `send ${msg.t} to '${w.id}' failed: ${err.code} ${err.message}`);
      if (err.code === 'EHOSTUNREACH') this.removeWorker(w, 'unreachable (connection closed)', false);
      else if (!this.closed) this.log('warn', `send ${msg.t} to worker '${w.id}' failed: ${err.message}`);
    });
  }

  // ---- liveness ----

  /** Removes `w` (if still a member); its shard goes back to the queue and to the next free worker. */
  private removeWorker(w: WorkerRecord, reason: string, sayBye: boolean): void {
    if (!this.members.remove(w)) return;
    const shard = this.current?.schedule.release(w);
    if (sayBye) this.wire.bye(w.routingId, reason, `worker '${w.id}'`);
    this.log(
      'info',
      `worker '${w.id}' (rank ${w.rank}) removed: ${reason}${shard ? `; shard ${shard.index} requeued` : ''}; ${this.members.size} live`,
    );
    this.emit({ type: 'leave', worker: w.id, rank: w.rank, reason });
    this.pump();
  }

  /**
   * After a disconnect: find out which workers are gone. With `mandatory`, a send to a peer
   * whose pipe is closed fails at once with EHOSTUNREACH; libzmq tears the pipe down
   * asynchronously, so probe a few times over the next second.
   */
  private probe(): void {
    this.log('debug', `a connection closed: probing ${this.members.size} worker(s)`);
    for (const delay of [20, 200, 1000]) {
      setTimeout(() => {
        if (!this.closed) for (const w of this.members.list()) void this.sendTo(w, { t: 'HEARTBEAT' });
      }, delay).unref();
    }
  }

  /**
   * Evicts late and silent workers (silence counted from the end of a stall of this process: see
   * StallClock); fails the step when fewer than minWorkers stay live for joinTimeoutMs.
   */
  private tick(): void {
    const now = Date.now();
    const stalled = this.clock.tick(now);
    if (stalled > 0) this.log('debug', `event loop stalled for ${stalled} ms: silence counts from now on`);
    const run = this.current;
    const held = (w: WorkerRecord) => {
      const shard = run?.schedule.heldBy(w);
      return shard && { index: shard.index, since: shard.status.since };
    };
    for (const { worker, reason } of evictions(
      this.members.list(),
      now,
      this.resolved,
      held,
      this.clock.listeningSince,
    ))
      this.removeWorker(worker, reason, true);
    run?.watchLive(this.members.size, now, this.resolved.minWorkers, this.resolved.joinTimeoutMs);
  }
}
