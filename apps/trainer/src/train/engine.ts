import path from 'node:path';
import { adadeltaStep, createAdadeltaState, type AdadeltaConfig, type AdadeltaState } from '@scriptorium/adadelta';
import {
  Coordinator,
  launchLocal,
  saveCheckpoint,
  type CoordinatorOptions,
  type LocalWorkers,
  type ParamLayout,
} from '@scriptorium/dataparallel';
import { readCurveKeys } from '../commands/keys-file.js';
import type { Replica, TrainJob } from '../job.js';
import type { TrainOptions } from './options.js';

/**
 * Heartbeats a coordinator or worker may miss before the other counts it as gone, on both sides. Validation,
 * checkpoints and bundle saves run on the coordinator's thread and can take seconds: a minute of silence is allowed
 * (a dead peer's socket is noticed at once anyway).
 */
export const HEARTBEAT_MISSES = 60;

/** Checkpoints kept in a run directory (the oldest are pruned), in-process or distributed. */
const CHECKPOINTS_KEPT = 3;

/**
 * A local worker that dies (killed, crashed) is started again, at most 5 times per worker, after 1 s
 * doubling up to 30 s; the run goes on with the live workers meanwhile (local runs need only one).
 */
export const LOCAL_RESTARTS = { max: 5, backoffMs: 1000, maxBackoffMs: 30_000 } as const;

/**
 * How long a run waits for its workers to join at the start (--workers N: all N; --listen: --min-workers), and a
 * worker for its coordinator's WELCOME. SCRIPTORIUM_JOIN_TIMEOUT_MS overrides it (tests).
 */
export function joinTimeoutMs(): number {
  const v = Number(process.env.SCRIPTORIUM_JOIN_TIMEOUT_MS);
  return Number.isInteger(v) && v > 0 ? v : 300_000;
}

export interface EngineStep {
  /** Mean per-line loss of the step. */
  loss: number;
  count: number;
  workers: number;
  /** True when the update was skipped (non-finite gradient). */
  skipped: boolean;
  gradNorm: number;
}

/** One optimizer step over a global batch of sample indices, in-process or across workers. */
export interface Engine {
  readonly params: Float32Array;
  readonly optimizerState: AdadeltaState;
  readonly liveWorkers: number;
  /** Runs step number `step` (1-based) on the global batch `indices`; `next`, the following batch, is a prefetch hint. */
  step(indices: number[], step: number, next?: number[]): Promise<EngineStep>;
  /** The Adadelta learning rate of the following steps (a schedule). */
  setLearningRate(lr: number): void;
  /**
   * Writes a checkpoint of the state after the last completed step (weights, optimizer state, `appState` and the
   * `extras` arrays) into the checkpoint directory the engine was started with; both engines use saveCheckpoint's
   * format and pruning. Resolves to the file written.
   */
  checkpoint(appState: unknown, extras?: Record<string, Float32Array>): Promise<string>;
  close(): Promise<void>;
}

/** Gradients in this process, then the same flat Adadelta step the coordinator runs. */
export class InProcessEngine implements Engine {
  readonly liveWorkers = 1;
  /** The last completed step (the checkpoint's step). */
  private completed: number;
  constructor(
    private readonly replica: Replica,
    readonly params: Float32Array,
    readonly optimizerState: AdadeltaState,
    private optimizer: AdadeltaConfig,
    private readonly checkpointDir: string,
    step: number,
  ) {
    this.completed = step;
  }

  setLearningRate(lr: number): void {
    this.optimizer = { ...this.optimizer, learningRate: lr };
  }

  async step(indices: number[], step: number, next?: number[]): Promise<EngineStep> {
    const r = await this.replica.computeGradients(this.params, indices, step, next);
    this.completed = step;
    if (r.count === 0) return { loss: NaN, count: 0, workers: 1, skipped: true, gradNorm: NaN }; // every line skipped as bad
    const s = adadeltaStep(this.params, r.grads, this.optimizerState, { ...this.optimizer, onNonFinite: 'skip' });
    return { loss: r.lossSum / r.count, count: r.count, workers: 1, skipped: s.skipped, gradNorm: s.gradNorm };
  }

  checkpoint(appState: unknown, extras?: Record<string, Float32Array>): Promise<string> {
    return saveCheckpoint(
      this.checkpointDir,
      {
        step: this.completed,
        layout: this.replica.layout,
        params: this.params,
        optimizerState: this.optimizerState,
        appState,
        ...(extras ? { extras } : {}),
      },
      { keep: CHECKPOINTS_KEPT },
    );
  }

  async close(): Promise<void> {}
}

/** A coordinator that shards each global batch over ZeroMQ workers; closing it stops the local workers it launched. */
export class DistributedEngine implements Engine {
  private local?: LocalWorkers;
  private constructor(private readonly coord: Coordinator) {}

  static async start(options: CoordinatorOptions): Promise<DistributedEngine> {
    return new DistributedEngine(await Coordinator.start(options));
  }

  /**
   * Starts `workers` local worker processes (`script` with `args`), stopped when the engine closes; one that
   * dies is restarted (LOCAL_RESTARTS), each restart logged.
   */
  launchLocal(workers: number, script: string, nodeArgs: string[], args: string[], log: (line: string) => void): void {
    this.local = launchLocal({
      workers,
      script,
      nodeArgs,
      args,
      restart: {
        ...LOCAL_RESTARTS,
        onRestart: ({ index, pid, code, signal, restart, delayMs }) => {
          const how = signal ? `was killed by ${signal}` : `exited with status ${code}`;
          if (delayMs === null)
            log(
              `local worker ${index} (pid ${pid}) ${how}; not restarted (${LOCAL_RESTARTS.max} restarts used); the run goes on with the live workers`,
            );
          else
            log(
              `local worker ${index} (pid ${pid}) ${how}; restart ${restart} of ${LOCAL_RESTARTS.max} in ${delayMs} ms; the run goes on with the live workers meanwhile`,
            );
        },
      },
    });
  }

  get endpoint(): string {
    return this.coord.endpoint;
  }

  setLearningRate(lr: number): void {
    this.coord.setLearningRate(lr);
  }

  get params(): Float32Array {
    return this.coord.params;
  }

  get optimizerState(): AdadeltaState {
    return this.coord.optimizerState;
  }

  get liveWorkers(): number {
    return this.coord.liveWorkers;
  }

  waitForWorkers(n: number, timeoutMs: number): Promise<void> {
    return this.coord.waitForWorkers(n, timeoutMs);
  }

  async step(indices: number[], step: number, next?: number[]): Promise<EngineStep> {
    const r = await this.coord.step(indices, { next });
    if (r.step !== step) throw new Error(`internal: the coordinator ran step ${r.step}, the trainer expected ${step}`);
    return { loss: r.loss, count: r.count, workers: r.workers, skipped: r.skipped, gradNorm: r.gradNorm };
  }

  checkpoint(appState: unknown, extras?: Record<string, Float32Array>): Promise<string> {
    return this.coord.saveCheckpoint(appState, extras);
  }

  async close(): Promise<void> {
    try {
      await this.coord.close();
    } finally {
      await this.local?.stop();
    }
  }
}

export function freshOptimizerState(layout: ParamLayout): AdadeltaState {
  return createAdadeltaState(layout.size);
}

/** Where an engine starts: the replica, the job workers rebuild it from, and the step, weights and optimizer to continue. */
export interface EngineStart {
  replica: Replica;
  job: TrainJob;
  step: number;
  params: Float32Array;
  optimizerState: AdadeltaState;
  optimizer: AdadeltaConfig;
  checkpointDir: string;
}

export interface EngineHooks {
  log: (line: string) => void;
  /** The backend local workers are to use: the coordinator's. */
  backend: string;
  /** How local workers are started: the CLI script and Node arguments. Default: this process's own. */
  workerScript?: string;
  workerNodeArgs?: string[];
}

type EngineOptions = Pick<TrainOptions, 'workers' | 'listen' | 'minWorkers' | 'curveKeys' | 'allowKeys' | 'insecure'>;

/**
 * The engine a run asks for: in this process (no --workers, no --listen), or a coordinator with local worker processes
 * (--workers N) or waiting for remote ones (--listen). Resolves once the workers needed have joined.
 */
export async function startEngine(o: EngineOptions, start: EngineStart, hooks: EngineHooks): Promise<Engine> {
  if (o.workers === 0 && !o.listen)
    return new InProcessEngine(
      start.replica,
      start.params,
      start.optimizerState,
      start.optimizer,
      start.checkpointDir,
      start.step,
    );
  const { log } = hooks;
  const curve = o.curveKeys ? await readCurveKeys(o.curveKeys) : undefined;
  const needed = o.listen ? o.minWorkers : o.workers;
  const engine = await DistributedEngine.start({
    endpoint: o.listen ?? 'tcp://127.0.0.1:0',
    layout: start.replica.layout,
    params: start.params,
    // Workers build their replica from this: remote ones need only the endpoint (and keys).
    config: { job: start.job },
    optimizer: start.optimizer,
    optimizerState: start.optimizerState,
    step: start.step,
    // A local run goes on with the workers it has while a dead one restarts; --listen keeps --min-workers.
    minWorkers: o.listen ? o.minWorkers : 1,
    joinTimeoutMs: 120_000,
    heartbeatMisses: HEARTBEAT_MISSES,
    insecure: o.insecure,
    // Local workers authenticate with the coordinator's own key pair (the file they are started with): whoever
    // holds that file can act as the coordinator anyway, so allowing its public key opens nothing new.
    curve: curve
      ? { ...curve, allowedClients: [...(o.allowKeys ?? []), ...(o.workers > 0 ? [curve.publicKey] : [])] }
      : undefined,
    checkpoint: { dir: start.checkpointDir, keep: CHECKPOINTS_KEPT }, // saved when the trainer says (no `every`)
    log: (level, msg) => {
      if (level !== 'debug') log(`[coordinator] ${msg}`);
    },
  });
  try {
    if (o.workers > 0) {
      // The user typed the data paths of a local run: its workers open them wherever they are.
      const args = [
        'worker',
        '--connect',
        engine.endpoint,
        '--data-root',
        '/',
        '--backend',
        hooks.backend,
        '--quiet',
        ...localCurveArgs(o.curveKeys, curve),
      ];
      engine.launchLocal(
        o.workers,
        hooks.workerScript ?? process.argv[1]!,
        hooks.workerNodeArgs ?? process.execArgv,
        args,
        log,
      );
      log(`launched ${o.workers} local workers; coordinator at ${engine.endpoint}`);
    } else {
      log(
        `coordinator listening at ${engine.endpoint}; waiting for ${o.minWorkers} worker(s): scriptorium worker --connect ${engine.endpoint}`,
      );
    }
    await engine.waitForWorkers(needed, joinTimeoutMs());
  } catch (err) {
    await engine.close();
    throw err;
  }
  return engine;
}

/** The worker flags that let a local worker join a CURVE coordinator started with the key file `keyFile` (none without). */
function localCurveArgs(keyFile: string | undefined, keys: { publicKey: string } | undefined): string[] {
  return keyFile && keys ? ['--curve-keys', path.resolve(keyFile), '--server-key', keys.publicKey] : [];
}
