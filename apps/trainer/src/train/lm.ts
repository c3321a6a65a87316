import { readFile } from 'node:fs/promises';
import { CharNgramLm } from '@scriptorium/ctc';
import { type Alphabet, textLinesCorpus } from '@scriptorium/data';
import { UsageError } from '../cli/errors.js';

/** Order, weight and per-character bonus of LM decoding: chosen on the textlines valid split (docs/benchmarks/text-demo.md). */
export const LM_DEFAULTS = { order: 6, weight: 0.3, bonus: 2 } as const;

/**
 * A character n-gram LM over a model's classes, trained on a text file (one sequence per line) or, for
 * 'textlines', on the training addresses of the textlines dataset (never its valid or test years).
 */
export async function trainLm(source: string, alphabet: Alphabet, order: number = LM_DEFAULTS.order): Promise<CharNgramLm> {
  let text: string;
  if (source === 'textlines') text = textLinesCorpus('train').join('\n');
  else {
    try {
      text = await readFile(source, 'utf8');
    } catch (err) {
      throw new UsageError(`--lm ${source}: cannot read the LM text (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, false);
    }
  }
  const lm = CharNgramLm.train(text.normalize('NFC'), { order, alphabet: ['', ...alphabet.chars] });
  return lm;
}
