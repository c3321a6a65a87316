import { writeFile } from 'node:fs/promises';
import { openDataset } from '@scriptorium/data';
import { Recognizer } from '@scriptorium/models';
import { initBackend } from '@scriptorium/runtime';
import { UsageError } from '../cli/errors.js';
import type { CommandSpec, ParsedFlags } from '../cli/flags.js';
import { evaluate } from '../train/evaluate.js';

export const evalCommand: CommandSpec = {
  name: 'eval',
  summary: 'Score a model bundle on a dataset: corpus CER/WER, the worst lines, and optionally every line as JSONL.',
  synopsis: '--model DIR [--data SPEC] [options]',
  flags: [
    { name: 'model', type: 'string', metavar: 'DIR', help: 'model bundle directory (e.g. runs/NAME/best)' },
    { name: 'data', type: 'string', default: 'mnist-lines', metavar: 'SPEC', help: "'mnist-lines' (its test split), 'manifest:FILE.tsv', 'iam:DIR', 'gt:DIR' or 'page:DIR'" },
    { name: 'lines', type: 'int', min: 1, default: 500, help: 'lines to score (mnist-lines: how many to compose)' },
    { name: 'seed', type: 'int', default: 1, help: 'mnist-lines seed' },
    { name: 'beam', type: 'int', min: 1, default: 1, help: 'beam width (1: greedy)' },
    { name: 'jsonl', type: 'string', metavar: 'FILE', help: 'write one JSON object per line (id, ref, hyp, cer, confidence)' },
    { name: 'worst', type: 'int', min: 0, default: 5, help: 'show this many worst lines' },
    { name: 'backend', type: 'string', choices: ['auto', 'tensorflow', 'wasm', 'cpu'], default: 'auto', help: 'tfjs backend' },
  ],
};

export async function runEval(flags: ParsedFlags): Promise<{ cer: number; wer: number }> {
  if (!flags.model) throw new UsageError('eval: --model DIR is required');
  await initBackend({ backend: flags.backend as string });
  const rec = await Recognizer.load(flags.model as string);
  const ds = await openDataset(flags.data as string, { split: 'test', count: flags.lines as number, seed: flags.seed as number, preprocess: rec.meta.preprocess });
  const report = await evaluate(rec, ds, flags.lines as number, { beam: flags.beam as number });
  if (flags.jsonl) await writeFile(flags.jsonl as string, report.lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  console.log(`${report.lines.length} lines of ${ds.name}: CER ${(100 * report.cer).toFixed(2)}%  WER ${(100 * report.wer).toFixed(2)}%`);
  const worst = [...report.lines].sort((a, b) => b.cer - a.cer).slice(0, flags.worst as number).filter((l) => l.cer > 0);
  for (const l of worst) console.log(`  ${(100 * l.cer).toFixed(0).padStart(3)}%  ${l.id}\n        ref: ${l.ref}\n        hyp: ${l.hyp}`);
  return { cer: report.cer, wer: report.wer };
}
