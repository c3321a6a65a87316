import { openDataset, type Split } from '@scriptorium/data';
import { Recognizer } from '@scriptorium/models';
import { BACKEND_NAMES, initBackend } from '@scriptorium/runtime';
import { DATA_HELP } from '../cli/data-help.js';
import { UsageError } from '../cli/errors.js';
import { flagChoice, flagValue, type CommandSpec, type ParsedFlags } from '../cli/flags.js';
import { checkOutputPath, writeFileAtomic } from '../cli/output-file.js';
import { IMAGE_CAP_FLAG } from '../cli/image-cap.js';
import { errorReport, formatErrorReport } from '../train/error-report.js';
import { evaluateSamplesEach, loadLines } from '../train/evaluate.js';
import { DECODE_FLAGS, decodeOptions } from '../train/lm.js';

const SPLITS: readonly Split[] = ['test', 'valid', 'train'];

export const evalCommand: CommandSpec = {
  name: 'eval',
  summary:
    'Score a model bundle on a dataset: corpus CER/WER, an error analysis, the worst lines, and optionally every line as JSONL.',
  synopsis: '--model DIR [--data SPEC] [options]',
  flags: [
    { name: 'model', type: 'string', metavar: 'DIR', help: 'model bundle directory (e.g. runs/NAME/best)' },
    IMAGE_CAP_FLAG,
    { name: 'data', type: 'string', default: 'mnist-lines', metavar: 'SPEC', help: DATA_HELP },
    {
      name: 'split',
      type: 'string',
      choices: SPLITS,
      default: 'test',
      help: 'which split of a generated dataset (mnist-lines, mnist-unseen, textlines)',
    },
    { name: 'lines', type: 'int', min: 1, default: 500, help: 'lines to score (generated data: how many to compose)' },
    { name: 'seed', type: 'int', default: 1, help: 'seed of generated data' },
    ...DECODE_FLAGS,
    {
      name: 'jsonl',
      type: 'string',
      metavar: 'FILE',
      help: 'write one JSON object per line (id, ref, hyp, cer, confidence)',
    },
    {
      name: 'report',
      type: 'string',
      metavar: 'FILE',
      help: 'write the error report as JSON (S/D/I totals, top confusions, CER by line length)',
    },
    { name: 'worst', type: 'int', min: 0, default: 5, help: 'show this many worst lines' },
    { name: 'backend', type: 'string', choices: BACKEND_NAMES, default: 'auto', help: 'tfjs backend' },
  ],
};

export interface EvalHooks {
  /** Where the results go; default console.log. */
  log?: (line: string) => void;
}

export async function runEval(flags: ParsedFlags, hooks: EvalHooks = {}): Promise<{ cer: number; wer: number }> {
  const log = hooks.log ?? ((l: string) => console.log(l));
  const str = (name: string) => flagValue(flags, name, 'string'),
    num = (name: string) => flagValue(flags, name, 'number');
  const model = str('model'),
    data = str('data') ?? 'mnist-lines',
    lines = num('lines') ?? 500,
    seed = num('seed') ?? 1;
  const jsonl = str('jsonl'),
    reportFile = str('report');
  if (!model) throw new UsageError('eval: --model DIR is required');
  // Checked before the (long) evaluation, so that a typo does not cost its results.
  if (jsonl !== undefined) await checkOutputPath('jsonl', jsonl);
  if (reportFile !== undefined) await checkOutputPath('report', reportFile);
  await initBackend({ backend: flagChoice(flags, 'backend', BACKEND_NAMES) ?? 'auto' });
  const rec = await Recognizer.load(model);
  const ds = await openDataset(data, {
    split: flagChoice(flags, 'split', SPLITS) ?? 'test',
    count: lines,
    seed,
    preprocess: rec.meta.preprocess,
  });
  const decode = await decodeOptions(flags, rec.alphabet);
  const samples = await loadLines(ds, lines);
  // With an LM, the same lines decoded without it too (same beam, same forward pass), so that the report says what the LM buys.
  const [report, withoutLm] = await evaluateSamplesEach(
    rec,
    samples,
    decode.lm ? [decode, { beam: decode.beam }] : [decode],
  );
  const errors = errorReport(report.lines);
  if (jsonl !== undefined)
    await writeFileAtomic('jsonl', jsonl, `${report.lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
  if (reportFile !== undefined) {
    const json = {
      model,
      data,
      dataset: ds.name,
      seed,
      beam: decode.beam,
      ...(decode.lm
        ? {
            lm: str('lm'),
            lmOrder: decode.lmOrder,
            lmWeight: decode.lmWeight,
            lmBonus: decode.insertionBonus,
            withoutLm: { cer: withoutLm!.cer, wer: withoutLm!.wer },
          }
        : {}),
      cer: report.cer,
      wer: report.wer,
      ...errors,
    };
    await writeFileAtomic('report', reportFile, `${JSON.stringify(json, null, 2)}\n`);
  }
  const rates = (r: { cer: number; wer: number }) =>
    `CER ${(100 * r.cer).toFixed(2)}%  WER ${(100 * r.wer).toFixed(2)}%`;
  if (withoutLm)
    log(`${report.lines.length} lines of ${ds.name}, beam ${decode.beam} without the LM: ${rates(withoutLm)}`);
  log(
    `${report.lines.length} lines of ${ds.name}${withoutLm ? `, beam ${decode.beam} with the LM` : ''}: ${rates(report)}`,
  );
  log(formatErrorReport(errors));
  const worst = [...report.lines]
    .sort((a, b) => b.cer - a.cer)
    .slice(0, num('worst') ?? 5)
    .filter((l) => l.cer > 0);
  if (worst.length) log('worst lines:');
  for (const l of worst)
    log(`  ${(100 * l.cer).toFixed(0).padStart(3)}%  ${l.id}\n        ref: ${l.ref}\n        hyp: ${l.hyp}`);
  return { cer: report.cer, wer: report.wer };
}
