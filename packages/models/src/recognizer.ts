import * as tf from '@tensorflow/tfjs-core';
import { beamSearchDecode, greedyDecode, type LmScorer } from '@scriptorium/ctc';
import { collate, loadLine, type Alphabet, type ImageInput, type LineSample } from '@scriptorium/data';
import { loadBundle, type BundleMeta } from './bundle.js';
import { charConfidences } from './char-confidence.js';
import type { HtrModel } from './htr-model.js';

export interface Recognition {
  text: string;
  /** exp(mean per-frame log-probability of the decoded path): 1 = certain, near 0 = guess. */
  confidence: number;
  /** Log-probability of the decoded path (greedy) or labelling (beam). */
  score: number;
  /** Per character, the highest posterior probability of its class over its alignment span (charConfidences). */
  charConfidences: number[];
  /** Per character, the output frames [start, end) of its CTC alignment... */
  spans: Array<[number, number]>;
  /** ...and the same span in input pixels (frame * width reduction). */
  pixelSpans: Array<[number, number]>;
}

export interface RecognizeOptions {
  /** Beam width; 0 or 1 (default) decodes greedily. */
  beam?: number;
  lm?: LmScorer;
  lmWeight?: number;
  insertionBonus?: number;
  /** Lines per forward pass. Default 16. */
  batchSize?: number;
}

/** Loads a model bundle and turns line images into text. */
export class Recognizer {
  constructor(
    readonly model: HtrModel,
    readonly alphabet: Alphabet,
    readonly meta: BundleMeta,
  ) {}

  static async load(dir: string): Promise<Recognizer> {
    const b = await loadBundle(dir);
    return new Recognizer(b.model, b.alphabet, b.meta);
  }

  /** Recognises one image (file path, encoded Buffer or raw pixels) or a list of them. */
  async recognize(input: ImageInput, options?: RecognizeOptions): Promise<Recognition>;
  async recognize(input: ImageInput[], options?: RecognizeOptions): Promise<Recognition[]>;
  async recognize(input: ImageInput | ImageInput[], options: RecognizeOptions = {}): Promise<Recognition | Recognition[]> {
    const list = Array.isArray(input) ? input : [input];
    const samples: LineSample[] = await Promise.all(
      list.map(async (img, k) => ({
        id: typeof img === 'string' ? img : `input ${k}`,
        text: '',
        image: await loadLine(img, this.meta.preprocess),
      })),
    );
    const out = await this.recognizeSamples(samples, options);
    return Array.isArray(input) ? out : out[0]!;
  }

  /** Recognises already normalised line images (as the data package yields them). */
  async recognizeSamples(samples: readonly LineSample[], options: RecognizeOptions = {}): Promise<Recognition[]> {
    return (await this.recognizeSamplesEach(samples, [options], options.batchSize))[0]!;
  }

  /**
   * Recognises the lines once per decoding in `decodings` (e.g. with and without an LM) from one forward pass:
   * the result for decodings[i] is element i. `batchSize` lines go through the model at a time (default 16).
   */
  async recognizeSamplesEach(samples: readonly LineSample[], decodings: readonly RecognizeOptions[], batchSize = 16): Promise<Recognition[][]> {
    const results: Recognition[][] = decodings.map(() => []);
    const r = this.model.built.widthReduction;
    for (let s = 0; s < samples.length; s += batchSize) {
      const part = samples.slice(s, s + batchSize).map((x) => ({ ...x, text: '' }));
      const batch = collate(part, this.alphabet, { padWidthTo: this.model.widthMultiple });
      const lengths = this.model.outputLengths(batch.widths);
      const logits = this.model.forward(batch);
      const data = { data: logits.dataSync() as Float32Array, shape: logits.shape as [number, number, number] };
      tf.dispose(logits);
      const [, T, C] = data.shape;
      decodings.forEach((options, i) => {
        const decoded =
          (options.beam ?? 1) > 1
            ? beamSearchDecode(data, lengths, { beamWidth: options.beam, lm: options.lm, lmWeight: options.lmWeight, insertionBonus: options.insertionBonus }).map((b) => b[0]!)
            : greedyDecode(data, lengths);
        decoded.forEach((d, k) => {
          results[i]!.push({
            text: this.alphabet.decode(d.labels),
            confidence: Math.exp(d.score / Math.max(1, lengths[k]!)),
            charConfidences: charConfidences(data.data.subarray(k * T * C, (k + 1) * T * C), C, d.labels, d.spans),
            score: d.score,
            spans: d.spans,
            pixelSpans: d.spans.map(([a, b]) => [a * r, b * r]),
          });
        });
      });
    }
    return results;
  }
}
