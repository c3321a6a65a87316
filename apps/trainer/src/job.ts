import { readFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs-core';
import {
  Alphabet,
  augmentSample,
  collate,
  LineCache,
  loadSample,
  openDataset,
  sampleSeed,
  skipBad,
  type AugmentConfig,
  type Dataset,
  type LineSample,
  type PreprocessConfig,
  type SkippedSample,
} from '@scriptorium/data';
import { requiredFrames } from '@scriptorium/ctc';
import { flattenNamedTensors, layoutFromVariables, type ParamLayout, assignFlat } from '@scriptorium/dataparallel';
import { buildModel, type ArchName, type ArchOptions, type HtrModel } from '@scriptorium/models';
import { errorReason, UsageError } from './cli/errors.js';
import { frozenRanges } from './train/finetune.js';
import { lineSource, mixLine, type LineSource, type Mix } from './train/mix.js';
import type { Warmup } from './train/warmup.js';

/** Model options a job sets itself: alphabetSize from its alphabet, height from its preprocess, seed from its seed. */
type SetByJob = 'alphabetSize' | 'height' | 'seed';

/**
 * A run's model: an architecture and its options as one value, the options' type following the name, from the
 * flags (--model, --dropout, --mdlstm-cell) through the job to buildModel. job.json keeps both at its top level.
 */
export type ModelChoice = { [A in ArchName]: { arch: A; modelOptions: Omit<ArchOptions[A], SetByJob> } }[ArchName];

/**
 * Everything a worker needs to build the same model and data as the coordinator. Written to
 * <run>/job.json; JSON only.
 */
export type TrainJob = ModelChoice & {
  alphabet: ReturnType<Alphabet['toJSON']>;
  /** Training data spec (e.g. 'mnist-lines', 'manifest:train.tsv') and, for mnist-lines, its size and seed. */
  data: { spec: string; count: number; seed: number };
  /** Layers whose gradients are zeroed, so they keep their weights (--freeze; train/finetune.ts). */
  freeze?: string[];
  /** Easier data for the first steps (--warmup-data, --warmup-steps); see train/warmup.ts. */
  warmup?: Warmup;
  /** Other data mixed into every step (--mix-data, --mix-share; rehearsal); see train/mix.ts. */
  mix?: Mix;
  preprocess: PreprocessConfig;
  /** Training augmentation; absent or all-zero: none. Each sample of each step gets its own seed (seed, step, index). */
  augment?: AugmentConfig;
  /** Skip samples whose data is bad (missing or undecodable image) instead of stopping; each is reported. */
  skipBad?: boolean;
  /** Keep up to this many MiB of decoded, normalised training lines in memory (per process); 0 or absent: none. */
  cacheMb?: number;
  seed: number;
};

/** A model replica with its training data: computes gradients for a list of sample indices. */
export interface Replica {
  model: HtrModel;
  alphabet: Alphabet;
  dataset: Dataset;
  layout: ParamLayout;
  variables: tf.Variable[];
  /**
   * Sets the parameters, then computes the mean-loss gradient over the samples `indices` (flat, layout order).
   * `step` (1-based, the coordinator's numbering) seeds the augmentation, so any process computes the same batch.
   * `count` and `losses` cover the lines actually used: those left out (bad data, infeasible) are not counted,
   * and `losses` skips lines whose data was bad (an infeasible line's loss is Infinity).
   * `next` (the samples of step + 1, when known) loads those ahead: for file data at once, so that file reads
   * (and sharp's decoding of formats other than grey PNG) run on libuv's threads beside the model's work on
   * this one; for generated data (composed in JavaScript on this thread) after this step's gradient is sent.
   */
  computeGradients(
    params: Float32Array,
    indices: readonly number[],
    step: number,
    next?: readonly number[],
  ): Promise<{ grads: Float32Array; lossSum: number; count: number; losses: Float32Array }>;
  /**
   * Lines loaded so far, how many of them a `next` hint had started ahead of their step, and the total time
   * computeGradients waited for its lines (ms).
   */
  readonly loadStats: { loaded: number; prefetched: number; waitMs: number };
}

export interface ReplicaOptions {
  /**
   * Called once per line left out of training: one whose data is bad (with `job.skipBad`), or one whose text
   * cannot fit its image's frames (CTC-infeasible; always left out, since it would make the batch loss infinite).
   */
  onSkip?: (skipped: SkippedSample) => void;
  /** File data must resolve inside this directory (a remote worker's --data-root). Default: anywhere. */
  dataRoot?: string;
}

/** Every field a job may have: a worker refuses others rather than train without what they say. */
const JOB_FIELDS: ReadonlySet<string> = new Set<keyof TrainJob>([
  'arch',
  'modelOptions',
  'alphabet',
  'data',
  'warmup',
  'mix',
  'freeze',
  'preprocess',
  'augment',
  'skipBad',
  'cacheMb',
  'seed',
]);

export async function createReplica(job: TrainJob, options: ReplicaOptions = {}): Promise<Replica> {
  const unknown = Object.keys(job).filter((k) => !JOB_FIELDS.has(k));
  if (unknown.length > 0)
    throw new UsageError(
      `job: unknown field(s) ${unknown.join(', ')} (written by a newer scriptorium? expected: ${[...JOB_FIELDS].join(', ')})`,
      false,
    );
  const alphabet = Alphabet.fromJSON(job.alphabet, 'job alphabet');
  const openTrain = (spec: string) =>
    openDataset(spec, {
      split: 'train',
      count: job.data.count,
      seed: job.data.seed,
      preprocess: job.preprocess,
      dataRoot: options.dataRoot,
    });
  if (job.mix && !(job.mix.share > 0 && job.mix.share < 1))
    throw new UsageError(`job: mix.share ${job.mix.share}: expected a fraction in (0, 1)`, false);
  const opened = await openTrain(job.data.spec);
  // mnist-lines and textlines compose each line in JavaScript (their `compose`); file data reads before it decodes.
  const composedInProcess = 'compose' in opened && typeof opened.compose === 'function';
  const cached = (ds: Dataset) => (job.cacheMb ? new LineCache(ds, { maxBytes: job.cacheMb * 2 ** 20 }) : ds);
  const dataset = cached(opened);
  const other: OtherData = {
    warmup: job.warmup && cached(await openTrain(job.warmup.spec)),
    mix: job.mix && cached(await openTrain(job.mix.spec)),
  };
  const model = buildModel(job.arch, {
    ...job.modelOptions,
    alphabetSize: alphabet.size,
    height: job.preprocess.height,
    seed: job.seed,
  });
  const variables = model.variables;
  const layout = layoutFromVariables(variables);
  const frozen = job.freeze ? frozenRanges(layout, job.freeze) : [];
  const { load, prefetch, loadStats } = lineLoader(job, dataset, other, options.onSkip);
  // By source and line id: a warm-up or mix line can stand at a training line's index (and generated ids may coincide).
  const reportedInfeasible = new Set<string>();
  return {
    model,
    alphabet,
    dataset,
    layout,
    variables,
    loadStats,
    async computeGradients(params, indices, step, next) {
      assignFlat(variables, params, layout);
      const waitStart = performance.now();
      const loaded = await Promise.all(indices.map(async (index) => ({ index, sample: await load(index, step) })));
      loadStats.waitMs += performance.now() - waitStart;
      // Generated lines are composed synchronously on this thread: loading them here would delay this gradient, so
      // they start once it is on its way (setImmediate runs after the caller's send) and fill the wait for the next
      // parameters. File data starts at once, so that its reads run on libuv's threads beside this step's compute.
      // Either way a line not yet loaded when its step comes is simply loaded then.
      if (next && next.length > 0) {
        if (composedInProcess) setImmediate(() => prefetch(next, step + 1));
        else prefetch(next, step + 1);
      }
      const kept = loaded.filter((l): l is { index: number; sample: LineSample } => l.sample !== undefined);
      if (kept.length === 0)
        return { grads: new Float32Array(layout.size), lossSum: 0, count: 0, losses: new Float32Array(0) };
      const batch = collate(
        kept.map((l) => l.sample),
        alphabet,
        { padWidthTo: model.widthMultiple },
      );
      // Dropout masks seeded by (run seed, step, the shard's first line): a resumed run draws the same ones.
      const dropoutSeed = sampleSeed(job.seed, step, kept[0]!.index);
      const { lossSum, losses, grads, count, infeasible } = model.lossAndGrads(batch, { dropoutSeed });
      for (const b of infeasible) {
        const { index, sample } = kept[b]!;
        const source = lineSource(job, step, index);
        const key = `${source}:${sample.id}`;
        if (reportedInfeasible.has(key)) continue;
        reportedInfeasible.add(key);
        const row = b * batch.maxLabelLength,
          needed = requiredFrames(batch.labels.subarray(row, row + batch.labelLengths[b]!));
        const frames = model.outputLengths([sample.image.width])[0];
        options.onSkip?.({
          index,
          id: source === 'train' ? sample.id : `${sample.id}, ${OTHER_DATA_NAMES[source]} data`,
          message: `its text needs ${needed} frames (one per character, plus a blank between repeats) but its ${sample.image.width} px image gives ${frames}; left out`,
        });
      }
      const flat = flattenNamedTensors(grads, layout);
      tf.dispose(Object.values(grads));
      for (const [start, end] of frozen) flat.fill(0, start, end); // Adadelta moves a weight by nothing for a zero gradient
      return { grads: flat, lossSum, count, losses };
    },
  };
}

/** The data other than the training data that a line may come from (train/mix.ts lineSource), opened. */
type OtherData = { [S in Exclude<LineSource, 'train'>]?: Dataset };
const OTHER_DATA_NAMES: Record<keyof OtherData, string> = { warmup: 'warm-up', mix: 'mix' };

/**
 * How a replica loads line i of a step: from the training data, the warm-up data or the mix data (as lineSource
 * draws), augmented with the sample's own seed; bad samples skipped (job.skipBad); lines of the next step started
 * early by `prefetch` (a `next` hint), counted in `loadStats`.
 */
function lineLoader(job: TrainJob, dataset: Dataset, other: OtherData, onSkip: ReplicaOptions['onSkip']) {
  // With skipBad, a sample whose data is bad becomes a gap in its batch (the count says so); it is not retried.
  const skipping = (ds: Dataset | undefined) => (ds && job.skipBad ? skipBad(ds, { onSkip }) : undefined);
  const loader = skipping(dataset);
  const otherLoaders = { warmup: skipping(other.warmup), mix: skipping(other.mix) };
  const augment = { augment: job.augment, seed: job.seed };
  const loadOne = async (i: number, step: number): Promise<LineSample | undefined> => {
    const source = lineSource(job, step, i);
    if (source !== 'train') {
      // Another data's line takes line i's place and its augmentation seed: a warm-up line at index i (wrapped if
      // the warm-up data is smaller), a mix line drawn over the whole mix data.
      const data = other[source]!;
      const at = source === 'warmup' ? i % data.size : mixLine(job.seed, step, i, data.size);
      const skipper = otherLoaders[source];
      const s = skipper ? await skipper.load(at) : await loadSample(data, at, step);
      return s && augmentSample(s, i, step, augment);
    }
    if (!loader) return loadSample(dataset, i, step, augment);
    const s = await loader.load(i);
    return s && augmentSample(s, i, step, augment); // as loadSample does: skipping changes nothing for the good samples
  };
  // Loads started by a `next` hint, keyed by step and index; only the latest step's are kept.
  let ahead = new Map<string, Promise<LineSample | undefined>>();
  const loadStats = { loaded: 0, prefetched: 0, waitMs: 0 };
  const load = (i: number, step: number): Promise<LineSample | undefined> => {
    loadStats.loaded++;
    const started = ahead.get(`${step}:${i}`);
    if (started) loadStats.prefetched++;
    return started ?? loadOne(i, step);
  };
  let aheadStep = -1;
  const prefetch = (indices: readonly number[], step: number) => {
    if (step !== aheadStep) [ahead, aheadStep] = [new Map(), step]; // a second shard of the same step adds to it
    for (const i of indices) {
      const key = `${step}:${i}`;
      if (ahead.has(key)) continue;
      const p = loadOne(i, step);
      // An error surfaces when the step that needs the line loads it again (a transient one may not recur).
      p.catch(() => ahead.get(key) === p && ahead.delete(key));
      ahead.set(key, p);
    }
  };
  return { load, prefetch, loadStats };
}

/** The fields in which two jobs differ, other than skipBad and cacheMb (each process may choose its own). */
export function jobDifferences(a: TrainJob, b: TrainJob): string[] {
  const x: Record<string, unknown> = a,
    y: Record<string, unknown> = b;
  return Object.keys({ ...a, ...b }).filter(
    (k) => k !== 'skipBad' && k !== 'cacheMb' && JSON.stringify(x[k]) !== JSON.stringify(y[k]),
  );
}

/** A job.json (worker --job): JSON as a run wrote it; its model options are checked when the model is built. */
export async function readJob(file: string): Promise<TrainJob> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as TrainJob;
  } catch (err) {
    throw new UsageError(`--job: cannot read '${file}' (${errorReason(err)})`, false);
  }
}
