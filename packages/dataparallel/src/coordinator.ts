/**
 * The coordinator: owns the master parameters and the Adadelta state, splits each global
 * batch across the live workers, reassigns the shards of dead or late workers, averages the
 * gradients weighted by sample count and applies the optimizer step. See docs/protocol.md.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import * as zmq from 'zeromq';
import { adadeltaStep, createAdadeltaState, type AdadeltaConfig, type AdadeltaState } from '@scriptorium/adadelta';
import { weightedAverage } from './average.js';
import { saveCheckpoint } from './checkpoint.js';
import { checkCurveKey, isLoopbackEndpoint, ZapHandler } from './curve.js';
import { firstNonFinite, floatFrame, frameFloats } from './frames.js';
import type { ParamLayout } from './layout.js';
import { defaultLogger, type Logger } from './logger.js';
import { decodeHeader, encodeHeader, MAX_HEADER_BYTES, PROTOCOL_VERSION, welcomeConfig, type GradsMsg, type HelloMsg, type Message, type WelcomeMsg } from './protocol.js';
import { SendQueue } from './send-queue.js';
import { splitBatch } from './split.js';

export interface CoordinatorCurveOptions {
  /** The coordinator's key pair (Z85); workers need the public key. */
  publicKey: string;
  secretKey: string;
  /** Public keys (Z85) of the workers allowed to join; every other key is refused by ZAP. */
  allowedClients: string[];
}

export interface CoordinatorCheckpointOptions {
  /** Directory for `step-NNNNNNNNN.dpck` files (created if missing). */
  dir: string;
  /** Write a checkpoint after every `every` completed steps. */
  every: number;
  /** Newest checkpoints to keep. Default 3 (0 keeps all). */
  keep?: number;
  /** The application's state to store (data cursor, RNG state...), JSON-serialisable. */
  appState?: () => unknown;
}

export interface CoordinatorOptions {
  /** ZeroMQ endpoint to bind. Default 'tcp://127.0.0.1:0' (loopback, any free port; see `endpoint`). */
  endpoint?: string;
  layout: ParamLayout;
  /** Initial parameters (copied), `layout.size` values. */
  params: Float32Array;
  /**
   * The application's config, sent to every worker in WELCOME (msgpack: plain data, at most 512 KiB packed): what
   * a worker needs to build its replica (model, data), so that remote workers need nothing but the endpoint.
   */
  config?: unknown;
  /** Adadelta hyperparameters (defaults: those of @scriptorium/adadelta). */
  optimizer?: AdadeltaConfig;
  /** Optimizer state to continue from. Default: fresh (zeros). */
  optimizerState?: AdadeltaState;
  /** Completed steps so far (when resuming). Default 0. */
  step?: number;
  /** step() waits until this many workers are live, and fails if fewer stay live for `joinTimeoutMs`. Default 1. */
  minWorkers?: number;
  /** How long step() waits for `minWorkers`. Default 60_000 ms. */
  joinTimeoutMs?: number;
  /** A worker that holds a shard this long is evicted and the shard reassigned. Default 600_000 ms. */
  stepTimeoutMs?: number;
  /** Heartbeat period announced to workers. Default 1000 ms. */
  heartbeatMs?: number;
  /** An idle worker silent for heartbeatMs * heartbeatMisses is dropped. Default 5. */
  heartbeatMisses?: number;
  /** CURVE encryption with a worker allow-list. Default: none (plain TCP). */
  curve?: CoordinatorCurveOptions;
  /** Allow a non-loopback endpoint without CURVE. Default false. */
  insecure?: boolean;
  /** Largest inbound frame in bytes; bigger ones disconnect the peer. Default layout.size * 4 + 1 MiB. */
  maxMessageSize?: number;
  checkpoint?: CoordinatorCheckpointOptions;
  /** Default: warnings and errors to stderr. */
  log?: Logger;
  /** Membership, assignment and drop events, for tests and progress displays. */
  onEvent?: (event: CoordinatorEvent) => void;
}

export interface StepOptions {
  /**
   * The items of the following step, when the application knows them: each STEP carries the part of
   * them that the same worker gets if the membership does not change (shard k goes to the k-th free
   * worker by rank), so workers can load their next shard while computing this one. A hint only: it
   * never enters the gradients.
   */
  next?: readonly unknown[];
}

export type CoordinatorEvent =
  | { type: 'join'; worker: string; rank: number; pid?: number; host?: string }
  | { type: 'leave'; worker: string; rank: number; reason: string }
  | { type: 'assign'; step: number; shard: number; worker: string; rank: number; pid?: number; items: number; attempt: number }
  | { type: 'drop'; peer: string; reason: string }
  | { type: 'checkpoint'; step: number; path: string };

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

export interface WorkerInfo {
  worker: string;
  rank: number;
  pid?: number;
  host?: string;
  busy: boolean;
}

interface WorkerRecord {
  key: string;
  routingId: Buffer;
  id: string;
  rank: number;
  pid?: number;
  host?: string;
  /** Parameter version the worker holds (-1: none). */
  version: number;
  lastSeen: number;
  task: ShardTask | null;
}

interface ShardResult {
  grads: Float32Array;
  msg: GradsMsg;
  worker: WorkerRecord;
  attempt: number;
  nonFinite: number;
}

interface ShardTask {
  shard: number;
  items: unknown[];
  /** The prefetch hint sent with it (StepOptions.next split the same way). */
  next: unknown[] | undefined;
  worker: WorkerRecord | null;
  assignedAt: number;
  attempt: number;
  result: ShardResult | null;
  /** Workers whose gradients for this shard were non-finite (the shard is retried once elsewhere). */
  nonFiniteFrom: Set<string>;
}

interface StepState {
  step: number;
  tasks: ShardTask[];
  done: number;
  reassigned: number;
  shortSince: number | null;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class Coordinator {
  /** The bound endpoint, with the real port (e.g. 'tcp://127.0.0.1:41234'). */
  readonly endpoint: string;
  readonly runId = randomUUID();
  readonly layout: ParamLayout;
  /** Messages dropped as malformed or unexpected. */
  dropped = 0;

  private paramsBuf: Float32Array;
  private gradBuf: Float32Array | null = null;
  private lrOverride: { learningRate: number } | Record<string, never> = {};
  private optState: AdadeltaState;
  private completed: number;
  private readonly opt: Required<Pick<CoordinatorOptions, 'minWorkers' | 'joinTimeoutMs' | 'stepTimeoutMs' | 'heartbeatMs' | 'heartbeatMisses'>>;
  private readonly workers = new Map<string, WorkerRecord>();
  private nextRank = 0;
  /** Open TCP/IPC connections (accepted minus disconnected). */
  private connections = 0;
  private current: StepState | null = null;
  private closed = false;
  private waiters: (() => void)[] = [];
  private readonly queue: SendQueue;
  private readonly loop: Promise<void>;
  private readonly ticker: NodeJS.Timeout;
  private readonly log: Logger;

  private constructor(
    private readonly router: zmq.Router,
    private readonly zap: ZapHandler | null,
    private readonly options: CoordinatorOptions,
  ) {
    this.layout = options.layout;
    this.endpoint = router.lastEndpoint ?? options.endpoint ?? '';
    this.paramsBuf = Float32Array.from(options.params);
    this.optState = options.optimizerState ?? createAdadeltaState(options.layout.size);
    this.completed = options.step ?? 0;
    this.opt = {
      minWorkers: options.minWorkers ?? 1,
      joinTimeoutMs: options.joinTimeoutMs ?? 60_000,
      stepTimeoutMs: options.stepTimeoutMs ?? 600_000,
      heartbeatMs: options.heartbeatMs ?? 1000,
      heartbeatMisses: options.heartbeatMisses ?? 5,
    };
    this.log = options.log ?? defaultLogger;
    this.queue = new SendQueue(router);
    router.events.on('accept', () => this.connections++);
    router.events.on('disconnect', () => {
      this.connections--;
      this.probe();
    });
    this.loop = this.receiveLoop();
    this.ticker = setInterval(() => this.tick(), Math.max(10, Math.min(500, this.opt.heartbeatMs / 2)));
    this.ticker.unref();
  }

  /** Validates the options, binds the socket (and the ZAP handler with CURVE) and starts serving. */
  static async start(options: CoordinatorOptions): Promise<Coordinator> {
    const { layout, params } = options;
    if (params.length !== layout.size) {
      throw new Error(`Coordinator: options.params has ${params.length} values, layout expects ${layout.size}`);
    }
    const bad = firstNonFinite(params);
    if (bad >= 0) throw new Error(`Coordinator: options.params[${bad}] is ${params[bad]}, expected finite values`);
    if (options.optimizerState && options.optimizerState.accumGrad.length !== layout.size) {
      throw new Error(`Coordinator: options.optimizerState has ${options.optimizerState.accumGrad.length} values, layout expects ${layout.size}`);
    }
    for (const k of ['minWorkers', 'joinTimeoutMs', 'stepTimeoutMs', 'heartbeatMs', 'heartbeatMisses'] as const) {
      const v = options[k];
      if (v !== undefined && !(Number.isInteger(v) && v >= 1)) throw new Error(`Coordinator: options.${k} is ${v}, expected a positive integer`);
    }
    if (options.checkpoint && !(Number.isInteger(options.checkpoint.every) && options.checkpoint.every >= 1)) {
      throw new Error(`Coordinator: options.checkpoint.every is ${options.checkpoint.every}, expected a positive integer`);
    }
    if (options.config !== undefined) options = { ...options, config: welcomeConfig(options.config) };
    // The whole WELCOME header must fit the 1 MiB header limit workers enforce (else they would only time out).
    const welcomeBytes = encodeHeader({ t: 'WELCOME', v: PROTOCOL_VERSION, run: '', rank: 0, version: 0, heartbeatMs: 1, layout, config: options.config }).length;
    if (welcomeBytes > MAX_HEADER_BYTES) {
      throw new Error(`Coordinator: the WELCOME header (layout of ${layout.entries.length} tensors plus options.config) is ${welcomeBytes} bytes; at most ${MAX_HEADER_BYTES} fit`);
    }
    const endpoint = (options.endpoint ?? 'tcp://127.0.0.1:0').replace(/:0$/, ':*');
    if (!isLoopbackEndpoint(endpoint) && !options.curve && !options.insecure) {
      throw new Error(
        `Coordinator: endpoint '${endpoint}' is not loopback; use CURVE (options.curve) or set insecure: true to send parameters unencrypted and unauthenticated`,
      );
    }
    const log = options.log ?? defaultLogger;
    let context: zmq.Context | undefined;
    let zap: ZapHandler | null = null;
    const sockOpts: zmq.SocketOptions<zmq.Router> = {
      mandatory: true,
      linger: 500,
      maxMessageSize: options.maxMessageSize ?? layout.size * 4 + (1 << 20),
      heartbeatInterval: options.heartbeatMs ?? 1000,
      heartbeatTimeout: (options.heartbeatMs ?? 1000) * (options.heartbeatMisses ?? 5),
    };
    if (options.curve) {
      checkCurveKey(options.curve.publicKey, 'curve.publicKey');
      checkCurveKey(options.curve.secretKey, 'curve.secretKey');
      // A context of its own, so the ZAP handler governs only this socket.
      context = new zmq.Context();
      zap = new ZapHandler(context, options.curve.allowedClients, log);
      Object.assign(sockOpts, {
        context,
        curveServer: true,
        curvePublicKey: options.curve.publicKey,
        curveSecretKey: options.curve.secretKey,
        zapDomain: 'dataparallel',
      });
    }
    const router = new zmq.Router(sockOpts);
    try {
      await router.bind(endpoint);
    } catch (err) {
      router.close();
      await zap?.close();
      throw new Error(`Coordinator: cannot bind '${endpoint}': ${(err as Error).message}`);
    }
    return new Coordinator(router, zap, options);
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
    return this.workers.size;
  }
  get workerList(): WorkerInfo[] {
    return [...this.workers.values()].map((w) => ({ worker: w.id, rank: w.rank, pid: w.pid, host: w.host, busy: w.task !== null }));
  }

  /** Resolves once at least `n` workers are live; rejects after `timeoutMs`. */
  waitForWorkers(n: number, timeoutMs = this.opt.joinTimeoutMs): Promise<void> {
    if (this.workers.size >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.closed) {
          clearTimeout(timer);
          reject(new Error('Coordinator: closed while waiting for workers'));
        } else if (this.workers.size >= n) {
          clearTimeout(timer);
          resolve();
        } else this.waiters.push(check);
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(new Error(`Coordinator: ${this.workers.size} live worker(s) after ${timeoutMs} ms, need ${n} (endpoint ${this.endpoint})`));
      }, timeoutMs);
      this.waiters.push(check);
    });
  }

  /**
   * Sets the learning rate of the following steps (a schedule), in place of options.optimizer.learningRate.
   * Not part of checkpoints: a resumed run sets it again from its schedule.
   */
  setLearningRate(lr: number): void {
    if (!(Number.isFinite(lr) && lr >= 0)) throw new Error(`Coordinator.setLearningRate: ${lr}, expected a finite number >= 0`);
    this.lrOverride = { learningRate: lr };
  }

  /**
   * One synchronous data-parallel step over the global batch `items` (sample indices or any
   * msgpack-serialisable shard items): split into contiguous shards over the live workers,
   * gradients averaged weighted by sample count, then one Adadelta step.
   */
  async step(items: readonly unknown[], options: StepOptions = {}): Promise<StepResult> {
    if (this.closed) throw new Error('Coordinator.step: the coordinator is closed');
    if (this.current) throw new Error('Coordinator.step: a step is already running');
    if (!Array.isArray(items) || items.length === 0) {
      throw new Error(`Coordinator.step: items must be a non-empty array, got ${Array.isArray(items) ? '[]' : typeof items}`);
    }
    if (options.next !== undefined && !Array.isArray(options.next)) {
      throw new Error(`Coordinator.step: options.next must be an array of items, got ${typeof options.next}`);
    }
    const t0 = performance.now();
    await this.waitForWorkers(this.opt.minWorkers);
    const step = this.completed + 1;
    const nextShards = options.next && options.next.length > 0 ? splitBatch(options.next, this.workers.size) : undefined;
    const tasks: ShardTask[] = splitBatch(items, this.workers.size).map((shardItems, shard) => ({
      shard,
      items: shardItems,
      next: nextShards?.[shard],
      worker: null,
      assignedAt: 0,
      attempt: 0,
      result: null,
      nonFiniteFrom: new Set<string>(),
    }));
    this.current = { step, tasks, done: 0, reassigned: 0, shortSince: null, resolve: () => {}, reject: () => {} };
    const state = this.current;
    this.gradBuf ??= new Float32Array(this.layout.size);
    let results: ShardResult[];
    let upd: { skipped: boolean; gradNorm: number };
    let next: Float32Array;
    let t1: number;
    let t2: number;
    try {
      for (;;) {
        await this.allAnswered(state);
        t1 = performance.now();
        results = tasks.map((t) => t.result!);
        if (results.every((r) => r.msg.count === 0)) {
          // Every sample of the batch was left out by the application (bad data, say): nothing to average.
          next = this.paramsBuf;
          t2 = t1;
          upd = { skipped: true, gradNorm: NaN };
          break;
        }
        // The averaged gradient is never sent, so one buffer serves every step.
        const grads = weightedAverage(results.map((r) => ({ grads: r.grads, count: r.msg.count })), this.layout.size, this.gradBuf);
        // A fresh buffer: frames already sent may still reference the old one (zero-copy sends).
        next = this.paramsBuf.slice();
        t2 = performance.now();
        // Adadelta scans the averaged gradient anyway: with 'skip' a non-finite value changes
        // nothing, and only then are the shards scanned one by one (no extra pass otherwise).
        const finiteLoss = results.every((r) => Number.isFinite(r.msg.lossSum));
        upd = finiteLoss ? adadeltaStep(next, grads, this.optState, { ...this.options.optimizer, ...this.lrOverride, onNonFinite: 'skip' }) : { skipped: true, gradNorm: NaN };
        if (!upd.skipped) break;
        const bad = this.retryNonFinite(state);
        if (bad === null) continue; // shards requeued on other workers
        if ((this.options.optimizer?.onNonFinite ?? 'throw') === 'throw') {
          const r = bad[0];
          const where = !r
            ? 'the averaged gradient non-finite (overflow)'
            : `shard ${r.msg.shard} from worker '${r.worker.id}' has ` +
              (r.nonFinite >= 0 ? `gradient[${r.nonFinite}] = ${r.grads[r.nonFinite]}` : `lossSum = ${r.msg.lossSum}`);
          throw new Error(
            `Coordinator.step ${step}: ${where} (${bad.length} shard(s) non-finite, confirmed on a second worker where one was free);` +
              ` parameters left unchanged (set optimizer.onNonFinite: 'skip' to skip such steps)`,
          );
        }
        break;
      }
    } finally {
      for (const t of tasks) if (t.worker?.task === t) t.worker.task = null;
      this.current = null;
    }
    if (!upd.skipped) this.paramsBuf = next;
    this.completed = step;
    const t3 = performance.now();

    const lossSum = results.reduce((s, r) => s + r.msg.lossSum, 0);
    const count = results.reduce((s, r) => s + r.msg.count, 0);
    const result: StepResult = {
      step,
      loss: lossSum / count,
      lossSum,
      count,
      shards: tasks.map((t, i) => ({
        shard: t.shard,
        worker: results[i]!.worker.id,
        rank: results[i]!.worker.rank,
        items: t.items.length,
        count: results[i]!.msg.count,
        lossSum: results[i]!.msg.lossSum,
        computeMs: results[i]!.msg.computeMs,
        attempt: results[i]!.attempt,
      })),
      workers: new Set(results.map((r) => r.worker.key)).size,
      reassigned: state.reassigned,
      skipped: upd.skipped,
      gradNorm: upd.gradNorm,
      ms: 0,
      computeMs: Math.max(...results.map((r) => r.msg.computeMs)),
      averageMs: t2 - t1,
      optimizerMs: t3 - t2,
    };
    const ck = this.options.checkpoint;
    if (ck && step % ck.every === 0) result.checkpoint = await this.saveCheckpoint(ck.appState?.());
    result.ms = performance.now() - t0;
    return result;
  }

  /** Writes a checkpoint of the current state (plus the application's `extras` arrays) into `options.checkpoint.dir` now. */
  async saveCheckpoint(appState?: unknown, extras?: Record<string, Float32Array>): Promise<string> {
    const ck = this.options.checkpoint;
    if (!ck) throw new Error('Coordinator.saveCheckpoint: options.checkpoint.dir is not set');
    const path = await saveCheckpoint(
      ck.dir,
      { step: this.completed, layout: this.layout, params: this.paramsBuf, optimizerState: this.optState, appState, runId: this.runId, ...(extras ? { extras } : {}) },
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
    this.current?.reject(new Error('Coordinator: closed during the step'));
    for (const w of this.workers.values()) {
      void this.queue.send([w.routingId, encodeHeader({ t: 'BYE', reason: 'coordinator closing' })]).then(
        () => this.log('debug', `BYE sent to ${w.id}`),
        (err: Error) => this.log('debug', `BYE to worker '${w.id}' failed: ${err.message}`),
      );
    }
    this.workers.clear();
    this.wake();
    // libzmq may drop messages still queued when the socket closes, linger or not: wait (up to
    // 1 s) until the workers, having read BYE, have closed their connections.
    const deadline = Date.now() + 1000;
    await Promise.race([this.queue.drain(), new Promise((r) => setTimeout(r, 1000))]);
    while (this.connections > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    this.router.close();
    await this.loop;
    await this.zap?.close();
  }

  // ---- internals ----

  private emit(event: CoordinatorEvent): void {
    try {
      this.options.onEvent?.(event);
    } catch (err) {
      this.log('error', `onEvent handler threw: ${(err as Error).message}`);
    }
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private sendTo(w: WorkerRecord, msg: Message, tensor?: Float32Array): Promise<void> {
    const frames = [w.routingId, encodeHeader(msg)];
    if (tensor) frames.push(floatFrame(tensor));
    return this.queue.send(frames).catch((err: Error & { code?: string }) => {
      this.log('debug', `send ${msg.t} to '${w.id}' failed: ${err.code} ${err.message}`);
      if (err.code === 'EHOSTUNREACH') {
        if (this.workers.get(w.key) === w) this.removeWorker(w, 'unreachable (connection closed)', false);
      } else if (!this.closed) this.log('warn', `send ${msg.t} to worker '${w.id}' failed: ${err.message}`);
    });
  }

  /**
   * After a disconnect: find out which workers are gone. With `mandatory`, a send to a peer
   * whose pipe is closed fails at once with EHOSTUNREACH; libzmq tears the pipe down
   * asynchronously, so probe a few times over the next second.
   */
  private probe(): void {
    this.log('debug', `a connection closed: probing ${this.workers.size} worker(s)`);
    for (const delay of [20, 200, 1000]) {
      setTimeout(() => {
        if (!this.closed) for (const w of this.workers.values()) void this.sendTo(w, { t: 'HEARTBEAT' });
      }, delay).unref();
    }
  }

  private async receiveLoop(): Promise<void> {
    try {
      for await (const frames of this.router) this.onMessage(frames);
    } catch (err) {
      if (!this.closed) this.log('error', `coordinator receive loop stopped: ${(err as Error).message}`);
    }
  }

  private drop(peer: string, reason: string): void {
    this.dropped++;
    this.log('warn', `dropped message from ${peer}: ${reason}`);
    this.emit({ type: 'drop', peer, reason });
  }

  private onMessage(frames: Buffer[]): void {
    const [rid, header, ...rest] = frames;
    if (!rid) return;
    const key = rid.toString('hex');
    const w = this.workers.get(key);
    const peer = w ? `worker '${w.id}' (rank ${w.rank})` : `unknown peer ${key.slice(0, 16)}`;
    const decoded = decodeHeader(header);
    if (!decoded.ok) return this.drop(peer, decoded.reason);
    const msg = decoded.msg;
    const tensorFrames = msg.t === 'GRADS' ? 1 : 0;
    if (rest.length !== tensorFrames) return this.drop(peer, `${msg.t} with ${rest.length} data frame(s), expected ${tensorFrames}`);
    if (msg.t === 'HELLO') return this.onHello(rid, key, msg, peer);
    if (!w) return this.drop(peer, `${msg.t} before HELLO`);
    w.lastSeen = Date.now();
    switch (msg.t) {
      case 'GRADS':
        return this.onGrads(w, msg, rest[0]!, peer);
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
    if (msg.v !== PROTOCOL_VERSION) {
      this.drop(peer, `HELLO with protocol version ${msg.v}, expected ${PROTOCOL_VERSION}`);
      void this.queue
        .send([rid, encodeHeader({ t: 'BYE', reason: `protocol version ${msg.v} is not supported (coordinator speaks ${PROTOCOL_VERSION})` })])
        .catch(() => undefined);
      return;
    }
    const old = this.workers.get(key);
    if (old && old.id === msg.worker) {
      // A repeated HELLO (a retry crossing our WELCOME, or a worker that lost touch): welcome it
      // again with the same rank. A shard it holds stays with it: its queued STEP is still
      // computed, and the deadline covers the case where it is not.
      old.lastSeen = Date.now();
      old.version = this.completed;
      void this.sendTo(old, this.welcomeFor(old), this.paramsBuf);
      return;
    }
    if (old) this.removeWorker(old, 'rejoined (sent HELLO again)', false);
    const w: WorkerRecord = {
      key,
      routingId: rid,
      id: msg.worker,
      rank: old?.rank ?? this.nextRank++,
      pid: Number.isInteger(msg.caps.pid) ? (msg.caps.pid as number) : undefined,
      host: typeof msg.caps.host === 'string' ? msg.caps.host : undefined,
      version: this.completed,
      lastSeen: Date.now(),
      task: null,
    };
    this.workers.set(key, w);
    void this.sendTo(w, this.welcomeFor(w), this.paramsBuf);
    this.log('info', `worker '${w.id}' joined as rank ${w.rank}${w.host ? ` (${w.host} pid ${w.pid})` : ''}; ${this.workers.size} live`);
    this.emit({ type: 'join', worker: w.id, rank: w.rank, pid: w.pid, host: w.host });
    this.wake();
    this.pump();
  }

  private welcomeFor(w: WorkerRecord): WelcomeMsg {
    const { runId: run, completed: version, layout } = this;
    const welcome: WelcomeMsg = { t: 'WELCOME', v: PROTOCOL_VERSION, run, rank: w.rank, version, heartbeatMs: this.opt.heartbeatMs, layout };
    if (this.options.config !== undefined) welcome.config = this.options.config;
    return welcome;
  }

  private onGrads(w: WorkerRecord, msg: GradsMsg, frame: Buffer, peer: string): void {
    const cur = this.current;
    if (!cur || msg.step !== cur.step) {
      return this.drop(peer, `GRADS for step ${msg.step}, current step is ${cur ? cur.step : `none (${this.completed} done)`}`);
    }
    const task = cur.tasks[msg.shard];
    if (!task) return this.drop(peer, `GRADS for shard ${msg.shard}, step ${cur.step} has ${cur.tasks.length} shard(s)`);
    if (task.worker !== w || task.result) return this.drop(peer, `GRADS for shard ${msg.shard}, which is not assigned to it`);
    const grads = frameFloats(frame, this.layout.size);
    if (!grads) return this.drop(peer, `gradient frame of ${frame.byteLength} bytes, expected ${this.layout.size * 4} (${this.layout.size} float32)`);
    task.result = { grads, msg, worker: w, attempt: task.attempt, nonFinite: -1 };
    w.task = null;
    cur.done++;
    if (cur.done === cur.tasks.length) cur.resolve();
    else this.pump();
  }

  /** Resolves when every shard of `state` has a result (at once if they all have). */
  private allAnswered(state: StepState): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      state.resolve = resolve;
      state.reject = reject;
      if (state.done === state.tasks.length) resolve();
      else this.pump();
    });
  }

  /**
   * The averaged gradient was non-finite: find the shards responsible. A faulty worker, or a
   * diverging model? Each bad shard is retried once on another worker; returns null when some
   * were requeued, else the confirmed bad results (for the optimizer's onNonFinite policy).
   */
  private retryNonFinite(state: StepState): ShardResult[] | null {
    const bad: ShardResult[] = [];
    let requeued = 0;
    for (const task of state.tasks) {
      const r = task.result!;
      r.nonFinite = firstNonFinite(r.grads);
      if (r.nonFinite < 0 && Number.isFinite(r.msg.lossSum)) continue;
      const value = r.nonFinite >= 0 ? `gradient[${r.nonFinite}] = ${r.grads[r.nonFinite]}` : `lossSum = ${r.msg.lossSum}`;
      const what = `non-finite ${value} for step ${state.step} shard ${task.shard}`;
      const peer = `worker '${r.worker.id}' (rank ${r.worker.rank})`;
      const others = [...this.workers.values()].some((o) => o.key !== r.worker.key && !task.nonFiniteFrom.has(o.key));
      if (task.nonFiniteFrom.size === 0 && others) {
        task.nonFiniteFrom.add(r.worker.key);
        task.result = null;
        task.worker = null;
        state.done--;
        requeued++;
        this.drop(peer, `${what}; retrying the shard on another worker`);
      } else {
        this.log('warn', `${peer}: ${what} (confirmed)`);
        bad.push(r);
      }
    }
    return requeued > 0 ? null : bad;
  }

  /** Assigns every unassigned shard of the current step to a free live worker (lowest rank first). */
  private pump(): void {
    const cur = this.current;
    if (!cur || this.closed) return;
    const free = [...this.workers.values()].filter((w) => w.task === null).sort((a, b) => a.rank - b.rank);
    for (const task of cur.tasks) {
      if (task.result || task.worker) continue;
      let i = free.findIndex((w) => !task.nonFiniteFrom.has(w.key));
      // Only workers that already failed this shard are left: give it to them anyway.
      if (i < 0 && [...this.workers.values()].every((w) => task.nonFiniteFrom.has(w.key))) i = free.length ? 0 : -1;
      if (i < 0) continue;
      const w = free.splice(i, 1)[0]!;
      if (task.attempt > 0) cur.reassigned++;
      task.worker = w;
      task.assignedAt = Date.now();
      task.attempt++;
      w.task = task;
      const withParams = w.version !== this.completed;
      w.version = this.completed;
      this.emit({ type: 'assign', step: cur.step, shard: task.shard, worker: w.id, rank: w.rank, pid: w.pid, items: task.items.length, attempt: task.attempt });
      void this.sendTo(
        w,
        { t: 'STEP', step: cur.step, shard: task.shard, version: this.completed, params: withParams, items: task.items, ...(task.next ? { next: task.next } : {}) },
        withParams ? this.paramsBuf : undefined,
      );
    }
  }

  private removeWorker(w: WorkerRecord, reason: string, sayBye: boolean): void {
    if (this.workers.get(w.key) !== w) return;
    this.workers.delete(w.key);
    const task = w.task;
    w.task = null;
    if (task && !task.result) task.worker = null;
    if (sayBye) void this.queue.send([w.routingId, encodeHeader({ t: 'BYE', reason })]).catch(() => undefined);
    this.log('info', `worker '${w.id}' (rank ${w.rank}) removed: ${reason}${task ? `; shard ${task.shard} requeued` : ''}; ${this.workers.size} live`);
    this.emit({ type: 'leave', worker: w.id, rank: w.rank, reason });
    this.pump();
  }

  private tick(): void {
    const now = Date.now();
    const silentLimit = this.opt.heartbeatMs * this.opt.heartbeatMisses;
    for (const w of [...this.workers.values()]) {
      if (w.task) {
        if (now - w.task.assignedAt > this.opt.stepTimeoutMs) {
          this.removeWorker(w, `missed the step deadline (${this.opt.stepTimeoutMs} ms) on shard ${w.task.shard}`, true);
        }
      } else if (now - w.lastSeen > silentLimit) {
        this.removeWorker(w, `silent for ${now - w.lastSeen} ms`, true);
      }
    }
    const cur = this.current;
    if (!cur) return;
    if (this.workers.size >= this.opt.minWorkers) cur.shortSince = null;
    else if (cur.shortSince === null) cur.shortSince = now;
    else if (now - cur.shortSince > this.opt.joinTimeoutMs) {
      cur.reject(
        new Error(
          `Coordinator.step ${cur.step}: only ${this.workers.size} live worker(s) for ${now - cur.shortSince} ms, minWorkers is ${this.opt.minWorkers}`,
        ),
      );
    }
  }
}
