import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { mnistLines, writeSplit } from '@scriptorium/data';
import { initBackend } from '@scriptorium/runtime';
import { describe, expect, it } from 'vitest';
import { parseFlags } from '../cli/flags.js';
import { runTrain, trainCommand } from '../commands/train.js';
import { fromMix, lineSource, mixLine } from './mix.js';
import { fromWarmup } from './warmup.js';

const N = 20000;
/** The share of lines 0..N-1 of step `step` for which `draw` holds. */
const share = (draw: (step: number, index: number) => boolean, step: number) => {
  let n = 0;
  for (let i = 0; i < N; i++) n += draw(step, i) ? 1 : 0;
  return n / N;
};

describe('rehearsal (mix) draw', () => {
  const mix = { spec: 'mnist-lines', share: 0.3 };

  it('draws about P of every step from the mix data, at every step alike', () => {
    // Binomial(20000, 0.3): sd = sqrt(0.3 * 0.7 / 20000) = 0.0032; 4 sd = 0.013.
    for (const step of [1, 2, 500, 100_000])
      expect(Math.abs(share((s, i) => fromMix(mix, 7, s, i), step) - 0.3)).toBeLessThan(0.013);
  });

  it('is a pure function of (seed, step, index); seeds differ, and the stream is not the warm-up one', () => {
    const draws = (seed: number, step = 5) => Array.from({ length: 64 }, (_, i) => fromMix(mix, seed, step, i));
    expect(draws(3)).toEqual(draws(3));
    expect(draws(3)).not.toEqual(draws(4));
    expect(draws(3, 5)).not.toEqual(draws(3, 6));
    // At equal shares (warm-up step 51 of 100: 0.5), the two draws still pick different lines.
    const half = { spec: 'mnist-lines', share: 0.5 };
    const warm = Array.from({ length: 64 }, (_, i) => fromWarmup({ spec: 'x', steps: 100 }, 3, 51, i));
    expect(Array.from({ length: 64 }, (_, i) => fromMix(half, 3, 51, i))).not.toEqual(warm);
  });

  it('picks mix lines uniformly over the whole mix data, whatever the training data size', () => {
    // 7 mix lines, 14000 draws: each count ~ Binomial(14000, 1/7), sd = sqrt(14000 * 1/7 * 6/7) = 41; 4 sd = 166.
    const counts = new Array<number>(7).fill(0);
    for (let step = 1; step <= 1000; step++) for (let i = 0; i < 14; i++) counts[mixLine(3, step, i, 7)]!++;
    for (const c of counts) expect(Math.abs(c - 2000)).toBeLessThan(166);
    expect(mixLine(3, 9, 2, 7)).toBe(mixLine(3, 9, 2, 7));
  });

  it('with a warm-up, the warm-up goes first and the mix takes P of the lines it leaves', () => {
    const run = {
      warmup: { spec: 'mnist-lines:maxDigits=6', steps: 100 },
      mix: { spec: 'mnist-lines', share: 0.5 },
      seed: 7,
    };
    const of = (source: string) => (s: number, i: number) => lineSource(run, s, i) === source;
    expect(share(of('warmup'), 1)).toBe(1); // warm-up share 1 at step 1: no line left for the mix
    // Step 51: warm-up share 0.5, so warmup 0.5, mix (1 - 0.5) * 0.5 = 0.25, train 0.25 (4 sd < 0.013).
    expect(Math.abs(share(of('warmup'), 51) - 0.5)).toBeLessThan(0.015);
    expect(Math.abs(share(of('mix'), 51) - 0.25)).toBeLessThan(0.013);
    expect(Math.abs(share(of('train'), 51) - 0.25)).toBeLessThan(0.013);
    // After the warm-up: the mix's P alone.
    expect(share(of('warmup'), 101)).toBe(0);
    expect(Math.abs(share(of('mix'), 101) - 0.5)).toBeLessThan(0.015);
    // Without a warm-up or a mix, every line is a training line.
    expect(share((s, i) => lineSource({ seed: 7 }, s, i) === 'train', 3)).toBe(1);
  });
});

describe('train --mix-data --mix-share', () => {
  it("writes the mix into the job, adds the mix data's characters to the alphabet, and refuses a resume with another share", async () => {
    await initBackend({ backend: 'wasm', log: null });
    const tmp = mkdtempSync(path.join(tmpdir(), 'trainer-mix-'));
    const lines = (name: string, seed: number) =>
      writeSplit(mnistLines({ split: 'train', count: 8, seed, minDigits: 2, maxDigits: 3 }), path.join(tmp, name));
    const [train, old] = [await lines('new', 1), await lines('old', 2)];
    // The mix data's transcriptions end in a '.', which the training data lacks.
    const rows = readFileSync(old, 'utf8').trim().split('\n');
    writeFileSync(old, `${rows.map((l) => `${l}.`).join('\n')}\n`);
    const out = path.join(tmp, 'run');
    const flags = (share: string, extra: string[] = []) =>
      parseFlags(trainCommand, [
        ...['--data', `manifest:${train}`, '--mix-data', `manifest:${old}`, '--mix-share', share],
        ...['--max-steps', '1', '--batch', '2', '--valid-lines', '2', '--height', '32', '--dropout', '0'],
        ...['--out', out, '--backend', 'wasm', '--quiet', ...extra],
      ]);
    await runTrain(flags('0.5'), { log: () => {} });
    const job = JSON.parse(readFileSync(path.join(out, 'job.json'), 'utf8'));
    expect(job.mix).toEqual({ spec: `manifest:${old}`, share: 0.5 });
    expect(job.alphabet.chars).toContain('.');
    await expect(runTrain(flags('0.3', ['--resume']), { log: () => {} })).rejects.toThrow(
      /was trained with --mix-share 0\.5; give the same to continue that run$/,
    );
  });
});
