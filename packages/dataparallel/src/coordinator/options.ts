/**
 * The coordinator's options, their defaults (stated once, in COORDINATOR_DEFAULTS) and their
 * checks. Pure: nothing here opens a socket.
 */
import type { AdadeltaConfig, AdadeltaState } from '@scriptorium/adadelta';
import { isLoopbackEndpoint } from '../curve.js';
import { firstNonFinite } from '../frames.js';
import type { ParamLayout } from '../layout.js';
import type { Logger } from '../logger.js';
import { encodeHeader, MAX_HEADER_BYTES, PROTOCOL_VERSION, welcomeConfig } from '../protocol.js';

/**
 * Defaults of CoordinatorOptions:
 * - endpoint: loopback only, any free port (the real one is `coord.endpoint`).
 * - joinTimeoutMs 60 s: how long step() waits for `minWorkers`.
 * - stepTimeoutMs 10 min: a shard may legitimately take minutes on CPU.
 * - heartbeatMs 1 s, heartbeatMisses 5: an idle worker silent for 5 s is dropped; a dead busy worker
 *   is found by disconnect probing, not by heartbeats (docs/protocol.md, "Membership").
 * - maxMessageSize: one gradient frame (4 bytes per parameter) plus `messageHeadroomBytes`.
 */
export const COORDINATOR_DEFAULTS = {
  endpoint: 'tcp://127.0.0.1:0',
  minWorkers: 1,
  joinTimeoutMs: 60_000,
  stepTimeoutMs: 600_000,
  heartbeatMs: 1000,
  heartbeatMisses: 5,
  messageHeadroomBytes: 1 << 20,
} as const;

export interface CoordinatorCurveOptions {
  /** The coordinator's key pair (Z85); workers need the public key. */
  publicKey: string;
  secretKey: string;
  /** Public keys (Z85) of the workers allowed to join; every other key is refused by ZAP. */
  allowedClients: string[];
}

export interface CoordinatorCheckpointOptions {
  /** Directory for `step-NNNNNNNNN.dpck` files (created if missing); also where `saveCheckpoint()` writes. */
  dir: string;
  /**
   * Write a checkpoint after every `every` completed steps. Leave it out when the application
   * decides when to save (it calls `coord.saveCheckpoint()`).
   */
  every?: number;
  /** Newest checkpoints to keep. Default 3, saveCheckpoint's (0 keeps all). */
  keep?: number;
  /** The application's state to store (data cursor, RNG state...), JSON-serialisable. */
  appState?: () => unknown;
}

export interface CoordinatorOptions {
  /** ZeroMQ endpoint to bind. Default COORDINATOR_DEFAULTS.endpoint (':0' binds any free port; see `endpoint`). */
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
  /** step() waits until this many workers are live, and fails if fewer stay live for `joinTimeoutMs`. */
  minWorkers?: number;
  /** How long step() waits for `minWorkers`, in ms. */
  joinTimeoutMs?: number;
  /** A worker that holds a shard this long (ms) is evicted and the shard reassigned. */
  stepTimeoutMs?: number;
  /** Heartbeat period announced to workers, in ms (also the ZMTP heartbeat interval). */
  heartbeatMs?: number;
  /** An idle worker silent for heartbeatMs * heartbeatMisses is dropped (also the ZMTP heartbeat timeout). */
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
  | {
      type: 'assign';
      step: number;
      shard: number;
      worker: string;
      rank: number;
      pid?: number;
      items: number;
      attempt: number;
    }
  | { type: 'drop'; peer: string; reason: string }
  | { type: 'checkpoint'; step: number; path: string };

/** Membership and timing settings with their defaults filled in. */
export interface CoordinatorTimings {
  minWorkers: number;
  joinTimeoutMs: number;
  stepTimeoutMs: number;
  heartbeatMs: number;
  heartbeatMisses: number;
}

/** The options checked, with defaults filled in: what binding and serving need. */
export interface ResolvedCoordinatorOptions extends CoordinatorTimings {
  /** The endpoint to bind (':0' written as ZeroMQ's ':*'). */
  bindEndpoint: string;
  maxMessageSize: number;
  /** `options.config` as plain JSON data (undefined when not given). */
  config: unknown;
}

const TIMINGS = ['minWorkers', 'joinTimeoutMs', 'stepTimeoutMs', 'heartbeatMs', 'heartbeatMisses'] as const;

/** Checks every option against the layout and fills in the defaults; throws naming the option. */
export function resolveCoordinatorOptions(options: CoordinatorOptions): ResolvedCoordinatorOptions {
  const { layout, params } = options;
  if (params.length !== layout.size) {
    throw new Error(`Coordinator: options.params has ${params.length} values, layout expects ${layout.size}`);
  }
  const bad = firstNonFinite(params);
  if (bad >= 0) throw new Error(`Coordinator: options.params[${bad}] is ${params[bad]}, expected finite values`);
  if (options.optimizerState && options.optimizerState.accumGrad.length !== layout.size) {
    throw new Error(
      `Coordinator: options.optimizerState has ${options.optimizerState.accumGrad.length} values, layout expects ${layout.size}`,
    );
  }
  for (const k of TIMINGS) {
    const v = options[k];
    if (v !== undefined && !(Number.isInteger(v) && v >= 1))
      throw new Error(`Coordinator: options.${k} is ${v}, expected a positive integer`);
  }
  const every = options.checkpoint?.every;
  if (every !== undefined && !(Number.isInteger(every) && every >= 1)) {
    throw new Error(`Coordinator: options.checkpoint.every is ${every}, expected a positive integer (or leave it out)`);
  }
  const config = options.config === undefined ? undefined : welcomeConfig(options.config);
  // The whole WELCOME header must fit the 1 MiB header limit workers enforce (else they would only time out).
  const welcomeBytes = encodeHeader({
    t: 'WELCOME',
    v: PROTOCOL_VERSION,
    run: '',
    rank: 0,
    version: 0,
    heartbeatMs: 1,
    layout,
    config,
  }).length;
  if (welcomeBytes > MAX_HEADER_BYTES) {
    throw new Error(
      `Coordinator: the WELCOME header (layout of ${layout.entries.length} tensors plus options.config) is ${welcomeBytes} bytes; at most ${MAX_HEADER_BYTES} fit`,
    );
  }
  const d = COORDINATOR_DEFAULTS;
  const bindEndpoint = (options.endpoint ?? d.endpoint).replace(/:0$/, ':*');
  if (!isLoopbackEndpoint(bindEndpoint) && !options.curve && !options.insecure) {
    throw new Error(
      `Coordinator: endpoint '${bindEndpoint}' is not loopback; use CURVE (options.curve) or set insecure: true to send parameters unencrypted and unauthenticated`,
    );
  }
  return {
    bindEndpoint,
    minWorkers: options.minWorkers ?? d.minWorkers,
    joinTimeoutMs: options.joinTimeoutMs ?? d.joinTimeoutMs,
    stepTimeoutMs: options.stepTimeoutMs ?? d.stepTimeoutMs,
    heartbeatMs: options.heartbeatMs ?? d.heartbeatMs,
    heartbeatMisses: options.heartbeatMisses ?? d.heartbeatMisses,
    maxMessageSize: options.maxMessageSize ?? layout.size * 4 + d.messageHeadroomBytes,
    config,
  };
}

/** Checks the arguments of Coordinator.step; throws naming what is wrong. */
export function checkStepArguments(items: readonly unknown[], options: StepOptions): void {
  if (!Array.isArray(items) || items.length === 0) {
    throw new Error(
      `Coordinator.step: items must be a non-empty array, got ${Array.isArray(items) ? '[]' : typeof items}`,
    );
  }
  if (options.next !== undefined && !Array.isArray(options.next)) {
    throw new Error(`Coordinator.step: options.next must be an array of items, got ${typeof options.next}`);
  }
}
