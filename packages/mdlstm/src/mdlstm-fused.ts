import * as tf from '@tensorflow/tfjs-core';
import { scalarActivation } from './activations.js';
import { CELL_DEFAULTS, flipsOf, GATES, type CellOptions, type Direction, type MergeMode } from './config.js';

/**
 * The MDLSTM scan as one custom op whose forward and backward passes run on typed arrays
 * (float32 storage, float64 arithmetic per element), like the CTC loss. On the cpu and wasm backends a
 * tfjs op costs tens of microseconds whatever its size, and an MDLSTM step is tiny (Pham et al.'s layers
 * have 2 to 50 units), so one fused loop over the cells beats the wavefront of tfjs ops by one to two
 * orders of magnitude there. The wavefront (mdlstm-op.ts) remains the path for the tensorflow backend.
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
    const fwd = scanForward(scan, xv, K, R, bv, P);
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
      const { gx, gK, gR, gb, gP } = scanBackward(scan, xv, K, R, P, fwd, dyAll);
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

interface ForwardState {
  h: Float32Array;
  c: Float32Array;
  /** Gate activations, for the backward pass. */
  z: Float32Array;
  /** Gate pre-activations (for derivatives that need them). */
  pre: Float32Array;
}

function scanForward(sc: ScanShape, xv: Float32Array, K: Float32Array, R: Float32Array, bv: Float32Array, P: Float32Array | undefined): ForwardState {
  const { B, H, W, C, D, U, G, s, flips, mask, act, rec } = sc;
  const N = D * B * H * W;
  const h = new Float32Array(N * U), c = new Float32Array(N * U);
  const z = new Float32Array(N * G), pre = new Float32Array(N * G);
  const a = new Float64Array(G);
  for (let dir = 0; dir < D; dir++) {
    const { flipY, flipX } = flips[dir]!;
    const dy = flipY ? -1 : 1, dx = flipX ? -1 : 1;
    const Kd = dir * C * G, Ry = dir * 2 * U * G, Rx = Ry + U * G, bd = dir * G, Pd = dir * 5 * U;
    for (let b = 0; b < B; b++) {
      for (let ii = 0; ii < H; ii++) {
        const i = flipY ? H - 1 - ii : ii;
        for (let jj = 0; jj < W; jj++) {
          const j = flipX ? W - 1 - jj : jj;
          if (mask && mask[(b * H + i) * W + j] === 0) continue;
          const pos = ((dir * B + b) * H + i) * W + j;
          const py = i - dy, px = j - dx;
          const yPos = py >= 0 && py < H && !(mask && mask[(b * H + py) * W + j] === 0) ? ((dir * B + b) * H + py) * W + j : -1;
          const xPos = px >= 0 && px < W && !(mask && mask[(b * H + i) * W + px] === 0) ? ((dir * B + b) * H + i) * W + px : -1;
          for (let k = 0; k < G; k++) a[k] = bv[bd + k]!;
          const xo = ((b * H + i) * W + j) * C;
          for (let ch = 0; ch < C; ch++) {
            const xc = xv[xo + ch]!;
            if (xc === 0) continue;
            const row = Kd + ch * G;
            for (let k = 0; k < G; k++) a[k] += xc * K[row + k]!;
          }
          if (yPos >= 0) addRecurrent(h, R, a, U, G, yPos, Ry);
          if (xPos >= 0) addRecurrent(h, R, a, U, G, xPos, Rx);
          const zo = pos * G, ho = pos * U;
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
            pre[zo + u] = a[u]!; pre[zo + U + u] = a[U + u]!; pre[zo + 2 * U + u] = a[2 * U + u]!;
            pre[zo + 3 * U + u] = a[3 * U + u]!; pre[zo + 4 * U + u] = a[4 * U + u]!;
            c[ho + u] = cc;
            h[ho + u] = o * act.f(cc);
          }
        }
      }
    }
  }
  return { h, c, z, pre };
}

function scanBackward(sc: ScanShape, xv: Float32Array, K: Float32Array, R: Float32Array, P: Float32Array | undefined, fwd: ForwardState, dyAll: Float32Array) {
  const { B, H, W, C, D, U, G, s, flips, mask, act, rec } = sc;
  const N = D * B * H * W;
  const { h, c, z, pre } = fwd;
  const dh = Float64Array.from(dyAll.subarray(0, N * U));
  const dc = Float64Array.from(dyAll.subarray(N * U, 2 * N * U));
  const gx = new Float32Array(B * H * W * C), gK = new Float64Array(D * C * G), gR = new Float64Array(D * 2 * U * G);
  const gb = new Float64Array(D * G), gP = P ? new Float64Array(D * 5 * U) : undefined;
  const da = new Float64Array(G);
  for (let dir = 0; dir < D; dir++) {
    const { flipY, flipX } = flips[dir]!;
    const dy = flipY ? -1 : 1, dx = flipX ? -1 : 1;
    const Kd = dir * C * G, Ry = dir * 2 * U * G, Rx = Ry + U * G, bd = dir * G, Pd = dir * 5 * U;
    for (let b = 0; b < B; b++) {
      for (let ii = H - 1; ii >= 0; ii--) {
        const i = flipY ? H - 1 - ii : ii;
        for (let jj = W - 1; jj >= 0; jj--) {
          const j = flipX ? W - 1 - jj : jj;
          if (mask && mask[(b * H + i) * W + j] === 0) continue;
          const pos = ((dir * B + b) * H + i) * W + j;
          const py = i - dy, px = j - dx;
          const yPos = py >= 0 && py < H && !(mask && mask[(b * H + py) * W + j] === 0) ? ((dir * B + b) * H + py) * W + j : -1;
          const xPos = px >= 0 && px < W && !(mask && mask[(b * H + i) * W + px] === 0) ? ((dir * B + b) * H + i) * W + px : -1;
          const zo = pos * G, ho = pos * U;
          for (let u = 0; u < U; u++) {
            const cy = yPos >= 0 ? c[yPos * U + u]! : 0, cx = xPos >= 0 ? c[xPos * U + u]! : 0;
            const ig = z[zo + u]!, fy = z[zo + U + u]!, fx = z[zo + 2 * U + u]!, o = z[zo + 3 * U + u]!, g = z[zo + 4 * U + u]!;
            const cc = c[ho + u]!, tc = act.f(cc);
            const dhv = dh[ho + u]!;
            const dao = dhv * tc * rec.df(pre[zo + 3 * U + u]!, o);
            const pO = P ? P[Pd + 4 * U + u]! : 0;
            const dct = dc[ho + u]! + dhv * o * act.df(cc, tc) + dao * pO;
            const dai = dct * g * rec.df(pre[zo + u]!, ig);
            const dag = dct * ig * act.df(pre[zo + 4 * U + u]!, g);
            const dafy = dct * s * cy * rec.df(pre[zo + U + u]!, fy);
            const dafx = dct * s * cx * rec.df(pre[zo + 2 * U + u]!, fx);
            da[u] = dai; da[U + u] = dafy; da[2 * U + u] = dafx; da[3 * U + u] = dao; da[4 * U + u] = dag;
            if (gP) {
              gP[Pd + u] += dai * cy; gP[Pd + U + u] += dai * cx; gP[Pd + 2 * U + u] += dafy * cy;
              gP[Pd + 3 * U + u] += dafx * cx; gP[Pd + 4 * U + u] += dao * cc;
            }
            if (yPos >= 0) dc[yPos * U + u] += dct * s * fy + (P ? dai * P[Pd + u]! + dafy * P[Pd + 2 * U + u]! : 0);
            if (xPos >= 0) dc[xPos * U + u] += dct * s * fx + (P ? dai * P[Pd + U + u]! + dafx * P[Pd + 3 * U + u]! : 0);
          }
          for (let k = 0; k < G; k++) gb[bd + k] += da[k]!;
          const xo = ((b * H + i) * W + j) * C;
          for (let ch = 0; ch < C; ch++) {
            const xc = xv[xo + ch]!, row = Kd + ch * G;
            let acc = 0;
            for (let k = 0; k < G; k++) {
              gK[row + k] += xc * da[k]!;
              acc += K[row + k]! * da[k]!;
            }
            gx[xo + ch] += acc;
          }
          if (yPos >= 0) backRecurrent(h, R, gR, dh, da, U, G, yPos, Ry);
          if (xPos >= 0) backRecurrent(h, R, gR, dh, da, U, G, xPos, Rx);
        }
      }
    }
  }
  return { gx, gK, gR, gb, gP };
}

/** Adds one predecessor's recurrent term U h(nPos) to the gate pre-activations `a`. */
function addRecurrent(h: Float32Array, R: Float32Array, a: Float64Array, U: number, G: number, nPos: number, base: number): void {
  for (let u = 0; u < U; u++) {
    const hu = h[nPos * U + u]!;
    if (hu === 0) continue;
    const row = base + u * G;
    for (let k = 0; k < G; k++) a[k] += hu * R[row + k]!;
  }
}

/** Gradient through the recurrent weights of one predecessor at `nPos`: into its weights (gR) and its h (dh). */
function backRecurrent(h: Float32Array, R: Float32Array, gR: Float64Array, dh: Float64Array, da: Float64Array, U: number, G: number, nPos: number, base: number): void {
  for (let u = 0; u < U; u++) {
    const hu = h[nPos * U + u]!, row = base + u * G;
    let acc = 0;
    for (let k = 0; k < G; k++) {
      gR[row + k] += hu * da[k]!;
      acc += R[row + k]! * da[k]!;
    }
    dh[nPos * U + u] += acc;
  }
}
