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
import { mergeDirections } from './merge.js';
import { skew, unskew } from './skew.js';
import { unstack } from './unstack.js';

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
 * The multi-directional 2D LSTM (Graves & Schmidhuber 2009) as a wavefront scan over public tfjs ops.
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
    // Per-direction flipped input, projected: [D, B, H, W, 5U] -> skewed [D*B, H, T, 5U].
    const xs = tf.stack(directions.map((d) => flip(x, d, 1, 2))); // [D, B, H, W, C]
    const proj = tf.add(
      tf.matMul(tf.reshape(xs, [D, B * H * W, C]), weights.kernel), // [D, B*H*W, 5U]
      tf.reshape(weights.bias, [D, 1, G]),
    );
    const T = H + W - 1;
    const projSkew = skew(tf.reshape(proj, [D * B, H, W, G]) as tf.Tensor4D); // [D*B, H, T, 5U]
    const zs = unstack(tf.transpose(tf.reshape(projSkew, [D, B, H, T, G]), [3, 0, 1, 2, 4])); // T x [D, B, H, 5U]
    // Valid cells of each diagonal: inside the image (skew pads with zeros) and not masked.
    const valid = mask ? tf.stack(directions.map((d) => flip(mask!, d, 1, 2))) : tf.ones([D, B, H, W]);
    const validSkew = skew(tf.reshape(valid, [D * B, H, W, 1]) as tf.Tensor4D);
    const ms = unstack(tf.transpose(tf.reshape(validSkew, [D, B, H, T, 1]), [3, 0, 1, 2, 4])); // T x [D, B, H, 1]

    const rk = weights.recurrentKernel;
    const peep = weights.peephole ? unstack(weights.peephole, 1).map((p) => tf.reshape(p, [D, 1, 1, U])) : undefined;
    const s = cell.bounded ? 0.5 : 1;
    const zeros = tf.zeros([D, B, H, U]);
    let hPrev: tf.Tensor = zeros, cPrev: tf.Tensor = zeros;
    const hs: tf.Tensor[] = [], cs: tf.Tensor[] = [];
    const shiftDown = (t: tf.Tensor) =>
      H === 1 ? zeros : tf.pad(tf.slice(t, [0, 0, 0, 0], [D, B, H - 1, U]), [[0, 0], [0, 0], [1, 0], [0, 0]]);

    for (let t = 0; t < T; t++) {
      const hy = shiftDown(hPrev), cy = shiftDown(cPrev), hx = hPrev, cx = cPrev;
      // At t = 0 the predecessors are zero; the matmul still runs so that the recurrent kernel is always
      // connected to the output (autograd refuses a weight with no path, e.g. on a 1x1 grid).
      const rec = tf.matMul(tf.reshape(tf.concat([hy, hx], 3), [D, B * H, 2 * U]), rk); // [D, B*H, 5U]
      const a = tf.add(zs[t]!, tf.reshape(rec, [D, B, H, G]));
      const [ai, afy, afx, ao, ag] = tf.split(a, GATES, 3) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
      const gate = (pre: tf.Tensor) => tensorActivation(cell.recurrentActivation, pre);
      let pi = ai, pfy = afy, pfx = afx;
      if (peep) {
        pi = tf.add(pi, tf.add(tf.mul(peep[0]!, cy), tf.mul(peep[1]!, cx)));
        pfy = tf.add(pfy, tf.mul(peep[2]!, cy));
        pfx = tf.add(pfx, tf.mul(peep[3]!, cx));
      }
      let forget = tf.add(tf.mul(gate(pfy), cy), tf.mul(gate(pfx), cx));
      if (s !== 1) forget = tf.mul(forget, s);
      const m = ms[t]!;
      const c = tf.mul(tf.add(tf.mul(gate(pi), tensorActivation(cell.activation, ag)), forget), m);
      const o = gate(peep ? tf.add(ao, tf.mul(peep[4]!, c)) : ao);
      const h = tf.mul(tf.mul(o, tensorActivation(cell.activation, c)), m);
      hs.push(h);
      if (options.returnState) cs.push(c);
      hPrev = h;
      cPrev = c;
    }

    // [T, D, B, H, U] -> unskewed, unflipped [D, B, H, W, U].
    const unskewAll = (seq: tf.Tensor[]) => {
      const st = tf.transpose(tf.stack(seq), [1, 2, 3, 0, 4]); // [D, B, H, T, U]
      const grid = tf.reshape(unskew(tf.reshape(st, [D * B, H, T, U]) as tf.Tensor4D, W), [D, B, H, W, U]);
      return tf.stack(directions.map((d, k) => flip(tf.squeeze(tf.slice(grid, [k, 0, 0, 0, 0], [1, B, H, W, U]), [0]), d, 1, 2)));
    };
    const perDir = unskewAll(hs); // [D, B, H, W, U]
    let out = mergeDirections(perDir, mergeMode);
    if (rate > 0 && options.training) out = tf.dropout(out, rate, undefined, options.seed);
    if (!options.returnState) return out;
    const cAll = unskewAll(cs);
    const states: tf.Tensor[] = [];
    directions.forEach((d, k) => {
      const idx = finalCellIndex(d, B, H, W, options.widths, options.heights);
      const pick = (all: tf.Tensor) =>
        tf.gather(tf.reshape(tf.slice(all, [k, 0, 0, 0, 0], [1, B, H, W, U]), [B * H * W, U]), idx);
      states.push(pick(perDir), pick(cAll));
    });
    return [out, ...states];
  });
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
