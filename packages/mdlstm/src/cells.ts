import { neighbours, newState, type ForwardState, type ScanGradients, type ScanShape } from './scan-shape.js';

// The 'cells' order: every product in JavaScript, cell after cell.
//
// Written for the small layers this order serves (Pham et al.'s first layer: 2 units, 10 gates from 4 inputs
// and 4 recurrent values). Per cell and unit, the five gate sums are kept in locals while the inputs and the
// predecessors' h are walked once per unit (no per-gate array); the unpadded cells and their predecessors
// are listed once (scanCells), walked forward and then in reverse; and the backward pass takes every
// derivative from the stored gate activations. About 1.5x faster than a loop over a gate array
// (docs/benchmarks/mdlstm.md). So cellsForward and cellsBackward are kernels written out whole, as llm.c
// writes its kernels (about 100 and 120 lines): each is one walk over the cells with its sums in locals, and
// splitting a walk into functions would put those locals back into arrays. Their reference is reference.ts.

/** The cells order's walk: each direction's unpadded cells in scan order, and the forward state. */
export interface CellsState extends ForwardState {
  /** Per cell, [cell, yCell, xCell] as `neighbours` gives them (predecessor -1: none). */
  cells: Int32Array;
  /** Direction d's cells are cells[3 * starts[d] .. 3 * starts[d + 1]). */
  starts: Int32Array;
}

/** Lists every direction's unpadded cells in scan order (the backward pass walks the same list in reverse). */
function scanCells(sc: ScanShape): { cells: Int32Array; starts: Int32Array } {
  const { B, H, W, D, flips } = sc;
  const cells = new Int32Array(3 * D * B * H * W),
    starts = new Int32Array(D + 1);
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
          cells[3 * n] = pos;
          cells[3 * n + 1] = nb[0]!;
          cells[3 * n + 2] = nb[1]!;
          n++;
        }
      }
    }
  }
  starts[D] = n;
  return { cells, starts };
}

export function cellsForward(
  sc: ScanShape,
  xv: Float32Array,
  K: Float32Array,
  R: Float32Array,
  bv: Float32Array,
  P: Float32Array | undefined,
): CellsState {
  const { B, H, W, C, D, U, G, s, act, rec } = sc;
  const HW = H * W;
  const st: CellsState = { ...newState(D * B * HW, U, G), ...scanCells(sc) };
  const { h, c, z, cells, starts } = st;
  const actF = act.f,
    recF = rec.f;
  const U2 = 2 * U,
    U3 = 3 * U,
    U4 = 4 * U;
  for (let dir = 0; dir < D; dir++) {
    const Kd = dir * C * G,
      Ry = dir * 2 * U * G,
      Rx = Ry + U * G,
      bd = dir * G,
      Pd = dir * 5 * U;
    const cellsBefore = dir * B * HW; // the input position of a cell is its index within its direction
    for (let n = starts[dir]!; n < starts[dir + 1]!; n++) {
      const pos = cells[3 * n]!,
        yPos = cells[3 * n + 1]!,
        xPos = cells[3 * n + 2]!;
      const xo = (pos - cellsBefore) * C,
        zo = pos * G,
        ho = pos * U,
        yo = yPos * U,
        xoff = xPos * U;
      for (let u = 0; u < U; u++) {
        // Gate sums of unit u: input, forget_y, forget_x, output, candidate (columns u, U + u, ... of each weight row).
        const q = bd + u;
        let ai = bv[q]!,
          afy = bv[q + U]!,
          afx = bv[q + U2]!,
          ao = bv[q + U3]!,
          ag = bv[q + U4]!;
        for (let ch = 0; ch < C; ch++) {
          const xc = xv[xo + ch]!;
          if (xc === 0) continue;
          const r = Kd + ch * G + u;
          ai += xc * K[r]!;
          afy += xc * K[r + U]!;
          afx += xc * K[r + U2]!;
          ao += xc * K[r + U3]!;
          ag += xc * K[r + U4]!;
        }
        let cy = 0,
          cx = 0;
        if (yPos >= 0) {
          cy = c[yo + u]!;
          for (let v = 0; v < U; v++) {
            const hv = h[yo + v]!,
              r = Ry + v * G + u;
            ai += hv * R[r]!;
            afy += hv * R[r + U]!;
            afx += hv * R[r + U2]!;
            ao += hv * R[r + U3]!;
            ag += hv * R[r + U4]!;
          }
        }
        if (xPos >= 0) {
          cx = c[xoff + u]!;
          for (let v = 0; v < U; v++) {
            const hv = h[xoff + v]!,
              r = Rx + v * G + u;
            ai += hv * R[r]!;
            afy += hv * R[r + U]!;
            afx += hv * R[r + U2]!;
            ao += hv * R[r + U3]!;
            ag += hv * R[r + U4]!;
          }
        }
        if (P !== undefined) {
          ai += P[Pd + u]! * cy + P[Pd + U + u]! * cx;
          afy += P[Pd + U2 + u]! * cy;
          afx += P[Pd + U3 + u]! * cx;
        }
        const ig = recF(ai),
          fy = recF(afy),
          fx = recF(afx),
          g = actF(ag);
        const cc = ig * g + s * (fy * cy + fx * cx);
        if (P !== undefined) ao += P[Pd + U4 + u]! * cc;
        const o = recF(ao);
        z[zo + u] = ig;
        z[zo + U + u] = fy;
        z[zo + U2 + u] = fx;
        z[zo + U3 + u] = o;
        z[zo + U4 + u] = g;
        c[ho + u] = cc;
        h[ho + u] = o * actF(cc);
      }
    }
  }
  return st;
}

export function cellsBackward(
  sc: ScanShape,
  xv: Float32Array,
  K: Float32Array,
  R: Float32Array,
  P: Float32Array | undefined,
  st: CellsState,
  dyAll: Float32Array,
): ScanGradients {
  const { B, H, W, C, D, U, G, s, act, rec } = sc;
  const HW = H * W,
    N = D * B * HW;
  const { h, c, z, cells, starts } = st;
  const actF = act.f,
    actDy = act.dfy,
    recDy = rec.dfy;
  const U2 = 2 * U,
    U3 = 3 * U,
    U4 = 4 * U;
  const dh = Float64Array.from(dyAll.subarray(0, N * U));
  const dc = Float64Array.from(dyAll.subarray(N * U, 2 * N * U));
  const gx = new Float32Array(B * HW * C),
    gK = new Float64Array(D * C * G),
    gR = new Float64Array(D * 2 * U * G);
  const gb = new Float64Array(D * G),
    gP = P ? new Float64Array(D * 5 * U) : undefined;
  const gxCell = new Float64Array(C); // one cell's input gradient, summed over its units
  for (let dir = 0; dir < D; dir++) {
    const Kd = dir * C * G,
      Ry = dir * 2 * U * G,
      Rx = Ry + U * G,
      bd = dir * G,
      Pd = dir * 5 * U;
    const cellsBefore = dir * B * HW;
    for (let n = starts[dir + 1]! - 1; n >= starts[dir]!; n--) {
      const pos = cells[3 * n]!,
        yPos = cells[3 * n + 1]!,
        xPos = cells[3 * n + 2]!;
      const xo = (pos - cellsBefore) * C,
        zo = pos * G,
        ho = pos * U,
        yo = yPos * U,
        xoff = xPos * U;
      gxCell.fill(0);
      // This cell's dh and dc are complete (its successors came first); per unit, its five gate gradients go
      // to the weights, the input, and the predecessors' h and c.
      for (let u = 0; u < U; u++) {
        const cy = yPos >= 0 ? c[yo + u]! : 0,
          cx = xPos >= 0 ? c[xoff + u]! : 0;
        const ig = z[zo + u]!,
          fy = z[zo + U + u]!,
          fx = z[zo + U2 + u]!,
          o = z[zo + U3 + u]!,
          g = z[zo + U4 + u]!;
        const cc = c[ho + u]!,
          tc = actF(cc);
        const dhv = dh[ho + u]!;
        const dao = dhv * tc * recDy(o);
        const pO = P !== undefined ? P[Pd + U4 + u]! : 0;
        const dct = dc[ho + u]! + dhv * o * actDy(tc) + dao * pO;
        const dai = dct * g * recDy(ig);
        const dag = dct * ig * actDy(g);
        const dafy = dct * s * cy * recDy(fy);
        const dafx = dct * s * cx * recDy(fx);
        const q = bd + u;
        gb[q] += dai;
        gb[q + U] += dafy;
        gb[q + U2] += dafx;
        gb[q + U3] += dao;
        gb[q + U4] += dag;
        for (let ch = 0; ch < C; ch++) {
          const xc = xv[xo + ch]!,
            r = Kd + ch * G + u;
          if (xc !== 0) {
            gK[r] += xc * dai;
            gK[r + U] += xc * dafy;
            gK[r + U2] += xc * dafx;
            gK[r + U3] += xc * dao;
            gK[r + U4] += xc * dag;
          }
          gxCell[ch] += K[r]! * dai + K[r + U]! * dafy + K[r + U2]! * dafx + K[r + U3]! * dao + K[r + U4]! * dag;
        }
        if (yPos >= 0) {
          for (let v = 0; v < U; v++) {
            const hv = h[yo + v]!,
              r = Ry + v * G + u;
            gR[r] += hv * dai;
            gR[r + U] += hv * dafy;
            gR[r + U2] += hv * dafx;
            gR[r + U3] += hv * dao;
            gR[r + U4] += hv * dag;
            dh[yo + v] += R[r]! * dai + R[r + U]! * dafy + R[r + U2]! * dafx + R[r + U3]! * dao + R[r + U4]! * dag;
          }
          dc[yo + u] += dct * s * fy + (P !== undefined ? dai * P[Pd + u]! + dafy * P[Pd + U2 + u]! : 0);
        }
        if (xPos >= 0) {
          for (let v = 0; v < U; v++) {
            const hv = h[xoff + v]!,
              r = Rx + v * G + u;
            gR[r] += hv * dai;
            gR[r + U] += hv * dafy;
            gR[r + U2] += hv * dafx;
            gR[r + U3] += hv * dao;
            gR[r + U4] += hv * dag;
            dh[xoff + v] += R[r]! * dai + R[r + U]! * dafy + R[r + U2]! * dafx + R[r + U3]! * dao + R[r + U4]! * dag;
          }
          dc[xoff + u] += dct * s * fx + (P !== undefined ? dai * P[Pd + U + u]! + dafx * P[Pd + U3 + u]! : 0);
        }
        if (gP !== undefined) {
          gP[Pd + u] += dai * cy;
          gP[Pd + U + u] += dai * cx;
          gP[Pd + U2 + u] += dafy * cy;
          gP[Pd + U3 + u] += dafx * cx;
          gP[Pd + U4 + u] += dao * cc;
        }
      }
      for (let ch = 0; ch < C; ch++) gx[xo + ch] += gxCell[ch]!; // summed over the directions
    }
  }
  return { gx, gK, gR, gb, gP };
}
