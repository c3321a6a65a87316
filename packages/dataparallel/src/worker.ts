/**
 * The worker side: joins a coordinator, receives parameters and shards, runs the
 * application's `computeGradients` and sends the gradients back, until the coordinator says BYE.
 */
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import * as zmq from 'zeromq';
import { checkCurveKey } from './curve.js';
import { firstNonFinite, floatFrame, frameFloats } from './frames.js';
import { assertSameLayout, validateLayout, type ParamLayout } from './layout.js';
import { defaultLogger, type Logger } from './logger.js';
import { decodeHeader, encodeHeader, PROTOCOL_VERSION, type Message, type StepMsg, type WelcomeMsg } from './protocol.js';
import { SendQueue } from './send-queue.js';

/** What a worker computes for one shard. */
export interface GradientResult {
  /** Gradient of the MEAN loss over the shard's `count` samples, in layout order. */
  grads: Float32Array;
  /** Sum of the per-sample losses (so loss = lossSum / count). */
  lossSum: number;
  /** Samples in the shard: the weight of these gradients in the average. */
  count: number;
}

export interface WorkerShard {
  step: number;
  shard: number;
  /** The shard's items as the application passed them to Coordinator.step (e.g. sample indices). */
  items: unknown[];
  /** Parameter version (optimizer steps applied). */
  version: number;
  /** Prefetch hint: the items this worker will probably get at the next step (Coordinator.step's options.next). */
  next?: unknown[];
}

export interface WorkerCurveOptions {
  /** The coordinator's public key (Z85). */
  serverKey: string;
  /** This worker's key pair (Z85); the public key must be on the coordinator's allow-list. */
  publicKey: string;
  secretKey: string;
}

/** What a WELCOME tells the worker. */
export interface WorkerWelcome {
  run: string;
  rank: number;
  layout: ParamLayout;
  /** The coordinator's application config (CoordinatorOptions.config), or undefined. */
  config: unknown;
}

export interface WorkerOptions {
  endpoint: string;
  computeGradients: (params: Float32Array, shard: WorkerShard) => Promise<GradientResult> | GradientResult;
  /**
   * Called on each WELCOME (a first join, a rejoin, or a HELLO retry that crossed a WELCOME: make it
   * idempotent) before any STEP after it is computed: the place to build the replica from `config`. If it
   * throws, the worker says BYE with the message and runWorker rejects. The worker is live (and may be
   * given a shard, whose deadline runs) from its WELCOME on.
   */
  onWelcome?: (welcome: WorkerWelcome) => Promise<void> | void;
  /** When given, the coordinator's layout must match it (else runWorker rejects, listing the differences). */
  layout?: ParamLayout;
  /** Worker id for logs. Default '<host>-<pid>-<random>'. */
  id?: string;
  curve?: WorkerCurveOptions;
  /** Give up joining (or rejoining) after this long without a WELCOME. Default 60_000 ms. */
  connectTimeoutMs?: number;
  /** HELLO is resent after retryMs, doubling up to retryMaxMs. Defaults 250 ms and 5000 ms. */
  retryMs?: number;
  retryMaxMs?: number;
  /** Rejoin after this many unanswered heartbeats. Default 5. */
  heartbeatMisses?: number;
  /** Largest inbound frame in bytes. Default 2 GiB - 1. */
  maxMessageSize?: number;
  /** Extra facts sent in HELLO (pid and host are always sent). */
  caps?: Record<string, unknown>;
  /** Exit the process when the parent that launched it (launchLocal, over IPC) dies. Default true. */
  exitWithParent?: boolean;
  /** Stops the worker (it says BYE and resolves). */
  signal?: AbortSignal;
  log?: Logger;
}

export interface WorkerExit {
  /** Why the worker stopped: the coordinator's BYE reason, or 'aborted'. */
  reason: string;
  /** Shards computed. */
  shards: number;
  rank: number;
}

/** Runs a worker until the coordinator says BYE (resolves) or joining fails (rejects). */
export async function runWorker(options: WorkerOptions): Promise<WorkerExit> {
  const log = options.log ?? defaultLogger;
  const id = options.id ?? `${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const connectTimeoutMs = options.connectTimeoutMs ?? 60_000;
  const retryMs = options.retryMs ?? 250;
  const retryMaxMs = options.retryMaxMs ?? 5000;
  const misses = options.heartbeatMisses ?? 5;

  const sockOpts: zmq.SocketOptions<zmq.Dealer> = {
    routingId: `dp-${randomBytes(8).toString('hex')}`,
    linger: 500,
    maxMessageSize: options.maxMessageSize ?? 2 ** 31 - 1,
    reconnectInterval: 100,
    reconnectMaxInterval: 2000,
    // Queue messages only on a completed connection and never block: while the coordinator is
    // unreachable a send fails at once (HELLO is retried; a lost GRADS is reassigned by it).
    immediate: true,
    sendTimeout: 0,
  };
  if (options.curve) {
    Object.assign(sockOpts, {
      curveServerKey: checkCurveKey(options.curve.serverKey, 'curve.serverKey'),
      curvePublicKey: checkCurveKey(options.curve.publicKey, 'curve.publicKey'),
      curveSecretKey: checkCurveKey(options.curve.secretKey, 'curve.secretKey'),
    });
  }
  const dealer = new zmq.Dealer(sockOpts);
  const queue = new SendQueue(dealer);
  let authFailures = 0;
  dealer.events.on('handshake:error:auth', () => authFailures++);
  dealer.connect(options.endpoint);

  let welcome: (WelcomeMsg & { layoutChecked: ParamLayout }) | null = null;
  let params: Float32Array | null = null;
  let version = -1;
  let shards = 0;
  let unanswered = 0;
  let joinStarted = Date.now();
  let nextHello = 0;
  let backoff = retryMs;
  let finished = false;
  let work: Promise<void> = Promise.resolve();

  const send = (msg: Message, tensor?: Float32Array) => {
    const frames: Buffer[] = [encodeHeader(msg)];
    if (tensor) frames.push(floatFrame(tensor));
    return queue.send(frames).catch((err: Error) => {
      if (!finished) log(msg.t === 'HELLO' || msg.t === 'HEARTBEAT' ? 'debug' : 'warn', `worker ${id}: send ${msg.t} failed: ${err.message}`);
    });
  };
  let lastHello = { at: 0, ok: false };
  const hello = () => {
    const attempt = { at: Date.now(), ok: false };
    lastHello = attempt;
    return queue
      .send([encodeHeader({ t: 'HELLO', v: PROTOCOL_VERSION, worker: id, caps: { ...options.caps, pid: process.pid, host: os.hostname() } })])
      .then(
        () => void (attempt.ok = true),
        (err: Error) => log('debug', `worker ${id}: send HELLO failed: ${err.message}`),
      );
  };

  return new Promise<WorkerExit>((resolve, reject) => {
    const finish = (err: Error | null, reason: string) => {
      if (finished) return;
      finished = true;
      clearInterval(timer);
      options.signal?.removeEventListener('abort', onAbort);
      process.off('disconnect', onParentGone);
      void Promise.race([queue.drain(), new Promise((r) => setTimeout(r, 1000))]).finally(() => {
        dealer.close();
        if (err) reject(err);
        else resolve({ reason, shards, rank: welcome?.rank ?? -1 });
      });
    };
    const onAbort = () => {
      void send({ t: 'BYE', reason: 'worker stopped' });
      finish(null, 'aborted');
    };
    const onParentGone = () => {
      log('warn', `worker ${id}: launcher process is gone; exiting`);
      process.exit(1);
    };
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort);
    if ((options.exitWithParent ?? true) && process.connected) process.once('disconnect', onParentGone);

    const tick = () => {
      if (finished) return;
      const now = Date.now();
      if (!welcome) {
        if (now - joinStarted > connectTimeoutMs) {
          const why = authFailures > 0 ? `; ${authFailures} CURVE authentication failure(s): is this worker's public key on the coordinator's allow-list?` : '';
          return finish(new Error(`worker ${id}: no WELCOME from ${options.endpoint} within ${connectTimeoutMs} ms${why}`), 'timeout');
        }
        if (now >= nextHello) {
          void hello();
          nextHello = now + backoff;
          backoff = Math.min(backoff * 2, retryMaxMs);
        }
        return;
      }
      if (unanswered >= misses) {
        log('warn', `worker ${id}: ${unanswered} heartbeats unanswered; rejoining ${options.endpoint}`);
        welcome = null;
        joinStarted = now;
        backoff = retryMs;
        nextHello = 0;
        unanswered = 0;
        return tick();
      }
      unanswered++;
      void send({ t: 'HEARTBEAT' });
    };
    let timer = setInterval(tick, retryMs);

    const onWelcome = (msg: WelcomeMsg, frame: Buffer | undefined) => {
      let layout: ParamLayout;
      try {
        layout = validateLayout(msg.layout, 'WELCOME.layout');
        if (options.layout) assertSameLayout(options.layout, layout, `worker ${id}: the coordinator's layout`);
      } catch (err) {
        void send({ t: 'BYE', reason: (err as Error).message });
        return finish(err as Error, 'layout mismatch');
      }
      const p = frame ? frameFloats(frame, layout.size) : null;
      if (!p) return log('warn', `worker ${id}: WELCOME without a parameter frame of ${layout.size * 4} bytes; dropped`);
      if (msg.v !== PROTOCOL_VERSION) return log('warn', `worker ${id}: WELCOME with protocol ${msg.v}; dropped`);
      welcome = { ...msg, layoutChecked: layout };
      params = p;
      version = msg.version;
      unanswered = 0;
      clearInterval(timer);
      timer = setInterval(tick, msg.heartbeatMs);
      log('info', `worker ${id}: joined run ${msg.run} as rank ${msg.rank}`);
      const setup = options.onWelcome;
      if (setup) {
        const info: WorkerWelcome = { run: msg.run, rank: msg.rank, layout, config: msg.config };
        // STEPs queue behind the setup on `work`, so none is computed before it is done.
        work = work.then(() => setup(info)).catch((err: Error) => {
          void send({ t: 'BYE', reason: `setup failed: ${err.message}` });
          finish(err, 'setup failed');
        });
      }
    };

    const onStep = async (msg: StepMsg, frame: Buffer | undefined) => {
      const w = welcome;
      if (!w || finished) return;
      const size = w.layoutChecked.size;
      if (msg.params) {
        const p = frame ? frameFloats(frame, size) : null;
        if (!p) return log('warn', `worker ${id}: STEP ${msg.step} parameter frame of ${frame?.byteLength ?? 0} bytes, expected ${size * 4}; dropped`);
        const bad = firstNonFinite(p);
        if (bad >= 0) return log('warn', `worker ${id}: STEP ${msg.step} params[${bad}] = ${p[bad]}; dropped`);
        params = p;
        version = msg.version;
      } else if (msg.version !== version || frame) {
        log('warn', `worker ${id}: STEP ${msg.step} at version ${msg.version} without parameters (have ${version}); rejoining`);
        welcome = null;
        joinStarted = Date.now();
        nextHello = 0;
        return;
      }
      const t0 = performance.now();
      const r = await options.computeGradients(params!, { step: msg.step, shard: msg.shard, items: msg.items, version, ...(msg.next ? { next: msg.next } : {}) });
      const computeMs = performance.now() - t0;
      if (!(r.grads instanceof Float32Array) || r.grads.length !== size) {
        throw new Error(`computeGradients returned ${r.grads?.length} gradients for step ${msg.step} shard ${msg.shard}, expected a Float32Array of ${size}`);
      }
      if (!(typeof r.lossSum === 'number') || !(Number.isFinite(r.count) && r.count >= 0)) {
        throw new Error(`computeGradients returned lossSum ${r.lossSum}, count ${r.count} for step ${msg.step} shard ${msg.shard}; expected numbers, count >= 0`);
      }
      shards++;
      if (!finished) await send({ t: 'GRADS', step: msg.step, shard: msg.shard, lossSum: r.lossSum, count: r.count, computeMs }, r.grads);
    };

    const receive = async () => {
      try {
        for await (const [header, frame, ...extra] of dealer) {
          const decoded = decodeHeader(header);
          if (!decoded.ok) {
            log('warn', `worker ${id}: dropped message from the coordinator: ${decoded.reason}`);
            continue;
          }
          const msg = decoded.msg;
          unanswered = 0;
          if (extra.length > 0) {
            log('warn', `worker ${id}: dropped ${msg.t} with ${extra.length + 1} data frames`);
            continue;
          }
          if (msg.t === 'WELCOME') onWelcome(msg, frame);
          else if (msg.t === 'STEP') {
            work = work.then(() => onStep(msg, frame)).catch((err: Error) => finish(err, 'compute failed'));
          } else if (msg.t === 'BYE') {
            await work;
            return finish(null, msg.reason);
          } else if (msg.t !== 'HEARTBEAT') log('warn', `worker ${id}: dropped unexpected ${msg.t}`);
          if (finished) return;
        }
      } catch (err) {
        if (!finished) finish(new Error(`worker ${id}: receive failed: ${(err as Error).message}`), 'error');
      }
    };
    void receive();
    // HELLO as soon as a connection is up (not only on the retry timer).
    dealer.events.on('handshake', () => {
      const recent = lastHello.ok && Date.now() - lastHello.at < retryMs;
      if (!welcome && !finished && !recent) void hello();
    });
    tick();
  });
}
