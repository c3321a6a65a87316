import * as tf from '@tensorflow/tfjs-core';
import type { MergeMode } from './config.js';
import { unstack } from './unstack.js';

/**
 * Combines per-direction outputs [nDir, ...rest, U] along the direction axis:
 * concat -> [...rest, nDir*U] (direction-major), sum/mul/ave -> [...rest, U], none -> [...rest, nDir, U].
 */
export function mergeDirections(perDir: tf.Tensor, mode: MergeMode): tf.Tensor {
  const nDir = perDir.shape[0]!;
  const rank = perDir.rank;
  switch (mode) {
    case 'sum':
      return tf.sum(perDir, 0);
    case 'ave':
      return tf.mean(perDir, 0);
    case 'mul':
      return unstack(perDir, 0).reduce((a, b) => tf.mul(a, b));
    case 'none': {
      // [nDir, ...rest, U] -> [...rest, nDir, U]
      const perm = [...Array.from({ length: rank - 2 }, (_, k) => k + 1), 0, rank - 1];
      return tf.transpose(perDir, perm);
    }
    case 'concat':
      return tf.concat(unstack(perDir, 0), rank - 2);
  }
  void nDir;
}
