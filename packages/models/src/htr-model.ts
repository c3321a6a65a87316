import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { ctcLoss, requiredFrames } from '@scriptorium/ctc/browser';
import { MDLSTM } from '@scriptorium/mdlstm';
import type { Batch } from '@scriptorium/data/browser';
import {
  ARCHS,
  cnnBlstm,
  pham2014,
  type ArchName,
  type ArchOptions,
  type BuiltArch,
  type CnnBlstmOptions,
  type Pham2014Options,
} from './architectures.js';

export interface LossAndGrads {
  /** Sum of the per-line CTC losses (-log p(text | image)) of the feasible lines. */
  lossSum: number;
  /** Per-line losses, in batch order; Infinity for an infeasible line. */
  losses: Float32Array;
  /** Lines that count: the batch size minus the infeasible ones. */
  count: number;
  /**
   * Batch positions of infeasible lines: the text needs more frames than the image gives (one per character
   * plus a blank between repeated characters), so p(text | image) = 0. They are left out of the loss and the
   * gradient (CTC's zeroInfinity) instead of making the whole batch's loss infinite.
   */
  infeasible: number[];
  /** Gradient of the MEAN per-line loss over the `count` feasible lines, keyed by variable name. Dispose when done. */
  grads: tf.NamedTensorMap;
}

/** A recogniser network with what training and decoding need around it. */
export class HtrModel {
  constructor(
    readonly arch: ArchName,
    readonly built: BuiltArch,
  ) {}

  get model(): tfl.LayersModel {
    return this.built.model;
  }

  get hyperparameters(): Record<string, unknown> {
    return this.built.hyperparameters;
  }

  /** Image widths are padded to a multiple of this (pass it to collate's padWidthTo). */
  get widthMultiple(): number {
    return this.built.widthMultiple;
  }

  /** The trainable variables, in a stable order (the layout order of flat parameter buffers). */
  get variables(): tf.Variable[] {
    return this.model.trainableWeights.map((w) => w.read() as tf.Variable);
  }

  /** Output frames of a line of each width: ceil(width / reduction). */
  outputLengths(widths: ArrayLike<number>): Int32Array {
    return Int32Array.from(widths as ArrayLike<number>, (w) => Math.ceil(w / this.built.widthReduction));
  }

  /** The model's input tensors for a batch: the images [B, H, W, 1], and their valid-pixel mask if the model takes one. */
  inputs(batch: Batch): tf.Tensor[] {
    const { batchSize: B, height: H, width: W } = batch;
    if (W % this.built.widthMultiple !== 0) {
      throw new RangeError(
        `batch width ${W} is not a multiple of ${this.built.widthMultiple} (collate with padWidthTo: model.widthMultiple)`,
      );
    }
    const image = tf.tensor4d(batch.images, [B, H, W, 1]);
    if (!this.built.usesMask) return [image];
    const mask = new Float32Array(B * H * W);
    for (let b = 0; b < B; b++)
      for (let y = 0; y < H; y++) mask.fill(1, (b * H + y) * W, (b * H + y) * W + batch.widths[b]!);
    return [image, tf.tensor4d(mask, [B, H, W, 1])];
  }

  /** Logits [batch, frames, classes]; frames past each line's outputLength are padding. */
  forward(batch: Batch, training = false): tf.Tensor3D {
    return tf.tidy(() => {
      const inputs = this.inputs(batch);
      return this.model.apply(inputs.length === 1 ? inputs[0]! : inputs, { training }) as tf.Tensor3D;
    });
  }

  /**
   * Forward in training mode, CTC loss, and its gradient w.r.t. every trainable variable. With `dropoutSeed`,
   * the MDLSTM layers' dropout masks are drawn from it (one seed per layer derived from it), so the same
   * batch and seed give the same gradients; without, they are unseeded.
   */
  lossAndGrads(batch: Batch, options: { dropoutSeed?: number } = {}): LossAndGrads {
    const seeded = this.model.layers.filter((l): l is MDLSTM => l instanceof MDLSTM);
    seeded.forEach(
      (l, k) =>
        (l.dropoutSeed = options.dropoutSeed === undefined ? undefined : (options.dropoutSeed + 7919 * (k + 1)) >>> 0),
    );
    try {
      return this.lossAndGradsOnce(batch);
    } finally {
      for (const l of seeded) l.dropoutSeed = undefined;
    }
  }

  private lossAndGradsOnce(batch: Batch): LossAndGrads {
    const logitLengths = this.outputLengths(batch.widths);
    const infeasible: number[] = [];
    for (let b = 0; b < batch.batchSize; b++) {
      const row = b * batch.maxLabelLength;
      if (requiredFrames(batch.labels.subarray(row, row + batch.labelLengths[b]!)) > logitLengths[b]!)
        infeasible.push(b);
    }
    const count = batch.batchSize - infeasible.length;
    const labels = tf.tensor2d(batch.labels, [batch.batchSize, batch.maxLabelLength], 'int32');
    let losses: Float32Array | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const logits = this.forward(batch, true);
      const perLine = ctcLoss({
        logits,
        labels,
        logitLengths,
        labelLengths: batch.labelLengths,
        reduction: 'none',
        zeroInfinity: true,
      });
      losses = perLine.dataSync().slice() as Float32Array;
      return tf.div(tf.sum(perLine), Math.max(1, count)) as tf.Scalar;
    }, this.variables);
    const lossSum = losses!.reduce((a, b) => a + b, 0);
    for (const b of infeasible) losses![b] = Infinity;
    tf.dispose([value, labels]);
    return { lossSum, losses: losses!, count, infeasible, grads };
  }
}

/** Builds architecture `arch` with its options (their type follows the name). */
export function buildModel<A extends ArchName>(arch: A, options: ArchOptions[A]): HtrModel {
  switch (arch) {
    case 'pham2014':
      return new HtrModel(arch, pham2014(options as Pham2014Options));
    case 'cnn-blstm':
      return new HtrModel(arch, cnnBlstm(options as CnnBlstmOptions));
    default:
      throw new RangeError(`unknown model architecture '${String(arch)}' (expected one of: ${ARCHS.join(', ')})`);
  }
}
