import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  Alphabet,
  BatchSampler,
  DEFAULT_PREPROCESS,
  openDataset,
  parseAugmentSpec,
  TEXTLINES_CHARSET,
  type AugmentConfig,
  type Dataset,
} from '@scriptorium/data';
import { flattenVariables } from '@scriptorium/dataparallel';
import { ModelOptionError } from '@scriptorium/models';
import { initBackend } from '@scriptorium/runtime';
import { UsageError } from '../cli/errors.js';
import type { CommandSpec, ParsedFlags } from '../cli/flags.js';
import { IMAGE_CAP_FLAG } from '../cli/image-cap.js';
import { createReplica, type ModelChoice, type Replica, type TrainJob } from '../job.js';
import { latestRunCheckpoint, type AppState, type RunCheckpoint } from '../train/checkpoint.js';
import { freshOptimizerState, startEngine } from '../train/engine.js';
import { fineTuneParams, grownAlphabet, openFineTuneBase, type FineTuneBase } from '../train/finetune.js';
import { trainLoop } from '../train/loop.js';
import { checkTrainOptions, TRAIN_FLAGS, trainOptions, type TrainOptions } from '../train/options.js';
import { formatDuration } from '../train/progress.js';
import { checkResume, resumeEma, runSettings, type Settings } from '../train/resume.js';
import { runDirs, TrainRun, type TrainSummary } from '../train/run.js';
import { ValidationLines, validationSet } from '../train/validation.js';

export type { TrainSummary };

export const trainCommand: CommandSpec = {
  name: 'train',
  summary:
    'Train a recogniser: in this process (--workers 0), with local worker processes (--workers N), or with remote workers (--listen).',
  synopsis: '[--data SPEC] [--model pham2014|cnn-blstm] [--workers N | --listen tcp://HOST:PORT] [options]',
  flags: [...TRAIN_FLAGS, IMAGE_CAP_FLAG],
};

export interface TrainHooks {
  log?: (line: string) => void;
  /** How local workers are started: the CLI script and Node arguments. Default: this process's own. */
  workerScript?: string;
  workerNodeArgs?: string[];
}

/** `scriptorium train`: its flags, parsed once into TrainOptions. */
export async function runTrain(flags: ParsedFlags, hooks: TrainHooks = {}): Promise<TrainSummary> {
  return train(trainOptions(flags), hooks);
}

/** Trains a recogniser as `o` says, in this process or with workers, from scratch or from the latest checkpoint (o.resume). */
export async function train(o: TrainOptions, hooks: TrainHooks = {}): Promise<TrainSummary> {
  const log = hooks.log ?? ((l: string) => console.error(l));
  const optimizer = checkTrainOptions(o);
  const { backend } = await initBackend({ backend: o.backend, log });
  // Fine-tuning takes the model and the line normalisation from the bundle it starts from.
  const base = o.initFrom !== undefined ? await openFineTuneBase(o.initFrom, o.model.modelOptions.dropout) : undefined;
  const model = base?.model ?? o.model;
  const preprocess = base
    ? { ...DEFAULT_PREPROCESS, ...base.bundle.meta.preprocess }
    : { ...DEFAULT_PREPROCESS, height: o.height };
  if (model.arch === 'cnn-blstm' && backend === 'wasm') {
    throw new UsageError(
      'train: cnn-blstm needs convolution gradients, which the wasm backend lacks; use --backend cpu (or tensorflow)',
      false,
    );
  }
  const out = path.resolve(
    o.out ?? path.join('runs', `${model.arch}-${new Date().toISOString().replace(/[:.]/g, '-')}`),
  );
  const dirs = runDirs(out);

  // The job: everything a worker needs to rebuild the same model and data; a resume continues the checkpoint's.
  const openTrain = (spec: string) =>
    openDataset(spec, { split: 'train', count: o.trainLines, seed: o.seed, preprocess });
  const trainData = await openTrain(o.data);
  // The warm-up and mix data, whose characters join the alphabet.
  const moreData = await Promise.all([o.warmupData, o.mixData].filter((s) => s !== undefined).map(openTrain));
  const settings = runSettings(o);
  const checkpoint = o.resume ? await latestRunCheckpoint(dirs.checkpoints, log) : undefined;
  let job = newJob(o, {
    model,
    preprocess,
    alphabet: runAlphabet([trainData, ...moreData], base, o.freeze, checkpoint ? undefined : log),
  });
  if (checkpoint) {
    const resumed = checkResume(checkpoint.appState, { job, settings }, checkpoint.path);
    if ('refusal' in resumed) throw new UsageError(resumed.refusal, false);
    job = resumed.job;
  }
  await mkdir(out, { recursive: true });
  await writeFile(path.join(out, 'job.json'), `${JSON.stringify(job, null, 2)}\n`);

  const replica = await trainReplica(job, log);
  const validation = await validationSet(o.valid, o.validLines, job, trainData);
  const { step, params, optimizerState, ema, sampler, app } = startingState(o, {
    job,
    replica,
    base,
    checkpoint,
    settings,
    trainData,
    trainSize: validation.trainSize,
  });

  const engine = await startEngine(
    o,
    { replica, job, step, params, optimizerState, optimizer, checkpointDir: dirs.checkpoints },
    { log, backend, workerScript: hooks.workerScript, workerNodeArgs: hooks.workerNodeArgs },
  );
  const run = new TrainRun({
    options: o,
    job,
    replica,
    engine,
    sampler,
    app,
    ema,
    validation: new ValidationLines(validation),
    out,
    backend,
    step,
  });
  const onSigint = () => {
    run.stop = 'interrupted (SIGINT)';
    log('\nSIGINT: finishing this step, then checkpointing');
  };
  process.once('SIGINT', onSigint);
  try {
    await trainLoop(run);
    await run.finish();
  } finally {
    process.off('SIGINT', onSigint);
    await engine.close();
  }
  const summary = run.summary();
  printSummary(summary, log);
  tf.disposeVariables();
  return summary;
}

/**
 * Where training starts: step, parameters, optimizer state, EMA, batch order and the app state of a checkpoint
 * (o.resume), or fresh ones (parameters from the fine-tuning base where there is one).
 */
function startingState(
  o: TrainOptions,
  parts: {
    job: TrainJob;
    replica: Replica;
    base: FineTuneBase | undefined;
    checkpoint: RunCheckpoint | undefined;
    settings: Settings;
    trainData: Dataset;
    trainSize: number;
  },
) {
  const { job, replica, base, checkpoint, settings, trainData, trainSize } = parts;
  const step = checkpoint?.step ?? 0;
  const initial = () =>
    base
      ? fineTuneParams(base.bundle.model.variables, replica.variables, replica.layout)
      : flattenVariables(replica.variables, replica.layout);
  const params = checkpoint ? checkpoint.params : initial();
  const optimizerState = checkpoint ? checkpoint.optimizerState : freshOptimizerState(replica.layout);
  // (Checked before any worker or socket exists, so that a refusal leaves nothing running.)
  const ema = resumeEma(o.ema, params, checkpoint);
  const n = trainSize;
  const sampler = new BatchSampler({
    size: n,
    batchSize: o.batch,
    seed: job.seed,
    ...(o.bucket ? { widths: bucketWidths(trainData, n), bucketWindow: o.bucket } : {}),
  });
  let app: AppState = {
    sampler: sampler.getState(),
    bestCer: Infinity,
    evalsWithoutImprovement: 0,
    trainedMs: 0,
    settings,
    job,
  };
  if (checkpoint) {
    app = { ...checkpoint.appState, settings, job };
    sampler.setState(app.sampler);
  }
  return { step, params, optimizerState, ema, sampler, app };
}

/** The job of a new run: its model, alphabet, data, line normalisation, augmentation and seed. */
function newJob(
  o: TrainOptions,
  parts: Pick<TrainJob, 'preprocess'> & { model: ModelChoice; alphabet: Alphabet },
): TrainJob {
  return {
    ...parts.model,
    alphabet: parts.alphabet.toJSON(),
    data: { spec: o.data, count: o.trainLines, seed: o.seed },
    ...(o.warmupData !== undefined && o.warmupSteps !== undefined
      ? { warmup: { spec: o.warmupData, steps: o.warmupSteps } }
      : {}),
    ...(o.mixData !== undefined && o.mixShare !== undefined ? { mix: { spec: o.mixData, share: o.mixShare } } : {}),
    preprocess: parts.preprocess,
    ...(o.augment !== 'none' ? { augment: augment(o.augment) } : {}),
    ...(o.freeze ? { freeze: o.freeze } : {}),
    ...(o.skipBad ? { skipBad: true } : {}),
    ...(o.cacheMb ? { cacheMb: o.cacheMb } : {}),
    seed: o.seed,
  };
}

/**
 * The characters of `datasets` (the training, warm-up and mix data); when fine-tuning, the bundle's alphabet with
 * those it lacks appended (said in `log`, which a resumed run leaves out: its weights come from the checkpoint).
 */
function runAlphabet(
  datasets: readonly Dataset[],
  base: FineTuneBase | undefined,
  freeze: readonly string[] | undefined,
  log: ((line: string) => void) | undefined,
): Alphabet {
  const data = Alphabet.fromTexts(datasets.flatMap((ds) => alphabetFor(ds).chars));
  if (!base) return data;
  const { alphabet, added } = grownAlphabet(base.bundle.alphabet, data);
  if (freeze?.includes('output') && added.length > 0) {
    throw new UsageError(
      `--freeze output: the new character(s) ${added.join('')} need the output layer to learn them; freeze other layers`,
      false,
    );
  }
  const { arch, modelOptions } = base.model;
  log?.(
    `fine-tuning ${base.dir}: ${arch} ${JSON.stringify(modelOptions)}, line height ${base.bundle.meta.preprocess.height} (the bundle's); ` +
      (added.length > 0
        ? `${added.length} new character(s) added to its ${base.bundle.alphabet.chars.length}: ${added.join('')}`
        : 'no new characters'),
  );
  return alphabet;
}

function alphabetFor(ds: Dataset): Alphabet {
  if (ds.name.startsWith('mnist-')) return Alphabet.fromTexts(['0123456789']);
  if (ds.name.startsWith('textlines')) return Alphabet.fromTexts([TEXTLINES_CHARSET]); // every character, however rare in the sample
  const texts: string[] = [];
  for (let i = 0; i < ds.size; i++) texts.push(ds.text(i));
  return Alphabet.fromTexts(texts);
}

function augment(spec: string): AugmentConfig {
  try {
    return parseAugmentSpec(spec);
  } catch (err) {
    throw new UsageError(`--augment: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** This process's replica; a height the architecture cannot pool is the --height the user chose. */
async function trainReplica(job: TrainJob, log: (line: string) => void): Promise<Replica> {
  try {
    return await createReplica(job, { onSkip: (s) => log(`skipped line ${s.index} ('${s.id}'): ${s.message}`) });
  } catch (err) {
    if (err instanceof ModelOptionError && err.option === 'height')
      throw new UsageError(`--height ${job.preprocess.height}: ${err.message}`);
    throw err;
  }
}

/** Widths to bucket the first n lines by: the dataset's own where it knows them unloaded, else transcription lengths. */
function bucketWidths(data: Dataset, n: number): Float64Array {
  const width = data.width?.bind(data);
  return Float64Array.from({ length: n }, (_, i) => (width ? width(i) : [...data.text(i)].length));
}

function printSummary(s: TrainSummary, log: (l: string) => void): void {
  const rows: Array<[string, string]> = [
    ['stopped', s.stoppedBecause || 'done'],
    ['steps', String(s.steps)],
    ['epochs', String(s.epochs)],
    ['time', formatDuration(s.timeMs)],
    ['best validation CER', Number.isFinite(s.bestCer) ? `${(100 * s.bestCer).toFixed(2)}%` : '--'],
    ['best validation WER', Number.isFinite(s.bestWer) ? `${(100 * s.bestWer).toFixed(2)}%` : '--'],
    ['best model', s.bestDir],
    ['last model', s.lastDir],
    ['metrics and plots', s.runDir],
  ];
  if (s.skippedLines) rows.push(['lines left out (per batch)', String(s.skippedLines)]);
  const w = Math.max(...rows.map((r) => r[0].length));
  log(rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`).join('\n'));
}
