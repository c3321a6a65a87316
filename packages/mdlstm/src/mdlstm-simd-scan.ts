import * as tf from '@tensorflow/tfjs-core';
import type { MergeMode } from './config.js';
import { simdBackward, simdForward, type SimdScanShape, type SimdWeights } from './kernels/mdlstm-simd.js';

/**
 * The fused op's value and gradient function (see mdlstmFusedScan) with the scan in the WebAssembly SIMD kernel.
 * The kernel writes h and c as [B, H, W, D, U], which is the 'concat' and 'none' output as it stands; the
 * other merges are one pass here. Without `merge`: [2, D, B, H, W, U] (h and c per direction, for the final
 * states), transposed here.
 */
export function simdScan(
  sh: SimdScanShape,
  x: Float32Array,
  wts: SimdWeights,
  mask: Float32Array | undefined,
  merge: MergeMode | undefined,
) {
  const { B, H, W, C, U } = sh;
  const D = sh.flips.length,
    G = 5 * U,
    cells = B * H * W;
  const fwd = simdForward(sh, x, wts, mask, !merge); // c only for the final states
  let value: tf.Tensor;
  if (merge === 'concat' || merge === 'none')
    value = tf.tensor(fwd.h, merge === 'concat' ? [B, H, W, D * U] : [B, H, W, D, U]);
  else if (merge) value = tf.tensor(mergeCellMajor(fwd.h, merge, D, cells, U), [B, H, W, U]);
  else {
    const out = new Float32Array(2 * D * cells * U);
    transposeDirections(fwd.h, out.subarray(0, D * cells * U), D, cells, U, false);
    transposeDirections(fwd.c!, out.subarray(D * cells * U), D, cells, U, false);
    value = tf.tensor(out, [2, D, B, H, W, U]);
  }
  const gradFunc = (dyT: tf.Tensor | tf.Tensor[]) => {
    const dy = (Array.isArray(dyT) ? dyT[0]! : dyT).dataSync() as Float32Array;
    let dh: Float32Array, dc: Float32Array | undefined;
    if (merge === 'concat' || merge === 'none') dh = dy;
    else if (merge) dh = mergeCellMajorBackward(dy, fwd.h, merge, D, cells, U);
    else {
      dh = new Float32Array(D * cells * U);
      dc = new Float32Array(D * cells * U);
      transposeDirections(dy.subarray(0, D * cells * U), dh, D, cells, U, true);
      transposeDirections(dy.subarray(D * cells * U), dc, D, cells, U, true);
    }
    const g = simdBackward(sh, x, wts, mask, fwd, dh, dc);
    const grads = [
      tf.tensor(g.gx, [B, H, W, C]),
      tf.tensor(g.gK, [D, C, G]),
      tf.tensor(g.gR, [D, 2 * U, G]),
      tf.tensor(g.gb, [D, G]),
    ];
    if (g.gP) grads.push(tf.tensor(g.gP, [D, 5, U]));
    return grads;
  };
  return { value, gradFunc };
}

/** [D, cells, U] (direction-major) into [cells, D, U] (cell-major) when `toCellMajor`, else the reverse. */
function transposeDirections(
  src: Float32Array,
  dst: Float32Array,
  D: number,
  cells: number,
  U: number,
  toCellMajor: boolean,
): void {
  for (let d = 0; d < D; d++) {
    for (let p = 0; p < cells; p++) {
      const dm = (d * cells + p) * U,
        cm = (p * D + d) * U;
      for (let u = 0; u < U; u++) {
        if (toCellMajor) dst[cm + u] = src[dm + u]!;
        else dst[dm + u] = src[cm + u]!;
      }
    }
  }
}

/** h [cells, D, U] merged over the directions by sum, ave or mul: [cells, U]. */
function mergeCellMajor(
  h: Float32Array,
  mode: 'sum' | 'ave' | 'mul',
  D: number,
  cells: number,
  U: number,
): Float32Array {
  const out = new Float32Array(cells * U);
  for (let p = 0; p < cells; p++) {
    for (let u = 0; u < U; u++) {
      let v = h[p * D * U + u]!;
      for (let d = 1; d < D; d++) v = mode === 'mul' ? v * h[(p * D + d) * U + u]! : v + h[(p * D + d) * U + u]!;
      out[p * U + u] = mode === 'ave' ? v / D : v;
    }
  }
  return out;
}

/** The gradient of mergeCellMajor: d(loss)/d(merged) [cells, U] -> d(loss)/d(h) [cells, D, U]. */
function mergeCellMajorBackward(
  dOut: Float32Array,
  h: Float32Array,
  mode: 'sum' | 'ave' | 'mul',
  D: number,
  cells: number,
  U: number,
): Float32Array {
  const dh = new Float32Array(cells * D * U);
  const scale = mode === 'ave' ? 1 / D : 1;
  for (let p = 0; p < cells; p++) {
    for (let d = 0; d < D; d++) {
      for (let u = 0; u < U; u++) {
        let g = dOut[p * U + u]! * scale;
        // d/dh_d of prod_e h_e = prod_{e != d} h_e (a product of the others, so a zero h_d is no problem).
        if (mode === 'mul') for (let e = 0; e < D; e++) if (e !== d) g *= h[(p * D + e) * U + u]!;
        dh[(p * D + d) * U + u] = g;
      }
    }
  }
  return dh;
}
