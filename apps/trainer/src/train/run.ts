import path from 'node:path';
import type { BatchSampler } from '@scriptorium/data';
import { assignFlat } from '@scriptorium/dataparallel';
import { Recognizer, saveBundle } from '@scriptorium/models';
import type { Replica, TrainJob } from '../job.js';
import type { AppState } from './checkpoint.js';
import type { Engine } from './engine.js';
import { evaluateSamples } from './evaluate.js';
import { MetricsLog } from './metrics.js';
import type { TrainOptions } from './options.js';
import { ProgressBar } from './progress.js';
import type { MovingAverage } from './schedule.js';
import type { ValidationLines } from './validation.js';

export interface TrainSummary {
  steps: number;
  epochs: number;
  timeMs: number;
  bestCer: number;
  bestWer: number;
  bestDir: string;
  lastDir: string;
  runDir: string;
  stoppedBecause: string;
  /**
   * Lines left out of their batch, counted once per batch they were drawn in: bad data (--skip-bad) or texts
   * too long for their image. Each such line is reported once, when first found.
   */
  skippedLines: number;
}

/** Where a run writes, under its directory `out`: its best and last model bundles and its checkpoints. */
export function runDirs(out: string): { best: string; last: string; checkpoints: string } {
  return { best: path.join(out, 'best'), last: path.join(out, 'last'), checkpoints: path.join(out, 'checkpoints') };
}

/** What a run trains with, started (train.ts builds these). */
export interface RunParts {
  options: TrainOptions;
  job: TrainJob;
  replica: Replica;
  engine: Engine;
  sampler: BatchSampler;
  /** The state checkpoints keep; `app.trainedMs` is the training time of earlier sessions. */
  app: AppState;
  ema?: MovingAverage;
  validation: ValidationLines;
  /** The run directory. */
  out: string;
  /** The backend in use (recorded in the best bundle). */
  backend: string;
  /** Completed steps (those of the checkpoint resumed from). */
  step: number;
}

/** A run in progress: what the loop advances, and the run's two side jobs, validation and checkpoints. */
export class TrainRun {
  /** Completed steps. */
  step: number;
  /** Why the run stops ('' while it goes on): a budget, the patience or SIGINT. */
  stop = '';
  readonly startStep: number;
  readonly evalEvery: number;
  readonly dirs: ReturnType<typeof runDirs>;
  readonly metrics: MetricsLog;
  readonly progress?: ProgressBar;
  private readonly t0: number;
  private readonly sessionT0 = Date.now();
  private bestWer = NaN;

  constructor(readonly parts: RunParts) {
    this.step = this.startStep = parts.step;
    this.evalEvery = parts.options.evalEvery ?? parts.sampler.batchesPerEpoch;
    this.dirs = runDirs(parts.out);
    this.metrics = new MetricsLog(path.join(parts.out, 'metrics.jsonl'));
    this.progress = parts.options.quiet ? undefined : new ProgressBar();
    this.t0 = Date.now() - parts.app.trainedMs;
  }

  /** This session's training time (ms), without the earlier sessions' of a resumed run. */
  sessionMs(): number {
    return Date.now() - this.sessionT0;
  }

  /** Training time so far, earlier sessions' included (ms). */
  elapsedMs(): number {
    return Date.now() - this.t0;
  }

  /** Scores the validated weights (the moving average with --ema), saves them as the best model when they are, and stops the run after --patience evaluations without. */
  async validate(): Promise<void> {
    const { replica, job, app, sampler, validation, backend, options, out } = this.parts;
    this.loadValidatedWeights();
    const rec = new Recognizer(replica.model, replica.alphabet, { preprocess: job.preprocess });
    const report = await evaluateSamples(rec, await validation.load());
    await this.metrics.append({
      type: 'valid',
      step: this.step,
      epoch: sampler.epoch,
      timeMs: this.elapsedMs(),
      cer: report.cer,
      wer: report.wer,
    });
    const training = { data: job.data, steps: this.step, validCer: report.cer, validWer: report.wer, backend };
    if (report.cer < app.bestCer) {
      app.bestCer = report.cer;
      this.bestWer = report.wer;
      app.evalsWithoutImprovement = 0;
      await saveBundle(this.dirs.best, {
        model: replica.model,
        alphabet: replica.alphabet,
        preprocess: job.preprocess,
        training,
      });
    } else app.evalsWithoutImprovement++;
    this.progress?.log(
      `step ${this.step}: validation CER ${(100 * report.cer).toFixed(2)}% WER ${(100 * report.wer).toFixed(2)}% (best ${(100 * app.bestCer).toFixed(2)}%)`,
    );
    await this.metrics.plot(out);
    if (app.evalsWithoutImprovement >= options.patience)
      this.stop = `no better validation CER in ${options.patience} evaluations`;
  }

  /** Checkpoints this step: the engine's weights and optimizer state, the data cursor and this state, the moving average. */
  async checkpoint(): Promise<void> {
    const { app, sampler, engine, ema } = this.parts;
    app.sampler = sampler.getState();
    app.trainedMs = this.elapsedMs();
    await engine.checkpoint(app, ema ? { ema: ema.weights } : undefined);
  }

  /** After the loop: a last validation unless this step had one, a checkpoint, and the last validated weights as a bundle. */
  async finish(): Promise<void> {
    this.progress?.done();
    if (!Number.isFinite(this.parts.app.bestCer) || this.step % this.evalEvery !== 0) await this.validate();
    await this.checkpoint();
    this.loadValidatedWeights();
    const { replica, job } = this.parts;
    await saveBundle(this.dirs.last, {
      model: replica.model,
      alphabet: replica.alphabet,
      preprocess: job.preprocess,
      training: { data: job.data, steps: this.step },
    });
  }

  summary(): TrainSummary {
    const { sampler, app, out } = this.parts;
    return {
      steps: this.step,
      epochs: sampler.epoch,
      timeMs: this.elapsedMs(),
      bestCer: app.bestCer,
      bestWer: this.bestWer,
      bestDir: this.dirs.best,
      lastDir: this.dirs.last,
      runDir: out,
      stoppedBecause: this.stop,
      skippedLines: app.skippedLines ?? 0,
    };
  }

  /** Puts the weights that are validated and saved into the replica's model: the moving average with --ema, else the trained ones. */
  private loadValidatedWeights(): void {
    const { replica, ema, engine } = this.parts;
    assignFlat(replica.variables, ema?.weights ?? engine.params, replica.layout);
  }
}
