import { readFile } from 'node:fs/promises';
import { CharNgramLm, type CharNgramLmJson } from '@scriptorium/ctc';
import { type Alphabet, textLinesCorpus } from '@scriptorium/data';
import { errorMessage, errorReason, UsageError } from '../cli/errors.js';
import { flagValue, type FlagSpec, type ParsedFlags } from '../cli/flags.js';
import type { DecodeOptions } from './evaluate.js';

/** Order, weight and per-character bonus of LM decoding: chosen on the textlines valid split (docs/benchmarks/text-demo.md). */
export const LM_DEFAULTS = { order: 6, weight: 0.3, bonus: 2 } as const;

/** An LM and what went into it: lines and characters counted, and the characters outside the model's alphabet (dropped). */
export interface BuiltLm {
  lm: CharNgramLm;
  lines: number;
  chars: number;
  dropped: Map<string, number>;
}

/**
 * A character n-gram LM over a model's classes from texts (one sequence per line, NFC). Characters outside the
 * alphabet are left out of the counts (the n-gram context runs on across them) and reported in `dropped`. With
 * `wordBoundary` (a character of the alphabet, ' '), contexts stop at it (CharNgramLmOptions.wordBoundary).
 */
export function buildLm(
  texts: readonly string[],
  alphabet: Alphabet,
  order: number = LM_DEFAULTS.order,
  wordBoundary?: string,
): BuiltLm {
  const text = texts.map((t) => t.normalize('NFC')).join('\n');
  const known = new Set(alphabet.chars);
  const dropped = new Map<string, number>();
  let lines = 0,
    chars = 0;
  for (const line of text.split(/\r?\n/)) {
    if (line.length > 0) lines++;
    for (const ch of line) {
      if (known.has(ch)) chars++;
      else dropped.set(ch, (dropped.get(ch) ?? 0) + 1);
    }
  }
  return {
    lm: CharNgramLm.train(text, { order, alphabet: ['', ...alphabet.chars], wordBoundary }),
    lines,
    chars,
    dropped,
  };
}

/**
 * The LM of --lm SOURCE: an LM file written by `scriptorium lm` (*.json; it must be over the model's alphabet),
 * 'textlines' (the training addresses of the textlines dataset, never its valid or test years), or a text file to
 * count (one sequence per line) with n = `order`.
 */
export async function loadLm(
  source: string,
  alphabet: Alphabet,
  order: number = LM_DEFAULTS.order,
): Promise<CharNgramLm> {
  if (source === 'textlines') return buildLm(textLinesCorpus('train'), alphabet, order).lm;
  const text = await readText(source, source.endsWith('.json') ? 'LM file' : 'LM text', `--lm ${source}`);
  if (!source.endsWith('.json')) {
    const built = buildLm([text], alphabet, order);
    if (built.chars === 0)
      throw new UsageError(
        `--lm ${source}: no character of the text is in the model's alphabet (${alphabet.chars.join('')})`,
        false,
      );
    return built.lm;
  }
  let json: CharNgramLmJson;
  try {
    json = JSON.parse(text) as CharNgramLmJson;
  } catch (err) {
    throw new UsageError(
      `--lm ${source}: not JSON (${errorMessage(err)}); an LM file comes from \`scriptorium lm\``,
      false,
    );
  }
  const classes = ['', ...alphabet.chars];
  if (!Array.isArray(json?.alphabet))
    throw new UsageError(`--lm ${source}: no alphabet (not an LM file from \`scriptorium lm\`)`, false);
  const first = classes.findIndex((c, i) => json.alphabet[i] !== c);
  if (json.alphabet.length !== classes.length || first >= 0) {
    const where =
      first >= 0
        ? `class ${first} is ${JSON.stringify(json.alphabet[first] ?? null)} there, ${JSON.stringify(classes[first])} in the model`
        : `${json.alphabet.length} classes there, ${classes.length} in the model`;
    throw new UsageError(
      `--lm ${source}: built for another alphabet (${where}); build it for this model with \`scriptorium lm --model\``,
      false,
    );
  }
  try {
    return CharNgramLm.fromJSON(json);
  } catch (err) {
    throw new UsageError(`--lm ${source}: ${errorMessage(err)}`, false);
  }
}

/** A UTF-8 file's text; an unreadable file is a UsageError naming `label` (the flag and file). */
export async function readText(file: string, what: string, label = file): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`${label}: cannot read the ${what} (${errorReason(err)})`, false);
  }
}

/** The decoding flags of `eval` and `recognize`: beam width and the LM. */
export const DECODE_FLAGS: FlagSpec[] = [
  { name: 'beam', type: 'int', min: 1, help: 'beam width (default 1, greedy; with --lm, 16)' },
  {
    name: 'lm',
    type: 'string',
    metavar: 'FILE|textlines',
    help: "decode with a character n-gram LM: a file from `scriptorium lm` (*.json), a text file to count (one line per sequence), or 'textlines' (the textlines training addresses)",
  },
  {
    name: 'lm-order',
    type: 'int',
    min: 1,
    default: LM_DEFAULTS.order,
    help: 'n of the n-grams when --lm counts a text',
  },
  {
    name: 'lm-weight',
    type: 'number',
    min: 0,
    default: LM_DEFAULTS.weight,
    help: 'weight of the LM log-probability in the beam score',
  },
  {
    name: 'lm-bonus',
    type: 'number',
    default: LM_DEFAULTS.bonus,
    help: "score added per emitted character (offsets the LM's preference for short outputs)",
  },
];

/** How to decode, from DECODE_FLAGS: greedy, a beam, or a beam with the LM (a beam of 1 with --lm is refused); `lmOrder` is the LM's n. */
export async function decodeOptions(
  flags: ParsedFlags,
  alphabet: Alphabet,
): Promise<DecodeOptions & { lmOrder?: number }> {
  const source = flagValue(flags, 'lm', 'string'),
    beam = flagValue(flags, 'beam', 'number');
  if (source === undefined) return { beam: beam ?? 1 };
  if (beam !== undefined && beam < 2)
    throw new UsageError(
      '--lm: decoding with a language model needs a beam: give --beam N with N > 1 (e.g. 16), or leave --beam out',
    );
  const lm = await loadLm(source, alphabet, flagValue(flags, 'lm-order', 'number'));
  return {
    beam: beam ?? 16,
    lmOrder: lm.order,
    lm: lm.scorer(),
    lmWeight: flagValue(flags, 'lm-weight', 'number') ?? LM_DEFAULTS.weight,
    insertionBonus: flagValue(flags, 'lm-bonus', 'number') ?? LM_DEFAULTS.bonus,
  };
}
