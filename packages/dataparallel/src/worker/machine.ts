/**
 * The worker's states, as docs/protocol.md draws them, and its transitions. No socket: what it
 * sends goes through a WorkerPort (the DEALER in runWorker, a recorder in tests), and time comes in
 * as the `now` of each event.
 *
 *   CONNECTING --WELCOME--> JOINED --STEP--> COMPUTING --GRADS sent--> JOINED
 *   CONNECTING: HELLO now, then after retryMs doubling up to retryMaxMs; a warning naming the
 *               endpoint and the likely causes after noAnswerWarnMs, again each time the wait
 *               doubles; no WELCOME within connectTimeoutMs -> STOPPED (rejects)
 *   JOINED, COMPUTING: a HEARTBEAT every heartbeatMs; heartbeatMisses unanswered, or a STEP at a
 *               parameter version the worker does not hold -> CONNECTING (rejoin)
 *   any state: BYE -> STOPPED (resolves, once the shard being computed is sent); abort -> BYE, STOPPED;
 *               a bad WELCOME layout, a failing onWelcome or computeGradients -> STOPPED (rejects)
 *
 * Setups (onWelcome) and computations run one at a time, in arrival order (the lane): a STEP that
 * arrives during a setup waits for it. A shard still being computed when the worker goes back to
 * CONNECTING is finished and its GRADS sent all the same: a coordinator that only answered late
 * keeps the shard with a worker that rejoins under the same id. A STEP the worker has already answered (same run,
 * step, shard, parameter version and items: the coordinator re-sends a held shard's STEP after a repeated HELLO) gets the
 * same GRADS again, not a second computation.
 */
import { performance } from 'node:perf_hooks';
import { firstNonFinite, frameFloats } from '../frames.js';
import { assertSameLayout, validateLayout, type ParamLayout } from '../layout.js';
import type { Logger } from '../logger.js';
import { WorkerError } from './errors.js';
import { decodeHeader, PROTOCOL_VERSION, type Message, type StepMsg, type WelcomeMsg } from '../protocol.js';
import type { GradientResult, WorkerExit, WorkerOptions, WorkerTimings } from './options.js';

/** What the machine does to the world. */
export interface WorkerPort {
  /** Hands a message (and its tensor frame) to the socket; rejects when the send fails. */
  send(msg: Message, tensor?: Float32Array): Promise<void>;
  /** Calls the machine's tick() every `ms` from now on (retryMs while CONNECTING, heartbeatMs once joined). */
  setTickPeriod(ms: number): void;
  /** Stops the ticks, lets the queued sends go (for a bounded time) and closes the socket. */
  close(): Promise<void>;
}

/** What a WELCOME gave: the run, and the parameters the worker holds. */
export interface Session {
  readonly run: string;
  readonly rank: number;
  readonly layout: ParamLayout;
  readonly heartbeatMs: number;
  params: Float32Array;
  /** Parameter version of `params`. */
  version: number;
}

export type WorkerState =
  | {
      readonly name: 'CONNECTING';
      readonly since: number;
      readonly timeoutMs: number;
      nextHelloAt: number;
      backoffMs: number;
      warnAt: number;
    }
  | { readonly name: 'JOINED'; readonly session: Session }
  | { readonly name: 'COMPUTING'; readonly session: Session; readonly step: number; readonly shard: number }
  | { readonly name: 'STOPPED'; readonly reason: string };

export type WorkerStateName = WorkerState['name'];

export interface WorkerMachineOptions
  extends Pick<WorkerOptions, 'endpoint' | 'computeGradients' | 'onWelcome' | 'layout'> {
  /** Worker id, in HELLO and in logs. */
  id: string;
  /** HELLO's `caps`. */
  caps: Record<string, unknown>;
  timings: WorkerTimings;
  log: Logger;
}

export class WorkerMachine {
  private current: WorkerState;
  /** Resolves on BYE or abort; rejects when joining fails, on a bad layout, or when onWelcome or computeGradients throws. */
  readonly exit: Promise<WorkerExit>;
  /** Shards computed. */
  shards = 0;
  /** Heartbeats sent since the coordinator was last heard from. */
  private unanswered = 0;
  private authFailures = 0;
  private lastHello = { at: -Infinity, ok: false };
  /** The last GRADS sent, to answer a repeated STEP without computing it again. */
  private answered?: { key: string; msg: Message; grads: Float32Array };
  /** Setups and computations, one at a time, in arrival order; never rejects. */
  private lane: Promise<void> = Promise.resolve();
  private tickPeriod = 0;
  private settle!: { resolve: (exit: WorkerExit) => void; reject: (err: Error) => void };

  constructor(
    private readonly o: WorkerMachineOptions,
    private readonly port: WorkerPort,
    now: number,
  ) {
    this.current = {
      name: 'CONNECTING',
      since: now,
      timeoutMs: o.timings.connectTimeoutMs,
      nextHelloAt: now,
      backoffMs: o.timings.retryMs,
      warnAt: now + o.timings.noAnswerWarnMs,
    };
    this.exit = new Promise<WorkerExit>((resolve, reject) => (this.settle = { resolve, reject }));
  }

  get state(): WorkerState {
    return this.current;
  }

  /** Starts joining: HELLO now, and the retry ticks. */
  start(now: number): void {
    this.port.setTickPeriod(this.o.timings.retryMs);
    this.tickPeriod = this.o.timings.retryMs;
    this.tick(now);
  }

  // ---- events ----

  tick(now: number): void {
    const s = this.state;
    if (s.name === 'CONNECTING') this.tickConnecting(s, now);
    else if (s.name !== 'STOPPED') this.tickJoined(now);
  }

  /** A connection is up: HELLO at once while CONNECTING (unless one just went out). */
  handshake(now: number): void {
    const recent = this.lastHello.ok && now - this.lastHello.at < this.o.timings.retryMs;
    if (this.state.name === 'CONNECTING' && !recent) void this.hello(now);
  }

  /** A CURVE handshake was refused (the connect timeout's error mentions it). */
  authFailed(): void {
    this.authFailures++;
  }

  /** One message from the coordinator (header frame, optional tensor frame). Returns a promise for BYE: the worker stops when it settles. */
  receive(frames: Buffer[]): Promise<void> | void {
    if (this.state.name === 'STOPPED') return;
    const [header, frame, ...extra] = frames;
    const decoded = decodeHeader(header);
    if (!decoded.ok)
      return this.o.log('warn', `worker ${this.o.id}: dropped message from the coordinator: ${decoded.reason}`);
    const msg = decoded.msg;
    this.unanswered = 0;
    if (extra.length > 0)
      return this.o.log('warn', `worker ${this.o.id}: dropped ${msg.t} with ${extra.length + 1} data frames`);
    switch (msg.t) {
      case 'WELCOME':
        return this.onWelcome(msg, frame);
      case 'STEP':
        return this.enqueue(
          () => this.onStep(msg, frame),
          (err) => this.stop(err, 'compute failed'),
        );
      case 'BYE':
        return this.lane.then(() => this.stop(null, msg.reason));
      case 'HEARTBEAT':
        return;
      default:
        return this.o.log('warn', `worker ${this.o.id}: dropped unexpected ${msg.t}`);
    }
  }

  /** The receive loop failed. */
  receiveFailed(err: Error): void {
    this.stop(new Error(`worker ${this.o.id}: receive failed: ${err.message}`), 'error');
  }

  /** Stop now: BYE, then resolve with reason 'aborted'. */
  abort(): void {
    void this.send({ t: 'BYE', reason: 'worker stopped' });
    this.stop(null, 'aborted');
  }

  // ---- transitions ----

  private enter(next: WorkerState): void {
    if (next.name !== this.current.name)
      this.o.log('debug', `worker ${this.o.id}: ${this.current.name} -> ${next.name}`);
    this.current = next;
    const period =
      next.name === 'CONNECTING' ? this.o.timings.retryMs : next.name === 'STOPPED' ? 0 : next.session.heartbeatMs;
    if (period > 0 && period !== this.tickPeriod) {
      this.port.setTickPeriod(period);
      this.tickPeriod = period;
    }
  }

  /** Back to CONNECTING (HELLO at once, giving up after rejoinTimeoutMs): the coordinator was lost, or restarted. */
  private rejoin(now: number): void {
    const t = this.o.timings;
    this.enter({
      name: 'CONNECTING',
      since: now,
      timeoutMs: t.rejoinTimeoutMs,
      nextHelloAt: now,
      backoffMs: t.retryMs,
      warnAt: now + t.noAnswerWarnMs,
    });
    this.tick(now);
  }

  private stop(error: Error | null, reason: string): void {
    const s = this.state;
    if (s.name === 'STOPPED') return;
    const rank = s.name === 'CONNECTING' ? -1 : s.session.rank;
    this.enter({ name: 'STOPPED', reason });
    void this.port.close().finally(() => {
      if (error) this.settle.reject(error);
      else this.settle.resolve({ reason, shards: this.shards, rank });
    });
  }

  private tickConnecting(s: Extract<WorkerState, { name: 'CONNECTING' }>, now: number): void {
    const { retryMaxMs } = this.o.timings;
    if (now - s.since > s.timeoutMs) {
      const why =
        this.authFailures > 0
          ? `; ${this.authFailures} CURVE authentication failure(s): is this worker's public key on the coordinator's allow-list?`
          : '';
      return this.stop(
        new WorkerError(`worker ${this.o.id}: no WELCOME from ${this.o.endpoint} within ${s.timeoutMs} ms${why}`),
        'timeout',
      );
    }
    if (now >= s.warnAt) {
      const waited = now - s.since;
      s.warnAt = now + waited; // again when the wait has doubled
      this.o.log('warn', this.noAnswerMessage(waited, s.timeoutMs));
    }
    if (now >= s.nextHelloAt) {
      void this.hello(now);
      s.nextHelloAt = now + s.backoffMs;
      s.backoffMs = Math.min(s.backoffMs * 2, retryMaxMs);
    }
  }

  /** No WELCOME yet: where, for how long, and why that usually is. */
  private noAnswerMessage(waited: number, connectTimeoutMs: number): string {
    const auth = this.authFailures > 0 ? ` ${this.authFailures} CURVE authentication failure(s) so far.` : '';
    return (
      `worker ${this.o.id}: no answer from ${this.o.endpoint} after ${waited} ms; still trying (up to ${connectTimeoutMs} ms).${auth} Likely causes: ` +
      'no coordinator listening at that address and port, or a firewall between; with CURVE, a wrong server key, or this ' +
      "worker's public key not on the coordinator's allow-list; CURVE on one side only (both or neither must use it)"
    );
  }

  private tickJoined(now: number): void {
    if (this.unanswered >= this.o.timings.heartbeatMisses) {
      this.o.log('warn', `worker ${this.o.id}: ${this.unanswered} heartbeats unanswered; rejoining ${this.o.endpoint}`);
      this.unanswered = 0;
      return this.rejoin(now);
    }
    this.unanswered++;
    void this.send({ t: 'HEARTBEAT' });
  }

  private onWelcome(msg: WelcomeMsg, frame: Buffer | undefined): void {
    let layout: ParamLayout;
    try {
      layout = validateLayout(msg.layout, 'WELCOME.layout');
      if (this.o.layout) assertSameLayout(this.o.layout, layout, `worker ${this.o.id}: the coordinator's layout`);
    } catch (err) {
      void this.send({ t: 'BYE', reason: (err as Error).message });
      return this.stop(err as Error, 'layout mismatch');
    }
    const params = frame ? frameFloats(frame, layout.size) : null;
    if (!params)
      return this.o.log(
        'warn',
        `worker ${this.o.id}: WELCOME without a parameter frame of ${layout.size * 4} bytes; dropped`,
      );
    if (msg.v !== PROTOCOL_VERSION)
      return this.o.log('warn', `worker ${this.o.id}: WELCOME with protocol ${msg.v}; dropped`);
    const session: Session = {
      run: msg.run,
      rank: msg.rank,
      layout,
      heartbeatMs: msg.heartbeatMs,
      params,
      version: msg.version,
    };
    const s = this.state;
    // A WELCOME while computing (a HELLO retry that crossed it): the shard is still being computed.
    this.enter(s.name === 'COMPUTING' ? { ...s, session } : { name: 'JOINED', session });
    this.o.log('info', `worker ${this.o.id}: joined run ${msg.run} as rank ${msg.rank}`);
    const setup = this.o.onWelcome;
    if (setup) {
      const info = { run: msg.run, rank: msg.rank, layout, config: msg.config };
      this.enqueue(
        () => setup(info),
        (err) => {
          void this.send({ t: 'BYE', reason: `setup failed: ${err.message}` });
          this.stop(err, 'setup failed');
        },
      );
    }
  }

  /** JOINED --STEP--> COMPUTING --GRADS sent--> JOINED (run in the lane). */
  private async onStep(msg: StepMsg, frame: Buffer | undefined): Promise<void> {
    const s = this.state;
    if (s.name !== 'JOINED') return; // CONNECTING (a STEP of a run it lost touch with) or STOPPED: dropped
    const { session } = s;
    const size = session.layout.size;
    if (msg.params) {
      const p = frame ? frameFloats(frame, size) : null;
      if (!p)
        return this.o.log(
          'warn',
          `worker ${this.o.id}: STEP ${msg.step} parameter frame of ${frame?.byteLength ?? 0} bytes, expected ${size * 4}; dropped`,
        );
      const bad = firstNonFinite(p);
      if (bad >= 0)
        return this.o.log('warn', `worker ${this.o.id}: STEP ${msg.step} params[${bad}] = ${p[bad]}; dropped`);
      session.params = p;
      session.version = msg.version;
    } else if (msg.version !== session.version || frame) {
      this.o.log(
        'warn',
        `worker ${this.o.id}: STEP ${msg.step} at version ${msg.version} without parameters (have ${session.version}); rejoining`,
      );
      return this.rejoin(Date.now());
    }
    const key = `${session.run}/${msg.step}/${msg.shard}/${session.version}/${JSON.stringify(msg.items)}`;
    if (this.answered?.key === key) {
      this.o.log('debug', `worker ${this.o.id}: STEP ${msg.step} shard ${msg.shard} again; sending its GRADS again`);
      return this.send(this.answered.msg, this.answered.grads);
    }
    this.enter({ name: 'COMPUTING', session, step: msg.step, shard: msg.shard });
    const t0 = performance.now();
    const shard = {
      step: msg.step,
      shard: msg.shard,
      items: msg.items,
      version: session.version,
      ...(msg.next ? { next: msg.next } : {}),
    };
    const r = await this.o.computeGradients(session.params, shard);
    const computeMs = performance.now() - t0;
    checkGradientResult(r, size, msg);
    this.shards++;
    const grads: Message = {
      t: 'GRADS',
      step: msg.step,
      shard: msg.shard,
      lossSum: r.lossSum,
      count: r.count,
      computeMs,
    };
    this.answered = { key, msg: grads, grads: r.grads };
    if (this.state.name !== 'STOPPED') await this.send(grads, r.grads);
    if (this.state.name === 'COMPUTING') this.enter({ name: 'JOINED', session: this.state.session });
  }

  // ---- sending ----

  private hello(now: number): Promise<void> {
    const attempt = { at: now, ok: false };
    this.lastHello = attempt;
    return this.port.send({ t: 'HELLO', v: PROTOCOL_VERSION, worker: this.o.id, caps: this.o.caps }).then(
      () => void (attempt.ok = true),
      (err: Error) => this.o.log('debug', `worker ${this.o.id}: send HELLO failed: ${err.message}`),
    );
  }

  private send(msg: Message, tensor?: Float32Array): Promise<void> {
    return this.port.send(msg, tensor).catch((err: Error) => {
      if (this.state.name !== 'STOPPED')
        this.o.log(
          msg.t === 'HEARTBEAT' ? 'debug' : 'warn',
          `worker ${this.o.id}: send ${msg.t} failed: ${err.message}`,
        );
    });
  }

  private enqueue(job: () => Promise<void> | void, onError: (err: Error) => void): void {
    this.lane = this.lane.then(job).catch(onError);
  }
}

/** Throws when computeGradients returned something that cannot be sent as GRADS. */
export function checkGradientResult(r: GradientResult, size: number, msg: { step: number; shard: number }): void {
  if (!(r.grads instanceof Float32Array) || r.grads.length !== size) {
    throw new Error(
      `computeGradients returned ${r.grads?.length} gradients for step ${msg.step} shard ${msg.shard}, expected a Float32Array of ${size}`,
    );
  }
  if (!(typeof r.lossSum === 'number') || !(Number.isFinite(r.count) && r.count >= 0)) {
    throw new Error(
      `computeGradients returned lossSum ${r.lossSum}, count ${r.count} for step ${msg.step} shard ${msg.shard}; expected numbers, count >= 0`,
    );
  }
}
