import * as tf from '@tensorflow/tfjs-core';
import { beamSearchDecode, greedyDecode, type LmScorer } from '@scriptorium/ctc/browser';
import { collate, normalizeLineSync, type Alphabet, type LineImage, type LineSample } from '@scriptorium/data/browser';
import type { BundleMeta } from './bundle-meta.js';
import type { LoadedBundle } from './bundle-load.js';
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

/** What a recogniser needs of a bundle's metadata: the line normalisation its model was trained with. */
export type RecognizerMeta = Pick<BundleMeta, 'preprocess'>;

/**
 * Turns line images into text with a loaded bundle; browser-safe (no file or image decoding: Recognizer adds
 * those in Node). The page and `scriptorium serve` use it as `recognize` does.
 */
export class LineRecognizer<M extends RecognizerMeta = BundleMeta> {
  constructor(
    readonly model: HtrModel,
    readonly alphabet: Alphabet,
    /** The bundle's metadata; recognition reads only its `preprocess` (a model in training has no more). */
    readonly meta: M,
  ) {}

  static fromBundle(b: LoadedBundle): LineRecognizer {
    return new LineRecognizer(b.model, b.alphabet, b.meta);
  }

  /** Recognises decoded line images (ink high, any size): normalised with the bundle's preprocessing first, as `recognize` does. */
  async recognizeImages(images: readonly LineImage[], options: RecognizeOptions = {}): Promise<Recognition[]> {
    const samples = images.map((image, k) => ({
      id: `input ${k}`,
      text: '',
      image: normalizeLineSync(image, this.meta.preprocess),
    }));
    return this.recognizeSamples(samples, options);
  }

  /** Recognises already normalised line images (as the data package yields them). */
  async recognizeSamples(samples: readonly LineSample[], options: RecognizeOptions = {}): Promise<Recognition[]> {
    return (await this.recognizeSamplesEach(samples, [options], options.batchSize))[0]!;
  }

  /**
   * Recognises the lines once per decoding in `decodings` (e.g. with and without an LM) from one forward pass:
   * the result for decodings[i] is element i. `batchSize` lines go through the model at a time (default 16).
   */
  async recognizeSamplesEach(
    samples: readonly LineSample[],
    decodings: readonly RecognizeOptions[],
    batchSize = 16,
  ): Promise<Recognition[][]> {
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
            ? beamSearchDecode(data, lengths, {
                beamWidth: options.beam,
                lm: options.lm,
                lmWeight: options.lmWeight,
                insertionBonus: options.insertionBonus,
              }).map((b) => b[0]!)
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
