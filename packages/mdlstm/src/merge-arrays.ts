import type { MergeMode } from './config.js';

// The directions' merge on typed arrays, forward and backward, for the JavaScript orders of the fused scan
// (h laid out per direction: [D, cells, U]); merge.ts is the same with tfjs ops.

/** Merges h [D, cells, U] over the directions into the layout of `mode` (see mdlstmFusedScan). */
export function mergeForward(h: Float32Array, mode: MergeMode, D: number, cells: number, U: number): Float32Array {
  const plane = cells * U;
  if (mode === 'concat' || mode === 'none') {
    // [cells, D, U]: each cell's units of direction 0, then direction 1, ...
    const out = new Float32Array(D * plane);
    for (let d = 0; d < D; d++) {
      for (let p = 0; p < cells; p++) {
        const src = d * plane + p * U,
          dst = (p * D + d) * U;
        for (let u = 0; u < U; u++) out[dst + u] = h[src + u]!;
      }
    }
    return out;
  }
  const out = h.slice(0, plane);
  for (let d = 1; d < D; d++) {
    const off = d * plane;
    if (mode === 'mul') for (let k = 0; k < plane; k++) out[k] *= h[off + k]!;
    else for (let k = 0; k < plane; k++) out[k] += h[off + k]!;
  }
  if (mode === 'ave') for (let k = 0; k < plane; k++) out[k] /= D;
  return out;
}

/** The gradient of mergeForward: d(loss)/d(merged) -> d(loss)/d(h, c) as [2, D, cells, U] (c part zero). */
export function mergeBackward(
  dOut: Float32Array,
  h: Float32Array,
  mode: MergeMode,
  D: number,
  cells: number,
  U: number,
): Float32Array {
  const plane = cells * U;
  const dhc = new Float32Array(2 * D * plane);
  if (mode === 'concat' || mode === 'none') {
    for (let d = 0; d < D; d++) {
      for (let p = 0; p < cells; p++) {
        const dst = d * plane + p * U,
          src = (p * D + d) * U;
        for (let u = 0; u < U; u++) dhc[dst + u] = dOut[src + u]!;
      }
    }
  } else if (mode === 'mul') {
    // d/dh_d of prod_e h_e = prod_{e != d} h_e (a product of the others, so a zero h_d is no problem).
    for (let d = 0; d < D; d++) {
      for (let k = 0; k < plane; k++) {
        let g = dOut[k]!;
        for (let e = 0; e < D; e++) if (e !== d) g *= h[e * plane + k]!;
        dhc[d * plane + k] = g;
      }
    }
  } else {
    const scale = mode === 'ave' ? 1 / D : 1;
    for (let d = 0; d < D; d++) for (let k = 0; k < plane; k++) dhc[d * plane + k] = dOut[k]! * scale;
  }
  return dhc;
}
