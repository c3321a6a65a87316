import type { Alphabet } from './alphabet.js';
import { DataError } from './errors.js';
import type { LineSample } from './line-image.js';

/** A padded batch, ready to become tensors. */
export interface Batch {
  images: Float32Array; // [batchSize, height, width, 1], zero (background) padded on the right
  batchSize: number;
  height: number;
  width: number;
  widths: Int32Array; // per sample, before padding
  labels: Int32Array; // [batchSize, maxLabelLength], zero padded
  labelLengths: Int32Array;
  maxLabelLength: number;
  ids: string[];
  texts: string[];
}

export interface CollateOptions {
  /** Round the padded width up to a multiple of this (so strided models give exact lengths). Default 1. */
  padWidthTo?: number;
  /** Pad to at least this width. Default 0. */
  minWidth?: number;
}

/** Pads a list of same-height samples to the widest one and encodes their texts. */
export function collate(samples: readonly LineSample[], alphabet: Alphabet, options: CollateOptions = {}): Batch {
  if (samples.length === 0) throw new DataError('collate: no samples');
  const height = samples[0]!.image.height;
  const multiple = options.padWidthTo ?? 1;
  let width = Math.max(options.minWidth ?? 0, ...samples.map((s) => s.image.width));
  width = Math.ceil(width / multiple) * multiple;
  const labels = samples.map((s) => {
    try {
      return alphabet.encode(s.text);
    } catch (err) {
      throw new DataError(`sample '${s.id}': ${(err as Error).message}`);
    }
  });
  const maxLabelLength = Math.max(1, ...labels.map((l) => l.length));
  const B = samples.length;
  const batch: Batch = {
    images: new Float32Array(B * height * width),
    batchSize: B,
    height,
    width,
    widths: new Int32Array(B),
    labels: new Int32Array(B * maxLabelLength),
    labelLengths: new Int32Array(B),
    maxLabelLength,
    ids: samples.map((s) => s.id),
    texts: samples.map((s) => s.text),
  };
  samples.forEach((s, b) => {
    const img = s.image;
    if (img.height !== height) {
      throw new DataError(
        `collate: sample '${s.id}' is ${img.height} px high, the batch ${height} (normalise heights first)`,
      );
    }
    for (let y = 0; y < height; y++)
      batch.images.set(img.data.subarray(y * img.width, (y + 1) * img.width), (b * height + y) * width);
    batch.widths[b] = img.width;
    batch.labels.set(labels[b]!, b * maxLabelLength);
    batch.labelLengths[b] = labels[b]!.length;
  });
  return batch;
}
