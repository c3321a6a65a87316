import type { scalarActivation } from './activations.js';

// What the two JavaScript orders of the fused scan (cells.ts, diagonals.ts) share: the scan's sizes and
// settings, the forward state, and how a cell finds its predecessors.

/** Sizes and settings of one scan; unpacked into locals by the loops below (fast V8 code wants no closures). */
export interface ScanShape {
  B: number;
  H: number;
  W: number;
  C: number;
  D: number;
  U: number;
  G: number;
  /** Forget-term scale: 0.5 for the bounded cell, else 1. */
  s: number;
  flips: ReadonlyArray<{ flipY: boolean; flipX: boolean }>;
  mask: Float32Array | undefined;
  act: (typeof scalarActivation)[keyof typeof scalarActivation];
  rec: (typeof scalarActivation)[keyof typeof scalarActivation];
}

/** Per cell, flat over (direction, position) as `cell = (dir * B + b) * H * W + i * W + j`. */
export interface ForwardState {
  h: Float32Array; // [cells, U]
  c: Float32Array; // [cells, U]
  /** Gate activations, for the backward pass (every derivative is taken from them: activations.ts dfy). [cells, G] */
  z: Float32Array;
}

/**
 * The scan predecessors of cell (b, i, j) in direction `dir` (flat cell indices, -1 when outside the image
 * or padded), as [yCell, xCell] in `out`; returns the cell's own index, or -1 when the cell itself is padded.
 */
export function neighbours(sc: ScanShape, dir: number, b: number, i: number, j: number, out: Int32Array): number {
  const { H, W, mask } = sc;
  const { flipY, flipX } = sc.flips[dir]!;
  if (mask && mask[(b * H + i) * W + j] === 0) return -1;
  const base = (dir * sc.B + b) * H;
  const py = flipY ? i + 1 : i - 1,
    px = flipX ? j + 1 : j - 1;
  out[0] = py >= 0 && py < H && !(mask && mask[(b * H + py) * W + j] === 0) ? (base + py) * W + j : -1;
  out[1] = px >= 0 && px < W && !(mask && mask[(b * H + i) * W + px] === 0) ? (base + i) * W + px : -1;
  return (base + i) * W + j;
}

/**
 * d loss / d (x, kernel, recurrent kernel, bias, peephole) of one scan, on typed arrays: what the backward pass
 * of every JavaScript order returns (mdlstm-fused.ts makes the tensors).
 */
export interface ScanGradients {
  gx: Float32Array; // [B, H, W, C]
  gK: Float32Array | Float64Array; // [D, C, G]
  gR: Float32Array | Float64Array; // [D, 2U, G]
  gb: Float64Array; // [D, G]
  gP: Float64Array | undefined; // [D, 5, U], with peepholes
}

export function newState(N: number, U: number, G: number): ForwardState {
  return { h: new Float32Array(N * U), c: new Float32Array(N * U), z: new Float32Array(N * G) };
}
