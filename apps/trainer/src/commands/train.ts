import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { resolveAdadeltaConfig, type AdadeltaConfig } from '@scriptorium/adadelta';
import { Alphabet, AUGMENT_PRESETS, BatchSampler, DEFAULT_PREPROCESS, isSyntheticSpec, openDataset, parseAugmentSpec, TEXTLINES_CHARSET, type AugmentConfig, type Dataset, type LineSample, type SamplerState } from '@scriptorium/data';
import { assignFlat, flattenVariables, latestCheckpoint, launchLocal, loadCheckpoint, type LocalWorkers } from '@scriptorium/dataparallel';
import { ARCHS, ModelOptionError, Recognizer, saveBundle, type ArchName } from '@scriptorium/models';
import { initBackend } from '@scriptorium/runtime';
import { UsageError } from '../cli/errors.js';
import type { CommandSpec, ParsedFlags } from '../cli/flags.js';
import { createReplica, type TrainJob } from '../job.js';
import { DistributedEngine, freshOptimizerState, InProcessEngine, type Engine } from '../train/engine.js';
import { evaluateSamples, loadLines } from '../train/evaluate.js';
import { emaDecayAt, scheduledLearningRate, updateEma } from '../train/schedule.js';
import { MetricsLog } from '../train/metrics.js';
import { formatDuration, ProgressBar } from '../train/progress.js';
import { DATA_HELP } from '../cli/data-help.js';
import { readCurveKeys } from './keys-file.js';

/** Validation lines are kept in memory between evaluations up to this many bytes of pixels. */
const VALID_KEEP_BYTES = 256 * 2 ** 20;

export const trainCommand: CommandSpec = {
  name: 'train',
  summary: 'Train a recogniser: in this process (--workers 0), with local worker processes (--workers N), or with remote workers (--listen).',
  synopsis: '[--data SPEC] [--model pham2014|cnn-blstm] [--workers N | --listen tcp://HOST:PORT] [options]',
  flags: [
    { name: 'data', type: 'string', default: 'mnist-lines', metavar: 'SPEC', help: DATA_HELP },
    { name: 'valid', type: 'string', metavar: 'SPEC', help: 'validation data (default: the mnist-lines valid split, else the last 5% of the training data)' },
    { name: 'train-lines', type: 'int', min: 1, default: 10000, help: 'lines of generated training data (mnist-lines, textlines)' },
    { name: 'valid-lines', type: 'int', min: 1, default: 300, help: 'validation lines scored at each evaluation' },
    { name: 'model', type: 'string', choices: ARCHS, default: 'pham2014', help: 'architecture' },
    { name: 'height', type: 'int', min: 8, default: 32, help: 'line height after normalisation, px' },
    { name: 'dropout', type: 'number', min: 0, help: 'dropout (default: the architecture\'s)' },
    {
      name: 'mdlstm-cell', type: 'string', choices: ['standard', 'bounded'], default: 'standard',
      help: "pham2014's MDLSTM cell: 'standard' (the paper's) or 'bounded' (both forget terms halved, so the cell state cannot compound along the 2D scan; trains mnist-lines about 2x faster)",
    },
    { name: 'skip-bad', type: 'boolean', default: false, help: 'skip training lines whose image is missing or undecodable (each reported, count in the summary) instead of stopping' },
    { name: 'cache-mb', type: 'int', min: 0, default: 0, help: 'keep up to this many MiB of decoded, normalised training lines in memory in each process (0: none; pays off for file data over several epochs)' },
    { name: 'augment', type: 'string', default: 'none', metavar: 'SPEC', help: `training augmentation, seeded per sample and step: a preset (${Object.keys(AUGMENT_PRESETS).join(', ')}), a preset with fields changed ('default:shear=0,noiseStd=0.05') or fields alone ('shear=10,scale=0.9..1.1'); fields in @scriptorium/data's AugmentConfig` },
    { name: 'workers', type: 'int', min: 0, default: 0, help: 'local worker processes (0: train in this process)' },
    { name: 'listen', type: 'string', metavar: 'ENDPOINT', help: 'bind the coordinator here and wait for remote workers' },
    { name: 'min-workers', type: 'int', min: 1, default: 1, help: 'with --listen: workers needed before and during training' },
    { name: 'curve-keys', type: 'string', metavar: 'FILE', help: 'coordinator key file from `scriptorium keys` (enables CURVE)' },
    { name: 'allow-keys', type: 'list', metavar: 'KEY,...', help: 'with --curve-keys: worker public keys allowed to join' },
    { name: 'insecure', type: 'boolean', default: false, help: 'allow a non-loopback --listen without CURVE' },
    { name: 'batch', type: 'int', min: 1, default: 16, help: 'global batch size (lines per step)' },
    { name: 'bucket', type: 'int', min: 0, default: 0, metavar: 'N', help: 'batch lines of similar width to cut padding: sort by width (exact for mnist-lines, else estimated from the transcription length) within windows of N batches (0: off)' },
    { name: 'lr', type: 'number', min: 0, default: 1, help: 'Adadelta learning rate' },
    { name: 'rho', type: 'number', min: 0, default: 0.95, help: 'Adadelta decay of the running averages' },
    { name: 'eps', type: 'number', min: 0, default: 1e-6, help: 'Adadelta epsilon (sets the size of the first steps: about lr*sqrt(eps)/rms(grad))' },
    { name: 'clip-norm', type: 'number', min: 0, help: 'clip gradients to this global norm' },
    { name: 'ema', type: 'number', min: 0, metavar: 'D', help: 'validate and save a moving average of the weights, decay D (e.g. 0.999, about the last 1/(1-D) steps); the weights themselves train on unchanged' },
    { name: 'lr-decay', type: 'number', min: 0, metavar: 'F', help: 'from this fraction of the budget (--max-steps, else --time-limit) on, lower the learning rate linearly to 0 at its end' },
    { name: 'max-epochs', type: 'int', min: 1, help: 'stop after this many epochs' },
    { name: 'max-steps', type: 'int', min: 1, help: 'stop after this many steps' },
    { name: 'time-limit', type: 'duration', help: 'stop after this long (e.g. 10m)' },
    { name: 'eval-every', type: 'int', min: 1, help: 'validate every K steps (default: every epoch)' },
    { name: 'patience', type: 'int', min: 1, default: 10, help: 'stop after this many evaluations without a better CER' },
    { name: 'checkpoint-every', type: 'int', min: 1, default: 100, help: 'checkpoint every K steps' },
    { name: 'out', type: 'string', metavar: 'DIR', help: 'run directory (default: runs/<model>-<date>)' },
    { name: 'resume', type: 'boolean', default: false, help: 'continue the run in --out from its latest checkpoint' },
    { name: 'backend', type: 'string', choices: ['auto', 'tensorflow', 'wasm', 'cpu'], default: 'auto', help: 'tfjs backend (also SCRIPTORIUM_BACKEND)' },
    { name: 'seed', type: 'int', default: 1, help: 'seed of weights, data order and mnist-lines' },
    { name: 'quiet', type: 'boolean', default: false, help: 'no progress bar' },
  ],
};

/** What the loop keeps in checkpoints besides parameters and optimizer state. */
interface AppState {
  sampler: SamplerState;
  bestCer: number;
  evalsWithoutImprovement: number;
  trainedMs: number;
  /** Lines left out of their batch so far (once per batch they were drawn in): bad data (--skip-bad) or texts too long for their image. */
  skippedLines?: number;
  /** The training flags a resume must repeat (by flag name), so that it continues the same run. */
  settings?: Record<string, number | string | null>;
  job: TrainJob;
}

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

export interface TrainHooks {
  log?: (line: string) => void;
  /** How local workers are started: the CLI script and Node arguments. Default: this process's own. */
  workerScript?: string;
  workerNodeArgs?: string[];
}

export async function runTrain(flags: ParsedFlags, hooks: TrainHooks = {}): Promise<TrainSummary> {
  const log = hooks.log ?? ((l: string) => console.error(l));
  const workers = flags.workers as number;
  const listen = flags.listen as string | undefined;
  if (listen && workers > 0) throw new UsageError('train: give either --workers N or --listen ENDPOINT, not both');
  const arch = flags.model as ArchName;
  const out = path.resolve((flags.out as string | undefined) ?? path.join('runs', `${arch}-${new Date().toISOString().replace(/[:.]/g, '-')}`));
  const ckDir = path.join(out, 'checkpoints');
  const resume = flags.resume as boolean;
  if (flags['mdlstm-cell'] === 'bounded' && arch !== 'pham2014') throw new UsageError(`--mdlstm-cell bounded: model ${arch} has no MDLSTM layers (pham2014 has)`);
  const backend = await initBackend({ backend: flags.backend as string, log });
  if (arch === 'cnn-blstm' && backend.backend === 'wasm') {
    throw new UsageError("train: cnn-blstm needs convolution gradients, which the wasm backend lacks; use --backend cpu (or tensorflow)", false);
  }

  const lrDecay = flags['lr-decay'] as number | undefined;
  if (lrDecay !== undefined && !(lrDecay < 1)) throw new UsageError(`--lr-decay ${lrDecay}: expected a fraction of the budget in [0, 1)`);
  if (lrDecay !== undefined && flags['max-steps'] === undefined && flags['time-limit'] === undefined) {
    throw new UsageError('--lr-decay needs a budget to decay over: --max-steps or --time-limit');
  }
  const emaDecay = flags.ema as number | undefined;
  if (emaDecay !== undefined && !(emaDecay < 1)) throw new UsageError(`--ema ${emaDecay}: expected a decay in [0, 1), e.g. 0.999`);
  let optimizer: AdadeltaConfig;
  try {
    optimizer = resolveAdadeltaConfig({ learningRate: flags.lr as number, rho: flags.rho as number, epsilon: flags.eps as number, clipNorm: flags['clip-norm'] as number | undefined, onNonFinite: 'skip' });
  } catch (err) {
    const msg = (err as Error).message;
    const flag = ([['learningRate', '--lr'], ['rho', '--rho'], ['epsilon', '--eps'], ['clipNorm', '--clip-norm']] as const).find(([field]) => msg.includes(field));
    throw new UsageError(`${flag ? flag[1] : '--lr/--rho/--eps/--clip-norm'}: ${msg}`);
  }
  // Flags that shape the optimisation: a resume must repeat them (checked against the checkpoint below).
  const settings: Record<string, number | string | null> = {
    '--batch': flags.batch as number, '--lr': flags.lr as number, '--rho': flags.rho as number, '--eps': flags.eps as number,
    '--clip-norm': (flags['clip-norm'] as number | undefined) ?? null, '--augment': flags.augment as string,
    ...(flags['lr-decay'] !== undefined ? { '--lr-decay': flags['lr-decay'] as number } : {}),
    ...(flags.bucket ? { '--bucket': flags.bucket as number } : {}),
    ...(emaDecay !== undefined ? { '--ema': emaDecay } : {}),
  };

  // The job: everything a worker needs to rebuild the same model and data.
  const dataSpec = flags.data as string;
  const trainData = await openDataset(dataSpec, { split: 'train', count: flags['train-lines'] as number, seed: flags.seed as number, preprocess: { ...DEFAULT_PREPROCESS, height: flags.height as number } });
  let job: TrainJob = {
    arch,
    modelOptions: {
      ...(flags.dropout !== undefined ? { dropout: flags.dropout } : {}),
      ...(flags['mdlstm-cell'] === 'bounded' ? { bounded: true } : {}),
    },
    alphabet: alphabetFor(trainData).toJSON(),
    data: { spec: dataSpec, count: flags['train-lines'] as number, seed: flags.seed as number },
    preprocess: { ...DEFAULT_PREPROCESS, height: flags.height as number },
    ...(flags.augment !== 'none' ? { augment: augment(flags.augment as string) } : {}),
    ...(flags['skip-bad'] ? { skipBad: true } : {}),
    ...(flags['cache-mb'] ? { cacheMb: flags['cache-mb'] as number } : {}),
    seed: flags.seed as number,
  };
  let checkpoint = null;
  if (resume) {
    const file = await latestCheckpoint(ckDir);
    if (!file) throw new UsageError(`train --resume: no checkpoint in ${ckDir}`, false);
    checkpoint = await loadCheckpoint(file);
    const savedApp = checkpoint.appState as AppState;
    const saved = savedApp.job;
    const differs: string[] = (['arch', 'data', 'preprocess'] as const).filter((k) => JSON.stringify(saved[k]) !== JSON.stringify(job[k]));
    if (JSON.stringify(saved.alphabet) !== JSON.stringify(job.alphabet)) differs.push('alphabet');
    if (differs.length) {
      throw new UsageError(`train --resume: ${file} was written with a different ${differs.join(', ')} (model ${saved.arch}, data ${saved.data.spec}); refusing to mix runs`, false);
    }
    // Checkpoints from before the flags were recorded have no settings: nothing to compare them with.
    // The model options (--dropout, --mdlstm-cell) are in every checkpoint's job: the run rebuilds its model from them.
    const savedSettings: Record<string, number | string | null> = { ...(savedApp.settings ?? settings), ...modelFlags(saved.modelOptions) };
    const current = { ...settings, ...modelFlags(job.modelOptions) };
    const changed = [...new Set([...Object.keys(savedSettings), ...Object.keys(current)])]
      .filter((flag) => (current[flag] ?? null) !== (savedSettings[flag] ?? null))
      .map((flag) => `${flag} ${savedSettings[flag] ?? '(unset)'}`);
    if (changed.length) {
      throw new UsageError(`train --resume: ${file} was trained with ${changed.join(', ')}; give the same to continue that run`, false);
    }
    // --skip-bad may change on resume (it only decides what a bad line does), e.g. to get past one.
    job = { ...saved, skipBad: job.skipBad, cacheMb: job.cacheMb }; // neither changes what is trained
  }
  await mkdir(out, { recursive: true });
  const jobFile = path.join(out, 'job.json');
  await writeFile(jobFile, `${JSON.stringify(job, null, 2)}\n`);

  let replica: Awaited<ReturnType<typeof createReplica>>;
  try {
    replica = await createReplica(job, { onSkip: (s) => log(`skipped line ${s.index} ('${s.id}'): ${s.message}`) });
  } catch (err) {
    // The architectures reject heights their pooling cannot divide; that is a flag the user chose.
    if (err instanceof ModelOptionError && err.option === 'height') throw new UsageError(`--height ${job.preprocess.height}: ${err.message}`);
    throw err;
  }
  const validation = await validationSet(flags, job, trainData);
  const trainIndices = validation.trainSize;
  const params = checkpoint ? checkpoint.params : flattenVariables(replica.variables, replica.layout);
  const optState = checkpoint ? checkpoint.optimizerState : freshOptimizerState(replica.layout);
  // The weights that are validated and saved: a moving average of the trained ones with --ema, kept in checkpoints.
  // (Checked before any worker or socket exists, so that a refusal leaves nothing running.)
  let ema: Float32Array | undefined;
  if (emaDecay !== undefined) {
    const saved = checkpoint?.extras.ema;
    if (checkpoint && !saved) throw new UsageError(`train --resume --ema: ${checkpoint.path} holds no moving average of the weights to continue`, false);
    if (saved && saved.length !== params.length) throw new Error(`${checkpoint!.path}: moving average has ${saved.length} values, the model ${params.length}`);
    ema = saved ?? Float32Array.from(params);
  }
  const bucket = flags.bucket as number;
  const sampler = new BatchSampler({ size: trainIndices, batchSize: flags.batch as number, seed: job.seed, ...(bucket ? { widths: bucketWidths(trainData, trainIndices), bucketWindow: bucket } : {}) });
  let app: AppState = { sampler: sampler.getState(), bestCer: Infinity, evalsWithoutImprovement: 0, trainedMs: 0, settings, job };
  if (checkpoint) {
    app = { ...(checkpoint.appState as AppState), settings, job };
    sampler.setState(app.sampler);
  }
  let step = checkpoint?.step ?? 0;

  let engine: Engine;
  let local: LocalWorkers | undefined;
  if (workers === 0 && !listen) {
    engine = new InProcessEngine(replica, params, optState, optimizer);
  } else {
    const curve = flags['curve-keys'] ? await readCurveKeys(flags['curve-keys'] as string) : undefined;
    const dist = await DistributedEngine.start({
      endpoint: listen ?? 'tcp://127.0.0.1:0',
      layout: replica.layout,
      params,
      // Workers build their replica from this: remote ones need only the endpoint (and keys).
      config: { job },
      optimizer,
      optimizerState: optState,
      step,
      minWorkers: listen ? (flags['min-workers'] as number) : workers,
      joinTimeoutMs: 120_000,
      // Validation, checkpoints and bundle saves run on the coordinator's thread and can take seconds: allow a
      // minute of silence before a worker counts as gone (a dead worker's socket is noticed at once anyway).
      heartbeatMisses: 60,
      insecure: flags.insecure as boolean,
      curve: curve ? { ...curve, allowedClients: (flags['allow-keys'] as string[] | undefined) ?? [] } : undefined,
      checkpoint: { dir: ckDir, every: 1_000_000_000, keep: 3 },
      log: (level, msg) => {
        if (level !== 'debug') log(`[coordinator] ${msg}`);
      },
    });
    engine = dist;
    if (workers > 0) {
      local = launchLocal({
        workers,
        script: hooks.workerScript ?? process.argv[1]!,
        nodeArgs: hooks.workerNodeArgs ?? process.execArgv,
        args: ['worker', '--connect', dist.endpoint, '--backend', backend.backend, '--quiet'],
      });
      log(`launched ${workers} local workers; coordinator at ${dist.endpoint}`);
    } else {
      log(`coordinator listening at ${dist.endpoint}; waiting for ${flags['min-workers']} worker(s): scriptorium worker --connect ${dist.endpoint}`);
    }
    await dist.waitForWorkers(listen ? (flags['min-workers'] as number) : workers, 300_000);
  }

  const evaluated = () => ema ?? engine.params;
  const metrics = new MetricsLog(path.join(out, 'metrics.jsonl'));
  const bar = new ProgressBar();
  const progress = flags.quiet ? undefined : bar;
  const maxSteps = flags['max-steps'] as number | undefined;
  const maxEpochs = flags['max-epochs'] as number | undefined;
  const timeLimit = flags['time-limit'] as number | undefined;
  const evalEvery = (flags['eval-every'] as number | undefined) ?? sampler.batchesPerEpoch;
  const bestDir = path.join(out, 'best'), lastDir = path.join(out, 'last');
  let stop = '';
  const onSigint = () => {
    stop = 'interrupted (SIGINT)';
    log('\nSIGINT: finishing this step, then checkpointing');
  };
  process.once('SIGINT', onSigint);
  const t0 = Date.now() - app.trainedMs;
  let windowStart = Date.now(), windowLines = 0, bestWer = NaN;

  // Validation lines are not augmented, so they are loaded once and kept when they fit in VALID_KEEP_BYTES
  // (mnist-lines' 300: under 5 MB); larger sets are read again at each evaluation.
  let kept: LineSample[] | undefined;
  const validate = async () => {
    assignFlat(replica.variables, evaluated(), replica.layout);
    const rec = new Recognizer(replica.model, replica.alphabet, { preprocess: job.preprocess } as never);
    const lines = kept ?? (await loadLines(validation.dataset, validation.count));
    if (!kept && lines.reduce((n, l) => n + l.image.data.byteLength, 0) <= VALID_KEEP_BYTES) kept = lines;
    const report = await evaluateSamples(rec, lines);
    await metrics.append({ type: 'valid', step, epoch: sampler.epoch, timeMs: Date.now() - t0, cer: report.cer, wer: report.wer });
    const training = { data: job.data, steps: step, validCer: report.cer, validWer: report.wer, backend: backend.backend };
    if (report.cer < app.bestCer) {
      app.bestCer = report.cer;
      bestWer = report.wer;
      app.evalsWithoutImprovement = 0;
      await saveBundle(bestDir, { model: replica.model, alphabet: replica.alphabet, preprocess: job.preprocess, training });
    } else app.evalsWithoutImprovement++;
    progress?.log(`step ${step}: validation CER ${(100 * report.cer).toFixed(2)}% WER ${(100 * report.wer).toFixed(2)}% (best ${(100 * app.bestCer).toFixed(2)}%)`);
    await metrics.plot(out);
    if (app.evalsWithoutImprovement >= (flags.patience as number)) stop = `no better validation CER in ${flags.patience} evaluations`;
  };
  const saveCk = async () => {
    app.sampler = sampler.getState();
    app.trainedMs = Date.now() - t0;
    await engine.checkpoint(ckDir, step, app, ema ? { ema } : undefined);
  };

  try {
    while (!stop) {
      if (maxSteps !== undefined && step >= maxSteps) { stop = `reached --max-steps ${maxSteps}`; break; }
      if (maxEpochs !== undefined && sampler.epoch >= maxEpochs) { stop = `reached --max-epochs ${maxEpochs}`; break; }
      if (timeLimit !== undefined && Date.now() - t0 >= timeLimit) { stop = `reached --time-limit ${formatDuration(timeLimit)}`; break; }
      const batch = sampler.next();
      // The budget used before this step: steps or time, whichever ends the run first.
      const used = Math.max(maxSteps !== undefined ? step / maxSteps : 0, timeLimit !== undefined ? (Date.now() - t0) / timeLimit : 0);
      const lr = scheduledLearningRate(flags.lr as number, lrDecay, used);
      if (lrDecay !== undefined) engine.setLearningRate(lr);
      let r;
      try {
        r = await engine.step(batch, step + 1, sampler.peek());
      } catch (err) {
        if (stop) break; // interrupted: workers are gone; the last completed step is checkpointed below
        throw err;
      }
      step++;
      if (ema) updateEma(ema, engine.params, emaDecayAt(emaDecay!, step));
      windowLines += r.count;
      if (r.count < batch.length) app.skippedLines = (app.skippedLines ?? 0) + batch.length - r.count;
      const elapsed = Date.now() - windowStart;
      const linesPerSec = (windowLines * 1000) / Math.max(1, elapsed);
      if (elapsed > 20_000) { windowStart = Date.now(); windowLines = 0; }
      if (r.count === 0) {
        progress?.log(`step ${step}: every line of the batch was left out (reported above); no update`);
      } else if (r.skipped || !Number.isFinite(r.loss)) {
        progress?.log(`step ${step}: non-finite loss or gradient on lines [${batch.join(', ')}]; update skipped`);
      }
      await metrics.append({ type: 'train', step, epoch: sampler.epoch, timeMs: Date.now() - t0, loss: r.loss, lr, linesPerSec, workers: r.workers, skipped: r.skipped });
      const remaining = [
        maxSteps !== undefined ? ((maxSteps - step) * (Date.now() - t0)) / Math.max(1, step - (checkpoint?.step ?? 0)) : Infinity,
        timeLimit !== undefined ? timeLimit - (Date.now() - t0) : Infinity,
      ];
      const eta = Math.min(...remaining);
      progress?.update({ step, maxSteps, linesPerSec, loss: r.loss, etaMs: Number.isFinite(eta) ? eta : undefined, workers: engine.liveWorkers });
      if (step % evalEvery === 0) await validate();
      if (step % (flags['checkpoint-every'] as number) === 0) await saveCk();
    }
    progress?.done();
    if (!Number.isFinite(app.bestCer) || step % evalEvery !== 0) await validate();
    await saveCk();
    assignFlat(replica.variables, evaluated(), replica.layout);
    await saveBundle(lastDir, { model: replica.model, alphabet: replica.alphabet, preprocess: job.preprocess, training: { data: job.data, steps: step } });
  } finally {
    process.off('SIGINT', onSigint);
    await engine.close();
    await local?.stop();
  }
  const summary: TrainSummary = {
    steps: step, epochs: sampler.epoch, timeMs: Date.now() - t0, bestCer: app.bestCer, bestWer, bestDir, lastDir, runDir: out, stoppedBecause: stop,
    skippedLines: app.skippedLines ?? 0,
  };
  printSummary(summary, log);
  tf.disposeVariables();
  return summary;
}

function alphabetFor(ds: Dataset): Alphabet {
  if (ds.name.startsWith('mnist-')) return Alphabet.fromTexts(['0123456789']);
  if (ds.name.startsWith('textlines')) return Alphabet.fromTexts([TEXTLINES_CHARSET]); // every character, however rare in the sample
  const texts: string[] = [];
  for (let i = 0; i < ds.size; i++) texts.push(ds.text(i));
  return Alphabet.fromTexts(texts);
}

/** Widths to bucket the first n lines by: the dataset's own where it knows them unloaded, else transcription lengths. */
function bucketWidths(data: Dataset, n: number): Float64Array {
  const width = data.width?.bind(data);
  return Float64Array.from({ length: n }, (_, i) => (width ? width(i) : [...data.text(i)].length));
}

/** A job's model options as the flags that set them, for the resume check. */
function augment(spec: string): AugmentConfig {
  try {
    return parseAugmentSpec(spec);
  } catch (err) {
    throw new UsageError(`--augment: ${(err as Error).message}`);
  }
}

function modelFlags(options: Record<string, unknown>): Record<string, number | string | null> {
  return { '--dropout': (options.dropout as number | undefined) ?? null, '--mdlstm-cell': options.bounded ? 'bounded' : 'standard' };
}

async function validationSet(flags: ParsedFlags, job: TrainJob, train: Dataset): Promise<{ dataset: Dataset; count: number; trainSize: number }> {
  const count = flags['valid-lines'] as number;
  if (flags.valid) {
    const dataset = await openDataset(flags.valid as string, { split: 'valid', count, seed: job.seed, preprocess: job.preprocess });
    return { dataset, count, trainSize: train.size };
  }
  if (isSyntheticSpec(job.data.spec)) {
    // A generated dataset's own valid split, with the same options (digit images, fonts or texts training never sees).
    return { dataset: await openDataset(job.data.spec, { split: 'valid', count, seed: job.seed + 1, preprocess: job.preprocess }), count, trainSize: train.size };
  }
  // Split off the last 5% (at least one line) of the training data.
  const n = Math.max(1, Math.floor(train.size * 0.05));
  const start = train.size - n;
  const dataset: Dataset = { name: `${train.name} (last ${n})`, size: n, id: (i) => train.id(start + i), text: (i) => train.text(start + i), load: (i) => train.load(start + i) };
  return { dataset, count: Math.min(count, n), trainSize: start };
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
    ...(s.skippedLines ? [['lines left out (per batch)', String(s.skippedLines)] as [string, string]] : []),
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  log(rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`).join('\n'));
}

export async function readJob(file: string): Promise<TrainJob> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as TrainJob;
  } catch (err) {
    throw new UsageError(`--job: cannot read '${file}' (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, false);
  }
}
