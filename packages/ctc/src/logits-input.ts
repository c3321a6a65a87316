import * as tf from '@tensorflow/tfjs-core';
import { checkShape, CtcInputError } from './errors.js';

/** Decoder input: a [batch, time, classes] tensor of unnormalised scores, or the same as a typed array. */
export type LogitsInput = tf.Tensor3D | { data: Float32Array; shape: readonly [number, number, number] };

export function readLogits(logits: LogitsInput): { data: Float32Array; batch: number; time: number; classes: number } {
  if (logits instanceof tf.Tensor) {
    if (logits.rank !== 3) {
      throw new CtcInputError(
        `logits: got a tensor of shape [${logits.shape.join(', ')}]; expected [batch, time, classes]`,
      );
    }
    const [batch, time, classes] = logits.shape as [number, number, number];
    return { data: logits.dataSync() as Float32Array, batch, time, classes };
  }
  if (!logits || !(logits.data instanceof Float32Array) || !Array.isArray(logits.shape)) {
    throw new CtcInputError('logits: expected a tf.Tensor3D or { data: Float32Array, shape: [batch, time, classes] }');
  }
  checkShape('logits', logits.shape, logits.data.length);
  const [batch, time, classes] = logits.shape;
  return { data: logits.data, batch, time, classes };
}
