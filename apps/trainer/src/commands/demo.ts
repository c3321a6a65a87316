import { rm } from 'node:fs/promises';
import { MNIST_WARMUP_LAYOUT, openDataset, syntheticSpec } from '@scriptorium/data';
import { Recognizer } from '@scriptorium/models';
import { BACKEND_NAMES } from '@scriptorium/runtime';
import { UsageError } from '../cli/errors.js';
import { flagChoice, flagValue, type CommandSpec, type ParsedFlags } from '../cli/flags.js';
import { errorReport, formatErrorReport } from '../train/error-report.js';
import { evaluate, type DecodeOptions, type EvalReport } from '../train/evaluate.js';
import { LM_DEFAULTS, loadLm } from '../train/lm.js';
import { TRAIN_DEFAULTS, type TrainOptions } from '../train/options.js';
import { train } from './train.js';

interface DemoTask {
  /** Run directory (replaced). */
  out: string;
  /** Default training budget. */
  minutes: number;
  /** The training options besides the defaults (TRAIN_DEFAULTS). */
  train: Partial<TrainOptions>;
  /** Test sets: generated data specs, scored on their test split. */
  tests: string[];
}

/** What each task trains on, for how long by default, and with which options (docs/benchmarks has the runs behind them). */
const TASKS: Record<'digits' | 'text', DemoTask> = {
  digits: {
    out: 'runs/demo',
    // 13.5: the build, the workers' start, the last validation and both test sets took 57 s more in the 22:05 run.
    minutes: 13.5,
    train: {
      data: 'mnist-lines',
      // A curriculum: on the default layout (1 to 15 digits of varying size, slant, margins, grey noisy paper) the model
      // sat on CTC's all-blank plateau for 4,800 of its 6,800 steps; with tidy lines first it leaves it by step 1,000 to
      // 1,500 (2,000 and 4,000 warm-up steps: 40.5% and 44.0% validation CER at step 3,500; docs/benchmarks/main-job.md).
      warmupData: syntheticSpec('mnist-lines', MNIST_WARMUP_LAYOUT),
      warmupSteps: 2000,
      // Small batches and no dropout: in a 14-minute budget more updates beat smoother ones, and dropout only slows
      // the escape from CTC's all-blank plateau (docs/benchmarks/main-job.md has the sweep behind these choices).
      // An evaluation (300 lines, then a checkpoint) held the workers for 2 to 3 s in the JavaScript-kernel demo run:
      // every 300 steps, 22 of them took about 53 s of its 14 minutes (2.4 s each over the first 10), and faster
      // steps would mean more of them.
      batch: 8,
      evalEvery: 1000,
      patience: 100,
      // Adadelta's epsilon sets the size of its first steps (about lr * sqrt(eps) / rms(grad)), and its steps grow
      // from there. 1e-5 against the default 1e-6, side by side: validation CER 16.5% against 20.3% at step 3,000,
      // ahead at every evaluation from step 500 (lr 2 instead: 17.9%; docs/benchmarks/main-job.md).
      eps: 1e-5,
      model: {
        arch: 'pham2014',
        modelOptions: {
          dropout: 0,
          // Cells whose state cannot compound along the scan: the paper's cell, with forget biases at 1, saturates and
          // learned about 2x slower here (docs/benchmarks/main-job.md).
          bounded: true,
        },
      },
      // Batches of lines of similar width: with lines of 1 to 15 digits in batches of 8, padding is 43% of the pixels a
      // step computes; sorted within windows of 20 batches, 5% (paddingRatio over 8,000 lines).
      bucket: 20,
      // Validate and keep a moving average of the weights (about the last 1,000 steps): training is unchanged, but the
      // validated model no longer swings by a point from one evaluation to the next, so a slower hour costs less.
      ema: 0.999,
      // Lines are composed on the fly, so a large pool costs nothing: no line repeats within the budget. No
      // augmentation: the generator draws its own slant, sizes, strokes and noise, and within this budget the default
      // augmentation on top cost more than it gave (validation CER 59.5% against 46.5% at step 2,500, with warm-up).
      trainLines: 100000,
      augment: 'none',
    },
    // Two test sets of digit images training never saw: the training layout, and a layout family it never drew.
    tests: ['mnist-lines', 'mnist-unseen'],
  },
  text: {
    out: 'runs/demo-text',
    minutes: 60,
    train: {
      data: 'textlines',
      batch: 8,
      model: { arch: 'pham2014', modelOptions: { dropout: 0, bounded: true } },
      evalEvery: 500,
      validLines: 200,
      patience: 100,
      bucket: 20,
      // The default preset of its run (docs/benchmarks/text-demo.md), stroke width changes included.
      ema: 0.999,
      trainLines: 500000,
      augment: 'default:erodeP=0.2,dilateP=0.2',
    },
    // Fonts and address years training never saw.
    tests: ['textlines'],
  },
};

const TASK_NAMES: ReadonlyArray<keyof typeof TASKS> = ['digits', 'text'];

export const demoCommand: CommandSpec = {
  name: 'demo',
  summary:
    'The main job (`npm start`): train pham2014 with 2 local workers for a bounded time, then score the best model on\n' +
    'test data it never saw and show a few recognised lines. --task digits (default): mnist-lines, tested on the\n' +
    'training layout and on a held-out layout; --task text (`npm run demo:text`): textlines, tested on held-out fonts\n' +
    'and years, greedy and with a beam and a character 6-gram LM of the training text.',
  synopsis: '[--task digits|text] [--time-limit 13.5m|60m] [--workers 2] [--out runs/demo|runs/demo-text]',
  flags: [
    {
      name: 'task',
      type: 'string',
      choices: TASK_NAMES,
      default: 'digits',
      help: 'what to learn to read: digit lines or English text lines',
    },
    {
      name: 'time-limit',
      type: 'duration',
      help: 'training budget (default: 13.5m for digits, so that npm start with a build from scratch and the test stays under 15 minutes on 2 cores; 60m for text)',
    },
    { name: 'workers', type: 'int', min: 0, default: 2, help: 'local worker processes' },
    {
      name: 'out',
      type: 'string',
      metavar: 'DIR',
      help: 'run directory (replaced; default runs/demo or runs/demo-text)',
    },
    { name: 'test-lines', type: 'int', min: 1, default: 500, help: 'test lines to score' },
    { name: 'beam', type: 'int', min: 2, default: 16, help: "beam width of the text task's LM decoding" },
    { name: 'backend', type: 'string', choices: BACKEND_NAMES, default: 'auto', help: 'tfjs backend' },
  ],
};

export async function runDemo(flags: ParsedFlags): Promise<void> {
  const num = (name: string) => flagValue(flags, name, 'number');
  const taskName = flagChoice(flags, 'task', TASK_NAMES);
  if (!taskName) throw new UsageError(`--task ${String(flags.task)}: expected digits or text`);
  const task = TASKS[taskName];
  const out = flagValue(flags, 'out', 'string') ?? task.out;
  await rm(out, { recursive: true, force: true });
  const started = Date.now();
  const summary = await train({
    ...TRAIN_DEFAULTS,
    ...task.train,
    workers: num('workers') ?? 2,
    timeLimit: num('time-limit') ?? task.minutes * 60_000,
    out,
    backend: flagChoice(flags, 'backend', BACKEND_NAMES) ?? 'auto',
  });
  const rec = await Recognizer.load(summary.bestDir);
  const testLines = num('test-lines') ?? 500,
    beam = num('beam') ?? 16;
  const scores: Array<[string, EvalReport]> = [];
  for (const spec of task.tests) {
    const test = await openDataset(spec, {
      split: 'test',
      count: testLines,
      seed: 12345,
      preprocess: rec.meta.preprocess,
    });
    scores.push([`${spec} test, greedy`, await evaluate(rec, test)]);
    if (taskName === 'text')
      scores.push([`${spec} test, beam ${beam} + LM`, await evaluate(rec, test, test.size, await textLm(rec, beam))]);
  }
  for (const [name, report] of scores) {
    console.log(`\n${name}: reference -> hypothesis`);
    for (const l of report.lines.slice(0, 5)) console.log(`  ${l.ref}\n  ${l.ref === l.hyp ? '= ' : '! '}${l.hyp}`);
  }
  const [lastName, last] = scores[scores.length - 1]!;
  console.log(`\nerrors of ${lastName}:\n${formatErrorReport(errorReport(last.lines))}\n`);
  for (const [name, report] of scores)
    console.log(
      `test CER ${(100 * report.cer).toFixed(2)}%  WER ${(100 * report.wer).toFixed(2)}% on ${report.lines.length} lines: ${name}`,
    );
  console.log(
    `${summary.steps} steps, total time ${((Date.now() - started) / 60_000).toFixed(1)} min; model: ${summary.bestDir}`,
  );
}

/** Beam search with the character n-gram LM of the training addresses (never the test years'), as `eval --lm textlines`. */
async function textLm(rec: Recognizer, beam: number): Promise<DecodeOptions> {
  const lm = await loadLm('textlines', rec.alphabet);
  return { beam, lm: lm.scorer(), lmWeight: LM_DEFAULTS.weight, insertionBonus: LM_DEFAULTS.bonus };
}
