import * as tf from '@tensorflow/tfjs-core';
import type { ActivationName } from './config.js';

/** Scalar activation and its derivative expressed through the output y = f(a) or the input a. */
export const scalarActivation: Record<ActivationName, { f: (a: number) => number; df: (a: number, y: number) => number }> = {
  tanh: { f: Math.tanh, df: (_a, y) => 1 - y * y },
  sigmoid: { f: (a) => 1 / (1 + Math.exp(-a)), df: (_a, y) => y * (1 - y) },
  // tfjs: hardSigmoid(x) = clip(0.2 x + 0.5, 0, 1)
  hardSigmoid: { f: (a) => Math.min(1, Math.max(0, 0.2 * a + 0.5)), df: (a) => (a > -2.5 && a < 2.5 ? 0.2 : 0) },
  relu: { f: (a) => Math.max(0, a), df: (a) => (a > 0 ? 1 : 0) },
  linear: { f: (a) => a, df: () => 1 },
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
