import * as tf from '@tensorflow/tfjs-core';
import { ctcForwardBackwardScaled } from './ctc-forward-backward.js';
import { checkLengths, CtcInputError } from './errors.js';
import { backendCopiesArrays, readFloat32 } from './tensor-data.js';

export interface CtcLossOptions {
  /** [batch, time, classes] unnormalised scores; a float64 log-softmax is applied inside. */
  logits: tf.Tensor3D;
  /**
   * Targets, without blanks: an int32 tensor or flat Int32Array [batch, maxLabelLength] padded past each length
   * (pad values are ignored), or one `number[]` per sample.
   */
  labels: tf.Tensor2D | Int32Array | number[][];
  /** Frames used per sample; frames past it get zero gradient and may hold anything, even NaN. */
  logitLengths: ArrayLike<number> | tf.Tensor1D;
  /** Label length per sample: required for the padded forms, optional for `number[][]` (default: row lengths). */
  labelLengths?: ArrayLike<number> | tf.Tensor1D;
  /** Index of the blank class. Default 0 (PyTorch's default; TensorFlow's `ctc_loss` v1 uses the last class). */
  blank?: number;
  /**
   * 'none': per-sample losses [batch]; 'sum': their sum; 'mean' (default, as PyTorch): each loss divided by its
   * label length (an empty label counts as 1), then averaged over the batch.
   */
  reduction?: 'none' | 'sum' | 'mean';
  /** Infeasible samples (label needs more frames than given) give 0 instead of +Infinity. Default false. */
  zeroInfinity?: boolean;
}

/**
 * A gradient array free for the next call: one that a backend which copies arrays into tensors (wasm) has copied.
 * Reusing it saves allocating and first touching a fresh array per training step (for [16, 128, 80], writing a fresh
 * array took 1.0 ms here, a reused one 0.3 ms). A forward pass takes it (no two passes share it) and its gradient
 * function gives it back.
 */
let spareGrad: Float32Array | null = null;

/**
 * CTC loss, -log p(labels | logits), differentiable w.r.t. `logits` (one `tf.customGrad` op: the forward-backward
 * runs on typed arrays in {@link ctcForwardBackward}, and the gradient, weighted for the reduction, is computed
 * together with the loss; the backward step only multiplies it by dy when dy is not 1).
 * Infeasible samples give +Infinity (0 with `zeroInfinity`) and zero gradient, never NaN.
 */
export function ctcLoss(options: CtcLossOptions): tf.Tensor {
  const { logits } = options;
  if (!(logits instanceof tf.Tensor) || logits.rank !== 3) {
    const shape = logits instanceof tf.Tensor ? `[${logits.shape.join(', ')}]` : typeof logits;
    throw new CtcInputError(`logits: got ${shape}; expected a tensor [batch, time, classes]`);
  }
  if (logits.dtype !== 'float32') throw new CtcInputError(`logits: dtype ${logits.dtype}; expected float32`);
  const [batch, time, classes] = logits.shape;
  const reduction = options.reduction ?? 'mean';
  if (!['none', 'sum', 'mean'].includes(reduction)) {
    throw new CtcInputError(`reduction: '${reduction}' is not one of 'none', 'sum', 'mean'`);
  }
  const labels = raggedLabels(options.labels, options.labelLengths, batch);
  const logitLengths = toNumbers(options.logitLengths);
  checkLengths('logitLengths', logitLengths, batch, time, 'the time dimension of logits');

  const shape: [number, number, number] = [batch, time, classes];
  // weight[b] = d reduced / d loss[b]; the math multiplies each sample's gradient by it as it writes it.
  const weight = new Float64Array(batch).fill(1);
  if (reduction === 'mean') for (let b = 0; b < batch; b++) weight[b] = 1 / (batch * Math.max(labels[b]!.length, 1));
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const x = args[0] as tf.Tensor3D;
    const logitsData = readFloat32(x); // read before any tensor is made: on wasm a view of the heap
    const { blank, zeroInfinity } = options;
    const size = batch * time * classes;
    const reuse = spareGrad?.length === size ? spareGrad : undefined;
    spareGrad = null;
    const { loss, grad } = ctcForwardBackwardScaled(
      { logits: logitsData, shape, labels, logitLengths, blank, zeroInfinity },
      weight,
      reuse,
    );
    let value: tf.Tensor;
    if (reduction === 'none') value = tf.tensor1d(Float32Array.from(loss));
    else {
      let total = 0;
      for (let b = 0; b < batch; b++) total += loss[b]! * weight[b]!;
      value = tf.scalar(total);
    }
    // The gradient, already weighted, was computed with the loss: the gradient function multiplies it by dy in place
    // ([batch] for 'none', a scalar otherwise; skipped where dy is 1, as under tf.grad of the loss itself) and hands
    // the array over as the tensor's data (the cpu backend keeps it; wasm copies it once). tfjs calls it once per
    // forward pass, which the in-place update relies on.
    let handedOver = false;
    const gradFunc = (dy: tf.Tensor) => {
      if (handedOver) throw new Error('ctcLoss: the gradient of one forward pass was requested twice');
      handedOver = true;
      const dyValues = dy.dataSync();
      const sampleSize = time * classes;
      for (let b = 0; b < batch; b++) {
        const d = dyValues[reduction === 'none' ? b : 0]!;
        if (d !== 1) for (let i = b * sampleSize; i < (b + 1) * sampleSize; i++) grad[i] *= d;
      }
      const gradTensor = tf.tensor3d(grad, shape);
      if (backendCopiesArrays()) spareGrad = grad; // wasm copied it into its heap: the next call may write to it
      return gradTensor;
    };
    return { value, gradFunc };
  });
  return op(logits);
}

/** Labels as one array per sample, validated against `labelLengths` (the values are checked by the math). */
function raggedLabels(
  labels: CtcLossOptions['labels'],
  labelLengths: CtcLossOptions['labelLengths'],
  batch: number,
): ArrayLike<number>[] {
  const lengths = labelLengths === undefined ? undefined : toNumbers(labelLengths);
  if (Array.isArray(labels)) {
    if (labels.length !== batch) {
      throw new CtcInputError(`labels: has ${labels.length} samples; expected ${batch} (the batch of logits)`);
    }
    if (!lengths) return labels;
    checkLengths('labelLengths', lengths, batch, Infinity, 'a label length');
    return labels.map((row, b) => {
      if (lengths[b]! > row.length) {
        throw new CtcInputError(
          `labelLengths: sample ${b} has length ${lengths[b]}; labels[${b}] has only ${row.length}`,
        );
      }
      return row.slice(0, lengths[b]);
    });
  }
  let flat: ArrayLike<number>;
  let width: number;
  if (labels instanceof tf.Tensor) {
    if (labels.rank !== 2 || labels.shape[0] !== batch) {
      throw new CtcInputError(
        `labels: tensor of shape [${labels.shape.join(', ')}]; expected [${batch}, maxLabelLength]`,
      );
    }
    flat = labels.dataSync();
    width = labels.shape[1];
  } else if (labels instanceof Int32Array) {
    width = batch === 0 ? 0 : labels.length / batch;
    if (!Number.isInteger(width)) {
      throw new CtcInputError(`labels: Int32Array of ${labels.length} values is not [batch ${batch}, maxLabelLength]`);
    }
    flat = labels;
  } else {
    throw new CtcInputError(`labels: expected a tensor, an Int32Array or number[][]`);
  }
  if (!lengths) throw new CtcInputError('labelLengths: required when labels are padded (a tensor or Int32Array)');
  checkLengths('labelLengths', lengths, batch, width, 'the maxLabelLength of labels');
  const rows: ArrayLike<number>[] = [];
  for (let b = 0; b < batch; b++) rows.push(Array.from({ length: lengths[b]! }, (_, i) => flat[b * width + i]!));
  return rows;
}

function toNumbers(x: ArrayLike<number> | tf.Tensor1D): ArrayLike<number> {
  return x instanceof tf.Tensor ? x.dataSync() : x;
}
