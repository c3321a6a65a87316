import * as tf from '@tensorflow/tfjs-core';
import type { ActivationName } from './config.js';

export interface ScalarActivation {
  f: (a: number) => number;
  /** The derivative at input a with output y = f(a), from whichever the definition needs (the reference's form). */
  df: (a: number, y: number) => number;
  /**
   * The same derivative from the output alone (every activation here is monotone, so y tells where a is): lets
   * the fast op keep only the gate activations for its backward pass.
   */
  dfy: (y: number) => number;
}

/** Scalar activations and their derivatives. */
export const scalarActivation: Record<ActivationName, ScalarActivation> = {
  tanh: { f: Math.tanh, df: (_a, y) => 1 - y * y, dfy: (y) => 1 - y * y },
  sigmoid: { f: (a) => 1 / (1 + Math.exp(-a)), df: (_a, y) => y * (1 - y), dfy: (y) => y * (1 - y) },
  // tfjs: hardSigmoid(x) = clip(0.2 x + 0.5, 0, 1): slope 0.2 exactly where the output is strictly inside (0, 1).
  hardSigmoid: {
    f: (a) => Math.min(1, Math.max(0, 0.2 * a + 0.5)),
    df: (a) => (a > -2.5 && a < 2.5 ? 0.2 : 0),
    dfy: (y) => (y > 0 && y < 1 ? 0.2 : 0),
  },
  relu: { f: (a) => Math.max(0, a), df: (a) => (a > 0 ? 1 : 0), dfy: (y) => (y > 0 ? 1 : 0) },
  linear: { f: (a) => a, df: () => 1, dfy: () => 1 },
};

export function tensorActivation(name: ActivationName, x: tf.Tensor): tf.Tensor {
  switch (name) {
    case 'tanh':
      return tf.tanh(x);
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'hardSigmoid':
      return tf.clipByValue(tf.add(tf.mul(x, 0.2), 0.5), 0, 1);
    case 'relu':
      return tf.relu(x);
    case 'linear':
      return x;
  }
}
