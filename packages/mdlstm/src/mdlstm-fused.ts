import * as tf from '@tensorflow/tfjs-core';
import { scalarActivation } from './activations.js';
import { CELL_DEFAULTS, flipsOf, GATES, type CellOptions, type Direction, type MergeMode } from './config.js';
import { simdScan } from './mdlstm-simd-scan.js';

/**
 * The MDLSTM scan as one custom op whose cell arithmetic runs on typed arrays (float32 storage, float64
 * arithmetic per element), like the CTC loss. On the cpu and wasm backends a tfjs op costs tens of
 * microseconds whatever its size, and an MDLSTM cell is tiny (Pham et al.'s layers have 2 to 50 units), so
 * the wavefront of tfjs ops (mdlstm-op.ts, the path for the tensorflow backend) spends its time on op
 * overhead. Two orders of the same arithmetic:
 *
 * - 'cells': every product in JavaScript, cell after cell (best where matMul is itself JavaScript: cpu).
 * - 'diagonals': the cells of one anti-diagonal of every direction at a time; the recurrent products of a
 *   diagonal are backend matMuls ([cells, 2U] x [2U, 5U], one per direction), the input projection matMuls
 *   before the scan, and the weight and input gradients matMuls after it; only the gates are JavaScript
 *   (best where matMul is fast native code: wasm, whose SIMD matMul runs 20 to 30x faster than a JS loop).
 * - 'simd': the cells order in our own WebAssembly SIMD module (kernels/mdlstm-simd.ts), all directions at once
 *   (one f32x4 lane each); sigmoid gates and tanh only (the caller checks simdSupports and simdAvailable).
 *
 * With `merge`, returns the layer's output with the directions merged (as mergeDirections does: concat
 * [B, H, W, nDir*U], sum/ave/mul [B, H, W, U], none [B, H, W, nDir, U]), merged and un-merged in the same
 * loops, so that no tfjs op follows the scan (on the cpu backend the slices, concats and pads of a
 * tfjs merge and their gradients cost more than the scan itself). Without `merge`, returns
 * [2, nDir, B, H, W, U]: h and c of every cell, per direction (for the final states).
 * Either way in the original (unflipped) frame; padded cells (mask 0) have h = c = 0 and pass no gradient.
 */
export function mdlstmFusedScan(
  x: tf.Tensor, // [B, H, W, C]
  kernel: tf.Tensor, // [D, C, 5U]
  recurrentKernel: tf.Tensor, // [D, 2U, 5U]
  bias: tf.Tensor, // [D, 5U]
  peephole: tf.Tensor | undefined, // [D, 5, U]
  directions: readonly Direction[],
  mask: Float32Array | undefined, // [B, H, W]
  cellOptions: CellOptions,
  merge?: MergeMode,
  order: 'cells' | 'diagonals' | 'simd' = 'cells',
): tf.Tensor {
  const [B, H, W, C] = x.shape as [number, number, number, number];
  const D = directions.length, G = kernel.shape[2]!, U = G / GATES;
  const cell = { ...CELL_DEFAULTS, ...cellOptions };
  const act = scalarActivation[cell.activation], rec = scalarActivation[cell.recurrentActivation];
  const s = cell.bounded ? 0.5 : 1;
  const N = D * B * H * W; // cells over all directions

  const scan: ScanShape = { B, H, W, C, D, U, G, s, flips: directions.map(flipsOf), mask, act, rec };

  const op = tf.customGrad(((...inputs: unknown[]) => {
    const args = inputs.slice(0, -1) as tf.Tensor[]; // the last argument is tfjs's save function (unused)
    const xv = args[0]!.dataSync() as Float32Array;
    const K = args[1]!.dataSync() as Float32Array;
    const R = args[2]!.dataSync() as Float32Array;
    const bv = args[3]!.dataSync() as Float32Array;
    const P = args[4] ? (args[4].dataSync() as Float32Array) : undefined;
    if (order === 'simd') return simdScan({ B, H, W, C, U, flips: scan.flips, bounded: s !== 1 }, xv, { K, R, bias: bv, P }, mask, merge);
    const fwd = order === 'diagonals' ? diagonalForward(scan, xv, K, R, bv, P) : scanForward(scan, xv, K, R, bv, P);
    let value: tf.Tensor;
    if (merge) {
      const merged = mergeForward(fwd.h, merge, D, B * H * W, U);
      value = tf.tensor(merged, merge === 'concat' ? [B, H, W, D * U] : merge === 'none' ? [B, H, W, D, U] : [B, H, W, U]);
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
      if (order === 'diagonals') return diagonalBackward(scan, xv, K, R, P, fwd as DiagonalState, dyAll);
      const { gx, gK, gR, gb, gP } = scanBackward(scan, xv, K, R, P, fwd as CellsState, dyAll);
      const grads = [
        tf.tensor(gx, [B, H, W, C]),
        tf.tensor(Float32Array.from(gK), [D, C, G]),
        tf.tensor(Float32Array.from(gR), [D, 2 * U, G]),
        tf.tensor(Float32Array.from(gb), [D, G]),
      ];
      if (gP) grads.push(tf.tensor(Float32Array.from(gP), [D, 5, U]));
      return grads;
    };
    return { value, gradFunc };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  const inputs = [x, kernel, recurrentKernel, bias, ...(peephole ? [peephole] : [])];
  return (op as (...ts: tf.Tensor[]) => tf.Tensor)(...inputs);
}

/** Merges h [D, cells, U] over the directions into the layout of `mode` (see mdlstmFusedScan). */
function mergeForward(h: Float32Array, mode: MergeMode, D: number, cells: number, U: number): Float32Array {
  const plane = cells * U;
  if (mode === 'concat' || mode === 'none') {
    // [cells, D, U]: each cell's units of direction 0, then direction 1, ...
    const out = new Float32Array(D * plane);
    for (let d = 0; d < D; d++) {
      for (let p = 0; p < cells; p++) {
        const src = d * plane + p * U, dst = (p * D + d) * U;
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
function mergeBackward(dOut: Float32Array, h: Float32Array, mode: MergeMode, D: number, cells: number, U: number): Float32Array {
  const plane = cells * U;
  const dhc = new Float32Array(2 * D * plane);
  if (mode === 'concat' || mode === 'none') {
    for (let d = 0; d < D; d++) {
      for (let p = 0; p < cells; p++) {
        const dst = d * plane + p * U, src = (p * D + d) * U;
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

/** Sizes and settings of one scan; unpacked into locals by the loops below (fast V8 code wants no closures). */
interface ScanShape {
  B: number; H: number; W: number; C: number; D: number; U: number; G: number;
  /** Forget-term scale: 0.5 for the bounded cell, else 1. */
  s: number;
  flips: ReadonlyArray<{ flipY: boolean; flipX: boolean }>;
  mask: Float32Array | undefined;
  act: (typeof scalarActivation)[keyof typeof scalarActivation];
  rec: (typeof scalarActivation)[keyof typeof scalarActivation];
}

/** Per cell, flat over (direction, position) as `cell = (dir * B + b) * H * W + i * W + j`. */
interface ForwardState {
  h: Float32Array; // [cells, U]
  c: Float32Array; // [cells, U]
  /** Gate activations, for the backward pass (every derivative is taken from them: activations.ts dfy). [cells, G] */
  z: Float32Array;
}

/**
 * The scan predecessors of cell (b, i, j) in direction `dir` (flat cell indices, -1 when outside the image
 * or padded), as [yCell, xCell] in `out`; returns the cell's own index, or -1 when the cell itself is padded.
 */
function neighbours(sc: ScanShape, dir: number, b: number, i: number, j: number, out: Int32Array): number {
  const { H, W, mask } = sc;
  const { flipY, flipX } = sc.flips[dir]!;
  if (mask && mask[(b * H + i) * W + j] === 0) return -1;
  const base = (dir * sc.B + b) * H;
  const py = flipY ? i + 1 : i - 1, px = flipX ? j + 1 : j - 1;
  out[0] = py >= 0 && py < H && !(mask && mask[(b * H + py) * W + j] === 0) ? (base + py) * W + j : -1;
  out[1] = px >= 0 && px < W && !(mask && mask[(b * H + i) * W + px] === 0) ? (base + i) * W + px : -1;
  return (base + i) * W + j;
}

/**
 * Gates, c and h of one cell from its pre-activations `a` (input, recurrent and bias terms; the peephole
 * terms are added here), its predecessors' c at yPos/xPos (-1: none).
 */
function cellForward(sc: ScanShape, st: ForwardState, a: Float64Array, dir: number, pos: number, yPos: number, xPos: number, P: Float32Array | undefined): void {
  const { U, G, s, act, rec } = sc;
  const { h, c, z } = st;
  const Pd = dir * 5 * U, zo = pos * G, ho = pos * U;
  for (let u = 0; u < U; u++) {
    const cy = yPos >= 0 ? c[yPos * U + u]! : 0, cx = xPos >= 0 ? c[xPos * U + u]! : 0;
    if (P) {
      a[u] += P[Pd + u]! * cy + P[Pd + U + u]! * cx;
      a[U + u] += P[Pd + 2 * U + u]! * cy;
      a[2 * U + u] += P[Pd + 3 * U + u]! * cx;
    }
    const ig = rec.f(a[u]!), fy = rec.f(a[U + u]!), fx = rec.f(a[2 * U + u]!), g = act.f(a[4 * U + u]!);
    const cc = ig * g + s * (fy * cy + fx * cx);
    if (P) a[3 * U + u] += P[Pd + 4 * U + u]! * cc;
    const o = rec.f(a[3 * U + u]!);
    z[zo + u] = ig; z[zo + U + u] = fy; z[zo + 2 * U + u] = fx; z[zo + 3 * U + u] = o; z[zo + 4 * U + u] = g;
    c[ho + u] = cc;
    h[ho + u] = o * act.f(cc);
  }
}

/**
 * The gate gradients `da` (G values) of one cell from its dh and dc, and what flows to its predecessors'
 * c (added to dc at yPos/xPos) and into the peephole weights (gP).
 */
function cellBackward(
  sc: ScanShape, st: ForwardState, dh: Float64Array, dc: Float64Array, da: Float64Array,
  dir: number, pos: number, yPos: number, xPos: number, P: Float32Array | undefined, gP: Float64Array | undefined,
): void {
  const { U, G, s, act, rec } = sc;
  const { c, z } = st;
  const Pd = dir * 5 * U, zo = pos * G, ho = pos * U;
  for (let u = 0; u < U; u++) {
    const cy = yPos >= 0 ? c[yPos * U + u]! : 0, cx = xPos >= 0 ? c[xPos * U + u]! : 0;
    const ig = z[zo + u]!, fy = z[zo + U + u]!, fx = z[zo + 2 * U + u]!, o = z[zo + 3 * U + u]!, g = z[zo + 4 * U + u]!;
    const cc = c[ho + u]!, tc = act.f(cc);
    const dhv = dh[ho + u]!;
    const dao = dhv * tc * rec.dfy(o);
    const pO = P ? P[Pd + 4 * U + u]! : 0;
    const dct = dc[ho + u]! + dhv * o * act.dfy(tc) + dao * pO;
    const dai = dct * g * rec.dfy(ig);
    const dag = dct * ig * act.dfy(g);
    const dafy = dct * s * cy * rec.dfy(fy);
    const dafx = dct * s * cx * rec.dfy(fx);
    da[u] = dai; da[U + u] = dafy; da[2 * U + u] = dafx; da[3 * U + u] = dao; da[4 * U + u] = dag;
    if (gP) {
      gP[Pd + u] += dai * cy; gP[Pd + U + u] += dai * cx; gP[Pd + 2 * U + u] += dafy * cy;
      gP[Pd + 3 * U + u] += dafx * cx; gP[Pd + 4 * U + u] += dao * cc;
    }
    if (yPos >= 0) dc[yPos * U + u] += dct * s * fy + (P ? dai * P[Pd + u]! + dafy * P[Pd + 2 * U + u]! : 0);
    if (xPos >= 0) dc[xPos * U + u] += dct * s * fx + (P ? dai * P[Pd + U + u]! + dafx * P[Pd + 3 * U + u]! : 0);
  }
}

function newState(N: number, U: number, G: number): ForwardState {
  return { h: new Float32Array(N * U), c: new Float32Array(N * U), z: new Float32Array(N * G) };
}

/** The cells order's walk: each direction's unpadded cells in scan order, and the forward state. */
interface CellsState extends ForwardState {
  /** Per cell, [cell, yCell, xCell] as `neighbours` gives them (predecessor -1: none). */
  cells: Int32Array;
  /** Direction d's cells are cells[3 * starts[d] .. 3 * starts[d + 1]). */
  starts: Int32Array;
}

/** Lists every direction's unpadded cells in scan order (the backward pass walks the same list in reverse). */
function scanCells(sc: ScanShape): { cells: Int32Array; starts: Int32Array } {
  const { B, H, W, D, flips } = sc;
  const cells = new Int32Array(3 * D * B * H * W), starts = new Int32Array(D + 1);
  const nb = new Int32Array(2);
  let n = 0;
  for (let dir = 0; dir < D; dir++) {
    const { flipY, flipX } = flips[dir]!;
    starts[dir] = n;
    for (let b = 0; b < B; b++) {
      for (let ii = 0; ii < H; ii++) {
        for (let jj = 0; jj < W; jj++) {
          const pos = neighbours(sc, dir, b, flipY ? H - 1 - ii : ii, flipX ? W - 1 - jj : jj, nb);
          if (pos < 0) continue;
          cells[3 * n] = pos; cells[3 * n + 1] = nb[0]!; cells[3 * n + 2] = nb[1]!;
          n++;
        }
      }
    }
  }
  starts[D] = n;
  return { cells, starts };
}

// ---- order 'cells': every product in JavaScript ----
//
// Written for the small layers this order serves (Pham et al.'s first layer: 2 units, 10 gates from 4 inputs
// and 4 recurrent values). Per cell and unit, the five gate sums are kept in locals while the inputs and the
// predecessors' h are walked once per unit (no per-gate array); the unpadded cells and their predecessors
// are listed once (scanCells), walked forward and then in reverse; and the backward pass takes every
// derivative from the stored gate activations. About 1.5x faster than a loop over a gate array
// (docs/benchmarks/mdlstm.md).

function scanForward(sc: ScanShape, xv: Float32Array, K: Float32Array, R: Float32Array, bv: Float32Array, P: Float32Array | undefined): CellsState {
  const { B, H, W, C, D, U, G, s, act, rec } = sc;
  const HW = H * W;
  const st: CellsState = { ...newState(D * B * HW, U, G), ...scanCells(sc) };
  const { h, c, z, cells, starts } = st;
  const actF = act.f, recF = rec.f;
  const U2 = 2 * U, U3 = 3 * U, U4 = 4 * U;
  for (let dir = 0; dir < D; dir++) {
    const Kd = dir * C * G, Ry = dir * 2 * U * G, Rx = Ry + U * G, bd = dir * G, Pd = dir * 5 * U;
    const cellsBefore = dir * B * HW; // the input position of a cell is its index within its direction
    for (let n = starts[dir]!; n < starts[dir + 1]!; n++) {
      const pos = cells[3 * n]!, yPos = cells[3 * n + 1]!, xPos = cells[3 * n + 2]!;
      const xo = (pos - cellsBefore) * C, zo = pos * G, ho = pos * U, yo = yPos * U, xoff = xPos * U;
      for (let u = 0; u < U; u++) {
        // Gate sums of unit u: input, forget_y, forget_x, output, candidate (columns u, U + u, ... of each weight row).
        const q = bd + u;
        let ai = bv[q]!, afy = bv[q + U]!, afx = bv[q + U2]!, ao = bv[q + U3]!, ag = bv[q + U4]!;
        for (let ch = 0; ch < C; ch++) {
          const xc = xv[xo + ch]!;
          if (xc === 0) continue;
          const r = Kd + ch * G + u;
          ai += xc * K[r]!; afy += xc * K[r + U]!; afx += xc * K[r + U2]!; ao += xc * K[r + U3]!; ag += xc * K[r + U4]!;
        }
        let cy = 0, cx = 0;
        if (yPos >= 0) {
          cy = c[yo + u]!;
          for (let v = 0; v < U; v++) {
            const hv = h[yo + v]!, r = Ry + v * G + u;
            ai += hv * R[r]!; afy += hv * R[r + U]!; afx += hv * R[r + U2]!; ao += hv * R[r + U3]!; ag += hv * R[r + U4]!;
          }
        }
        if (xPos >= 0) {
          cx = c[xoff + u]!;
          for (let v = 0; v < U; v++) {
            const hv = h[xoff + v]!, r = Rx + v * G + u;
            ai += hv * R[r]!; afy += hv * R[r + U]!; afx += hv * R[r + U2]!; ao += hv * R[r + U3]!; ag += hv * R[r + U4]!;
          }
        }
        if (P !== undefined) {
          ai += P[Pd + u]! * cy + P[Pd + U + u]! * cx;
          afy += P[Pd + U2 + u]! * cy;
          afx += P[Pd + U3 + u]! * cx;
        }
        const ig = recF(ai), fy = recF(afy), fx = recF(afx), g = actF(ag);
        const cc = ig * g + s * (fy * cy + fx * cx);
        if (P !== undefined) ao += P[Pd + U4 + u]! * cc;
        const o = recF(ao);
        z[zo + u] = ig; z[zo + U + u] = fy; z[zo + U2 + u] = fx; z[zo + U3 + u] = o; z[zo + U4 + u] = g;
        c[ho + u] = cc;
        h[ho + u] = o * actF(cc);
      }
    }
  }
  return st;
}

function scanBackward(sc: ScanShape, xv: Float32Array, K: Float32Array, R: Float32Array, P: Float32Array | undefined, st: CellsState, dyAll: Float32Array) {
  const { B, H, W, C, D, U, G, s, act, rec } = sc;
  const HW = H * W, N = D * B * HW;
  const { h, c, z, cells, starts } = st;
  const actF = act.f, actDy = act.dfy, recDy = rec.dfy;
  const U2 = 2 * U, U3 = 3 * U, U4 = 4 * U;
  const dh = Float64Array.from(dyAll.subarray(0, N * U));
  const dc = Float64Array.from(dyAll.subarray(N * U, 2 * N * U));
  const gx = new Float32Array(B * HW * C), gK = new Float64Array(D * C * G), gR = new Float64Array(D * 2 * U * G);
  const gb = new Float64Array(D * G), gP = P ? new Float64Array(D * 5 * U) : undefined;
  const gxCell = new Float64Array(C); // one cell's input gradient, summed over its units
  for (let dir = 0; dir < D; dir++) {
    const Kd = dir * C * G, Ry = dir * 2 * U * G, Rx = Ry + U * G, bd = dir * G, Pd = dir * 5 * U;
    const cellsBefore = dir * B * HW;
    for (let n = starts[dir + 1]! - 1; n >= starts[dir]!; n--) {
      const pos = cells[3 * n]!, yPos = cells[3 * n + 1]!, xPos = cells[3 * n + 2]!;
      const xo = (pos - cellsBefore) * C, zo = pos * G, ho = pos * U, yo = yPos * U, xoff = xPos * U;
      gxCell.fill(0);
      // This cell's dh and dc are complete (its successors came first); per unit, its five gate gradients go
      // to the weights, the input, and the predecessors' h and c.
      for (let u = 0; u < U; u++) {
        const cy = yPos >= 0 ? c[yo + u]! : 0, cx = xPos >= 0 ? c[xoff + u]! : 0;
        const ig = z[zo + u]!, fy = z[zo + U + u]!, fx = z[zo + U2 + u]!, o = z[zo + U3 + u]!, g = z[zo + U4 + u]!;
        const cc = c[ho + u]!, tc = actF(cc);
        const dhv = dh[ho + u]!;
        const dao = dhv * tc * recDy(o);
        const pO = P !== undefined ? P[Pd + U4 + u]! : 0;
        const dct = dc[ho + u]! + dhv * o * actDy(tc) + dao * pO;
        const dai = dct * g * recDy(ig);
        const dag = dct * ig * actDy(g);
        const dafy = dct * s * cy * recDy(fy);
        const dafx = dct * s * cx * recDy(fx);
        const q = bd + u;
        gb[q] += dai; gb[q + U] += dafy; gb[q + U2] += dafx; gb[q + U3] += dao; gb[q + U4] += dag;
        for (let ch = 0; ch < C; ch++) {
          const xc = xv[xo + ch]!, r = Kd + ch * G + u;
          if (xc !== 0) {
            gK[r] += xc * dai; gK[r + U] += xc * dafy; gK[r + U2] += xc * dafx; gK[r + U3] += xc * dao; gK[r + U4] += xc * dag;
          }
          gxCell[ch] += K[r]! * dai + K[r + U]! * dafy + K[r + U2]! * dafx + K[r + U3]! * dao + K[r + U4]! * dag;
        }
        if (yPos >= 0) {
          for (let v = 0; v < U; v++) {
            const hv = h[yo + v]!, r = Ry + v * G + u;
            gR[r] += hv * dai; gR[r + U] += hv * dafy; gR[r + U2] += hv * dafx; gR[r + U3] += hv * dao; gR[r + U4] += hv * dag;
            dh[yo + v] += R[r]! * dai + R[r + U]! * dafy + R[r + U2]! * dafx + R[r + U3]! * dao + R[r + U4]! * dag;
          }
          dc[yo + u] += dct * s * fy + (P !== undefined ? dai * P[Pd + u]! + dafy * P[Pd + U2 + u]! : 0);
        }
        if (xPos >= 0) {
          for (let v = 0; v < U; v++) {
            const hv = h[xoff + v]!, r = Rx + v * G + u;
            gR[r] += hv * dai; gR[r + U] += hv * dafy; gR[r + U2] += hv * dafx; gR[r + U3] += hv * dao; gR[r + U4] += hv * dag;
            dh[xoff + v] += R[r]! * dai + R[r + U]! * dafy + R[r + U2]! * dafx + R[r + U3]! * dao + R[r + U4]! * dag;
          }
          dc[xoff + u] += dct * s * fx + (P !== undefined ? dai * P[Pd + U + u]! + dafx * P[Pd + U3 + u]! : 0);
        }
        if (gP !== undefined) {
          gP[Pd + u] += dai * cy; gP[Pd + U + u] += dai * cx; gP[Pd + U2 + u] += dafy * cy;
          gP[Pd + U3 + u] += dafx * cx; gP[Pd + U4 + u] += dao * cc;
        }
      }
      for (let ch = 0; ch < C; ch++) gx[xo + ch] += gxCell[ch]!; // summed over the directions
    }
  }
  return { gx, gK, gR, gb, gP };
}

// ---- order 'diagonals': the products as backend matMuls ----

interface DiagonalState extends ForwardState {
  /** Each cell's predecessors' h, [h_y, h_x] (zeros where none): [cells, 2U], for the recurrent weight gradient. */
  hPrev: Float32Array;
  /** Per anti-diagonal, its cells as diagonalCells gives them (the backward pass walks the same ones). */
  diagonals: Int32Array[];
}

/**
 * The cells of anti-diagonal t, as [cell, yCell, xCell] per row (flat cell indices as `neighbours` gives them;
 * cell -1: padded), rows numbered (dir * B + b) * rows + k for row ii = lo + k of sample b in direction dir.
 */
function diagonalCells(sc: ScanShape, t: number): Int32Array {
  const { B, H, W, D, flips } = sc;
  const [lo, rows] = diagonalRows(sc, t);
  const cells = new Int32Array(D * B * rows * 3);
  const nb = new Int32Array(2);
  for (let dir = 0; dir < D; dir++) {
    const { flipY, flipX } = flips[dir]!;
    for (let b = 0; b < B; b++) {
      for (let k = 0; k < rows; k++) {
        const ii = lo + k, jj = t - ii;
        const row = (dir * B + b) * rows + k;
        cells[3 * row] = neighbours(sc, dir, b, flipY ? H - 1 - ii : ii, flipX ? W - 1 - jj : jj, nb);
        cells[3 * row + 1] = nb[0]!;
        cells[3 * row + 2] = nb[1]!;
      }
    }
  }
  return cells;
}

/** Anti-diagonal t holds the cells with ii + jj = t in each direction's scan frame: [lo, rows] for ii = lo .. lo + rows - 1. */
function diagonalRows(sc: ScanShape, t: number): [number, number] {
  const lo = Math.max(0, t - sc.W + 1), hi = Math.min(sc.H - 1, t);
  return [lo, hi - lo + 1];
}

/** Reads a tensor's values and disposes it. */
function take(t: tf.Tensor): Float32Array {
  const v = t.dataSync() as Float32Array;
  t.dispose();
  return v;
}

/**
 * One 2D matMul per direction on the backend, reading the result back: [rows, inner] x [inner, cols] with the
 * left operand `left` laid out [D, rows, inner] (or one [rows, inner] for all, `sharedLeft`) and `right` one tensor
 * per direction. (The wasm backend runs
 * 2D matMuls in XNNPACK's SIMD kernels but batched or transposed ones in a plain loop, 10 to 30x slower; so
 * per-direction 2D products with operands transposed in JavaScript beforehand.)
 */
function matMulPerDirection(left: Float32Array, rows: number, inner: number, right: readonly tf.Tensor2D[], sharedLeft = false): Float32Array {
  const cols = right[0]!.shape[1];
  const out = new Float32Array(right.length * rows * cols);
  right.forEach((r, d) => {
    const o = sharedLeft ? 0 : d * rows * inner;
    const y = tf.tidy(() => tf.matMul(tf.tensor2d(left.subarray(o, o + rows * inner), [rows, inner]), r));
    out.set(take(y), d * rows * cols);
  });
  return out;
}

/** `m` ([n][rows, cols] row-major) transposed: [n][cols, rows]. */
function transposeBlocks(m: Float32Array, n: number, rows: number, cols: number): Float32Array {
  const out = new Float32Array(n * rows * cols);
  for (let k = 0; k < n; k++) {
    const o = k * rows * cols;
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[o + c * rows + r] = m[o + r * cols + c]!;
  }
  return out;
}

/** Per-direction 2D tensors of the blocks of `m` ([D][rows, cols]). */
function blocks(m: Float32Array, D: number, rows: number, cols: number): tf.Tensor2D[] {
  return Array.from({ length: D }, (_, d) => tf.tensor2d(m.subarray(d * rows * cols, (d + 1) * rows * cols), [rows, cols]));
}

function diagonalForward(sc: ScanShape, xv: Float32Array, K: Float32Array, R: Float32Array, bv: Float32Array, P: Float32Array | undefined): DiagonalState {
  const { B, H, W, C, D, U, G } = sc;
  const cellsPerDir = B * H * W;
  const st: DiagonalState = { ...newState(D * cellsPerDir, U, G), hPrev: new Float32Array(D * cellsPerDir * 2 * U), diagonals: [] };
  // Input projection of every position for every direction, [D][B*H*W, G] (the bias is added per cell below).
  const kDir = blocks(K, D, C, G);
  const xk = matMulPerDirection(xv, cellsPerDir, C, kDir, true);
  tf.dispose(kDir);
  const rDir = blocks(R, D, 2 * U, G);
  const a = new Float64Array(G);
  for (let t = 0; t < H + W - 1; t++) {
    const cells = diagonalCells(sc, t);
    st.diagonals.push(cells);
    const M = cells.length / 3 / D; // rows per direction
    // The predecessors' h of the diagonal's cells, [D][M, 2U], and their recurrent products [D][M, G].
    const hcat = new Float32Array(D * M * 2 * U);
    for (let row = 0; row < D * M; row++) {
      const pos = cells[3 * row]!;
      if (pos < 0) continue;
      const ho = row * 2 * U;
      for (let side = 0; side < 2; side++) {
        const n = cells[3 * row + 1 + side]!;
        if (n < 0) continue;
        for (let u = 0; u < U; u++) hcat[ho + side * U + u] = st.h[n * U + u]!;
      }
      st.hPrev.set(hcat.subarray(ho, ho + 2 * U), pos * 2 * U);
    }
    const recur = t === 0 ? null : matMulPerDirection(hcat, M, 2 * U, rDir);
    for (let row = 0; row < D * M; row++) {
      const pos = cells[3 * row]!;
      if (pos < 0) continue;
      const dir = Math.floor(row / M);
      const xo = pos * G, bd = dir * G, ro = row * G;
      for (let k = 0; k < G; k++) a[k] = xk[xo + k]! + bv[bd + k]! + (recur ? recur[ro + k]! : 0);
      cellForward(sc, st, a, dir, pos, cells[3 * row + 1]!, cells[3 * row + 2]!, P);
    }
  }
  tf.dispose(rDir);
  return st;
}

function diagonalBackward(sc: ScanShape, xv: Float32Array, K: Float32Array, R: Float32Array, P: Float32Array | undefined, st: DiagonalState, dyAll: Float32Array): tf.Tensor[] {
  const { B, H, W, C, D, U, G } = sc;
  const cellsPerDir = B * H * W, N = D * cellsPerDir;
  const dh = Float64Array.from(dyAll.subarray(0, N * U));
  const dc = Float64Array.from(dyAll.subarray(N * U, 2 * N * U));
  const daAll = new Float32Array(N * G); // [D][B*H*W, G]
  const gP = P ? new Float64Array(D * 5 * U) : undefined;
  const da = new Float64Array(G);
  const rTDir = blocks(transposeBlocks(R, D, 2 * U, G), D, G, 2 * U); // R_d^T: [G, 2U]
  for (let t = H + W - 2; t >= 0; t--) {
    const cells = st.diagonals[t]!;
    const M = cells.length / 3 / D;
    const daDiag = new Float32Array(D * M * G);
    for (let row = 0; row < D * M; row++) {
      const pos = cells[3 * row]!;
      if (pos < 0) continue;
      cellBackward(sc, st, dh, dc, da, Math.floor(row / M), pos, cells[3 * row + 1]!, cells[3 * row + 2]!, P, gP);
      for (let g = 0; g < G; g++) daAll[pos * G + g] = daDiag[row * G + g] = da[g]!;
    }
    if (t === 0) continue; // no predecessors on the first diagonal
    // What flows back to the predecessors' h: da [M, G] x R_d^T -> [M, 2U] per direction.
    const dhcat = matMulPerDirection(daDiag, M, G, rTDir);
    for (let row = 0; row < D * M; row++) {
      if (cells[3 * row]! < 0) continue; // a padded cell passes nothing back
      for (let side = 0; side < 2; side++) {
        const n = cells[3 * row + 1 + side]!;
        if (n < 0) continue;
        const o = row * 2 * U + side * U;
        for (let u = 0; u < U; u++) dh[n * U + u] += dhcat[o + u]!;
      }
    }
  }
  tf.dispose(rTDir);
  // The weight and input gradients, one product per direction over all cells:
  // gK_d = x^T da_d, gR_d = hPrev_d^T da_d, gx = sum_d da_d K_d^T, gb_d = sum of da_d.
  const daDir = blocks(daAll, D, cellsPerDir, G);
  const xT = tf.tensor2d(transposeBlocks(xv, 1, cellsPerDir, C), [C, cellsPerDir]);
  const hPrevT = transposeBlocks(st.hPrev, D, cellsPerDir, 2 * U); // [D][2U, cells]
  const kT = blocks(transposeBlocks(K, D, C, G), D, G, C); // K_d^T: [G, C]
  const grads = tf.tidy(() => {
    const gKs: tf.Tensor[] = [], gRs: tf.Tensor[] = [];
    let gx: tf.Tensor | null = null;
    for (let d = 0; d < D; d++) {
      gKs.push(tf.matMul(xT, daDir[d]!));
      gRs.push(tf.matMul(tf.tensor2d(hPrevT.subarray(d * 2 * U * cellsPerDir, (d + 1) * 2 * U * cellsPerDir), [2 * U, cellsPerDir]), daDir[d]!));
      const part = tf.matMul(daDir[d]!, kT[d]!);
      gx = gx ? tf.add(gx, part) : part;
    }
    const gb = new Float64Array(D * G);
    for (let p = 0; p < N; p++) {
      const bd = Math.floor(p / cellsPerDir) * G;
      for (let g = 0; g < G; g++) gb[bd + g] += daAll[p * G + g]!;
    }
    const out = [tf.reshape(gx!, [B, H, W, C]), tf.stack(gKs), tf.stack(gRs), tf.tensor2d(Float32Array.from(gb), [D, G])];
    if (gP) out.push(tf.tensor3d(Float32Array.from(gP), [D, 5, U]));
    return out;
  });
  tf.dispose([xT, ...kT, ...daDir]);
  return grads;
}
