import { constants } from 'node:fs';
import { access, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { openDataset, type Split } from '@scriptorium/data';
import { DATA_HELP } from '../cli/data-help.js';
import { Recognizer } from '@scriptorium/models';
import { initBackend } from '@scriptorium/runtime';
import { UsageError } from '../cli/errors.js';
import type { CommandSpec, ParsedFlags } from '../cli/flags.js';
import { errorReport, formatErrorReport } from '../train/error-report.js';
import { evaluate, type DecodeOptions } from '../train/evaluate.js';
import { LM_DEFAULTS, trainLm } from '../train/lm.js';

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
    { name: 'beam', type: 'int', min: 1, default: 1, help: 'beam width (1: greedy)' },
    { name: 'lm', type: 'string', metavar: 'FILE|textlines', help: "decode with a character n-gram LM trained on FILE (plain text, one line per sequence), or on the textlines training addresses ('textlines'); needs --beam > 1" },
    { name: 'lm-order', type: 'int', min: 1, default: LM_DEFAULTS.order, help: 'n of the character n-gram LM' },
    { name: 'lm-weight', type: 'number', min: 0, default: LM_DEFAULTS.weight, help: 'weight of the LM log-probability in the beam score' },
    { name: 'lm-bonus', type: 'number', default: LM_DEFAULTS.bonus, help: 'score added per emitted character (offsets the LM\'s preference for short outputs)' },
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
  const decode: DecodeOptions = { beam: flags.beam as number };
  if (flags.lm !== undefined) {
    if ((flags.beam as number) < 2) throw new UsageError('--lm: decoding with a language model needs a beam: give --beam N with N > 1 (e.g. 16)');
    const lm = await trainLm(flags.lm as string, rec.alphabet, flags['lm-order'] as number);
    Object.assign(decode, { lm: lm.scorer(), lmWeight: flags['lm-weight'] as number, insertionBonus: flags['lm-bonus'] as number });
  }
  const report = await evaluate(rec, ds, flags.lines as number, decode);
  const errors = errorReport(report.lines);
  if (flags.jsonl) await writeFileAtomic('jsonl', flags.jsonl as string, report.lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  if (flags.report) {
    const json = {
      model: flags.model, data: flags.data, dataset: ds.name, seed: flags.seed, beam: flags.beam,
      ...(flags.lm !== undefined ? { lm: flags.lm, lmOrder: flags['lm-order'], lmWeight: flags['lm-weight'], lmBonus: flags['lm-bonus'] } : {}),
      cer: report.cer, wer: report.wer, ...errors,
    };
    await writeFileAtomic('report', flags.report as string, `${JSON.stringify(json, null, 2)}\n`);
  }
  log(`${report.lines.length} lines of ${ds.name}: CER ${(100 * report.cer).toFixed(2)}%  WER ${(100 * report.wer).toFixed(2)}%`);
  log(formatErrorReport(errors));
  const worst = [...report.lines].sort((a, b) => b.cer - a.cer).slice(0, flags.worst as number).filter((l) => l.cer > 0);
  if (worst.length) log('worst lines:');
  for (const l of worst) log(`  ${(100 * l.cer).toFixed(0).padStart(3)}%  ${l.id}\n        ref: ${l.ref}\n        hyp: ${l.hyp}`);
  return { cer: report.cer, wer: report.wer };
}

/** Refuses an output path whose directory is missing or not writable, or that is a directory. */
async function checkOutputPath(flag: string, file: string): Promise<void> {
  const fail = (why: string) => new UsageError(`--${flag} ${file}: ${why}`, false);
  const dir = path.dirname(path.resolve(file));
  if ((await stat(file).catch(() => undefined))?.isDirectory()) throw fail('is a directory (expected a file name)');
  const parent = await stat(dir).catch((err: NodeJS.ErrnoException) => {
    throw fail(err.code === 'ENOENT' ? `directory '${dir}' does not exist` : `cannot use directory '${dir}' (${err.code ?? err.message})`);
  });
  if (!parent.isDirectory()) throw fail(`'${dir}' is not a directory`);
  await access(dir, constants.W_OK).catch((err: NodeJS.ErrnoException) => {
    throw fail(`cannot write in '${dir}' (${err.code ?? err.message})`);
  });
}

/**
 * Writes a file whole or not at all: into a temporary file in the same directory, then renamed over it.
 * A path that exists and is not a regular file (/dev/stdout, a pipe) is written in place.
 */
async function writeFileAtomic(flag: string, file: string, text: string): Promise<void> {
  const existing = await stat(file).catch(() => undefined);
  const tmp = existing && !existing.isFile() ? undefined : path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}`);
  try {
    if (!tmp) return await writeFile(file, text);
    await writeFile(tmp, text);
    await rename(tmp, file);
  } catch (err) {
    if (tmp) await rm(tmp, { force: true });
    const e = err as NodeJS.ErrnoException;
    throw new UsageError(`--${flag} ${file}: cannot write (${e.code ?? e.message})`, false);
  }
}
