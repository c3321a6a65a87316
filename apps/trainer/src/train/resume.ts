import type { LoadedCheckpoint } from '@scriptorium/dataparallel';
import { UsageError } from '../cli/errors.js';
import type { TrainJob } from '../job.js';
import type { TrainOptions } from './options.js';
import type { MovingAverage } from './schedule.js';

/** Flags by name ('--batch') with their values; null: not given. */
export type Settings = Record<string, number | string | null>;

/** What a checkpoint records of the run that wrote it; `settings` is absent in checkpoints older than the record. */
export interface RunRecord {
  job: TrainJob;
  settings?: Settings;
}

/** The flags that shape the optimisation: a resume must repeat them (checked by checkResume). */
export function runSettings(o: TrainOptions): Settings {
  return {
    '--batch': o.batch,
    '--lr': o.lr,
    '--rho': o.rho,
    '--eps': o.eps,
    '--clip-norm': o.clipNorm ?? null,
    '--augment': o.augment,
    ...(o.lrDecay !== undefined ? { '--lr-decay': o.lrDecay } : {}),
    ...(o.bucket ? { '--bucket': o.bucket } : {}),
    ...(o.ema !== undefined ? { '--ema': o.ema } : {}),
    ...(o.warmupData !== undefined ? { '--warmup-data': o.warmupData, '--warmup-steps': o.warmupSteps ?? null } : {}),
    ...(o.mixData !== undefined ? { '--mix-data': o.mixData, '--mix-share': o.mixShare ?? null } : {}),
    ...(o.initFrom !== undefined ? { '--init-from': o.initFrom } : {}),
    ...(o.freeze !== undefined ? { '--freeze': o.freeze.join(',') } : {}),
  };
}

/** What must be equal for a checkpoint to continue: the same model, data, line normalisation and alphabet. */
const SAME_RUN: ReadonlyArray<'arch' | 'data' | 'preprocess' | 'alphabet'> = ['arch', 'data', 'preprocess', 'alphabet'];

/**
 * Whether the run `saved` (from the checkpoint `file`) may continue as `current` asks: the refusal, naming what
 * differs and what the checkpoint holds, or the job to continue (the saved one, with the current skipBad and cacheMb).
 */
export function checkResume(
  saved: RunRecord,
  current: Required<RunRecord>,
  file: string,
): { job: TrainJob } | { refusal: string } {
  // Checkpoints from before the paper level was measured normalised their lines from a zero background, and those from
  // before baseline straightening did not straighten (nor deslant): they go on doing so (these are the version's
  // choices, not flags, so they are not compared).
  const was = {
      ...saved.job,
      preprocess: { background: 'zero' as const, straighten: false, deslant: false, ...saved.job.preprocess },
    },
    now = current.job;
  const comparable = (job: TrainJob, k: (typeof SAME_RUN)[number]) =>
    JSON.stringify(
      k === 'preprocess'
        ? { ...job.preprocess, background: undefined, straighten: undefined, deslant: undefined }
        : job[k],
    );
  const differs = SAME_RUN.filter((k) => comparable(was, k) !== comparable(now, k));
  if (differs.length) {
    return {
      refusal: `train --resume: ${file} was written with a different ${differs.join(', ')} (model ${was.arch}, data ${was.data.spec}); refusing to mix runs`,
    };
  }
  // Checkpoints from before the flags were recorded have no settings: nothing to compare them with.
  // The model options (--dropout, --mdlstm-cell) are in every checkpoint's job: the run rebuilds its model from them.
  const before: Settings = { ...(saved.settings ?? current.settings), ...modelSettings(was) };
  const after: Settings = { ...current.settings, ...modelSettings(now) };
  const changed = [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .filter((flag) => (after[flag] ?? null) !== (before[flag] ?? null))
    .map((flag) => `${flag} ${before[flag] ?? '(unset)'}`);
  if (changed.length)
    return {
      refusal: `train --resume: ${file} was trained with ${changed.join(', ')}; give the same to continue that run`,
    };
  // --skip-bad may change on resume (it only decides what a bad line does), e.g. to get past one; --cache-mb only
  // decides what is kept in memory. Neither changes what is trained.
  return { job: { ...was, skipBad: now.skipBad, cacheMb: now.cacheMb } };
}

/** A job's model options as the flags that set them. */
function modelSettings(job: TrainJob): Settings {
  const bounded = job.arch === 'pham2014' && job.modelOptions.bounded;
  return { '--dropout': job.modelOptions.dropout ?? null, '--mdlstm-cell': bounded ? 'bounded' : 'standard' };
}

/**
 * The moving average of the weights to validate and save with --ema (decay `decay`): the checkpoint's when
 * resuming, else a copy of `params`. Undefined without --ema.
 */
export function resumeEma(
  decay: number | undefined,
  params: Float32Array,
  checkpoint?: Pick<LoadedCheckpoint, 'path' | 'extras'>,
): MovingAverage | undefined {
  if (decay === undefined) return undefined;
  const saved = checkpoint?.extras.ema;
  if (checkpoint && !saved)
    throw new UsageError(
      `train --resume --ema: ${checkpoint.path} holds no moving average of the weights to continue`,
      false,
    );
  if (checkpoint && saved && saved.length !== params.length)
    throw new Error(`${checkpoint.path}: moving average has ${saved.length} values, the model ${params.length}`);
  return { decay, weights: saved ?? Float32Array.from(params) };
}
