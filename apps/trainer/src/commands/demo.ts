import { openDataset } from '@scriptorium/data';
import { Recognizer } from '@scriptorium/models';
import type { CommandSpec, ParsedFlags } from '../cli/flags.js';
import { evaluate } from '../train/evaluate.js';
import { parseFlags } from '../cli/flags.js';
import { runTrain, trainCommand } from './train.js';

export const demoCommand: CommandSpec = {
  name: 'demo',
  summary:
    'The main job (`npm start`): train pham2014 on mnist-lines with 2 local workers for a bounded time, then score the\n' +
    'best model on the test split and show a few recognised lines.',
  synopsis: '[--time-limit 14m] [--workers 2] [--out runs/demo]',
  flags: [
    { name: 'time-limit', type: 'duration', default: 14 * 60_000, help: 'training budget (the whole job, with a build from scratch (11 s) and the test, stays under 15 minutes on 2 cores)' },
    { name: 'workers', type: 'int', min: 0, default: 2, help: 'local worker processes' },
    { name: 'out', type: 'string', default: 'runs/demo', metavar: 'DIR', help: 'run directory (replaced)' },
    { name: 'test-lines', type: 'int', min: 1, default: 500, help: 'test lines to score' },
    { name: 'backend', type: 'string', choices: ['auto', 'tensorflow', 'wasm', 'cpu'], default: 'auto', help: 'tfjs backend' },
  ],
};

export async function runDemo(flags: ParsedFlags): Promise<void> {
  const { rm } = await import('node:fs/promises');
  await rm(flags.out as string, { recursive: true, force: true });
  const started = Date.now();
  const train = parseFlags(trainCommand, [
    '--model', 'pham2014', '--data', 'mnist-lines', '--workers', String(flags.workers), '--time-limit', `${(flags['time-limit'] as number) / 1000}s`,
    '--out', flags.out as string, '--batch', '8', '--eval-every', '300', '--patience', '100', '--backend', flags.backend as string,
    // Small batches and no dropout: in a 14-minute budget more updates beat smoother ones, and dropout only slows
    // the escape from CTC's all-blank plateau (docs/benchmarks/main-job.md has the sweep behind these choices).
    '--dropout', '0',
    // Cells whose state cannot compound along the scan: the paper's cell, with forget biases at 1, saturates and
    // learned about 2x slower here (docs/benchmarks/main-job.md).
    '--mdlstm-cell', 'bounded',
    // Validate and keep a moving average of the weights (about the last 1,000 steps): training is unchanged, but the
    // validated model no longer swings by a point from one evaluation to the next, so a slower hour costs less.
    '--ema', '0.999',
    // Lines are composed on the fly, so a large pool costs nothing: no line repeats within the budget.
    '--train-lines', '100000', '--augment', 'default',
  ]);
  const summary = await runTrain(train);
  const rec = await Recognizer.load(summary.bestDir);
  const testLines = flags['test-lines'] as number;
  // Two test sets of digit images training never saw: the training layout, and a layout family it never drew.
  const scores: Array<[string, Awaited<ReturnType<typeof evaluate>>]> = [];
  for (const spec of ['mnist-lines', 'mnist-unseen']) {
    const test = await openDataset(spec, { split: 'test', count: testLines, seed: 12345, preprocess: rec.meta.preprocess });
    scores.push([spec, await evaluate(rec, test)]);
  }
  for (const [spec, report] of scores) {
    console.log(`\n${spec} test: reference        hypothesis`);
    for (const l of report.lines.slice(0, 5)) console.log(`  ${l.ref.padEnd(20)} ${l.hyp}${l.ref === l.hyp ? '' : '   <- errors'}`);
  }
  console.log('');
  for (const [spec, report] of scores) {
    const layout = spec === 'mnist-lines' ? 'training layout' : 'unseen layout  ';
    console.log(`test CER ${(100 * report.cer).toFixed(2)}%  WER ${(100 * report.wer).toFixed(2)}% on ${report.lines.length} lines, ${layout} (${spec} test split)`);
  }
  console.log(`${summary.steps} steps, total time ${((Date.now() - started) / 60_000).toFixed(1)} min; model: ${summary.bestDir}`);
}
