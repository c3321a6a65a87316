import * as tf from '@tensorflow/tfjs-core';
import { scalarActivation } from './activations.js';
import { CELL_DEFAULTS, flipsOf, GATES, type CellOptions, type Direction } from './config.js';

/**
 * The MDLSTM scan as one custom op whose forward and backward passes run on typed arrays
 * (float32 storage, float64 arithmetic per element), like the CTC loss. On the cpu and wasm backends a
 * tfjs op costs tens of microseconds whatever its size, and an MDLSTM step is tiny (Pham et al.'s layers
 * have 2 to 50 units), so one fused loop over the cells beats the wavefront of tfjs ops by one to two
 * orders of magnitude there. The wavefront (mdlstm-op.ts) remains the path for the tensorflow backend.
 *
 * Returns [2, nDir, B, H, W, U]: h and c of every cell, per direction, in the original (unflipped) frame.
 * Padded cells (mask 0) have h = c = 0 and pass no gradient.
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
    const out = new Float32Array(2 * N * U);
    out.set(fwd.h, 0);
    out.set(fwd.c, N * U);
    const value = tf.tensor(out, [2, D, B, H, W, U]);

    const gradFunc = (dyT: tf.Tensor | tf.Tensor[]) => {
      const dyAll = (Array.isArray(dyT) ? dyT[0]! : dyT).dataSync() as Float32Array;
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
