import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cer, levenshtein } from '@scriptorium/ctc';
import { Alphabet } from '@scriptorium/data';
import { buildModel, saveBundle } from '@scriptorium/models';
import { Rng } from '@scriptorium/runtime';
import { describe, expect, it } from 'vitest';
import { parseFlags } from '../cli/flags.js';
import { evalCommand, runEval } from '../commands/eval.js';
import {
  alignCharacters,
  charLabel,
  errorReport,
  formatErrorReport,
  LENGTH_BUCKETS,
  type ErrorReport,
} from './error-report.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'error-report-'));
const bucketLines = (r: ErrorReport) => Object.fromEntries(r.buckets.map((b) => [b.label, b.lines]));

describe('alignCharacters', () => {
  it('kitten -> sitting: k->s, e->i and an inserted g (distance 3)', () => {
    const ops = alignCharacters([...'kitten'], [...'sitting']);
    expect(ops.map((o) => `${o.kind[0]}:${o.ref}${o.hyp}`)).toEqual([
      's:ks',
      'm:ii',
      'm:tt',
      'm:tt',
      's:ei',
      'm:nn',
      'i:g',
    ]);
  });

  it('empty sides: all deletions or all insertions', () => {
    expect(alignCharacters([...'ab'], [])).toEqual([
      { kind: 'deletion', ref: 'a', hyp: '' },
      { kind: 'deletion', ref: 'b', hyp: '' },
    ]);
    expect(alignCharacters([], [...'x'])).toEqual([{ kind: 'insertion', ref: '', hyp: 'x' }]);
    expect(alignCharacters([], [])).toEqual([]);
  });

  it('on random strings over a small alphabet: S + D + I is the levenshtein distance, and the alignment spells both strings', () => {
    const rng = new Rng(11);
    const word = () => Array.from({ length: rng.int(9) }, () => 'abc'[rng.int(3)]!);
    const lines: Array<{ ref: string; hyp: string }> = [];
    for (let k = 0; k < 2000; k++) {
      const ref = word(),
        hyp = word();
      const ops = alignCharacters(ref, hyp);
      expect(ops.filter((o) => o.kind !== 'match').length).toBe(levenshtein(ref, hyp));
      expect(ops.map((o) => o.ref).join('')).toBe(ref.join(''));
      expect(ops.map((o) => o.hyp).join('')).toBe(hyp.join(''));
      for (const o of ops) expect(o.kind === 'match').toBe(o.ref === o.hyp);
      lines.push({ ref: ref.join(''), hyp: hyp.join('') });
    }
    // The corpus totals are those of cer() (the same edits over the same reference length, hence the same rate).
    const r = errorReport(lines);
    const c = cer(
      lines.map((l) => l.ref),
      lines.map((l) => l.hyp),
    );
    expect(r.totals.substitutions + r.totals.deletions + r.totals.insertions).toBe(c.edits);
    expect(r.totals.edits).toBe(c.edits);
    expect(r.totals.refChars).toBe(c.refLength);
    expect(r.totals.cer).toBe(c.rate);
    expect(r.confusions.reduce((s, x) => s + x.count, 0)).toBeLessThanOrEqual(c.edits);
    // Over 'abc' there are 6 substitutions, 3 deletions and 3 insertions to confuse: all seen, all kept (12 < 20).
    expect(r.distinctConfusions).toBe(12);
    expect(r.confusions.reduce((s, x) => s + x.count, 0)).toBe(c.edits);
  });
});

describe('errorReport', () => {
  it('kitten -> sitting: S=2, D=0, I=1 over 6 reference characters', () => {
    const r = errorReport([{ ref: 'kitten', hyp: 'sitting' }]);
    expect(r.totals).toEqual({
      lines: 1,
      refChars: 6,
      hypChars: 7,
      substitutions: 2,
      deletions: 0,
      insertions: 1,
      edits: 3,
      cer: 3 / 6,
      substitutionRate: 2 / 6,
      deletionRate: 0,
      insertionRate: 1 / 6,
    });
    // All three once: substitutions first, by reference character (e < k), then the insertion.
    expect(r.confusions).toEqual([
      { kind: 'substitution', ref: 'e', hyp: 'i', count: 1 },
      { kind: 'substitution', ref: 'k', hyp: 's', count: 1 },
      { kind: 'insertion', ref: '', hyp: 'g', count: 1 },
    ]);
  });

  it('counts confusions over lines, most frequent first, and keeps the top N', () => {
    // 'ab' -> 'xb': a->x; 'aa' -> 'xx': a->x twice; 'cd' -> 'c': d deleted. a->x 3, d->∅ 1.
    const lines = [
      { ref: 'ab', hyp: 'xb' },
      { ref: 'aa', hyp: 'xx' },
      { ref: 'cd', hyp: 'c' },
    ];
    expect(errorReport(lines).confusions).toEqual([
      { kind: 'substitution', ref: 'a', hyp: 'x', count: 3 },
      { kind: 'deletion', ref: 'd', hyp: '', count: 1 },
    ]);
    expect(errorReport(lines, { topConfusions: 1 }).confusions).toHaveLength(1);
    expect(errorReport(lines, { topConfusions: 0 })).toMatchObject({ confusions: [], distinctConfusions: 2 });
    expect(() => errorReport(lines, { topConfusions: -1 })).toThrow(
      'errorReport: topConfusions must be an integer >= 0, got -1',
    );
  });

  it('an empty hypothesis is all deletions', () => {
    const r = errorReport([{ ref: 'abc', hyp: '' }]);
    expect(r.totals).toMatchObject({
      substitutions: 0,
      deletions: 3,
      insertions: 0,
      edits: 3,
      cer: 1,
      deletionRate: 1,
    });
    expect(r.confusions.map((c) => `${c.ref}>${c.hyp}`)).toEqual(['a>', 'b>', 'c>']);
  });

  it('an empty reference line is all insertions and counts as length 1 in its rate, as cer() does', () => {
    const alone = errorReport([{ ref: '', hyp: 'xy' }]);
    expect(alone.totals).toMatchObject({ refChars: 0, insertions: 2, edits: 2, cer: 2 }); // cer([''], ['xy']).rate = 2
    expect(alone.buckets[0]).toEqual({ label: '0', minChars: 0, maxChars: 0, lines: 1, chars: 0, edits: 2, cer: 2 });
    // With a correct line of 2 characters: 1 edit over 2 characters.
    const r = errorReport([
      { ref: '', hyp: 'x' },
      { ref: 'ab', hyp: 'ab' },
    ]);
    expect(r.totals).toMatchObject({ lines: 2, refChars: 2, insertions: 1, cer: 0.5 });
    expect(r.buckets[0]).toMatchObject({ lines: 1, edits: 1, cer: 1 });
    expect(r.buckets[1]).toMatchObject({ label: '1-5', lines: 1, chars: 2, edits: 0, cer: 0 });
  });

  it('no lines: zero totals, empty buckets, nothing divided by zero', () => {
    const r = errorReport([]);
    expect(r.totals).toMatchObject({ lines: 0, refChars: 0, edits: 0, cer: 0 });
    expect(r.buckets.every((b) => b.lines === 0 && b.cer === 0)).toBe(true);
  });

  it('puts each line in the bucket of its reference length, boundaries included', () => {
    const lengths = [0, 1, 5, 6, 10, 11, 20, 21, 40, 41, 80, 81, 200];
    const lines = lengths.map((n) => ({ ref: 'a'.repeat(n), hyp: 'a'.repeat(n) }));
    lines[11] = { ref: 'a'.repeat(81), hyp: 'a'.repeat(80) }; // one deletion in the 81-character line
    const r = errorReport(lines);
    expect(r.buckets.map((b) => b.label)).toEqual(['0', '1-5', '6-10', '11-20', '21-40', '41-80', '81+']);
    expect(r.buckets).toHaveLength(LENGTH_BUCKETS.length);
    expect(bucketLines(r)).toEqual({ '0': 1, '1-5': 2, '6-10': 2, '11-20': 2, '21-40': 2, '41-80': 2, '81+': 2 });
    expect(r.buckets.map((b) => b.chars)).toEqual([0, 6, 16, 31, 61, 121, 281]);
    expect(r.buckets[6]).toMatchObject({ edits: 1, cer: 1 / 281, maxChars: null });
    expect(r.buckets.slice(0, 6).every((b) => b.edits === 0)).toBe(true);
    // The buckets partition the lines, characters and edits.
    expect(r.buckets.reduce((s, b) => s + b.chars, 0)).toBe(r.totals.refChars);
    expect(r.buckets.reduce((s, b) => s + b.edits, 0)).toBe(r.totals.edits);
  });

  it('Unicode: a combining sequence is one character after NFC, on either side; an emoji is one character', () => {
    const decomposed = 'cafe\u0301',
      composed = 'caf\u00e9';
    expect(errorReport([{ ref: decomposed, hyp: composed }]).totals).toMatchObject({
      refChars: 4,
      hypChars: 4,
      edits: 0,
    });
    const r = errorReport([{ ref: decomposed, hyp: 'cafe' }]);
    expect(r.totals).toMatchObject({ refChars: 4, substitutions: 1, edits: 1 });
    expect(r.confusions).toEqual([{ kind: 'substitution', ref: '\u00e9', hyp: 'e', count: 1 }]);
    expect(errorReport([{ ref: 'a👍b', hyp: 'ab' }]).totals).toMatchObject({ refChars: 3, deletions: 1 });
  });
});

describe('formatErrorReport', () => {
  it('shows S/D/I with shares, the confusions in two columns, and the non-empty length buckets', () => {
    // 'abc d' -> 'xbc': a->x, space and d deleted (3 edits over 5); '1234567' -> '1234567 ': a space inserted (1 over 7).
    // 4 edits over 12 characters: S 1 (25% of errors, 8.33% of characters), D 2, I 1.
    const r = errorReport([
      { ref: 'abc d', hyp: 'xbc' },
      { ref: '1234567', hyp: '1234567 ' },
    ]);
    expect(formatErrorReport(r)).toBe(
      [
        'character errors: 4 over 12 reference characters in 2 lines',
        '  substitutions 1   25.00% of errors    8.33% of characters',
        '  deletions     2   50.00% of errors   16.67% of characters',
        '  insertions    1   25.00% of errors    8.33% of characters',
        'most frequent confusions (reference -> recognised, ∅ = none):',
        '  1  a -> x      1  d -> ∅',
        '  1  ␣ -> ∅      1  ∅ -> ␣',
        'CER by reference length (characters):',
        '  length   lines    chars      CER',
        '  1-5          1        5   60.00%',
        '  6-10         1        7   14.29%',
      ].join('\n'),
    );
  });

  it('a perfect run says so in one line before the buckets', () => {
    expect(formatErrorReport(errorReport([{ ref: 'ab', hyp: 'ab' }])).split('\n')[0]).toBe(
      'character errors: 0 over 2 reference characters in 1 line',
    );
    expect(formatErrorReport(errorReport([{ ref: 'ab', hyp: 'ab' }]))).not.toContain('confusions');
  });

  it('labels invisible characters', () => {
    expect([
      charLabel(''),
      charLabel(' '),
      charLabel('\u0301'),
      charLabel('\t'),
      charLabel('\u00a0'),
      charLabel('é'),
    ]).toEqual(['∅', '␣', '◌\u0301', 'U+0009', 'U+00A0', 'é']);
  });
});

describe('scriptorium eval --report', () => {
  it('writes the report as JSON (with the model and data), atomically, and prints the summary', async () => {
    // An untrained pham2014 recognises something: enough to exercise the whole path.
    const model = path.join(tmp, 'bundle');
    const alphabet = Alphabet.fromTexts(['0123456789 ']);
    await saveBundle(model, {
      model: buildModel('pham2014', { alphabetSize: alphabet.size, seed: 2, units: [2, 4, 8] }),
      alphabet,
    });
    const out = path.join(tmp, 'out');
    mkdirSync(out);
    const file = path.join(out, 'report.json');
    const logged: string[] = [];
    const args = [
      '--model',
      model,
      '--lines',
      '3',
      '--backend',
      'wasm',
      '--report',
      file,
      '--jsonl',
      path.join(out, 'lines.jsonl'),
    ];
    const res = await runEval(parseFlags(evalCommand, args), { log: (l) => logged.push(l) });
    const json = JSON.parse(readFileSync(file, 'utf8'));
    expect(json).toMatchObject({
      model,
      data: 'mnist-lines',
      dataset: 'mnist-lines:test',
      seed: 1,
      beam: 1,
      cer: res.cer,
      wer: res.wer,
    });
    expect(json.totals.lines).toBe(3);
    // The report's edits are the CER's: the same rate, recomputed from the per-line results.
    expect(json.totals.cer).toBe(res.cer);
    const perLine = readFileSync(path.join(out, 'lines.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(json.totals.edits).toBe(perLine.reduce((s, l) => s + levenshtein([...l.ref], [...l.hyp]), 0));
    expect(json.totals.substitutions + json.totals.deletions + json.totals.insertions).toBe(json.totals.edits);
    expect(json.buckets.reduce((s: number, b: { lines: number }) => s + b.lines, 0)).toBe(3);
    expect(Array.isArray(json.confusions)).toBe(true);
    expect(readdirSync(out).sort()).toEqual(['lines.jsonl', 'report.json']); // no temporary file left behind
    expect(logged[0]).toMatch(/^3 lines of mnist-lines:test: CER \d+\.\d\d% {2}WER \d+\.\d\d%$/);
    expect(logged[1]).toMatch(/^character errors: \d+ over \d+ reference characters in 3 lines\n/);
    expect(logged[1]).toContain('CER by reference length (characters):');
    // Run again: the file is replaced whole.
    await runEval(parseFlags(evalCommand, args), { log: () => {} });
    expect(JSON.parse(readFileSync(file, 'utf8')).totals.lines).toBe(3);
  });

  it('a report path that cannot be written is refused before evaluating, naming the flag and the path', async () => {
    const run = (report: string) =>
      runEval(parseFlags(evalCommand, ['--model', path.join(tmp, 'not-loaded'), '--report', report]));
    const missing = path.join(tmp, 'no-such-dir', 'r.json');
    await expect(run(missing)).rejects.toThrow(
      `--report ${missing}: directory '${path.dirname(missing)}' does not exist`,
    );
    await expect(run(tmp)).rejects.toThrow(`--report ${tmp}: is a directory (expected a file name)`);
    expect(existsSync(path.join(tmp, 'not-loaded'))).toBe(false);
  });
});
