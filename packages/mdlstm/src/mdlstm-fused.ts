import * as tf from '@tensorflow/tfjs-core';
import { scalarActivation } from './activations.js';
import { cellsBackward, cellsForward, type CellsState } from './cells.js';
import { CELL_DEFAULTS, flipsOf, GATES, type CellOptions, type Direction, type MergeMode } from './config.js';
import { diagonalsBackward, diagonalsForward, type DiagonalsState } from './diagonals.js';
import type { MDLSTMWeights } from './mdlstm-op.js';
import { simdScan } from './mdlstm-simd-scan.js';
import { mergeBackward, mergeForward } from './merge-arrays.js';
import type { ForwardState, ScanGradients, ScanShape } from './scan-shape.js';

/** The fused op's implementations: one custom op each, same arithmetic, different order and machinery. */
export type FusedImplementation = 'cells' | 'diagonals' | 'simd';

export interface FusedScanOptions {
  directions: readonly Direction[];
  /** [B, H, W], 0 = padding. Default: every cell valid. */
  mask?: Float32Array;
  cell?: CellOptions;
  /** How the directions are merged in the output; undefined: h and c per direction (see mdlstmFusedScan). */
  merge?: MergeMode;
  implementation: FusedImplementation;
}

/**
 * The MDLSTM scan as one custom op whose cell arithmetic runs on typed arrays, like the CTC loss. On the cpu
 * and wasm backends a tfjs op costs tens of microseconds whatever its size, and an MDLSTM cell is tiny (Pham
 * et al.'s layers have 2 to 50 units), so the wavefront of tfjs ops (wavefront.ts, the path for the
 * tensorflow backend) spends its time on op overhead. Three implementations of the same arithmetic:
 *
 * - 'cells' (cells.ts): every product in JavaScript, cell after cell (float32 storage, float64 arithmetic).
 * - 'diagonals' (diagonals.ts): the cells of one anti-diagonal of every direction at a time; the recurrent
 *   products of a diagonal are backend matMuls ([cells, 2U] x [2U, 5U], one per direction), the input
 *   projection matMuls before the scan, and the weight and input gradients matMuls after it; only the gates
 *   are JavaScript (for wasm without SIMD kernel: its matMul is SIMD code).
 * - 'simd' (mdlstm-simd-scan.ts): the cell order in our own WebAssembly SIMD module, all directions at once
 *   (one f32x4 lane each), float32; sigmoid gates and tanh only (the caller checks simdSupports and simdAvailable).
 *
 * With `merge`, returns the layer's output with the directions merged (as mergeDirections does: concat
 * [B, H, W, nDir*U], sum/ave/mul [B, H, W, U], none [B, H, W, nDir, U]), so that no tfjs op follows the scan
 * (on the cpu backend the slices, concats and pads of a tfjs merge and their gradients cost more than the scan
 * itself). Without `merge`, returns [2, nDir, B, H, W, U]: h and c of every cell, per direction (for the
 * final states). Either way in the original (unflipped) frame; padded cells (mask 0) have h = c = 0 and pass
 * no gradient.
 */
export function mdlstmFusedScan(
  x: tf.Tensor, // [B, H, W, C]
  weights: MDLSTMWeights,
  options: FusedScanOptions,
): tf.Tensor {
  const [B, H, W, C] = x.shape as [number, number, number, number];
  const { directions, mask, merge, implementation } = options;
  const D = directions.length,
    G = weights.kernel.shape[2]!,
    U = G / GATES;
  const cell = { ...CELL_DEFAULTS, ...options.cell };
  const act = scalarActivation[cell.activation],
    rec = scalarActivation[cell.recurrentActivation];
  const s = cell.bounded ? 0.5 : 1;
  const scan: ScanShape = { B, H, W, C, D, U, G, s, flips: directions.map(flipsOf), mask, act, rec };

  const op = tf.customGrad(((...inputs: unknown[]) => {
    const args = inputs.slice(0, -1) as tf.Tensor[]; // the last argument is tfjs's save function (unused)
    const xv = args[0]!.dataSync() as Float32Array;
    const K = args[1]!.dataSync() as Float32Array;
    const R = args[2]!.dataSync() as Float32Array;
    const bv = args[3]!.dataSync() as Float32Array;
    const P = args[4] ? (args[4].dataSync() as Float32Array) : undefined;
    if (implementation === 'simd')
      return simdScan({ B, H, W, C, U, flips: scan.flips, bounded: s !== 1 }, xv, { K, R, bias: bv, P }, mask, merge);
    if (implementation === 'cells') return javascriptScan(scan, CELLS, xv, K, R, bv, P, merge);
    return javascriptScan(scan, DIAGONALS, xv, K, R, bv, P, merge);
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  const inputs = [
    x,
    weights.kernel,
    weights.recurrentKernel,
    weights.bias,
    ...(weights.peephole ? [weights.peephole] : []),
  ];
  return (op as (...ts: tf.Tensor[]) => tf.Tensor)(...inputs);
}

/** A JavaScript order of the scan: a forward pass filling its state, and the backward pass reading it. */
interface ScanOrder<S extends ForwardState> {
  forward(sc: ScanShape, xv: Float32Array, K: Float32Array, R: Float32Array, bv: Float32Array, P?: Float32Array): S;
  backward(
    sc: ScanShape,
    xv: Float32Array,
    K: Float32Array,
    R: Float32Array,
    P: Float32Array | undefined,
    st: S,
    dyAll: Float32Array,
  ): ScanGradients;
}

const CELLS: ScanOrder<CellsState> = { forward: cellsForward, backward: cellsBackward };
const DIAGONALS: ScanOrder<DiagonalsState> = { forward: diagonalsForward, backward: diagonalsBackward };

const float32 = (a: Float32Array | Float64Array) => (a instanceof Float32Array ? a : Float32Array.from(a));

/** The op's value and gradient function with the scan in one of the JavaScript orders. */
function javascriptScan<S extends ForwardState>(
  scan: ScanShape,
  order: ScanOrder<S>,
  xv: Float32Array,
  K: Float32Array,
  R: Float32Array,
  bv: Float32Array,
  P: Float32Array | undefined,
  merge: MergeMode | undefined,
) {
  const { B, H, W, C, D, U, G } = scan;
  const N = D * B * H * W; // cells over all directions
  const fwd = order.forward(scan, xv, K, R, bv, P);
  let value: tf.Tensor;
  if (merge) {
    const merged = mergeForward(fwd.h, merge, D, B * H * W, U);
    value = tf.tensor(
      merged,
      merge === 'concat' ? [B, H, W, D * U] : merge === 'none' ? [B, H, W, D, U] : [B, H, W, U],
    );
  } else {
    const out = new Float32Array(2 * N * U);
    out.set(fwd.h, 0);
    out.set(fwd.c, N * U);
    value = tf.tensor(out, [2, D, B, H, W, U]);
  }
  const gradFunc = (dyT: tf.Tensor | tf.Tensor[]) => {
    const dy = (Array.isArray(dyT) ? dyT[0]! : dyT).dataSync() as Float32Array;
    // d(loss)/d(h, c) of every cell, per direction: [2, D, B, H, W, U] (c gets none through a merged output).
    const dyAll = merge ? mergeBackward(dy, fwd.h, merge, D, B * H * W, U) : dy;
    // The input tensors may be disposed by now (tfjs keeps only what a kernel saves): both work from the values.
    const { gx, gK, gR, gb, gP } = order.backward(scan, xv, K, R, P, fwd, dyAll);
    const grads = [
      tf.tensor(gx, [B, H, W, C]),
      tf.tensor(float32(gK), [D, C, G]),
      tf.tensor(float32(gR), [D, 2 * U, G]),
      tf.tensor(float32(gb), [D, G]),
    ];
    if (gP) grads.push(tf.tensor(float32(gP), [D, 5, U]));
    return grads;
  };
  return { value, gradFunc };
}
