import { textLinesCorpus } from '@scriptorium/data';
import { Recognizer } from '@scriptorium/models';
import { initBackend } from '@scriptorium/runtime';
import { UsageError } from '../cli/errors.js';
import { flagValue, type CommandSpec, type ParsedFlags } from '../cli/flags.js';
import { checkOutputPath, writeFileAtomic } from '../cli/output-file.js';
import { buildLm, LM_DEFAULTS, readText } from '../train/lm.js';

export const lmCommand: CommandSpec = {
  name: 'lm',
  summary:
    "Build a character n-gram LM over a model's alphabet from text files (one sequence per line; 'textlines': the\n" +
    'textlines training addresses), for `recognize --lm` and `eval --lm`. Characters outside the alphabet are dropped and counted.',
  synopsis: '--model DIR --out lm.json [--order 6] [--word-boundary] text-file... | textlines',
  positionals: true,
  flags: [
    { name: 'model', type: 'string', metavar: 'DIR', help: 'the model bundle whose alphabet the LM covers' },
    { name: 'out', type: 'string', metavar: 'FILE', help: 'where to write the LM (JSON)' },
    {
      name: 'order',
      type: 'int',
      min: 1,
      default: LM_DEFAULTS.order,
      help: 'n of the n-grams (characters of context + 1)',
    },
    {
      name: 'word-boundary',
      type: 'boolean',
      default: false,
      help: "contexts stop at a space: a word's characters are predicted from the start of the word, whatever word came before (for text whose word order is not the test's)",
    },
  ],
};

export interface LmHooks {
  log?: (line: string) => void;
}

export async function runLm(flags: ParsedFlags, hooks: LmHooks = {}): Promise<void> {
  const log = hooks.log ?? ((l: string) => console.log(l));
  const model = flagValue(flags, 'model', 'string'),
    out = flagValue(flags, 'out', 'string');
  if (!model) throw new UsageError('lm: --model DIR is required (the LM is over its alphabet)');
  if (!out) throw new UsageError('lm: --out FILE is required');
  if (flags._.length === 0) throw new UsageError("lm: give at least one text file (or 'textlines')");
  await checkOutputPath('out', out);
  const texts: string[] = [];
  for (const source of flags._)
    texts.push(...(source === 'textlines' ? textLinesCorpus('train') : [await readText(source, 'text')]));
  await initBackend({ backend: 'auto', log: null });
  const { alphabet } = await Recognizer.load(model);
  const order = flagValue(flags, 'order', 'number') ?? LM_DEFAULTS.order;
  const wordBoundary = flagValue(flags, 'word-boundary', 'boolean') ? ' ' : undefined;
  if (wordBoundary && !alphabet.chars.includes(' '))
    throw new UsageError(`lm --word-boundary: the model's alphabet has no space (${alphabet.chars.join('')})`, false);
  const built = buildLm(texts, alphabet, order, wordBoundary);
  if (built.chars === 0)
    throw new UsageError(
      `lm: no character of ${flags._.join(', ')} is in the model's alphabet (${alphabet.chars.join('')})`,
      false,
    );
  await writeFileAtomic('out', out, `${JSON.stringify(built.lm.toJSON())}\n`);
  const droppedTotal = [...built.dropped.values()].reduce((a, b) => a + b, 0);
  const top = [...built.dropped]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 10)
    .map(([c, n]) => `${JSON.stringify(c)} x${n}`);
  log(
    `${out}: ${order}-gram LM over ${alphabet.chars.length} characters${wordBoundary ? ', contexts stopping at spaces' : ''}, from ${built.chars} characters in ${built.lines} lines`,
  );
  if (droppedTotal > 0)
    log(
      `dropped ${droppedTotal} characters outside the model's alphabet: ${top.join(', ')}${built.dropped.size > 10 ? ', ...' : ''}`,
    );
}
