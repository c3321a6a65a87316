import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CharNgramLm } from '@scriptorium/ctc';
import { Alphabet } from '@scriptorium/data';
import { buildModel, saveBundle } from '@scriptorium/models';
import { initBackend } from '@scriptorium/runtime';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseFlags } from '../cli/flags.js';
import { DECODE_FLAGS, decodeOptions, loadLm } from '../train/lm.js';
import { evalCommand, runEval } from './eval.js';
import { lmCommand, runLm } from './lm.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'trainer-lm-'));
const digits = Alphabet.fromTexts(['0123456789']);
const bundle = path.join(tmp, 'bundle');

// An untrained digit model is enough: the LM is over its alphabet, and decoding only needs its outputs.
beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: null });
  const model = buildModel('pham2014', { alphabetSize: digits.size, height: 32, seed: 2, dropout: 0 });
  await saveBundle(bundle, { model, alphabet: digits });
});

describe('scriptorium lm', () => {
  it('counts the n-grams of the texts over the model alphabet, dropping (and reporting) other characters', async () => {
    const text = path.join(tmp, 'text.txt'),
      out = path.join(tmp, 'lm.json');
    writeFileSync(text, '0110\n10é1\nab\n');
    const logged: string[] = [];
    await runLm(parseFlags(lmCommand, ['--model', bundle, '--out', out, '--order', '2', text]), {
      log: (l) => logged.push(l),
    });
    // By hand, bigrams as [previous class or -1 at a line start, class, count]; '0' is class 1 and '1' class 2 (blank 0),
    // and the context runs on across the dropped 'é'.
    const json = JSON.parse(readFileSync(out, 'utf8'));
    const expected = [
      [-1, 1, 1],
      [1, 2, 2],
      [2, 2, 1],
      [2, 1, 2],
      [-1, 2, 1],
    ];
    const key = (g: number[]) => g.join(',');
    expect(json.ngrams.map(key).sort()).toEqual(expected.map(key).sort());
    expect(json.alphabet).toEqual(['', ...digits.chars]);
    expect(logged[0]).toBe(`${out}: 2-gram LM over 10 characters, from 7 characters in 3 lines`);
    expect(logged[1]).toBe('dropped 3 characters outside the model\'s alphabet: "é" x1, "a" x1, "b" x1');
    // What eval and recognize load is that LM.
    const loaded = await loadLm(out, digits);
    expect(loaded.toJSON()).toEqual(CharNgramLm.fromJSON(json).toJSON());
    await expect(loadLm(out, Alphabet.fromTexts(['012']))).rejects.toThrow(
      `--lm ${out}: built for another alphabet (11 classes there, 4 in the model)`,
    );
    await expect(loadLm(out, Alphabet.fromTexts(['012345678x']))).rejects.toThrow(
      `--lm ${out}: built for another alphabet (class 10 is "9" there, "x" in the model)`,
    );
    // A text to count with no character of the alphabet is refused, as `scriptorium lm` refuses it.
    const letters = path.join(tmp, 'only-letters.txt');
    writeFileSync(letters, 'abc\n');
    await expect(loadLm(letters, digits)).rejects.toThrow(
      `--lm ${letters}: no character of the text is in the model's alphabet (0123456789)`,
    );
  });

  it('--word-boundary: contexts stop at spaces (the JSON says so); refused for a model without a space', async () => {
    const withSpace = path.join(tmp, 'spaced');
    const ab = Alphabet.fromTexts(['ab ']);
    await saveBundle(withSpace, {
      model: buildModel('pham2014', { alphabetSize: ab.size, height: 32, seed: 2, dropout: 0 }),
      alphabet: ab,
    });
    const text = path.join(tmp, 'words.txt'),
      out = path.join(tmp, 'wb.json');
    writeFileSync(text, 'ab ba\n');
    const logged: string[] = [];
    await runLm(parseFlags(lmCommand, ['--model', withSpace, '--out', out, '--order', '3', '--word-boundary', text]), {
      log: (l) => logged.push(l),
    });
    const lm = await loadLm(out, ab);
    const expected = CharNgramLm.train('ab ba', { order: 3, alphabet: ['', ...ab.chars], wordBoundary: ' ' });
    expect([lm.wordBoundary, lm.toJSON()]).toEqual([' ', expected.toJSON()]);
    expect(logged[0]).toBe(
      `${out}: 3-gram LM over 3 characters, contexts stopping at spaces, from 5 characters in 1 lines`,
    );
    await expect(
      runLm(parseFlags(lmCommand, ['--model', bundle, '--out', out, '--word-boundary', text])),
    ).rejects.toThrow("lm --word-boundary: the model's alphabet has no space (0123456789)");
  });

  it('refuses a missing text, and text with no character of the alphabet', async () => {
    const out = path.join(tmp, 'none.json');
    await expect(
      runLm(parseFlags(lmCommand, ['--model', bundle, '--out', out, path.join(tmp, 'missing.txt')])),
    ).rejects.toThrow(/missing\.txt: cannot read the text \(ENOENT\)/);
    const letters = path.join(tmp, 'letters.txt');
    writeFileSync(letters, 'abc\n');
    await expect(runLm(parseFlags(lmCommand, ['--model', bundle, '--out', out, letters]))).rejects.toThrow(
      'no character of',
    );
  });
});

describe('decoding flags', () => {
  const spec = { name: 'x', summary: '', synopsis: '', flags: DECODE_FLAGS };
  it('--lm decodes with a beam of 16 unless --beam says otherwise; a beam of 1 with an LM is refused', async () => {
    const text = path.join(tmp, 'digits.txt');
    writeFileSync(text, '0123456789\n');
    expect(await decodeOptions(parseFlags(spec, []), digits)).toEqual({ beam: 1 });
    expect(await decodeOptions(parseFlags(spec, ['--beam', '4']), digits)).toEqual({ beam: 4 });
    expect(await decodeOptions(parseFlags(spec, ['--lm', text]), digits)).toMatchObject({
      beam: 16,
      lmWeight: 0.3,
      insertionBonus: 2,
    });
    await expect(decodeOptions(parseFlags(spec, ['--lm', text, '--beam', '1']), digits)).rejects.toThrow(
      '--lm: decoding with a language model needs a beam',
    );
  });

  it('eval with --lm reports the same lines without the LM too, in the log and the report file', async () => {
    const text = path.join(tmp, 'digits2.txt'),
      report = path.join(tmp, 'report.json');
    writeFileSync(text, '0123456789\n9876543210\n');
    const logged: string[] = [];
    await runEval(
      parseFlags(evalCommand, [
        '--model',
        bundle,
        '--lines',
        '3',
        '--lm',
        text,
        '--beam',
        '2',
        '--report',
        report,
        '--backend',
        'wasm',
      ]),
      { log: (l) => logged.push(l) },
    );
    expect(logged[0]).toMatch(/^3 lines of mnist-lines:test, beam 2 without the LM: CER \d+\.\d\d%/);
    expect(logged[1]).toMatch(/^3 lines of mnist-lines:test, beam 2 with the LM: CER \d+\.\d\d%/);
    const json = JSON.parse(readFileSync(report, 'utf8'));
    expect(json).toMatchObject({ beam: 2, lmOrder: 6, lmWeight: 0.3, lmBonus: 2 });
    expect(json.withoutLm.cer).toBeGreaterThanOrEqual(0);
  });
});
