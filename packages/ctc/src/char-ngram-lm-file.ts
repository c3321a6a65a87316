import { readFileSync } from 'node:fs';
import { CharNgramLm, type CharNgramLmOptions } from './char-ngram-lm.js';

/** A CharNgramLm trained on a UTF-8 text file, one sequence per line (Node only: the browser entry leaves it out). */
export function charNgramLmFromFile(path: string, options: CharNgramLmOptions): CharNgramLm {
  return CharNgramLm.train(readFileSync(path, 'utf8'), options);
}
