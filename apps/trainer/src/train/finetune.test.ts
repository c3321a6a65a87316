import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { Alphabet, collate, mnistLines, writeSplit } from '@scriptorium/data';
import { assignFlat, flattenVariables, layoutFromVariables } from '@scriptorium/dataparallel';
import { buildModel, loadBundle, saveBundle } from '@scriptorium/models';
import { initBackend } from '@scriptorium/runtime';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseFlags } from '../cli/flags.js';
import { runTrain, trainCommand } from '../commands/train.js';
import { fineTuneParams, frozenRanges, grownAlphabet, layerOf } from './finetune.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'trainer-finetune-'));
const digits = Alphabet.fromTexts(['0123456789']);
const small = { dropout: 0, height: 32 };

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: null });
});

describe('fine-tuning from a bundle', () => {
  it('appends the new characters to the alphabet, so the old ones keep their classes', () => {
    const { alphabet, added } = grownAlphabet(digits, Alphabet.fromTexts(['1.2-3']));
    expect(added).toEqual(['-', '.']);
    expect(alphabet.chars).toEqual([...digits.chars, '-', '.']);
    for (const c of digits.chars) expect(alphabet.encode(c)).toEqual(digits.encode(c));
    expect(grownAlphabet(digits, Alphabet.fromTexts(['42'])).alphabet).toBe(digits);
  });

  it("starts a grown model that gives the old classes exactly the bundle model's scores, the new ones lower in every frame", async () => {
    const base = buildModel('pham2014', { ...small, alphabetSize: digits.size, seed: 3 });
    const grown = buildModel('pham2014', { ...small, alphabetSize: digits.size + 2, seed: 9 });
    const layout = layoutFromVariables(grown.variables);
    assignFlat(grown.variables, fineTuneParams(base.variables, grown.variables, layout), layout);
    const lines = mnistLines({ split: 'valid', count: 2, seed: 1, maxDigits: 4 });
    const samples = [0, 1].map((i) => ({ id: String(i), text: '', image: lines.compose(i).image }));
    const batch = collate(samples, digits, { padWidthTo: base.widthMultiple });
    const [a, b] = [base.forward(batch), grown.forward(batch)];
    const [T, C] = [a.shape[1], a.shape[2]];
    const av = a.dataSync(),
      bv = b.dataSync();
    let maxDiff = 0,
      newBelowOld = true;
    for (let r = 0; r < 2 * T; r++) {
      let minOld = Infinity;
      for (let c = 0; c < C; c++) maxDiff = Math.max(maxDiff, Math.abs(av[r * C + c]! - bv[r * (C + 2) + c]!));
      for (let c = 0; c < C; c++) minOld = Math.min(minOld, av[r * C + c]!);
      for (let c = C; c < C + 2; c++) newBelowOld &&= bv[r * (C + 2) + c]! < minOld;
    }
    expect(maxDiff).toBe(0);
    expect(newBelowOld).toBe(true);
    tf.dispose([a, b]);
  });

  it('refuses weights that do not match, and --freeze names it does not know', () => {
    const base = buildModel('pham2014', { ...small, alphabetSize: 11, seed: 3 });
    const other = buildModel('pham2014', { ...small, alphabetSize: 11, seed: 3, units: [2, 10, 40] });
    expect(() => fineTuneParams(base.variables, other.variables, layoutFromVariables(other.variables))).toThrow(
      /--init-from: .*mdlstm3.* has shape .* \(only the output classes may grow\)/,
    );
    const layout = layoutFromVariables(base.variables);
    expect(() => frozenRanges(layout, ['mdlstm9'])).toThrow(
      /^--freeze mdlstm9: no such layer with weights \(expected some of: mdlstm1, /,
    );
    const ranges = frozenRanges(layout, ['output']);
    const outputEntries = layout.entries.filter((e) => layerOf(e.name) === 'output');
    expect(ranges).toEqual(outputEntries.map((e) => [e.offset, e.offset + e.size]));
    expect(outputEntries.length).toBeGreaterThan(0);
  });

  it("train --init-from grows the bundle's model for new characters; --freeze keeps a layer's weights", async () => {
    const baseDir = path.join(tmp, 'base');
    await saveBundle(baseDir, {
      model: buildModel('pham2014', { ...small, alphabetSize: digits.size, seed: 5 }),
      alphabet: digits,
    });
    // Lines of digits whose transcriptions end in a '.', which the bundle's alphabet lacks.
    const manifest = await writeSplit(
      mnistLines({ split: 'train', count: 8, seed: 2, minDigits: 3, maxDigits: 4 }),
      path.join(tmp, 'lines'),
    );
    writeFileSync(
      manifest,
      `${readFileSync(manifest, 'utf8')
        .trim()
        .split('\n')
        .map((l) => `${l}.`)
        .join('\n')}\n`,
    );
    const out = path.join(tmp, 'tuned'),
      logged: string[] = [];
    const flags = parseFlags(trainCommand, [
      '--data',
      `manifest:${manifest}`,
      '--init-from',
      baseDir,
      '--freeze',
      'mdlstm1',
      '--max-steps',
      '2',
      '--batch',
      '4',
      '--out',
      out,
      '--backend',
      'wasm',
      '--quiet',
      '--valid-lines',
      '2',
    ]);
    await runTrain(flags, { log: (l) => logged.push(l) });
    expect(
      logged.some((l) =>
        /^fine-tuning .*base: pham2014 .*line height 32 \(the bundle's\); 1 new character\(s\) added to its 10: \.$/.test(
          l,
        ),
      ),
    ).toBe(true);
    const [before, after] = [await loadBundle(baseDir), await loadBundle(path.join(out, 'last'))];
    expect(after.alphabet.chars).toEqual([...digits.chars, '.']);
    const weights = (m: typeof before.model, layer: string) =>
      Array.from(
        flattenVariables(
          m.variables.filter((v) => layerOf(v.name) === layer),
          layoutFromVariables(m.variables.filter((v) => layerOf(v.name) === layer)),
        ),
      );
    expect(weights(after.model, 'mdlstm1')).toEqual(weights(before.model, 'mdlstm1'));
    expect(weights(after.model, 'mdlstm2')).not.toEqual(weights(before.model, 'mdlstm2'));
    // New characters cannot be learned with the output layer frozen.
    const frozenOut = parseFlags(trainCommand, [
      '--data',
      `manifest:${manifest}`,
      '--init-from',
      baseDir,
      '--freeze',
      'output',
      '--max-steps',
      '1',
      '--out',
      path.join(tmp, 'frozen'),
      '--backend',
      'wasm',
      '--quiet',
    ]);
    await expect(runTrain(frozenOut, { log: () => {} })).rejects.toThrow(
      '--freeze output: the new character(s) . need the output layer to learn them; freeze other layers',
    );
  });
});
