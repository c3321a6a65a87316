// The trainer's command line given bad input: one line naming what was wrong, exit 2, no stack trace.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Alphabet, mnistLines, writeLinePng } from '@scriptorium/data';
import { buildModel, saveBundle } from '@scriptorium/models';
import { initBackend } from '@scriptorium/runtime';
import { describe, expect, it } from 'vitest';
import { cli, quiet, tiny } from './cli-test-util.js';
import { runTrain } from './commands/train.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'trainer-'));

describe('bad input on the command line', () => {
  it('an invalid Adadelta setting or a height the model cannot pool is a usage error naming the flag', async () => {
    await expect(runTrain(tiny(path.join(tmp, 'rho'), ['--rho', '2']), quiet)).rejects.toThrow(
      /^--rho: adadelta: rho = 2 is invalid/,
    );
    await expect(runTrain(tiny(path.join(tmp, 'h24'), ['--height', '24']), quiet)).rejects.toThrow(
      /^--height 24: pham2014: height 24 must be a multiple of/,
    );
    await expect(
      runTrain(tiny(path.join(tmp, 'cell'), ['--model', 'cnn-blstm', '--mdlstm-cell', 'bounded']), quiet),
    ).rejects.toThrow(/^--mdlstm-cell bounded: model cnn-blstm has no MDLSTM layers/);
  });

  it('unknown command, flag or value: one line plus usage, exit 2, no stack trace', async () => {
    const a = await cli(['trian']);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(
      /^scriptorium: unknown command 'trian' \(expected one of: train, worker, eval, recognize, lm, keys, demo, serve\)/,
    );
    const b = await cli(['train', '--bach', '3']);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/^scriptorium train: unknown option '--bach' for 'train'\n\nusage: scriptorium train/);
    expect(b.stderr).not.toMatch(/at .*\.ts:\d+/);
    const c = await cli(['train', '--model', 'resnet']);
    expect(c.stderr).toMatch(/--model: unknown value 'resnet' \(expected one of: pham2014, cnn-blstm\)/);
  });

  it('a missing line image stops training with its name, or with --skip-bad is reported, left out and counted', async () => {
    // Six lines, the third one's image missing; the last line is split off for validation, so two steps of 4
    // (4 + 1) cover the other five once.
    const dir = path.join(tmp, 'skip');
    (await import('node:fs')).mkdirSync(dir, { recursive: true });
    const src = mnistLines({ split: 'valid', count: 6, seed: 5 });
    const rows: string[] = [];
    for (let i = 0; i < 6; i++) {
      const s = await src.load(i);
      if (i !== 2) await writeLinePng(s.image, path.join(dir, `l${i}.png`));
      rows.push(`l${i}.png\t${s.text}`);
    }
    const manifest = path.join(dir, 'lines.tsv');
    (await import('node:fs')).writeFileSync(manifest, `${rows.join('\n')}\n`);
    const flags = ['--data', `manifest:${manifest}`, '--max-steps', '2'];
    await expect(runTrain(tiny(path.join(tmp, 'noskip'), flags), quiet)).rejects.toThrow(
      `${manifest}:3: 'l2.png' not found`,
    );
    const lines: string[] = [];
    const s = await runTrain(tiny(path.join(tmp, 'skipped'), [...flags, '--skip-bad']), { log: (l) => lines.push(l) });
    expect(s.steps).toBe(2);
    expect(s.skippedLines).toBe(1);
    expect(lines.filter((l) => l.startsWith('skipped line'))).toEqual([
      `skipped line 2 ('l2.png'): ${manifest}:3: 'l2.png' not found (paths are relative to the manifest)`,
    ]);
    expect(lines.join('\n')).toMatch(/lines left out \(per batch\)\s+1/);
  });

  it('unreadable data gives the data file and line; a missing bundle is named', async () => {
    const m = path.join(tmp, 'bad.tsv');
    (await import('node:fs')).writeFileSync(m, 'a.png\tok\nb.png\n');
    const r = await cli(['train', '--data', `manifest:${m}`, '--max-steps', '1', '--out', path.join(tmp, 'bad')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${m}:2: expected 2 tab-separated columns (path, transcription), found 1`);
    const e = await cli(['eval', '--model', path.join(tmp, 'nope')]);
    expect(e.code).toBe(2);
    expect(e.stderr).toMatch(/nope\/bundle.json: missing \(ENOENT\)/);
  });

  it('a corrupt bundle (one flipped bit in weights.bin) is one line naming the file, exit 2, no stack trace', async () => {
    await initBackend({ backend: 'wasm', log: null });
    const dir = path.join(tmp, 'flipped-bundle');
    await saveBundle(dir, {
      model: buildModel('pham2014', { alphabetSize: 11, seed: 1, units: [2, 4, 8] }),
      alphabet: Alphabet.fromTexts(['0123456789']),
    });
    const weights = readFileSync(path.join(dir, 'weights.bin'));
    weights[3]! ^= 0x40;
    writeFileSync(path.join(dir, 'weights.bin'), weights);
    const png = path.join(tmp, 'flipped-line.png');
    await writeLinePng(mnistLines({ split: 'test', count: 1, seed: 1 }).compose(0).image, png);
    const r = await cli(['recognize', '--model', dir, png]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      new RegExp(
        `^scriptorium recognize: ${dir}/weights\\.bin: SHA-256 mismatch \\(.*\\): the file is corrupt or was changed\n$`,
      ),
    );
  });
});
