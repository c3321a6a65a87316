import * as tf from '@tensorflow/tfjs-core';

/**
 * Skews a grid so that anti-diagonals become columns: out[..., i, t, :] = x[..., i, t - i, :]
 * (zero where t - i is outside [0, W)). x: [N, H, W, F] -> [N, H, H + W - 1, F].
 * Row i is padded to length W + H, the rows are laid end to end, and the flat run is cut into
 * rows of length W + H - 1, which shifts row i right by i; the shifted-in values are padding zeros.
 */
export function skew(x: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, f] = x.shape;
  if (h === 1) return x;
  const padded = tf.pad(x, [
    [0, 0],
    [0, 0],
    [0, h],
    [0, 0],
  ]); // [N, H, W+H, F]
  const flat = tf.reshape(padded, [n, h * (w + h), f]);
  const cut = tf.slice(flat, [0, 0, 0], [n, h * (w + h - 1), f]);
  return tf.reshape(cut, [n, h, w + h - 1, f]);
}

/** The inverse of `skew`: [N, H, H + W - 1, F] -> [N, H, W, F]. */
export function unskew(xs: tf.Tensor4D, width: number): tf.Tensor4D {
  const [n, h, t, f] = xs.shape;
  if (h === 1) return xs;
  const flat = tf.reshape(xs, [n, h * t, f]);
  const padded = tf.pad(flat, [
    [0, 0],
    [0, h],
    [0, 0],
  ]); // H*(T+1) = H*(W+H)
  const rows = tf.reshape(padded, [n, h, t + 1, f]);
  return tf.slice(rows, [0, 0, 0, 0], [n, h, width, f]) as tf.Tensor4D;
}
