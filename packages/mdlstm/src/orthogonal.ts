import * as tf from '@tensorflow/tfjs-core';

/**
 * A random [rows, cols] matrix with orthonormal rows (rows <= cols) or columns (rows > cols), from the
 * same distribution as Keras's `Orthogonal` initializer (gain 1): the Q of the QR decomposition of a
 * standard normal matrix with R's diagonal made positive, here by modified Gram-Schmidt in float64.
 * tfjs-layers' own `orthogonal` runs a QR of tfjs ops, which takes about a second for a 100 x 250
 * matrix on the cpu and wasm backends and warns above 2,000 elements; this takes about a millisecond.
 */
export function orthogonalMatrix(rows: number, cols: number, seed?: number): tf.Tensor2D {
  const normal = tf.tidy(() => tf.randomNormal([rows, cols], 0, 1, 'float32', seed).dataSync() as Float32Array);
  const m = Float64Array.from(normal);
  // The vectors to orthonormalise: the rows if there are at most as many as columns, else the columns.
  const n = Math.min(rows, cols),
    len = Math.max(rows, cols);
  const at = rows <= cols ? (v: number, e: number) => v * cols + e : (v: number, e: number) => e * cols + v;
  for (let v = 0; v < n; v++) {
    for (let w = 0; w < v; w++) {
      let dot = 0;
      for (let e = 0; e < len; e++) dot += m[at(v, e)]! * m[at(w, e)]!;
      for (let e = 0; e < len; e++) m[at(v, e)] -= dot * m[at(w, e)]!;
    }
    let norm = 0;
    for (let e = 0; e < len; e++) norm += m[at(v, e)]! ** 2;
    norm = Math.sqrt(norm);
    for (let e = 0; e < len; e++) m[at(v, e)] /= norm;
  }
  return tf.tensor2d(Float32Array.from(m), [rows, cols]);
}
