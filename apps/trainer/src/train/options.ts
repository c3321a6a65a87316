import { ADADELTA_DEFAULTS, resolveAdadeltaConfig, type ResolvedAdadeltaConfig } from '@scriptorium/adadelta';
import { AUGMENT_PRESETS, DEFAULT_PREPROCESS } from '@scriptorium/data';
import { ARCHS, type ArchName } from '@scriptorium/models';
import { BACKEND_NAMES, type BackendName } from '@scriptorium/runtime';
import { DATA_HELP } from '../cli/data-help.js';
import { UsageError } from '../cli/errors.js';
import { flagChoice, flagValue, type FlagSpec, type ParsedFlags } from '../cli/flags.js';
import type { ModelChoice } from '../job.js';

/**
 * What `scriptorium train` does, typed: the flags in camelCase (as --config takes them), except `model`, which
 * holds --model, --dropout and --mdlstm-cell as one value. TRAIN_FLAGS below says what each one means.
 */
export interface TrainOptions {
  data: string;
  valid?: string;
  trainLines: number;
  validLines: number;
  model: ModelChoice;
  height: number;
  skipBad: boolean;
  cacheMb: number;
  /** An augmentation spec, as --augment takes it ('none', a preset, fields). */
  augment: string;
  /** Fine-tuning: start from this bundle's model (train/finetune.ts); freeze these layers. */
  initFrom?: string;
  freeze?: string[];
  /** Easier data for the first warmupSteps steps (a curriculum, train/warmup.ts). */
  warmupData?: string;
  warmupSteps?: number;
  /** Rehearsal: each line drawn from mixData with probability mixShare, in (0, 1) (train/mix.ts). */
  mixData?: string;
  mixShare?: number;
  workers: number;
  listen?: string;
  minWorkers: number;
  curveKeys?: string;
  allowKeys?: string[];
  insecure: boolean;
  batch: number;
  bucket: number;
  lr: number;
  rho: number;
  eps: number;
  clipNorm?: number;
  ema?: number;
  lrDecay?: number;
  maxEpochs?: number;
  maxSteps?: number;
  /** ms */
  timeLimit?: number;
  evalEvery?: number;
  patience: number;
  checkpointEvery: number;
  out?: string;
  resume: boolean;
  backend: BackendName;
  seed: number;
  quiet: boolean;
}

/** Each default stated once: the Adadelta ones are @scriptorium/adadelta's, the line height @scriptorium/data's. */
export const TRAIN_DEFAULTS: TrainOptions = {
  data: 'mnist-lines',
  trainLines: 10000,
  validLines: 300,
  model: { arch: 'pham2014', modelOptions: {} },
  height: DEFAULT_PREPROCESS.height,
  skipBad: false,
  cacheMb: 0,
  augment: 'none',
  workers: 0,
  minWorkers: 1,
  insecure: false,
  batch: 16,
  bucket: 0,
  lr: ADADELTA_DEFAULTS.learningRate,
  rho: ADADELTA_DEFAULTS.rho,
  eps: ADADELTA_DEFAULTS.epsilon,
  patience: 10,
  checkpointEvery: 100,
  resume: false,
  backend: 'auto',
  seed: 1,
  quiet: false,
};

type MdlstmCell = 'standard' | 'bounded';
const MDLSTM_CELLS: readonly MdlstmCell[] = ['standard', 'bounded'];
const D = TRAIN_DEFAULTS;

export const TRAIN_FLAGS: FlagSpec[] = [
  { name: 'data', type: 'string', default: D.data, metavar: 'SPEC', help: DATA_HELP },
  {
    name: 'valid',
    type: 'string',
    metavar: 'SPEC',
    help: 'validation data (default: generated data (mnist-lines, textlines) use their own valid split, other data the last 5% of the training lines)',
  },
  {
    name: 'train-lines',
    type: 'int',
    min: 1,
    default: D.trainLines,
    help: 'lines of generated training data (mnist-lines, textlines)',
  },
  {
    name: 'valid-lines',
    type: 'int',
    min: 1,
    default: D.validLines,
    help: 'validation lines scored at each evaluation',
  },
  // No parse-time defaults for the three flags --init-from takes from its bundle, so that giving one with it is seen.
  { name: 'model', type: 'string', choices: ARCHS, help: `architecture (default: ${D.model.arch})` },
  { name: 'height', type: 'int', min: 8, help: `line height after normalisation, px (default: ${D.height})` },
  { name: 'dropout', type: 'number', min: 0, help: "dropout (default: the architecture's)" },
  {
    name: 'mdlstm-cell',
    type: 'string',
    choices: MDLSTM_CELLS,
    help: "pham2014's MDLSTM cell: 'standard' (the paper's) or 'bounded' (both forget terms halved, so the cell state cannot compound along the 2D scan; trains mnist-lines about 2x faster) (default: standard)",
  },
  {
    name: 'skip-bad',
    type: 'boolean',
    default: D.skipBad,
    help: 'skip training lines whose image is missing or undecodable (each reported, count in the summary) instead of stopping',
  },
  {
    name: 'cache-mb',
    type: 'int',
    min: 0,
    default: D.cacheMb,
    help: 'keep up to this many MiB of decoded, normalised training lines in memory in each process, for each of --data, --warmup-data and --mix-data (0: none; pays off for file data over several epochs)',
  },
  {
    name: 'augment',
    type: 'string',
    default: D.augment,
    metavar: 'SPEC',
    help: `training augmentation, seeded per sample and step: a preset (${Object.keys(AUGMENT_PRESETS).join(', ')}), a preset with fields changed ('default:shear=0,noiseStd=0.05') or fields alone ('shear=10,scale=0.9..1.1'); fields in @scriptorium/data's AugmentConfig`,
  },
  {
    name: 'init-from',
    type: 'string',
    metavar: 'BUNDLE',
    help: 'fine-tune: start from a trained model bundle (its architecture, options and line height; --dropout may change); characters of the new data it lacks are added to its alphabet and output layer',
  },
  {
    name: 'freeze',
    type: 'list',
    metavar: 'LAYER,...',
    help: 'with --init-from: layers whose weights stay as they are (pham2014: mdlstm1..3, conv1..2, output)',
  },
  {
    name: 'warmup-data',
    type: 'string',
    metavar: 'SPEC',
    help: 'a curriculum: easier data (a spec as --data takes it) for the first --warmup-steps steps, each line drawn from it with a probability falling linearly from 1 to 0; CTC leaves its all-blank plateau far sooner on short, clean lines (its characters join the alphabet)',
  },
  {
    name: 'warmup-steps',
    type: 'int',
    min: 1,
    metavar: 'N',
    help: 'with --warmup-data: steps over which its share falls to 0',
  },
  {
    name: 'mix-data',
    type: 'string',
    metavar: 'SPEC',
    help: "rehearsal: other data (a spec as --data takes it, e.g. the old task's lines when fine-tuning) mixed into every step, each line drawn from it with probability --mix-share; keeps a fine-tuned model from forgetting what it knew (its characters join the alphabet; during a warm-up, the mix takes its share of the lines the warm-up leaves)",
  },
  {
    name: 'mix-share',
    type: 'number',
    metavar: 'P',
    help: 'with --mix-data: the chance that a line comes from it, in (0, 1), e.g. 0.5 for half the lines',
  },
  {
    name: 'workers',
    type: 'int',
    min: 0,
    default: D.workers,
    help: 'local worker processes (0: train in this process)',
  },
  {
    name: 'listen',
    type: 'string',
    metavar: 'ENDPOINT',
    help: 'bind the coordinator here and wait for remote workers',
  },
  {
    name: 'min-workers',
    type: 'int',
    min: 1,
    default: D.minWorkers,
    help: 'with --listen: workers needed before and during training',
  },
  {
    name: 'curve-keys',
    type: 'string',
    metavar: 'FILE',
    help: 'coordinator key file from `scriptorium keys` (enables CURVE)',
  },
  {
    name: 'allow-keys',
    type: 'list',
    metavar: 'KEY,...',
    help: 'with --curve-keys: worker public keys allowed to join',
  },
  { name: 'insecure', type: 'boolean', default: D.insecure, help: 'allow a non-loopback --listen without CURVE' },
  { name: 'batch', type: 'int', min: 1, default: D.batch, help: 'global batch size (lines per step)' },
  {
    name: 'bucket',
    type: 'int',
    min: 0,
    default: D.bucket,
    metavar: 'N',
    help: 'batch lines of similar width to cut padding: sort by width (exact for mnist-lines, else estimated from the transcription length) within windows of N batches (0: off)',
  },
  { name: 'lr', type: 'number', min: 0, default: D.lr, help: 'Adadelta learning rate' },
  { name: 'rho', type: 'number', min: 0, default: D.rho, help: 'Adadelta decay of the running averages' },
  {
    name: 'eps',
    type: 'number',
    min: 0,
    default: D.eps,
    help: 'Adadelta epsilon (sets the size of the first steps: about lr*sqrt(eps)/rms(grad))',
  },
  { name: 'clip-norm', type: 'number', min: 0, help: 'clip gradients to this global norm' },
  {
    name: 'ema',
    type: 'number',
    min: 0,
    metavar: 'D',
    help: 'validate and save a moving average of the weights, decay D (e.g. 0.999, about the last 1/(1-D) steps); the weights themselves train on unchanged',
  },
  {
    name: 'lr-decay',
    type: 'number',
    min: 0,
    metavar: 'F',
    help: 'from this fraction of the budget (--max-steps, else --time-limit) on, lower the learning rate linearly to 0 at its end',
  },
  { name: 'max-epochs', type: 'int', min: 1, help: 'stop after this many epochs' },
  { name: 'max-steps', type: 'int', min: 1, help: 'stop after this many steps' },
  { name: 'time-limit', type: 'duration', help: 'stop after this long (e.g. 10m)' },
  { name: 'eval-every', type: 'int', min: 1, help: 'validate every K steps (default: every epoch)' },
  {
    name: 'patience',
    type: 'int',
    min: 1,
    default: D.patience,
    help: 'stop after this many evaluations without a better CER',
  },
  { name: 'checkpoint-every', type: 'int', min: 1, default: D.checkpointEvery, help: 'checkpoint every K steps' },
  { name: 'out', type: 'string', metavar: 'DIR', help: 'run directory (default: runs/<model>-<date>)' },
  { name: 'resume', type: 'boolean', default: D.resume, help: 'continue the run in --out from its latest checkpoint' },
  {
    name: 'backend',
    type: 'string',
    choices: BACKEND_NAMES,
    default: D.backend,
    help: 'tfjs backend (also SCRIPTORIUM_BACKEND)',
  },
  { name: 'seed', type: 'int', default: D.seed, help: 'seed of weights, data order, augmentation and generated data' },
  { name: 'quiet', type: 'boolean', default: D.quiet, help: 'no progress bar' },
];

/** The flags of `train` (parsed against TRAIN_FLAGS) as TrainOptions; a flag without a value keeps the default. */
export function trainOptions(flags: ParsedFlags): TrainOptions {
  const str = (name: string) => flagValue(flags, name, 'string');
  const num = (name: string) => flagValue(flags, name, 'number');
  const bool = (name: string) => flagValue(flags, name, 'boolean');
  const arch = flagChoice(flags, 'model', ARCHS) ?? D.model.arch;
  if (flags['init-from'] !== undefined) {
    const given = ['model', 'mdlstm-cell', 'height'].filter((f) => flags[f] !== undefined);
    if (given.length > 0)
      throw new UsageError(
        `--init-from takes the architecture, --mdlstm-cell and --height from its bundle: leave out ${given.map((f) => `--${f}`).join(', ')}`,
      );
  }
  return {
    data: str('data') ?? D.data,
    valid: str('valid'),
    trainLines: num('train-lines') ?? D.trainLines,
    validLines: num('valid-lines') ?? D.validLines,
    model: modelChoice(arch, num('dropout'), flagChoice(flags, 'mdlstm-cell', MDLSTM_CELLS) ?? 'standard'),
    height: num('height') ?? D.height,
    skipBad: bool('skip-bad') ?? D.skipBad,
    cacheMb: num('cache-mb') ?? D.cacheMb,
    augment: str('augment') ?? D.augment,
    initFrom: str('init-from'),
    freeze: flagValue(flags, 'freeze', 'list'),
    warmupData: str('warmup-data'),
    warmupSteps: num('warmup-steps'),
    mixData: str('mix-data'),
    mixShare: num('mix-share'),
    workers: num('workers') ?? D.workers,
    listen: str('listen'),
    minWorkers: num('min-workers') ?? D.minWorkers,
    curveKeys: str('curve-keys'),
    allowKeys: flagValue(flags, 'allow-keys', 'list'),
    insecure: bool('insecure') ?? D.insecure,
    batch: num('batch') ?? D.batch,
    bucket: num('bucket') ?? D.bucket,
    lr: num('lr') ?? D.lr,
    rho: num('rho') ?? D.rho,
    eps: num('eps') ?? D.eps,
    clipNorm: num('clip-norm'),
    ema: num('ema'),
    lrDecay: num('lr-decay'),
    maxEpochs: num('max-epochs'),
    maxSteps: num('max-steps'),
    timeLimit: num('time-limit'),
    evalEvery: num('eval-every'),
    patience: num('patience') ?? D.patience,
    checkpointEvery: num('checkpoint-every') ?? D.checkpointEvery,
    out: str('out'),
    resume: bool('resume') ?? D.resume,
    backend: flagChoice(flags, 'backend', BACKEND_NAMES) ?? D.backend,
    seed: num('seed') ?? D.seed,
    quiet: bool('quiet') ?? D.quiet,
  };
}

/** --model, --dropout and --mdlstm-cell as one model choice; a bounded cell needs MDLSTM layers. */
export function modelChoice(arch: ArchName, dropout: number | undefined, cell: MdlstmCell): ModelChoice {
  const options = dropout !== undefined ? { dropout } : {};
  if (arch === 'pham2014')
    return { arch, modelOptions: { ...options, ...(cell === 'bounded' ? { bounded: true } : {}) } };
  if (cell === 'bounded')
    throw new UsageError(`--mdlstm-cell bounded: model ${arch} has no MDLSTM layers (pham2014 has)`);
  return { arch, modelOptions: options };
}

/** The Adadelta fields the flags set, with the flag that sets each (to name it in an error). */
const ADADELTA_FLAGS: ReadonlyArray<[field: string, flag: string]> = [
  ['learningRate', '--lr'],
  ['rho', '--rho'],
  ['epsilon', '--eps'],
  ['clipNorm', '--clip-norm'],
];

/**
 * Refuses what a single flag's checks cannot see (combinations, ranges that depend on the meaning), naming the
 * flags; returns the Adadelta configuration of the run (its checks are the adadelta package's own).
 */
export function checkTrainOptions(o: TrainOptions): ResolvedAdadeltaConfig {
  if (o.listen && o.workers > 0) throw new UsageError('train: give either --workers N or --listen ENDPOINT, not both');
  if (o.lrDecay !== undefined && !(o.lrDecay < 1))
    throw new UsageError(`--lr-decay ${o.lrDecay}: expected a fraction of the budget in [0, 1)`);
  if (o.lrDecay !== undefined && o.maxSteps === undefined && o.timeLimit === undefined) {
    throw new UsageError('--lr-decay needs a budget to decay over: --max-steps or --time-limit');
  }
  if (o.freeze !== undefined && o.initFrom === undefined)
    throw new UsageError('--freeze needs --init-from BUNDLE (a model whose layers are worth keeping)');
  if ((o.warmupData === undefined) !== (o.warmupSteps === undefined))
    throw new UsageError('--warmup-data and --warmup-steps go together: give both or neither');
  if ((o.mixData === undefined) !== (o.mixShare === undefined))
    throw new UsageError('--mix-data and --mix-share go together: give both or neither');
  if (o.mixShare !== undefined && !(o.mixShare > 0 && o.mixShare < 1))
    throw new UsageError(`--mix-share ${o.mixShare}: expected a fraction in (0, 1), e.g. 0.5 for half the lines`);
  if (o.ema !== undefined && !(o.ema < 1))
    throw new UsageError(`--ema ${o.ema}: expected a decay in [0, 1), e.g. 0.999`);
  try {
    return resolveAdadeltaConfig({
      learningRate: o.lr,
      rho: o.rho,
      epsilon: o.eps,
      clipNorm: o.clipNorm,
      onNonFinite: 'skip',
    });
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    const flag = ADADELTA_FLAGS.find(([field]) => msg.includes(field));
    throw new UsageError(`${flag ? flag[1] : '--lr/--rho/--eps/--clip-norm'}: ${msg}`);
  }
}
