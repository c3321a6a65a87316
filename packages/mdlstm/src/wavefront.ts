import * as tf from '@tensorflow/tfjs-core';
import { tensorActivation } from './activations.js';
import { flipsOf, GATES, type CellOptions, type Direction } from './config.js';
import type { MDLSTMWeights } from './mdlstm-op.js';
import { skew, unskew } from './skew.js';
import { unstack, unstackSteps } from './unstack.js';

// The 'wavefront' implementation: the scan as public tfjs ops (the one for the tensorflow backend, where the
// data stays on the device), differentiated by tfjs autograd.
//
// Each direction's input is flipped so that its scan starts at the top-left; the directions are stacked on
// a leading axis and run in the same ops. W*x for every position and direction is one batched matmul.
// The grid is skewed so that step t updates the whole anti-diagonal i + j = t (H + W - 1 steps); in the
// skewed layout, indexed by row, the x-predecessor of row i is row i of the previous diagonal and the
// y-predecessor is row i - 1.

function flip(x: tf.Tensor, d: Direction, yAxis: number, xAxis: number): tf.Tensor {
  const { flipY, flipX } = flipsOf(d);
  const axes = [...(flipY ? [yAxis] : []), ...(flipX ? [xAxis] : [])];
  return axes.length ? tf.reverse(x, axes) : x;
}

/**
 * The recurrent kernel [D, 2U, 5U] as one block-diagonal matrix per gate, [2*D*U, D*U] (rows: h_y of each
 * direction, then h_x), so that one matMul per gate serves every direction.
 */
function blockDiagonalRecurrent(rk: tf.Tensor, D: number, U: number): tf.Tensor[] {
  const DU = D * U;
  const eye = tf.reshape(tf.eye(D), [D, 1, D, 1]);
  const blockDiag = (m: tf.Tensor) => tf.reshape(tf.mul(tf.reshape(m, [D, U, 1, U]), eye), [DU, DU]); // m: [D, U, U]
  return Array.from({ length: GATES }, (_, g) =>
    tf.concat(
      [blockDiag(tf.slice(rk, [0, 0, g * U], [D, U, U])), blockDiag(tf.slice(rk, [0, U, g * U], [D, U, U]))],
      0,
    ),
  );
}

/** The wavefront scan of public tfjs ops: per-direction h (and c on demand) as [D, B, H, W, U]. */
export function wavefrontScan(
  x: tf.Tensor,
  weights: MDLSTMWeights,
  directions: readonly Direction[],
  mask: tf.Tensor | undefined,
  cell: Required<CellOptions>,
  returnState: boolean,
): { h: tf.Tensor; c: () => tf.Tensor } {
  const [B, H, W, C] = x.shape as [number, number, number, number];
  const D = directions.length,
    G = weights.kernel.shape[2]!,
    U = G / GATES;
  const T = H + W - 1,
    DU = D * U;
  // Per-direction flipped input, projected in one batched matmul: [D, B*H*W, 5U].
  const xs = tf.stack(directions.map((d) => flip(x, d, 1, 2))); // [D, B, H, W, C]
  const proj = tf.add(
    tf.matMul(tf.reshape(xs, [D, B * H * W, C]), weights.kernel),
    tf.reshape(weights.bias, [D, 1, G]),
  );
  // Layout for the scan: per gate, [T, H, B, D*U] (diagonal, row, sample, direction-major units), so that the
  // per-step slices (a diagonal, the row shift) are contiguous blocks: tfjs slices those by a plain copy.
  const byCell = tf.reshape(tf.transpose(tf.reshape(proj, [D, B, H, W, GATES, U]), [1, 2, 3, 4, 0, 5]), [
    B,
    H,
    W,
    GATES * DU,
  ]);
  const projSkew = tf.reshape(skew(byCell as tf.Tensor4D), [B, H, T, GATES, DU]);
  const gatesSeq = unstack(tf.transpose(projSkew, [3, 2, 1, 0, 4])).map(unstackSteps); // 5 x T x [H, B, DU]
  // Valid cells of each diagonal: inside the image (skew pads with zeros) and not masked.
  const valid = mask
    ? tf.stack(
        directions.map((d) => flip(mask!, d, 1, 2)),
        3,
      )
    : tf.ones([B, H, W, D]); // [B, H, W, D]
  const validSkew = tf.reshape(skew(valid as tf.Tensor4D), [B, H, T, D, 1]);
  const maskSeq = unstackSteps(
    tf.reshape(tf.mul(tf.transpose(validSkew, [2, 1, 0, 3, 4]), tf.ones([U])), [T, H, B, DU]),
  ); // T x [H, B, DU]

  const recurrent = blockDiagonalRecurrent(weights.recurrentKernel, D, U);
  const peep = weights.peephole
    ? Array.from({ length: 5 }, (_, r) => tf.reshape(tf.slice(weights.peephole!, [0, r, 0], [D, 1, U]), [DU]))
    : undefined;
  const s = cell.bounded ? 0.5 : 1;
  const zeroRow = tf.zeros([1, B, DU]);
  // States of the previous diagonal with a zero row on top: row i holds the cell of row i - 1, so that
  // h_y of row i is row i and h_x of row i is row i + 1 (both contiguous slices).
  let hPrev: tf.Tensor = tf.zeros([H + 1, B, DU]),
    cPrev: tf.Tensor = hPrev;
  const hs: tf.Tensor[] = [],
    cs: tf.Tensor[] = [];
  const act = (v: tf.Tensor) => tensorActivation(cell.activation, v);
  const gate = (v: tf.Tensor) => tensorActivation(cell.recurrentActivation, v);

  for (let t = 0; t < T; t++) {
    const hy = tf.slice(hPrev, [0, 0, 0], [H, B, DU]),
      hx = tf.slice(hPrev, [1, 0, 0], [H, B, DU]);
    const cy = tf.slice(cPrev, [0, 0, 0], [H, B, DU]),
      cx = tf.slice(cPrev, [1, 0, 0], [H, B, DU]);
    // At t = 0 the predecessors are zero; the matmuls still run so that the recurrent kernel is always
    // connected to the output (autograd refuses a weight with no path, e.g. on a 1x1 grid).
    const hcat = tf.reshape(tf.concat([hy, hx], 2), [H * B, 2 * DU]);
    const pre = (g: number) => tf.add(gatesSeq[g]![t]!, tf.reshape(tf.matMul(hcat, recurrent[g]!), [H, B, DU]));
    let ai = pre(0),
      afy = pre(1),
      afx = pre(2);
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
    return tf.stack(
      directions.map((d, k) => flip(tf.squeeze(tf.slice(grid, [k, 0, 0, 0, 0], [1, B, H, W, U]), [0]), d, 1, 2)),
    );
  };
  return { h: unskewAll(hs), c: () => unskewAll(cs) };
}
