import * as tf from '@tensorflow/tfjs-core';
import { tensorActivation } from './activations.js';
import {
  CELL_DEFAULTS,
  checkChoice,
  checkDirections,
  flipsOf,
  GATES,
  MDLSTMInputError,
  MERGE_MODES,
  type CellOptions,
  type Direction,
  type MergeMode,
} from './config.js';
import { simdAvailable, simdSupports } from './kernels/mdlstm-simd.js';
import { mdlstmFusedScan } from './mdlstm-fused.js';
import { mergeDirections } from './merge.js';
import { skew, unskew } from './skew.js';
import { unstack, unstackSteps } from './unstack.js';

export interface MDLSTMWeights {
  kernel: tf.Tensor; // [nDir, C, 5U]
  recurrentKernel: tf.Tensor; // [nDir, 2U, 5U]
  bias: tf.Tensor; // [nDir, 5U]
  peephole?: tf.Tensor; // [nDir, 5, U]
}

export interface MDLSTMOpOptions extends CellOptions {
  /** One per weight slice, in the same order. Default: all four, ['tl', 'tr', 'bl', 'br']. */
  directions?: readonly Direction[];
  /** Default 'concat'. */
  mergeMode?: MergeMode;
  /** [B, H, W], 1 = valid, 0 = padding. Padded cells count as outside the image and output zero. */
  mask?: tf.Tensor;
  /** Per-sample valid widths (the valid region is the top-left widths x heights rectangle). */
  widths?: ArrayLike<number>;
  /** Per-sample valid heights. */
  heights?: ArrayLike<number>;
  /** Also return the final h and c of each direction: the cell at the far corner of each sample's scan. Default false. */
  returnState?: boolean;
  /** Dropout rate on the output (never on recurrent connections); applied only when `training`. Default 0. */
  dropout?: number;
  training?: boolean;
  seed?: number;
  /**
   * 'fused': one custom op looping over the cells on typed arrays, every product in JavaScript (fast on
   * cpu, where every tfjs op has a fixed cost and matMul is JavaScript too); 'diagonal': the same custom op
   * taking one anti-diagonal of all directions at a time, its products as per-direction 2D backend matMuls
   * (fast on wasm, whose matMul is SIMD code); 'simd': the cell order in our own WebAssembly SIMD module, the
   * four directions in the four lanes of each f32x4 (needs WebAssembly SIMD and the standard activations,
   * sigmoid gates and tanh; refused otherwise); 'wavefront': the skewed anti-diagonal scan of public tfjs ops (for
   * the tensorflow backend, where the data stays on the device). Default 'auto': wavefront on
   * 'tensorflow'; on 'wasm' diagonal from 4 units up (fused below: a matMul call costs more than a few
   * products); else fused; but 'simd' in place of fused and diagonal wherever the engine has WebAssembly SIMD
   * and the cell uses the standard activations (see autoImplementation).
   */
  implementation?: 'auto' | 'fused' | 'diagonal' | 'simd' | 'wavefront';
}

const IMPLEMENTATIONS = ['auto', 'fused', 'diagonal', 'simd', 'wavefront'] as const;
/** 'auto' on wasm without SIMD kernel: the diagonal order from this many units up (docs/benchmarks/mdlstm.md). */
const AUTO_DIAGONAL_UNITS = 4;

/**
 * What 'auto' picks: wavefront on 'tensorflow' (the data stays on the device); elsewhere the SIMD kernel where
 * it runs (`simdUsable`: the engine has WebAssembly SIMD and the cell uses sigmoid gates and tanh), 3.5 to 5x
 * the JavaScript orders (docs/benchmarks/mdlstm.md); failing that, on wasm the diagonal order from 4 units up
 * (a backend matMul call costs about 50 us, worth it per diagonal once a cell's recurrent product, 10 U^2
 * multiply-adds, is large), and the fused cell order below and on cpu.
 */
export function autoImplementation(backend: string, units: number, simdUsable: boolean): 'fused' | 'diagonal' | 'simd' | 'wavefront' {
  if (backend === 'tensorflow') return 'wavefront';
  if (simdUsable) return 'simd';
  return backend === 'wasm' && units >= AUTO_DIAGONAL_UNITS ? 'diagonal' : 'fused';
}

/** The output, or [output, h_dir0, c_dir0, h_dir1, c_dir1, ...] with each state [B, units] when returnState. */
export type MDLSTMOpResult = tf.Tensor | tf.Tensor[];

/** Builds a [B, H, W] mask from per-sample widths and/or heights. */
export function sizeMask(batch: number, height: number, width: number, widths?: ArrayLike<number>, heights?: ArrayLike<number>): tf.Tensor3D {
  const m = new Float32Array(batch * height * width);
  for (const [name, arr, max] of [['widths', widths, width], ['heights', heights, height]] as const) {
    if (!arr) continue;
    if (arr.length !== batch) throw new MDLSTMInputError(`mdlstm: ${name} has ${arr.length} entries (expected one per sample, ${batch})`);
    for (let b = 0; b < batch; b++) {
      const v = arr[b]!;
      if (!Number.isInteger(v) || v < 1 || v > max) {
        throw new MDLSTMInputError(`mdlstm: ${name}[${b}] = ${v} (expected an integer in [1, ${max}])`);
      }
    }
  }
  for (let b = 0; b < batch; b++) {
    const hb = heights ? heights[b]! : height, wb = widths ? widths[b]! : width;
    for (let i = 0; i < hb; i++) m.fill(1, (b * height + i) * width, (b * height + i) * width + wb);
  }
  return tf.tensor3d(m, [batch, height, width]);
}

function flip(x: tf.Tensor, d: Direction, yAxis: number, xAxis: number): tf.Tensor {
  const { flipY, flipX } = flipsOf(d);
  const axes = [...(flipY ? [yAxis] : []), ...(flipX ? [xAxis] : [])];
  return axes.length ? tf.reverse(x, axes) : x;
}

/**
 * The multi-directional 2D LSTM (Graves & Schmidhuber 2009). On the cpu and wasm backends it runs as one
 * fused custom op (see `implementation` and mdlstm-fused.ts); on the tensorflow backend, and with
 * implementation 'wavefront', as a wavefront scan over public tfjs ops:
 *
 * Each direction's input is flipped so that its scan starts at the top-left; the directions are stacked on
 * a leading axis and run in the same ops. W*x for every position and direction is one batched matmul.
 * The grid is skewed so that step t updates the whole anti-diagonal i + j = t (H + W - 1 steps); in the
 * skewed layout, indexed by row, the x-predecessor of row i is row i of the previous diagonal and the
 * y-predecessor is row i - 1. Gradients come from tfjs autograd.
 *
 * x: [B, H, W, C] -> [B, H, W, nDir*U] (concat), [B, H, W, U] (sum, mul, ave) or [B, H, W, nDir, U] (none).
 */
export function mdlstm(x: tf.Tensor, weights: MDLSTMWeights, options: MDLSTMOpOptions = {}): MDLSTMOpResult {
  const directions = checkDirections(options.directions ?? ['tl', 'tr', 'bl', 'br'], 'mdlstm');
  const mergeMode = checkChoice(options.mergeMode ?? 'concat', MERGE_MODES, 'mdlstm: mergeMode');
  const cell = { ...CELL_DEFAULTS, ...options };
  if (x.rank !== 4) throw new MDLSTMInputError(`mdlstm: x has shape [${x.shape}] (expected rank 4: [batch, height, width, channels])`);
  const [B, H, W, C] = x.shape as [number, number, number, number];
  if (B * H * W * C === 0) throw new MDLSTMInputError(`mdlstm: x has shape [${x.shape}] with a zero-size dimension`);
  const D = directions.length;
  const [kd, kc, kg] = weights.kernel.shape;
  if (weights.kernel.rank !== 3 || kd !== D || kg! % GATES !== 0) {
    throw new MDLSTMInputError(`mdlstm: kernel has shape [${weights.kernel.shape}] (expected [${D}, channels, 5*units])`);
  }
  if (kc !== C) throw new MDLSTMInputError(`mdlstm: x has ${C} channels but the kernel was built for ${kc}`);
  const U = kg! / GATES, G = kg!;
  const expect = (name: string, t: tf.Tensor | undefined, shape: number[]) => {
    if (t && (t.rank !== shape.length || t.shape.some((s, k) => s !== shape[k]))) {
      throw new MDLSTMInputError(`mdlstm: ${name} has shape [${t.shape}] (expected [${shape}])`);
    }
  };
  expect('recurrentKernel', weights.recurrentKernel, [D, 2 * U, G]);
  expect('bias', weights.bias, [D, G]);
  expect('peephole', weights.peephole, [D, 5, U]);
  expect('mask', options.mask, [B, H, W]);
  const rate = options.dropout ?? 0;
  if (!(rate >= 0 && rate < 1)) throw new MDLSTMInputError(`mdlstm: dropout = ${rate} (expected a rate in [0, 1))`);

  return tf.tidy(() => {
    let mask: tf.Tensor | undefined = options.mask;
    if (options.widths || options.heights) {
      const sizes = sizeMask(B, H, W, options.widths, options.heights);
      mask = mask ? tf.mul(mask, sizes) : sizes;
    }
    let impl = checkChoice(options.implementation ?? 'auto', IMPLEMENTATIONS, 'mdlstm: implementation');
    if (impl === 'auto') impl = autoImplementation(tf.getBackend(), U, simdAvailable() && simdSupports(cell, D));
    if (impl === 'simd') checkSimd(cell, D);
    const fused = impl !== 'wavefront';
    const order = impl === 'diagonal' ? 'diagonals' : impl === 'simd' ? 'simd' : 'cells';
    let perDir: tf.Tensor, cAll: () => tf.Tensor; // [D, B, H, W, U]
    const maskValues = () => (mask ? (mask.dataSync() as Float32Array) : undefined);
    if (fused && !options.returnState) {
      // The output straight from the scan, directions merged in the same loops: no tfjs ops after it.
      const merged = mdlstmFusedScan(x, weights.kernel, weights.recurrentKernel, weights.bias, weights.peephole, directions, maskValues(), cell, mergeMode, order);
      return rate > 0 && options.training ? tf.dropout(merged, rate, undefined, options.seed) : merged;
    }
    if (fused) {
      const hc = mdlstmFusedScan(x, weights.kernel, weights.recurrentKernel, weights.bias, weights.peephole, directions, maskValues(), cell, undefined, order);
      perDir = tf.squeeze(tf.slice(hc, [0, 0, 0, 0, 0, 0], [1, D, B, H, W, U]), [0]);
      cAll = () => tf.squeeze(tf.slice(hc, [1, 0, 0, 0, 0, 0], [1, D, B, H, W, U]), [0]);
    } else {
      const r = wavefrontScan(x, weights, directions, mask, cell, !!options.returnState);
      perDir = r.h;
      cAll = r.c;
    }
    let out = mergeDirections(perDir, mergeMode);
    if (rate > 0 && options.training) out = tf.dropout(out, rate, undefined, options.seed);
    if (!options.returnState) return out;
    const cs = cAll();
    const states: tf.Tensor[] = [];
    directions.forEach((d, k) => {
      const idx = finalCellIndex(d, B, H, W, options.widths, options.heights);
      const pick = (all: tf.Tensor) =>
        tf.gather(tf.reshape(tf.slice(all, [k, 0, 0, 0, 0], [1, B, H, W, U]), [B * H * W, U]), idx);
      states.push(pick(perDir), pick(cs));
    });
    return [out, ...states];
  });
}

function checkSimd(cell: Required<CellOptions>, D: number): void {
  if (!simdAvailable()) throw new MDLSTMInputError("mdlstm: implementation 'simd' needs WebAssembly SIMD, which this engine lacks (use 'auto')");
  if (!simdSupports(cell, D)) {
    throw new MDLSTMInputError(
      `mdlstm: implementation 'simd' supports activation 'tanh' and recurrentActivation 'sigmoid' only ` +
        `(got '${cell.activation}' and '${cell.recurrentActivation}'; use 'auto')`,
    );
  }
}

/** The wavefront scan of public tfjs ops: per-direction h (and c on demand) as [D, B, H, W, U]. */
function wavefrontScan(
  x: tf.Tensor,
  weights: MDLSTMWeights,
  directions: readonly Direction[],
  mask: tf.Tensor | undefined,
  cell: Required<CellOptions>,
  returnState: boolean,
): { h: tf.Tensor; c: () => tf.Tensor } {
  const [B, H, W, C] = x.shape as [number, number, number, number];
  const D = directions.length, G = weights.kernel.shape[2]!, U = G / GATES;
    const T = H + W - 1, DU = D * U;
    // Per-direction flipped input, projected in one batched matmul: [D, B*H*W, 5U].
    const xs = tf.stack(directions.map((d) => flip(x, d, 1, 2))); // [D, B, H, W, C]
    const proj = tf.add(tf.matMul(tf.reshape(xs, [D, B * H * W, C]), weights.kernel), tf.reshape(weights.bias, [D, 1, G]));
    // Layout for the scan: per gate, [T, H, B, D*U] (diagonal, row, sample, direction-major units), so that the
    // per-step slices (a diagonal, the row shift) are contiguous blocks: tfjs slices those by a plain copy.
    const byCell = tf.reshape(tf.transpose(tf.reshape(proj, [D, B, H, W, GATES, U]), [1, 2, 3, 4, 0, 5]), [B, H, W, GATES * DU]);
    const projSkew = tf.reshape(skew(byCell as tf.Tensor4D), [B, H, T, GATES, DU]);
    const gatesSeq = unstack(tf.transpose(projSkew, [3, 2, 1, 0, 4])).map(unstackSteps); // 5 x T x [H, B, DU]
    // Valid cells of each diagonal: inside the image (skew pads with zeros) and not masked.
    const valid = mask ? tf.stack(directions.map((d) => flip(mask!, d, 1, 2)), 3) : tf.ones([B, H, W, D]); // [B, H, W, D]
    const validSkew = tf.reshape(skew(valid as tf.Tensor4D), [B, H, T, D, 1]);
    const maskSeq = unstackSteps(tf.reshape(tf.mul(tf.transpose(validSkew, [2, 1, 0, 3, 4]), tf.ones([U])), [T, H, B, DU])); // T x [H, B, DU]

    // Block-diagonal recurrent matrices, one per gate: [2*D*U, D*U] (rows: h_y of each direction, then h_x).
    const eye = tf.reshape(tf.eye(D), [D, 1, D, 1]);
    const blockDiag = (m: tf.Tensor) => tf.reshape(tf.mul(tf.reshape(m, [D, U, 1, U]), eye), [DU, DU]); // m: [D, U, U]
    const rk = weights.recurrentKernel;
    const recurrent = Array.from({ length: GATES }, (_, g) =>
      tf.concat([blockDiag(tf.slice(rk, [0, 0, g * U], [D, U, U])), blockDiag(tf.slice(rk, [0, U, g * U], [D, U, U]))], 0),
    );
    const peep = weights.peephole
      ? Array.from({ length: 5 }, (_, r) => tf.reshape(tf.slice(weights.peephole!, [0, r, 0], [D, 1, U]), [DU]))
      : undefined;
    const s = cell.bounded ? 0.5 : 1;
    const zeroRow = tf.zeros([1, B, DU]);
    // States of the previous diagonal with a zero row on top: row i holds the cell of row i - 1, so that
    // h_y of row i is row i and h_x of row i is row i + 1 (both contiguous slices).
    let hPrev: tf.Tensor = tf.zeros([H + 1, B, DU]), cPrev: tf.Tensor = hPrev;
    const hs: tf.Tensor[] = [], cs: tf.Tensor[] = [];
    const act = (v: tf.Tensor) => tensorActivation(cell.activation, v);
    const gate = (v: tf.Tensor) => tensorActivation(cell.recurrentActivation, v);

    for (let t = 0; t < T; t++) {
      const hy = tf.slice(hPrev, [0, 0, 0], [H, B, DU]), hx = tf.slice(hPrev, [1, 0, 0], [H, B, DU]);
      const cy = tf.slice(cPrev, [0, 0, 0], [H, B, DU]), cx = tf.slice(cPrev, [1, 0, 0], [H, B, DU]);
      // At t = 0 the predecessors are zero; the matmuls still run so that the recurrent kernel is always
      // connected to the output (autograd refuses a weight with no path, e.g. on a 1x1 grid).
      const hcat = tf.reshape(tf.concat([hy, hx], 2), [H * B, 2 * DU]);
      const pre = (g: number) => tf.add(gatesSeq[g]![t]!, tf.reshape(tf.matMul(hcat, recurrent[g]!), [H, B, DU]));
      let ai = pre(0), afy = pre(1), afx = pre(2);
      if (peep) {
        ai = tf.add(ai, tf.add(tf.mul(peep[0]!, cy), tf.mul(peep[1]!, cx)));
        afy = tf.add(afy, tf.mul(peep[2]!, cy));
        afx = tf.add(afx, tf.mul(peep[3]!, cx));
      }
      let forget = tf.add(tf.mul(gate(afy), cy), tf.mul(gate(afx), cx));
      if (s !== 1) forget = tf.mul(forget, s);
      const m = maskSeq[t]!;
      const c = tf.mul(tf.add(tf.mul(gate(ai), act(pre(4))), forget), m);
      const o = gate(peep ? tf.add(pre(3), tf.mul(peep[4]!, c)) : pre(3));
      const h = tf.mul(tf.mul(o, act(c)), m);
      hs.push(h);
      if (returnState) cs.push(c);
      hPrev = tf.concat([zeroRow, h], 0);
      cPrev = tf.concat([zeroRow, c], 0);
    }

    // T x [H, B, D*U] -> unskewed, unflipped [D, B, H, W, U].
    const unskewAll = (seq: tf.Tensor[]) => {
      const st = tf.transpose(tf.stack(seq), [2, 1, 0, 3]); // [B, H, T, DU]
      const grid = tf.transpose(tf.reshape(unskew(st as tf.Tensor4D, W), [B, H, W, D, U]), [3, 0, 1, 2, 4]); // [D, B, H, W, U]
      return tf.stack(directions.map((d, k) => flip(tf.squeeze(tf.slice(grid, [k, 0, 0, 0, 0], [1, B, H, W, U]), [0]), d, 1, 2)));
    };
    return { h: unskewAll(hs), c: () => unskewAll(cs) };
}

/** Flat [B*H*W] index of the last cell of each sample's scan in direction d (its own far corner). */
function finalCellIndex(d: Direction, B: number, H: number, W: number, widths?: ArrayLike<number>, heights?: ArrayLike<number>): tf.Tensor1D {
  const { flipY, flipX } = flipsOf(d);
  const idx = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    const hb = heights ? heights[b]! : H, wb = widths ? widths[b]! : W;
    const i = flipY ? 0 : hb - 1, j = flipX ? 0 : wb - 1;
    idx[b] = (b * H + i) * W + j;
  }
  return tf.tensor1d(idx, 'int32');
}
