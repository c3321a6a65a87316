import { openDataset, type Split } from '@scriptorium/data';
import { DATA_HELP } from '../cli/data-help.js';
import { Recognizer } from '@scriptorium/models';
import { initBackend } from '@scriptorium/runtime';
import { UsageError } from '../cli/errors.js';
import { checkOutputPath, writeFileAtomic } from '../cli/output-file.js';
import type { CommandSpec, ParsedFlags } from '../cli/flags.js';
import { errorReport, formatErrorReport } from '../train/error-report.js';
import { evaluateSamples, loadLines } from '../train/evaluate.js';
import { DECODE_FLAGS, decodeOptions } from '../train/lm.js';

export const evalCommand: CommandSpec = {
  name: 'eval',
  summary: 'Score a model bundle on a dataset: corpus CER/WER, an error analysis, the worst lines, and optionally every line as JSONL.',
  synopsis: '--model DIR [--data SPEC] [options]',
  flags: [
    { name: 'model', type: 'string', metavar: 'DIR', help: 'model bundle directory (e.g. runs/NAME/best)' },
    { name: 'data', type: 'string', default: 'mnist-lines', metavar: 'SPEC', help: DATA_HELP },
    { name: 'split', type: 'string', choices: ['test', 'valid', 'train'], default: 'test', help: 'which split of a generated dataset (mnist-lines, mnist-unseen, textlines)' },
    { name: 'lines', type: 'int', min: 1, default: 500, help: 'lines to score (generated data: how many to compose)' },
    { name: 'seed', type: 'int', default: 1, help: 'seed of generated data' },
    ...DECODE_FLAGS,
    { name: 'jsonl', type: 'string', metavar: 'FILE', help: 'write one JSON object per line (id, ref, hyp, cer, confidence)' },
    { name: 'report', type: 'string', metavar: 'FILE', help: 'write the error report as JSON (S/D/I totals, top confusions, CER by line length)' },
    { name: 'worst', type: 'int', min: 0, default: 5, help: 'show this many worst lines' },
    { name: 'backend', type: 'string', choices: ['auto', 'tensorflow', 'wasm', 'cpu'], default: 'auto', help: 'tfjs backend' },
  ],
};

export interface EvalHooks {
  /** Where the results go; default console.log. */
  log?: (line: string) => void;
}

export async function runEval(flags: ParsedFlags, hooks: EvalHooks = {}): Promise<{ cer: number; wer: number }> {
  const log = hooks.log ?? ((l: string) => console.log(l));
  if (!flags.model) throw new UsageError('eval: --model DIR is required');
  const outputs = (['jsonl', 'report'] as const).filter((f) => flags[f] !== undefined);
  // Checked before the (long) evaluation, so that a typo does not cost its results.
  for (const f of outputs) await checkOutputPath(f, flags[f] as string);
  await initBackend({ backend: flags.backend as string });
  const rec = await Recognizer.load(flags.model as string);
  const ds = await openDataset(flags.data as string, { split: flags.split as Split, count: flags.lines as number, seed: flags.seed as number, preprocess: rec.meta.preprocess });
  const decode = await decodeOptions(flags, rec.alphabet);
  const samples = await loadLines(ds, flags.lines as number);
  const report = await evaluateSamples(rec, samples, decode);
  // With an LM, the same lines decoded without it (same beam), so that the report says what the LM buys.
  const withoutLm = decode.lm ? await evaluateSamples(rec, samples, { beam: decode.beam }) : undefined;
  const errors = errorReport(report.lines);
  if (flags.jsonl) await writeFileAtomic('jsonl', flags.jsonl as string, report.lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  if (flags.report) {
    const json = {
      model: flags.model, data: flags.data, dataset: ds.name, seed: flags.seed, beam: decode.beam,
      ...(decode.lm ? { lm: flags.lm, lmOrder: flags['lm-order'], lmWeight: decode.lmWeight, lmBonus: decode.insertionBonus, withoutLm: { cer: withoutLm!.cer, wer: withoutLm!.wer } } : {}),
      cer: report.cer, wer: report.wer, ...errors,
    };
    await writeFileAtomic('report', flags.report as string, `${JSON.stringify(json, null, 2)}\n`);
  }
  const rates = (r: { cer: number; wer: number }) => `CER ${(100 * r.cer).toFixed(2)}%  WER ${(100 * r.wer).toFixed(2)}%`;
  if (withoutLm) log(`${report.lines.length} lines of ${ds.name}, beam ${decode.beam} without the LM: ${rates(withoutLm)}`);
  log(`${report.lines.length} lines of ${ds.name}${withoutLm ? `, beam ${decode.beam} with the LM` : ''}: ${rates(report)}`);
  log(formatErrorReport(errors));
  const worst = [...report.lines].sort((a, b) => b.cer - a.cer).slice(0, flags.worst as number).filter((l) => l.cer > 0);
  if (worst.length) log('worst lines:');
  for (const l of worst) log(`  ${(100 * l.cer).toFixed(0).padStart(3)}%  ${l.id}\n        ref: ${l.ref}\n        hyp: ${l.hyp}`);
  return { cer: report.cer, wer: report.wer };
}
