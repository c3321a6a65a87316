import * as tf from '@tensorflow/tfjs-core';
import { Alphabet, collate, mnistLines } from '@scriptorium/data';
import { initBackend } from '@scriptorium/runtime';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BundleMeta } from './bundle.js';
import { buildModel } from './htr-model.js';
import { Recognizer } from './recognizer.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: null });
});

describe('Recognizer per-character confidences', () => {
  it("are, for each line of a batch, each character's best softmax probability over its span (greedy and beam, decoded from one pass or two)", async () => {
    const alphabet = Alphabet.fromTexts(['0123456789']);
    const model = buildModel('pham2014', { alphabetSize: alphabet.size, height: 32, seed: 4, dropout: 0 });
    // An untrained model emits mostly blanks; raising two classes' output biases makes it write something.
    const bias = model.variables.find((v) => v.name.startsWith('output') && v.shape.length === 1)!;
    const b = new Float32Array(alphabet.size);
    b[alphabet.encode('7')[0]!] = 0.6;
    b[alphabet.encode('3')[0]!] = 0.55;
    bias.assign(tf.tensor1d(b));
    const rec = new Recognizer(model, alphabet, {} as BundleMeta); // recognizeSamples reads no metadata
    const lines = mnistLines({ split: 'test', count: 3, seed: 8, minDigits: 2, maxDigits: 9 });
    const samples = [0, 1, 2].map((i) => ({ id: String(i), text: '', image: lines.compose(i).image }));
    expect(new Set(samples.map((s) => s.image.width)).size).toBeGreaterThan(1); // lines of different widths share a batch

    // One forward pass decoded both ways gives what two separate calls give.
    const both = await rec.recognizeSamplesEach(samples, [{ beam: 1 }, { beam: 4 }], 2);
    expect(both).toEqual([
      await rec.recognizeSamples(samples, { beam: 1 }),
      await rec.recognizeSamples(samples, { beam: 4 }),
    ]);
    for (const beam of [1, 4]) {
      const results = await rec.recognizeSamples(samples, { beam });
      results.forEach((r, k) => {
        // The line alone, scored by hand from its logits.
        const one = collate([samples[k]!], alphabet, { padWidthTo: model.widthMultiple });
        const logits = model.forward(one);
        const [, , C] = logits.shape;
        const v = logits.dataSync();
        tf.dispose(logits);
        const labels = [...r.text].map((c) => alphabet.encode(c)[0]!);
        const expected = labels.map((label, i) => {
          let best = 0;
          for (let t = r.spans[i]![0]; t < r.spans[i]![1]; t++) {
            const row = Array.from(v.subarray(t * C, (t + 1) * C));
            const z = row.reduce((s, x) => s + Math.exp(x), 0);
            best = Math.max(best, Math.exp(row[label]!) / z);
          }
          return best;
        });
        expect(r.text.length, `line ${k}, beam ${beam}`).toBeGreaterThan(0);
        expect(r.charConfidences).toHaveLength(labels.length);
        r.charConfidences.forEach((c, i) => expect(c).toBeCloseTo(expected[i]!, 5));
      });
    }
  });
});
