import { adadeltaStep, createAdadeltaState, type AdadeltaConfig, type AdadeltaState } from '@scriptorium/adadelta';
import { Coordinator, saveCheckpoint, type CoordinatorOptions, type ParamLayout } from '@scriptorium/dataparallel';
import type { Replica } from '../job.js';

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
  checkpoint(dir: string, step: number, appState: unknown, extras?: Record<string, Float32Array>): Promise<string>;
  close(): Promise<void>;
}

/** Gradients in this process, then the same flat Adadelta step the coordinator runs. */
export class InProcessEngine implements Engine {
  readonly liveWorkers = 1;
  constructor(
    private readonly replica: Replica,
    readonly params: Float32Array,
    readonly optimizerState: AdadeltaState,
    private optimizer: AdadeltaConfig,
  ) {}

  setLearningRate(lr: number): void {
    this.optimizer = { ...this.optimizer, learningRate: lr };
  }

  async step(indices: number[], step: number, next?: number[]): Promise<EngineStep> {
    const r = await this.replica.computeGradients(this.params, indices, step, next);
    if (r.count === 0) return { loss: NaN, count: 0, workers: 1, skipped: true, gradNorm: NaN }; // every line skipped as bad
    const s = adadeltaStep(this.params, r.grads, this.optimizerState, { ...this.optimizer, onNonFinite: 'skip' });
    return { loss: r.lossSum / r.count, count: r.count, workers: 1, skipped: s.skipped, gradNorm: s.gradNorm };
  }

  checkpoint(dir: string, step: number, appState: unknown, extras?: Record<string, Float32Array>): Promise<string> {
    return saveCheckpoint(dir, { step, layout: this.replica.layout, params: this.params, optimizerState: this.optimizerState, appState, ...(extras ? { extras } : {}) }, { keep: 3 });
  }

  async close(): Promise<void> {}
}

/** A coordinator that shards each global batch over ZeroMQ workers. */
export class DistributedEngine implements Engine {
  private constructor(private readonly coord: Coordinator) {}

  static async start(options: CoordinatorOptions): Promise<DistributedEngine> {
    return new DistributedEngine(await Coordinator.start(options));
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

  checkpoint(dir: string, step: number, appState: unknown, extras?: Record<string, Float32Array>): Promise<string> {
    void dir;
    void step;
    return this.coord.saveCheckpoint(appState, extras);
  }

  close(): Promise<void> {
    return this.coord.close();
  }
}

export function freshOptimizerState(layout: ParamLayout): AdadeltaState {
  return createAdadeltaState(layout.size);
}
