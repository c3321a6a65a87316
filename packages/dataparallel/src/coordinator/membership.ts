/**
 * Who takes part in the run: the worker records and their ranks, what a HELLO means (a new
 * worker, a repeated HELLO, a refused protocol version), liveness (the step deadline for a busy
 * worker, silence for an idle one), and waiting for enough workers. No sockets: the coordinator
 * sends what these decide (docs/protocol.md, "Membership, liveness and faults").
 */
import type { ParamLayout } from '../layout.js';
import { PROTOCOL_VERSION, type HelloMsg, type WelcomeMsg } from '../protocol.js';
import { CoordinatorError } from './errors.js';
import type { CoordinatorTimings } from './options.js';

export interface WorkerRecord {
  /** The ZeroMQ routing id, as hex: the key of this worker in the run. */
  readonly key: string;
  readonly routingId: Buffer;
  /** The worker id of its HELLO (free text, for logs). */
  readonly id: string;
  readonly rank: number;
  readonly pid?: number;
  readonly host?: string;
  /** Parameter version the worker holds. */
  version: number;
  /** Date.now() of its last message. */
  lastSeen: number;
}

export interface WorkerInfo {
  worker: string;
  rank: number;
  pid?: number;
  host?: string;
  busy: boolean;
}

/** What `workerList` says of a worker. */
export function workerInfo(w: WorkerRecord, busy: boolean): WorkerInfo {
  return { worker: w.id, rank: w.rank, pid: w.pid, host: w.host, busy };
}

/** The WELCOME for `w`: the run, its rank, the parameter version sent along, heartbeat period, layout and config. */
export function welcomeMessage(
  w: WorkerRecord,
  run: { run: string; version: number; layout: ParamLayout; heartbeatMs: number; config?: unknown },
): WelcomeMsg {
  const welcome: WelcomeMsg = {
    t: 'WELCOME',
    v: PROTOCOL_VERSION,
    run: run.run,
    rank: w.rank,
    version: run.version,
    heartbeatMs: run.heartbeatMs,
    layout: run.layout,
  };
  if (run.config !== undefined) welcome.config = run.config;
  return welcome;
}

/** What a HELLO from routing id `key` means. */
export type HelloOutcome =
  /** A protocol version this coordinator does not speak: drop it (`drop`) and say BYE (`reason`). */
  | { kind: 'refuse'; drop: string; reason: string }
  /**
   * The same worker again (a retry crossing our WELCOME, or a worker that lost touch): welcome it
   * again with the same rank; a shard it holds stays with it.
   */
  | { kind: 'again'; worker: WorkerRecord }
  /** A new worker; `replaces` is another worker id seen on the same routing id (remove it first; its rank is kept). */
  | { kind: 'join'; replaces: WorkerRecord | undefined };

export class Membership {
  private readonly workers = new Map<string, WorkerRecord>();
  private nextRank = 0;
  private waiters: (() => void)[] = [];
  private closed = false;

  get size(): number {
    return this.workers.size;
  }

  get(key: string): WorkerRecord | undefined {
    return this.workers.get(key);
  }

  /** The live workers, in joining order. */
  list(): WorkerRecord[] {
    return [...this.workers.values()];
  }

  hello(key: string, msg: HelloMsg): HelloOutcome {
    if (msg.v !== PROTOCOL_VERSION) {
      return {
        kind: 'refuse',
        drop: `HELLO with protocol version ${msg.v}, expected ${PROTOCOL_VERSION}`,
        reason: `protocol version ${msg.v} is not supported (coordinator speaks ${PROTOCOL_VERSION})`,
      };
    }
    const old = this.workers.get(key);
    if (old && old.id === msg.worker) return { kind: 'again', worker: old };
    return { kind: 'join', replaces: old };
  }

  /** Adds a worker that said HELLO, at parameter version `version`, with `rank` or the next free one. */
  add(key: string, routingId: Buffer, msg: HelloMsg, version: number, now: number, rank?: number): WorkerRecord {
    const w: WorkerRecord = {
      key,
      routingId,
      id: msg.worker,
      rank: rank ?? this.nextRank++,
      pid: Number.isInteger(msg.caps.pid) ? (msg.caps.pid as number) : undefined,
      host: typeof msg.caps.host === 'string' ? msg.caps.host : undefined,
      version,
      lastSeen: now,
    };
    this.workers.set(key, w);
    this.wake();
    return w;
  }

  /** Removes `w`; false when it was no longer a member. */
  remove(w: WorkerRecord): boolean {
    if (this.workers.get(w.key) !== w) return false;
    this.workers.delete(w.key);
    return true;
  }

  /** No more members: returns those there were (to say BYE to), and fails whoever waits for workers. */
  close(): WorkerRecord[] {
    const all = this.list();
    this.closed = true;
    this.workers.clear();
    this.wake();
    return all;
  }

  /** Resolves once at least `n` workers are live; rejects after `timeoutMs` (naming `endpoint`) or on close. */
  waitFor(n: number, timeoutMs: number, endpoint: string): Promise<void> {
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
      // The verdict waits for setImmediate: after a stall of the event loop, node runs this timer
      // before it reads the socket, and HELLOs that came during the stall are still queued.
      const timer = setTimeout(() => {
        setImmediate(() => {
          if (this.closed || this.workers.size >= n) return; // settled by check
          this.waiters = this.waiters.filter((w) => w !== check);
          reject(
            new CoordinatorError(
              `Coordinator: ${this.workers.size} live worker(s) after ${timeoutMs} ms, need ${n} (endpoint ${endpoint})`,
            ),
          );
        });
      }, timeoutMs);
      this.waiters.push(check);
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

/**
 * Who must go at `now`: a worker holding a shard past the step deadline (a busy worker is not
 * judged by heartbeats: a blocking backend can stall its event loop for the whole computation),
 * and an idle worker silent for heartbeatMs * heartbeatMisses. `held` gives the shard a worker
 * holds and since when. Only time the coordinator was listening counts: `listeningSince` is when
 * its event loop last came back from a stall (a long synchronous validation, say), and nothing
 * before it is held against a worker, whose messages from then may still be queued unread.
 */
export function evictions(
  workers: readonly WorkerRecord[],
  now: number,
  timings: Pick<CoordinatorTimings, 'stepTimeoutMs' | 'heartbeatMs' | 'heartbeatMisses'>,
  held: (w: WorkerRecord) => { index: number; since: number } | undefined,
  listeningSince = -Infinity,
): { worker: WorkerRecord; reason: string }[] {
  const silentLimit = timings.heartbeatMs * timings.heartbeatMisses;
  const out: { worker: WorkerRecord; reason: string }[] = [];
  for (const w of workers) {
    const shard = held(w);
    if (shard) {
      if (now - Math.max(shard.since, listeningSince) > timings.stepTimeoutMs) {
        out.push({
          worker: w,
          reason: `missed the step deadline (${timings.stepTimeoutMs} ms) on shard ${shard.index}`,
        });
      }
    } else if (now - Math.max(w.lastSeen, listeningSince) > silentLimit) {
      out.push({ worker: w, reason: `silent for ${now - w.lastSeen} ms` });
    }
  }
  return out;
}

/**
 * Tells a stalled event loop from silent workers. A tick that comes more than two periods late means the
 * event loop was stalled (a synchronous validation in this process, say): node runs timers before it reads
 * the socket, so the heartbeats of that time are still queued. Silence is then counted from the end of the
 * stall only (`listeningSince`, for evictions).
 */
export class StallClock {
  /** Date.now() at the end of the last stall. */
  listeningSince = -Infinity;
  private last: number;

  constructor(
    /** The tick period, ms. */
    readonly periodMs: number,
    now = Date.now(),
  ) {
    this.last = now;
  }

  /** Called every period; returns how long the event loop was stalled before this tick, or 0. */
  tick(now: number): number {
    const late = now - this.last;
    this.last = now;
    if (late <= 2 * this.periodMs) return 0;
    this.listeningSince = now;
    return late;
  }
}
