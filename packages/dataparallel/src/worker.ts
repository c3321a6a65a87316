/**
 * The worker side: joins a coordinator, receives parameters and shards, runs the
 * application's `computeGradients` and sends the gradients back, until the coordinator says BYE.
 * The states and transitions are in worker/machine.ts; this file wires them to a DEALER socket,
 * a timer, the abort signal and the launcher's IPC channel.
 */
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import * as zmq from 'zeromq';
import { checkCurveKey } from './curve.js';
import { floatFrame } from './frames.js';
import { defaultLogger } from './logger.js';
import { encodeHeader } from './protocol.js';
import { SendQueue } from './send-queue.js';
import { WorkerMachine, type WorkerPort } from './worker/machine.js';
import { WORKER_DEFAULTS, workerTimings, type WorkerExit, type WorkerOptions } from './worker/options.js';

export { WORKER_DEFAULTS } from './worker/options.js';
export type {
  GradientResult,
  WorkerCurveOptions,
  WorkerExit,
  WorkerOptions,
  WorkerShard,
  WorkerWelcome,
} from './worker/options.js';

/** Runs a worker until the coordinator says BYE (resolves) or joining fails (rejects). */
export async function runWorker(options: WorkerOptions): Promise<WorkerExit> {
  const log = options.log ?? defaultLogger;
  const id = options.id ?? `${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const dealer = new zmq.Dealer(dealerOptions(options));
  const queue = new SendQueue(dealer);
  dealer.connect(options.endpoint);

  let timer: NodeJS.Timeout | undefined;
  const onAbort = () => machine.abort();
  const onParentGone = () => {
    log('warn', `worker ${id}: launcher process is gone; exiting`);
    process.exit(1);
  };
  const port: WorkerPort = {
    send: (msg, tensor) => queue.send(tensor ? [encodeHeader(msg), floatFrame(tensor)] : [encodeHeader(msg)]),
    setTickPeriod: (ms) => {
      clearInterval(timer);
      timer = setInterval(() => machine.tick(Date.now()), ms);
    },
    close: async () => {
      clearInterval(timer);
      options.signal?.removeEventListener('abort', onAbort);
      process.off('disconnect', onParentGone);
      await Promise.race([queue.drain(), new Promise((r) => setTimeout(r, 1000))]);
      dealer.close();
    },
  };
  const machine = new WorkerMachine(
    {
      ...options,
      id,
      caps: { ...options.caps, pid: process.pid, host: os.hostname() },
      timings: workerTimings(options),
      log,
    },
    port,
    Date.now(),
  );
  if (options.signal?.aborted) {
    machine.abort();
    return machine.exit;
  }
  options.signal?.addEventListener('abort', onAbort);
  if ((options.exitWithParent ?? true) && process.connected) process.once('disconnect', onParentGone);
  dealer.events.on('handshake:error:auth', () => machine.authFailed());
  // HELLO as soon as a connection is up (not only on the retry timer).
  dealer.events.on('handshake', () => machine.handshake(Date.now()));
  void receiveLoop(dealer, machine);
  machine.start(Date.now());
  return machine.exit;
}

async function receiveLoop(dealer: zmq.Dealer, machine: WorkerMachine): Promise<void> {
  try {
    for await (const frames of dealer) {
      await machine.receive(frames);
      if (machine.state.name === 'STOPPED') return;
    }
  } catch (err) {
    machine.receiveFailed(err as Error);
  }
}

function dealerOptions(options: WorkerOptions): zmq.SocketOptions<zmq.Dealer> {
  const sockOpts: zmq.SocketOptions<zmq.Dealer> = {
    routingId: `dp-${randomBytes(8).toString('hex')}`,
    linger: 500,
    maxMessageSize: options.maxMessageSize ?? WORKER_DEFAULTS.maxMessageSize,
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
  return sockOpts;
}
