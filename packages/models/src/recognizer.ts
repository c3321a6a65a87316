import { loadLine, type ImageInput, type LineSample } from '@scriptorium/data';
import { loadBundle } from './bundle.js';
import type { BundleMeta } from './bundle-meta.js';
import { LineRecognizer, type RecognizeOptions, type Recognition, type RecognizerMeta } from './line-recognizer.js';

export type { Recognition, RecognizeOptions, RecognizerMeta } from './line-recognizer.js';

/** Loads a model bundle from a directory and turns line images (files, encoded bytes, raw pixels) into text. Node only. */
export class Recognizer<M extends RecognizerMeta = BundleMeta> extends LineRecognizer<M> {
  static async load(dir: string): Promise<Recognizer> {
    const b = await loadBundle(dir);
    return new Recognizer(b.model, b.alphabet, b.meta);
  }

  /** Recognises one image (file path, encoded Buffer or raw pixels) or a list of them. */
  async recognize(input: ImageInput, options?: RecognizeOptions): Promise<Recognition>;
  async recognize(input: ImageInput[], options?: RecognizeOptions): Promise<Recognition[]>;
  async recognize(
    input: ImageInput | ImageInput[],
    options: RecognizeOptions = {},
  ): Promise<Recognition | Recognition[]> {
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
}
