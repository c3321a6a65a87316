import * as tf from '@tensorflow/tfjs-core';

/**
 * tf.unstack, except along an axis of length 1, where tfjs 4.22's Unpack gradient breaks
 * (it passes a lone tensor to stack). A squeeze has a working gradient.
 */
export function unstack(x: tf.Tensor, axis = 0): tf.Tensor[] {
  return x.shape[axis] === 1 ? [tf.squeeze(x, [axis])] : tf.unstack(x, axis);
}

/**
 * Unstacks along axis 0 in two levels (about sqrt(n) chunks, then each chunk), for long sequences.
 * The wasm backend copies the whole input for every slice it takes, so a plain unstack of n steps
 * costs n times the input; this costs about 2*sqrt(n) times. Same values, same gradient.
 */
export function unstackSteps(x: tf.Tensor): tf.Tensor[] {
  const n = x.shape[0]!;
  const chunk = Math.ceil(Math.sqrt(n));
  if (n <= 16) return unstack(x, 0);
  const sizes: number[] = [];
  for (let start = 0; start < n; start += chunk) sizes.push(Math.min(chunk, n - start));
  return tf.split(x, sizes, 0).flatMap((part) => unstack(part, 0));
}
