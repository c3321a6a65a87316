import * as tf from '@tensorflow/tfjs-core';

/**
 * tf.unstack, except along an axis of length 1, where tfjs 4.22's Unpack gradient breaks
 * (it passes a lone tensor to stack). A squeeze has a working gradient.
 */
export function unstack(x: tf.Tensor, axis = 0): tf.Tensor[] {
  return x.shape[axis] === 1 ? [tf.squeeze(x, [axis])] : tf.unstack(x, axis);
}
