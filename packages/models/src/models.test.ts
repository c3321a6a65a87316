import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { Adadelta } from '@scriptorium/adadelta';
import { cer, greedyDecode } from '@scriptorium/ctc';
import { Alphabet, collate, loadLine, mnistLines, writeLinePng } from '@scriptorium/data';
import { initBackend } from '@scriptorium/runtime';
import { beforeAll, describe, expect, it } from 'vitest';
import { BundleError, loadBundle, saveBundle } from './bundle.js';
import { buildModel } from './htr-model.js';
import { Recognizer } from './recognizer.js';

const alphabet = Alphabet.fromTexts(['0123456789']);
const tmp = mkdtempSync(path.join(tmpdir(), 'models-'));

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: null });
});

describe('pham2014', () => {
  it('has the parameter count derived from the paper sizes', () => {
    // MDLSTM with u units on c channels, 4 directions: 4*(c*5u) + 4*(2u*5u) + 4*5u = 20uc + 40u^2 + 20u.
    const md = (u: number, c: number) => 20 * u * c + 40 * u * u + 20 * u;
    // Non-overlapping 4x2 convolutions without bias: (4*2*inputs) * features.
    const expected = md(2, 4) + 4 * 2 * 8 * 6 + md(10, 6) + 4 * 2 * 40 * 20 + md(50, 20) + (200 * 11 + 11);
    expect(expected).toBe(135755);
    expect(buildModel('pham2014', { alphabetSize: 11, seed: 1 }).model.countParams()).toBe(expected);
  });

  it('output lengths match the real outputs for several widths, and padding does not change a line', () => {
    const m = buildModel('pham2014', { alphabetSize: 11, seed: 2, units: [2, 4, 8] });
    const ds = mnistLines({ split: 'valid', count: 4, seed: 5, minDigits: 1, maxDigits: 6 });
    const samples = Array.from({ length: 4 }, (_, i) => ds.compose(i));
    const batch = collate(samples, alphabet, { padWidthTo: m.widthMultiple });
    const logits = m.forward(batch);
    expect(logits.shape).toEqual([4, batch.width / 8, 11]);
    const lengths = m.outputLengths(batch.widths);
    // Each line alone (padded only to a multiple of 8) has exactly outputLength frames and the same logits.
    samples.forEach((s, b) => {
      const alone = collate([s], alphabet, { padWidthTo: m.widthMultiple });
      const single = m.forward(alone);
      expect(single.shape[1]).toBe(lengths[b]);
      const inBatch = tf.slice(logits, [b, 0, 0], [1, lengths[b]!, 11]);
      expect(tf.max(tf.abs(tf.sub(single, inBatch))).dataSync()[0]).toBeLessThan(1e-4);
    });
  });

  it('leaves a line whose text cannot fit its frames out of the loss and gradient instead of making them infinite', () => {
    const m = buildModel('pham2014', { alphabetSize: 11, seed: 4, units: [2, 4, 8], dropout: 0 });
    const ds = mnistLines({ split: 'valid', count: 2, seed: 6, minDigits: 2, maxDigits: 3 });
    const good = [ds.compose(0), ds.compose(1)];
    // 16 px wide gives 2 frames; '11' alone needs 3 (a blank between the repeats).
    const bad = { id: 'bad', text: '11', image: { data: new Float32Array(32 * 16).fill(0.5), height: 32, width: 16 } };
    const padTo = Math.max(...good.map((s) => s.image.width));
    const withBad = m.lossAndGrads(
      collate([good[0]!, bad, good[1]!], alphabet, { padWidthTo: m.widthMultiple, minWidth: padTo }),
    );
    const without = m.lossAndGrads(collate(good, alphabet, { padWidthTo: m.widthMultiple, minWidth: padTo }));
    expect(withBad.infeasible).toEqual([1]);
    expect(withBad.count).toBe(2);
    expect(withBad.losses[1]).toBe(Infinity);
    expect(Number.isFinite(withBad.lossSum)).toBe(true);
    expect(withBad.lossSum).toBeCloseTo(without.lossSum, 3);
    for (const name of Object.keys(without.grads)) {
      const diff = tf.max(tf.abs(tf.sub(withBad.grads[name]!, without.grads[name]!))).dataSync()[0]!;
      expect(diff, name).toBeLessThan(1e-5);
    }
    tf.dispose([...Object.values(withBad.grads), ...Object.values(without.grads)]);
  });

  it('a small model overfits four mnist-lines to CER 0 with a fixed seed (data -> MDLSTM -> CTC -> Adadelta)', () => {
    const m = buildModel('pham2014', { alphabetSize: alphabet.size, seed: 3, units: [2, 8, 24], dropout: 0 });
    const ds = mnistLines({ split: 'train', count: 4, seed: 9, minDigits: 2, maxDigits: 3 });
    const batch = collate(
      Array.from({ length: 4 }, (_, i) => ds.compose(i)),
      alphabet,
      { padWidthTo: m.widthMultiple },
    );
    const opt = new Adadelta();
    let rate = 1;
    for (let step = 1; step <= 300 && rate > 0; step++) {
      const { grads } = m.lossAndGrads(batch);
      opt.applyGradients(grads);
      tf.dispose(Object.values(grads));
      if (step % 25 === 0) {
        const logits = m.forward(batch);
        rate = cer(
          batch.texts,
          greedyDecode(logits, m.outputLengths(batch.widths)).map((d) => alphabet.decode(d.labels)),
        ).rate;
        logits.dispose();
      }
    }
    expect(rate).toBe(0);
  }, 240_000);
});

describe('cnnBlstm', () => {
  it('maps width w to ceil(w / 4) frames', async () => {
    await initBackend({ backend: 'cpu', log: null });
    const m = buildModel('cnn-blstm', { alphabetSize: 11, seed: 1, convFeatures: [4, 8], lstmUnits: [8] });
    for (const w of [8, 20, 36]) {
      const batch = collate(
        [{ id: 'x', text: '1', image: { data: new Float32Array(32 * w), height: 32, width: w } }],
        alphabet,
        { padWidthTo: m.widthMultiple },
      );
      expect(m.forward(batch).shape).toEqual([1, m.outputLengths([w])[0], 11]);
    }
    await initBackend({ backend: 'wasm', log: null });
  });
});

describe('bundles and the Recognizer', () => {
  it('save -> load gives identical logits; the Recognizer reads PNG files end to end', async () => {
    const m = buildModel('pham2014', { alphabetSize: alphabet.size, seed: 4, units: [2, 4, 8] });
    const dir = path.join(tmp, 'bundle');
    await saveBundle(dir, { model: m, alphabet, training: { steps: 0 } });
    const loaded = await loadBundle(dir);
    expect(loaded.alphabet.equals(alphabet)).toBe(true);
    expect(loaded.meta.training.steps).toBe(0);
    const line = mnistLines({ split: 'test', count: 1, seed: 1 }).compose(0);
    const batch = collate([line], alphabet, { padWidthTo: 8 });
    expect(Array.from(loaded.model.forward(batch).dataSync())).toEqual(Array.from(m.forward(batch).dataSync()));

    const png = path.join(tmp, 'line.png');
    await writeLinePng(line.image, png);
    const rec = await Recognizer.load(dir);
    const [fromFile] = await rec.recognize([png]);
    // The recogniser normalises the PNG as training data was (crop, contrast, height 32); compare with the
    // direct greedy decode of the same normalised line.
    const direct = (
      await rec.recognizeSamples([{ id: 'x', text: '', image: await loadLine(png, rec.meta.preprocess) }])
    )[0]!;
    expect(fromFile!.text).toBe(direct.text);
    expect(fromFile!.spans.length).toBe(fromFile!.text.length);
    expect(fromFile!.confidence).toBeGreaterThan(0);
    expect(fromFile!.confidence).toBeLessThanOrEqual(1);
  });

  it('bounded cells: every MDLSTM layer gets them, they change the outputs, and a bundle keeps them', async () => {
    const opts = { alphabetSize: alphabet.size, seed: 6, units: [2, 4, 8] as [number, number, number] };
    const std = buildModel('pham2014', opts),
      bounded = buildModel('pham2014', { ...opts, bounded: true });
    const cells = (m: ReturnType<typeof buildModel>) =>
      m.model.layers.filter((l) => l.getClassName() === 'MDLSTM').map((l) => l.getConfig().bounded);
    expect(cells(std)).toEqual([false, false, false]);
    expect(cells(bounded)).toEqual([true, true, true]);
    expect(bounded.hyperparameters.bounded).toBe(true);
    const batch = collate([mnistLines({ split: 'test', count: 1, seed: 2 }).compose(0)], alphabet, { padWidthTo: 8 });
    // Same seed, same weights: only the cell differs.
    const a = std.forward(batch).dataSync(),
      b = bounded.forward(batch).dataSync();
    expect(Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i]!)))).toBeGreaterThan(1e-3);
    const dir = path.join(tmp, 'bounded');
    await saveBundle(dir, { model: bounded, alphabet, training: { steps: 0 } });
    expect(Array.from((await loadBundle(dir)).model.forward(batch).dataSync())).toEqual(Array.from(b));
  });

  it('an option the architecture does not know is refused by name, not ignored', () => {
    // @ts-expect-error pham2014 has no option 'cell'
    expect(() => buildModel('pham2014', { alphabetSize: 11, cell: 'leaky' })).toThrow(
      /^pham2014: unknown model option 'cell' \(expected one of: alphabetSize, height, .*bounded, seed\)/,
    );
    // @ts-expect-error cnn-blstm has no option 'bounded'
    expect(() => buildModel('cnn-blstm', { alphabetSize: 11, bounded: true })).toThrow(
      /^cnn-blstm: unknown model option 'bounded'/,
    );
  });

  it('refuses a missing bundle, naming the file (the other refusals: bundle-faults.test.ts)', async () => {
    await expect(loadBundle(path.join(tmp, 'nothing'))).rejects.toBeInstanceOf(BundleError);
    await expect(loadBundle(path.join(tmp, 'nothing'))).rejects.toThrow(/nothing\/bundle\.json: missing \(ENOENT\)/);
  });
});
