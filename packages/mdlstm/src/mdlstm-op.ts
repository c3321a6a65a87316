import * as tf from '@tensorflow/tfjs-core';
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
import { simdAvailable, simdSupports, simdUnavailableReason } from './kernels/mdlstm-simd.js';
import { mdlstmFusedScan } from './mdlstm-fused.js';
import { mergeDirections } from './merge.js';
import { wavefrontScan } from './wavefront.js';

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
   * 'cells': one custom op looping over the cells on typed arrays, every product in JavaScript (fast on
   * cpu, where every tfjs op has a fixed cost and matMul is JavaScript too); 'diagonals': the same custom op
   * taking one anti-diagonal of all directions at a time, its products as per-direction 2D backend matMuls
   * (fast on wasm, whose matMul is SIMD code); 'simd': the cell order in our own WebAssembly SIMD module, the
   * four directions in the four lanes of each f32x4 (needs WebAssembly SIMD and the standard activations,
   * sigmoid gates and tanh; refused otherwise); 'wavefront': the skewed anti-diagonal scan of public tfjs ops (for
   * the tensorflow backend, where the data stays on the device). Default 'auto': wavefront on
   * 'tensorflow'; on 'wasm' diagonals from 4 units up (cells below: a matMul call costs more than a few
   * products); else cells; but 'simd' in place of cells and diagonals wherever the engine has WebAssembly SIMD
   * and the cell uses the standard activations (see autoImplementation).
   */
  implementation?: 'auto' | 'cells' | 'diagonals' | 'simd' | 'wavefront';
}

const IMPLEMENTATIONS = ['auto', 'cells', 'diagonals', 'simd', 'wavefront'] as const;
/** 'auto' on wasm without SIMD kernel: the diagonals order from this many units up (docs/benchmarks/mdlstm.md). */
const AUTO_DIAGONALS_UNITS = 4;

/**
 * What 'auto' picks: wavefront on 'tensorflow' (the data stays on the device); elsewhere the SIMD kernel where
 * it runs (`simdUsable`: the engine has WebAssembly SIMD and the cell uses sigmoid gates and tanh), 3.5 to 5x
 * the JavaScript orders (docs/benchmarks/mdlstm.md); failing that, on wasm the diagonals order from 4 units up
 * (a backend matMul call costs about 50 us, worth it per diagonal once a cell's recurrent product, 10 U^2
 * multiply-adds, is large), and the cells order below and on cpu.
 */
export function autoImplementation(
  backend: string,
  units: number,
  simdUsable: boolean,
): 'cells' | 'diagonals' | 'simd' | 'wavefront' {
  if (backend === 'tensorflow') return 'wavefront';
  if (simdUsable) return 'simd';
  return backend === 'wasm' && units >= AUTO_DIAGONALS_UNITS ? 'diagonals' : 'cells';
}

/** The output, or [output, h_dir0, c_dir0, h_dir1, c_dir1, ...] with each state [B, units] when returnState. */
export type MDLSTMOpResult = tf.Tensor | tf.Tensor[];

/** Builds a [B, H, W] mask from per-sample widths and/or heights. */
export function sizeMask(
  batch: number,
  height: number,
  width: number,
  widths?: ArrayLike<number>,
  heights?: ArrayLike<number>,
): tf.Tensor3D {
  const m = new Float32Array(batch * height * width);
  for (const [name, arr, max] of [
    ['widths', widths, width],
    ['heights', heights, height],
  ] as const) {
    if (!arr) continue;
    if (arr.length !== batch)
      throw new MDLSTMInputError(`mdlstm: ${name} has ${arr.length} entries (expected one per sample, ${batch})`);
    for (let b = 0; b < batch; b++) {
      const v = arr[b]!;
      if (!Number.isInteger(v) || v < 1 || v > max) {
        throw new MDLSTMInputError(`mdlstm: ${name}[${b}] = ${v} (expected an integer in [1, ${max}])`);
      }
    }
  }
  for (let b = 0; b < batch; b++) {
    const hb = heights ? heights[b]! : height,
      wb = widths ? widths[b]! : width;
    for (let i = 0; i < hb; i++) m.fill(1, (b * height + i) * width, (b * height + i) * width + wb);
  }
  return tf.tensor3d(m, [batch, height, width]);
}

/**
 * The multi-directional 2D LSTM (Graves & Schmidhuber 2009). On the cpu and wasm backends it runs as one
 * fused custom op (see `implementation` and mdlstm-fused.ts); on the tensorflow backend, and with
 * implementation 'wavefront', as a wavefront scan over public tfjs ops (wavefront.ts).
 *
 * x: [B, H, W, C] -> [B, H, W, nDir*U] (concat), [B, H, W, U] (sum, mul, ave) or [B, H, W, nDir, U] (none).
 */
export function mdlstm(x: tf.Tensor, weights: MDLSTMWeights, options: MDLSTMOpOptions = {}): MDLSTMOpResult {
  const directions = checkDirections(options.directions ?? ['tl', 'tr', 'bl', 'br'], 'mdlstm');
  const mergeMode = checkChoice(options.mergeMode ?? 'concat', MERGE_MODES, 'mdlstm: mergeMode');
  const cell = { ...CELL_DEFAULTS, ...options };
  if (x.rank !== 4)
    throw new MDLSTMInputError(`mdlstm: x has shape [${x.shape}] (expected rank 4: [batch, height, width, channels])`);
  const [B, H, W, C] = x.shape as [number, number, number, number];
  if (B * H * W * C === 0) throw new MDLSTMInputError(`mdlstm: x has shape [${x.shape}] with a zero-size dimension`);
  const D = directions.length;
  const [kd, kc, kg] = weights.kernel.shape;
  if (weights.kernel.rank !== 3 || kd !== D || kg! % GATES !== 0) {
    throw new MDLSTMInputError(
      `mdlstm: kernel has shape [${weights.kernel.shape}] (expected [${D}, channels, 5*units])`,
    );
  }
  if (kc !== C) throw new MDLSTMInputError(`mdlstm: x has ${C} channels but the kernel was built for ${kc}`);
  const U = kg! / GATES,
    G = kg!;
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
    let perDir: tf.Tensor, cAll: () => tf.Tensor; // [D, B, H, W, U]
    const fused =
      impl === 'wavefront'
        ? undefined
        : { directions, mask: mask ? (mask.dataSync() as Float32Array) : undefined, cell, implementation: impl };
    if (fused && !options.returnState) {
      // The output straight from the scan, directions merged in the same loops: no tfjs ops after it.
      const merged = mdlstmFusedScan(x, weights, { ...fused, merge: mergeMode });
      return rate > 0 && options.training ? tf.dropout(merged, rate, undefined, options.seed) : merged;
    }
    if (fused) {
      const hc = mdlstmFusedScan(x, weights, fused);
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
  if (!simdAvailable())
    throw new MDLSTMInputError(
      `mdlstm: implementation 'simd' is not available here: ${simdUnavailableReason()} (use 'auto')`,
    );
  if (!simdSupports(cell, D)) {
    throw new MDLSTMInputError(
      `mdlstm: implementation 'simd' supports activation 'tanh' and recurrentActivation 'sigmoid' only ` +
        `(got '${cell.activation}' and '${cell.recurrentActivation}'; use 'auto')`,
    );
  }
}

/** Flat [B*H*W] index of the last cell of each sample's scan in direction d (its own far corner). */
function finalCellIndex(
  d: Direction,
  B: number,
  H: number,
  W: number,
  widths?: ArrayLike<number>,
  heights?: ArrayLike<number>,
): tf.Tensor1D {
  const { flipY, flipX } = flipsOf(d);
  const idx = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    const hb = heights ? heights[b]! : H,
      wb = widths ? widths[b]! : W;
    const i = flipY ? 0 : hb - 1,
      j = flipX ? 0 : wb - 1;
    idx[b] = (b * H + i) * W + j;
  }
  return tf.tensor1d(idx, 'int32');
}
