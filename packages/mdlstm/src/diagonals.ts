import * as tf from '@tensorflow/tfjs-core';
import { neighbours, newState, type ForwardState, type ScanGradients, type ScanShape } from './scan-shape.js';

// The 'diagonals' order: the cells of one anti-diagonal of every direction at a time, the products as backend matMuls.

/**
 * Gates, c and h of one cell from its pre-activations `a` (input, recurrent and bias terms; the peephole
 * terms are added here), its predecessors' c at yPos/xPos (-1: none).
 */
function cellForward(
  sc: ScanShape,
  st: ForwardState,
  a: Float64Array,
  dir: number,
  pos: number,
  yPos: number,
  xPos: number,
  P: Float32Array | undefined,
): void {
  const { U, G, s, act, rec } = sc;
  const { h, c, z } = st;
  const Pd = dir * 5 * U,
    zo = pos * G,
    ho = pos * U;
  for (let u = 0; u < U; u++) {
    const cy = yPos >= 0 ? c[yPos * U + u]! : 0,
      cx = xPos >= 0 ? c[xPos * U + u]! : 0;
    if (P) {
      a[u] += P[Pd + u]! * cy + P[Pd + U + u]! * cx;
      a[U + u] += P[Pd + 2 * U + u]! * cy;
      a[2 * U + u] += P[Pd + 3 * U + u]! * cx;
    }
    const ig = rec.f(a[u]!),
      fy = rec.f(a[U + u]!),
      fx = rec.f(a[2 * U + u]!),
      g = act.f(a[4 * U + u]!);
    const cc = ig * g + s * (fy * cy + fx * cx);
    if (P) a[3 * U + u] += P[Pd + 4 * U + u]! * cc;
    const o = rec.f(a[3 * U + u]!);
    z[zo + u] = ig;
    z[zo + U + u] = fy;
    z[zo + 2 * U + u] = fx;
    z[zo + 3 * U + u] = o;
    z[zo + 4 * U + u] = g;
    c[ho + u] = cc;
    h[ho + u] = o * act.f(cc);
  }
}

/**
 * The gate gradients `da` (G values) of one cell from its dh and dc, and what flows to its predecessors'
 * c (added to dc at yPos/xPos) and into the peephole weights (gP).
 */
function cellBackward(
  sc: ScanShape,
  st: ForwardState,
  dh: Float64Array,
  dc: Float64Array,
  da: Float64Array,
  dir: number,
  pos: number,
  yPos: number,
  xPos: number,
  P: Float32Array | undefined,
  gP: Float64Array | undefined,
): void {
  const { U, G, s, act, rec } = sc;
  const { c, z } = st;
  const Pd = dir * 5 * U,
    zo = pos * G,
    ho = pos * U;
  for (let u = 0; u < U; u++) {
    const cy = yPos >= 0 ? c[yPos * U + u]! : 0,
      cx = xPos >= 0 ? c[xPos * U + u]! : 0;
    const ig = z[zo + u]!,
      fy = z[zo + U + u]!,
      fx = z[zo + 2 * U + u]!,
      o = z[zo + 3 * U + u]!,
      g = z[zo + 4 * U + u]!;
    const cc = c[ho + u]!,
      tc = act.f(cc);
    const dhv = dh[ho + u]!;
    const dao = dhv * tc * rec.dfy(o);
    const pO = P ? P[Pd + 4 * U + u]! : 0;
    const dct = dc[ho + u]! + dhv * o * act.dfy(tc) + dao * pO;
    const dai = dct * g * rec.dfy(ig);
    const dag = dct * ig * act.dfy(g);
    const dafy = dct * s * cy * rec.dfy(fy);
    const dafx = dct * s * cx * rec.dfy(fx);
    da[u] = dai;
    da[U + u] = dafy;
    da[2 * U + u] = dafx;
    da[3 * U + u] = dao;
    da[4 * U + u] = dag;
    if (gP) {
      gP[Pd + u] += dai * cy;
      gP[Pd + U + u] += dai * cx;
      gP[Pd + 2 * U + u] += dafy * cy;
      gP[Pd + 3 * U + u] += dafx * cx;
      gP[Pd + 4 * U + u] += dao * cc;
    }
    if (yPos >= 0) dc[yPos * U + u] += dct * s * fy + (P ? dai * P[Pd + u]! + dafy * P[Pd + 2 * U + u]! : 0);
    if (xPos >= 0) dc[xPos * U + u] += dct * s * fx + (P ? dai * P[Pd + U + u]! + dafx * P[Pd + 3 * U + u]! : 0);
  }
}

export interface DiagonalsState extends ForwardState {
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
        const ii = lo + k,
          jj = t - ii;
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
  const lo = Math.max(0, t - sc.W + 1),
    hi = Math.min(sc.H - 1, t);
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
function matMulPerDirection(
  left: Float32Array,
  rows: number,
  inner: number,
  right: readonly tf.Tensor2D[],
  sharedLeft = false,
): Float32Array {
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
  return Array.from({ length: D }, (_, d) =>
    tf.tensor2d(m.subarray(d * rows * cols, (d + 1) * rows * cols), [rows, cols]),
  );
}

export function diagonalsForward(
  sc: ScanShape,
  xv: Float32Array,
  K: Float32Array,
  R: Float32Array,
  bv: Float32Array,
  P: Float32Array | undefined,
): DiagonalsState {
  const { B, H, W, C, D, U, G } = sc;
  const cellsPerDir = B * H * W;
  const st: DiagonalsState = {
    ...newState(D * cellsPerDir, U, G),
    hPrev: new Float32Array(D * cellsPerDir * 2 * U),
    diagonals: [],
  };
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
      const xo = pos * G,
        bd = dir * G,
        ro = row * G;
      for (let k = 0; k < G; k++) a[k] = xk[xo + k]! + bv[bd + k]! + (recur ? recur[ro + k]! : 0);
      cellForward(sc, st, a, dir, pos, cells[3 * row + 1]!, cells[3 * row + 2]!, P);
    }
  }
  tf.dispose(rDir);
  return st;
}

export function diagonalsBackward(
  sc: ScanShape,
  xv: Float32Array,
  K: Float32Array,
  R: Float32Array,
  P: Float32Array | undefined,
  st: DiagonalsState,
  dyAll: Float32Array,
): ScanGradients {
  const { B, H, W, C, D, U, G } = sc;
  const cellsPerDir = B * H * W,
    N = D * cellsPerDir;
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
  const [gxT, gKT, gRT] = tf.tidy(() => {
    const gKs: tf.Tensor[] = [],
      gRs: tf.Tensor[] = [];
    let gx: tf.Tensor | null = null;
    for (let d = 0; d < D; d++) {
      gKs.push(tf.matMul(xT, daDir[d]!));
      gRs.push(
        tf.matMul(
          tf.tensor2d(hPrevT.subarray(d * 2 * U * cellsPerDir, (d + 1) * 2 * U * cellsPerDir), [2 * U, cellsPerDir]),
          daDir[d]!,
        ),
      );
      const part = tf.matMul(daDir[d]!, kT[d]!);
      gx = gx ? tf.add(gx, part) : part;
    }
    return [tf.reshape(gx!, [B, H, W, C]), tf.stack(gKs), tf.stack(gRs)];
  });
  tf.dispose([xT, ...kT, ...daDir]);
  const gb = new Float64Array(D * G);
  for (let p = 0; p < N; p++) {
    const bd = Math.floor(p / cellsPerDir) * G;
    for (let g = 0; g < G; g++) gb[bd + g] += daAll[p * G + g]!;
  }
  return { gx: take(gxT!), gK: take(gKT!), gR: take(gRT!), gb, gP };
}
