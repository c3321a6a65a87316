/** The worker's options, what it is given and what it returns; defaults stated once, in WORKER_DEFAULTS. */
import type { ParamLayout } from '../layout.js';
import type { Logger } from '../logger.js';

/**
 * Defaults of WorkerOptions:
 * - connectTimeoutMs 60 s: then runWorker rejects.
 * - rejoinTimeoutMs: connectTimeoutMs. After the coordinator was lost (heartbeatMisses heartbeats unanswered), it
 *   may come back (a restart) within this long; then runWorker rejects.
 * - retryMs 250 ms doubling up to retryMaxMs 5 s: the HELLO backoff.
 * - heartbeatMisses 5: rejoin after 5 unanswered heartbeats (the period comes from WELCOME).
 * - maxMessageSize 2 GiB - 1: a parameter frame of up to half a billion floats.
 * - noAnswerWarnMs 5 s: a worker still without WELCOME says so (naming the endpoint and the likely
 *   causes), then again each time the wait doubles, and keeps trying until connectTimeoutMs.
 */
export const WORKER_DEFAULTS = {
  connectTimeoutMs: 60_000,
  retryMs: 250,
  retryMaxMs: 5000,
  heartbeatMisses: 5,
  maxMessageSize: 2 ** 31 - 1,
  noAnswerWarnMs: 5000,
} as const;

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
  /** Give up joining after this long without a WELCOME, in ms. */
  connectTimeoutMs?: number;
  /** Give up rejoining a lost coordinator after this long without a WELCOME, in ms. Default connectTimeoutMs. */
  rejoinTimeoutMs?: number;
  /** HELLO is resent after retryMs, doubling up to retryMaxMs. */
  retryMs?: number;
  retryMaxMs?: number;
  /** Rejoin after this many unanswered heartbeats. */
  heartbeatMisses?: number;
  /** Warn (endpoint, likely causes) after this long without WELCOME, then each time the wait doubles. */
  noAnswerWarnMs?: number;
  /** Largest inbound frame in bytes. */
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

/** The timings of the join and heartbeat loops, defaults filled in. */
export interface WorkerTimings {
  connectTimeoutMs: number;
  rejoinTimeoutMs: number;
  retryMs: number;
  retryMaxMs: number;
  heartbeatMisses: number;
  noAnswerWarnMs: number;
}

export function workerTimings(options: Pick<WorkerOptions, keyof WorkerTimings>): WorkerTimings {
  const d = WORKER_DEFAULTS;
  return {
    connectTimeoutMs: options.connectTimeoutMs ?? d.connectTimeoutMs,
    rejoinTimeoutMs: options.rejoinTimeoutMs ?? options.connectTimeoutMs ?? d.connectTimeoutMs,
    retryMs: options.retryMs ?? d.retryMs,
    retryMaxMs: options.retryMaxMs ?? d.retryMaxMs,
    heartbeatMisses: options.heartbeatMisses ?? d.heartbeatMisses,
    noAnswerWarnMs: options.noAnswerWarnMs ?? d.noAnswerWarnMs,
  };
}
