import { rm } from 'node:fs/promises';
import { openDataset } from '@scriptorium/data';
import { Recognizer } from '@scriptorium/models';
import { UsageError } from '../cli/errors.js';
import type { CommandSpec, ParsedFlags } from '../cli/flags.js';
import { parseFlags } from '../cli/flags.js';
import { errorReport, formatErrorReport } from '../train/error-report.js';
import { evaluate, type DecodeOptions, type EvalReport } from '../train/evaluate.js';
import { LM_DEFAULTS, trainLm } from '../train/lm.js';
import { runTrain, trainCommand } from './train.js';

/** What each task trains on, for how long by default, and with which flags (docs/benchmarks has the runs behind them). */
const TASKS = {
  digits: {
    data: 'mnist-lines', out: 'runs/demo', minutes: 14,
    flags: [
      // Small batches and no dropout: in a 14-minute budget more updates beat smoother ones, and dropout only slows
      // the escape from CTC's all-blank plateau (docs/benchmarks/main-job.md has the sweep behind these choices).
      '--batch', '8', '--dropout', '0', '--eval-every', '300', '--patience', '100',
      // Batches of lines of similar width: lines of 1 to 15 digits padded to the widest of a batch cost about twice
      // the computation.
      '--bucket', '20',
      // Cells whose state cannot compound along the scan: the paper's cell, with forget biases at 1, saturates and
      // learned about 2x slower here (docs/benchmarks/main-job.md).
      '--mdlstm-cell', 'bounded',
      // Validate and keep a moving average of the weights (about the last 1,000 steps): training is unchanged, but the
      // validated model no longer swings by a point from one evaluation to the next, so a slower hour costs less.
      '--ema', '0.999',
      // Lines are composed on the fly, so a large pool costs nothing: no line repeats within the budget.
      '--train-lines', '100000', '--augment', 'default',
    ],
    // Two test sets of digit images training never saw: the training layout, and a layout family it never drew.
    tests: ['mnist-lines', 'mnist-unseen'],
  },
  text: {
    data: 'textlines', out: 'runs/demo-text', minutes: 60,
    flags: [
      '--batch', '8', '--dropout', '0', '--eval-every', '500', '--valid-lines', '200', '--patience', '100', '--bucket', '20',
      '--mdlstm-cell', 'bounded', '--ema', '0.999', '--train-lines', '500000', '--augment', 'default',
    ],
    // Fonts and address years training never saw.
    tests: ['textlines'],
  },
} as const;

type Task = keyof typeof TASKS;

export const demoCommand: CommandSpec = {
  name: 'demo',
  summary:
    'The main job (`npm start`): train pham2014 with 2 local workers for a bounded time, then score the best model on\n' +
    'test data it never saw and show a few recognised lines. --task digits (default): mnist-lines, tested on the\n' +
    'training layout and on a held-out layout; --task text (`npm run demo:text`): textlines, tested on held-out fonts\n' +
    'and years, greedy and with a beam and a character 6-gram LM of the training text.',
  synopsis: '[--task digits|text] [--time-limit 14m|60m] [--workers 2] [--out runs/demo|runs/demo-text]',
  flags: [
    { name: 'task', type: 'string', choices: Object.keys(TASKS), default: 'digits', help: 'what to learn to read: digit lines or English text lines' },
    { name: 'time-limit', type: 'duration', help: 'training budget (default: 14m for digits, so that npm start with a build from scratch and the test stays under 15 minutes on 2 cores; 60m for text)' },
    { name: 'workers', type: 'int', min: 0, default: 2, help: 'local worker processes' },
    { name: 'out', type: 'string', metavar: 'DIR', help: 'run directory (replaced; default runs/demo or runs/demo-text)' },
    { name: 'test-lines', type: 'int', min: 1, default: 500, help: 'test lines to score' },
    { name: 'beam', type: 'int', min: 2, default: 16, help: 'beam width of the text task\'s LM decoding' },
    { name: 'backend', type: 'string', choices: ['auto', 'tensorflow', 'wasm', 'cpu'], default: 'auto', help: 'tfjs backend' },
  ],
};

export async function runDemo(flags: ParsedFlags): Promise<void> {
  const task = TASKS[flags.task as Task];
  if (!task) throw new UsageError(`--task ${String(flags.task)}: expected digits or text`);
  const out = (flags.out as string | undefined) ?? task.out;
  const minutes = ((flags['time-limit'] as number | undefined) ?? task.minutes * 60_000) / 60_000;
  await rm(out, { recursive: true, force: true });
  const started = Date.now();
  const train = parseFlags(trainCommand, [
    '--model', 'pham2014', '--data', task.data, '--workers', String(flags.workers), '--time-limit', `${minutes * 60}s`,
    '--out', out, '--backend', flags.backend as string, ...task.flags,
  ]);
  const summary = await runTrain(train);
  const rec = await Recognizer.load(summary.bestDir);
  const scores: Array<[string, EvalReport]> = [];
  for (const spec of task.tests) {
    const test = await openDataset(spec, { split: 'test', count: flags['test-lines'] as number, seed: 12345, preprocess: rec.meta.preprocess });
    scores.push([`${spec} test, greedy`, await evaluate(rec, test)]);
    if (flags.task === 'text') scores.push([`${spec} test, beam ${flags.beam} + LM`, await evaluate(rec, test, test.size, await textLm(rec, flags.beam as number))]);
  }
  for (const [name, report] of scores) {
    console.log(`\n${name}: reference -> hypothesis`);
    for (const l of report.lines.slice(0, 5)) console.log(`  ${l.ref}\n  ${l.ref === l.hyp ? '= ' : '! '}${l.hyp}`);
  }
  const [, last] = scores[scores.length - 1]!;
  console.log(`\nerrors of ${scores[scores.length - 1]![0]}:\n${formatErrorReport(errorReport(last.lines))}\n`);
  for (const [name, report] of scores) console.log(`test CER ${(100 * report.cer).toFixed(2)}%  WER ${(100 * report.wer).toFixed(2)}% on ${report.lines.length} lines: ${name}`);
  console.log(`${summary.steps} steps, total time ${((Date.now() - started) / 60_000).toFixed(1)} min; model: ${summary.bestDir}`);
}

/** Beam search with the character n-gram LM of the training addresses (never the test years'), as `eval --lm textlines`. */
async function textLm(rec: Recognizer, beam: number): Promise<DecodeOptions> {
  const lm = await trainLm('textlines', rec.alphabet);
  return { beam, lm: lm.scorer(), lmWeight: LM_DEFAULTS.weight, insertionBonus: LM_DEFAULTS.bonus };
}
