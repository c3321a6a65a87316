import { ctcLogSpace } from './ctc-log-space.js';
import { checkBlank, checkLabel, checkLengths, checkShape, CtcInputError } from './errors.js';
import { extendLabel, requiredFrames } from './extended-label.js';
import { latticeSoftmax } from './lattice-softmax.js';
import { logSoftmaxRows } from './log-softmax.js';

export interface CtcForwardBackwardOptions {
  /**
   * Unnormalised scores, row-major [batch, time, classes]; log-softmax is applied inside, in float64. Log-probabilities
   * work as well (log-softmax leaves them unchanged), and the gradient is then the one w.r.t. the logits behind them.
   */
  logits: Float32Array | Float64Array;
  shape: readonly [batch: number, time: number, classes: number];
  /** The label sequence of each sample (no blanks), e.g. `Int32Array.subarray` views of a padded matrix. */
  labels: ReadonlyArray<ArrayLike<number>>;
  /** Frames used per sample. Frames at or past it are never read (they may hold NaN) and get zero gradient. */
  logitLengths: ArrayLike<number>;
  /** Index of the blank class. Default 0. */
  blank?: number;
  /** Report infeasible samples (+Infinity) as loss 0 (their gradient is zero either way). Default false. */
  zeroInfinity?: boolean;
}

export interface CtcForwardBackwardResult {
  /** Per sample: -log p(label | logits) in float64; +Infinity for an infeasible pair (0 with zeroInfinity). */
  loss: Float64Array;
  /** d loss[b] / d logits[b], [batch, time, classes]: softmax minus normalised state occupancy; zero past lengths. */
  grad: Float32Array;
}

/** Relative disagreement between the frames' occupancy totals above which a sample is redone in log space. */
const CONSISTENCY_TOLERANCE = 1e-6;
/** A per-frame normaliser below this means float64 underflow is near: the sample is redone in log space. */
const UNDERFLOW = 1e-280;
/**
 * Forward/backward entries below this (relative to the previous frame's total, which is 1 after scaling) are set to
 * 0. They matter only if the other direction weighs them over 1e144 times more than the rest, and then the
 * consistency check catches it. Products of two stored entries stay above 1e-300, out of the subnormal range (where
 * x86 arithmetic is ~50x slower).
 */
const TINY = 1e-150;

/**
 * CTC loss and its exact gradient w.r.t. the logits, per sample, on typed arrays.
 *
 * Forward-backward over the 2L+1 lattice states with scaled probabilities in float64 (Rabiner's scaling: each
 * frame's forward and backward vectors are divided by the previous frame's sum, and the logs of the sums are
 * accumulated), so the inner loops are multiply-adds with no exp/log per cell, one pass per direction over only the
 * band of states that can lie on a complete path, in buffers reused across samples and calls. The softmax runs
 * once per logit ({@link latticeSoftmax}); its result is the gradient of every class outside the label, and the
 * backward pass subtracts the occupancy of the few classes in it.
 * Every frame's sum over states of alpha*beta must give the same likelihood; a sample where it does not, where a
 * normaliser underflows, or where the logit of a class in the lattice lies more than 600 below the frame's largest
 * is recomputed by the log-space reference {@link ctcLogSpace}. Infeasible samples (label needs more frames than
 * given) get +Infinity and zero gradient.
 */
export function ctcForwardBackward(options: CtcForwardBackwardOptions): CtcForwardBackwardResult {
  return ctcForwardBackwardScaled(options, null);
}

/**
 * {@link ctcForwardBackward} with sample b's gradient multiplied by `gradScale[b]` in the same pass (the loss is
 * not scaled), written to `grad` (every entry; by default a new array): how `ctcLoss` applies its reduction's
 * weights without another pass over the gradient, into an array it may reuse.
 */
export function ctcForwardBackwardScaled(
  options: CtcForwardBackwardOptions,
  gradScale: ArrayLike<number> | null,
  grad?: Float32Array,
): CtcForwardBackwardResult {
  const [batch, time, classes] = options.shape;
  const out = grad ?? new Float32Array(batch * time * classes);
  if (out.length !== batch * time * classes)
    throw new Error(`grad: ${out.length} values for [${batch}, ${time}, ${classes}]`);
  const loss = run(options, out, gradScale);
  return { loss, grad: out };
}

/** The per-sample losses of {@link ctcForwardBackward} without the gradient (same checks, same numbers). */
export function ctcForward(options: CtcForwardBackwardOptions): Float64Array {
  return run(options, null, null);
}

function run(
  o: CtcForwardBackwardOptions,
  grad: Float32Array | null,
  gradScale: ArrayLike<number> | null,
): Float64Array {
  checkShape('logits', o.shape, o.logits.length);
  const [batch, time, classes] = o.shape;
  const blank = o.blank ?? 0;
  checkBlank(blank, classes);
  if (o.labels.length !== batch) {
    throw new CtcInputError(`labels: has ${o.labels.length} samples; expected ${batch} (the batch of logits)`);
  }
  checkLengths('logitLengths', o.logitLengths, batch, time, 'the time dimension of logits');
  let maxLabel = 0;
  for (let b = 0; b < batch; b++) {
    checkLabel('labels', b, o.labels[b]!, classes, blank);
    maxLabel = Math.max(maxLabel, o.labels[b]!.length);
  }
  const ws = Workspace.atLeast(time, classes, maxLabel);
  const loss = new Float64Array(batch);
  for (let b = 0; b < batch; b++) {
    const offset = b * time * classes;
    const scale = gradScale ? gradScale[b]! : 1;
    let l = sampleScaled(o.logits, offset, o.logitLengths[b]!, classes, o.labels[b]!, blank, ws, grad, scale);
    if (l === Infinity) {
      grad?.fill(0, offset, offset + time * classes);
      if (o.zeroInfinity) l = 0;
    } else {
      grad?.fill(0, offset + o.logitLengths[b]! * classes, offset + time * classes); // frames past the length
    }
    loss[b] = l;
  }
  return loss;
}

/**
 * Buffers sized for the largest sample, reused across samples and calls: no allocation inside the lattice loops, and
 * none per training step once the shapes repeat. Between samples, `classIndex` holds -1 and `occ` 0 everywhere;
 * everything else is written before it is read.
 * The lattice of a label has S = 2L + 1 states and K <= L + 1 distinct classes, k = 0 being the blank.
 */
class Workspace {
  /** The last workspace made: the next call reuses it when it is big enough. */
  private static last: Workspace | null = null;

  static atLeast(time: number, classes: number, maxLabel: number): Workspace {
    const w = Workspace.last;
    if (w && w.time >= time && w.classes >= classes && w.maxLabel >= maxLabel) return w;
    Workspace.last = new Workspace(time, classes, maxLabel);
    return Workspace.last;
  }

  readonly row: Float64Array; // [classes] one frame's exp(logit - max)
  readonly emission: Float64Array; // [time, K] softmax of the lattice's classes
  readonly alpha: Float64Array; // [time, S + 2] scaled forward variables; state s at 2 + s, entries 0 and 1 stay 0
  readonly alphaLog: Float64Array; // [time] log of the scale of alpha's row t: sum of the logs of rows 0..t-1's sums
  readonly ext: Int32Array; // [S + 2] class of each state
  readonly stateClass: Int32Array; // [S + 2] lattice class k of each state
  readonly skip: Float64Array; // [S + 2] 1 (a float, to multiply by) where the skip move s-2 -> s is allowed
  readonly latticeClasses: Int32Array; // [K] class of each lattice class, blank first
  readonly classIndex: Int32Array; // [classes] lattice class of each class, -1 outside the lattice (between samples)
  beta: Float64Array; // [S + 2]
  betaNext: Float64Array; // [S + 2]
  readonly occ: Float64Array; // [K] occupancy per lattice class at one frame, kept at 0 between frames

  private constructor(
    readonly time: number,
    readonly classes: number,
    readonly maxLabel: number,
  ) {
    const states = 2 * maxLabel + 1;
    const k = maxLabel + 1;
    this.row = new Float64Array(classes);
    this.emission = new Float64Array(time * k);
    this.alpha = new Float64Array(time * (states + 2));
    this.alphaLog = new Float64Array(time);
    this.ext = new Int32Array(states + 2);
    this.stateClass = new Int32Array(states + 2);
    this.skip = new Float64Array(states + 2);
    this.latticeClasses = new Int32Array(k);
    this.classIndex = new Int32Array(classes).fill(-1);
    this.beta = new Float64Array(states + 2);
    this.betaNext = new Float64Array(states + 2);
    this.occ = new Float64Array(k);
  }
}

/** Fills ext, skip, stateClass and latticeClasses for `label`; returns K, the number of distinct classes (blank first). */
function buildLattice(label: ArrayLike<number>, blank: number, ws: Workspace): number {
  const { ext, stateClass, latticeClasses, classIndex } = ws;
  const S = extendLabel(label, blank, ext, ws.skip);
  let K = 0;
  for (let s = 0; s < S + 2; s++) {
    const c = ext[s];
    if (classIndex[c] < 0) {
      classIndex[c] = K;
      latticeClasses[K++] = c;
    }
    stateClass[s] = classIndex[c];
  }
  for (let k = 0; k < K; k++) classIndex[latticeClasses[k]] = -1;
  return K;
}

function sampleScaled(
  x: Float32Array | Float64Array,
  offset: number,
  T: number,
  C: number,
  label: ArrayLike<number>,
  blank: number,
  ws: Workspace,
  grad: Float32Array | null,
  gradScale: number,
): number {
  if (requiredFrames(label) > T) return Infinity;
  if (T === 0) return 0; // empty label and no frames: probability 1
  const K = buildLattice(label, blank, ws);
  const S = 2 * label.length + 1;
  const { emission, alpha, alphaLog, stateClass, skip, latticeClasses } = ws;
  // Writes the softmax times gradScale to the gradient rows, the lattice classes' softmax to `emission`. A class of
  // the lattice more than 600 below the frame's largest logit would underflow and could silently drop the dominant
  // paths: such samples go to log space.
  if (!latticeSoftmax(x, offset, T, C, latticeClasses, K, ws.row, emission, grad, gradScale)) {
    return fallback(x, offset, T, C, label, blank, grad, gradScale);
  }

  // Only states in [lo(t), hi(t)] can be on a complete path: by frame t a path has reached at most state 2t + 1,
  // and it must still reach state S - 2 by frame T - 1, moving at most two states per frame. The loops visit only
  // that band (a fifth to a third fewer cells on typical shapes); entries next to it that a move reads are zero.
  // lo(t) = max(0, S - 2 (T - t)), hi(t) = min(S - 1, 2 t + 1).

  // Forward. Row t of `alpha` (stride S + 2, state s at 2 + s, two zeros in front for the moves from s - 1 and
  // s - 2) holds alpha_t / exp(alphaLog[t]): each row is computed from the previous one divided by its sum n (the
  // logs accumulate in alphaLog), and entries below TINY are flushed to 0 so that no product ever reaches the slow
  // subnormal range of float64. Row 0 is not flushed: a path dropped at frame t > 0 is then still counted by the
  // alpha*beta sums of the frames before t, and the consistency check below sees the difference (beta needs no such
  // care: its last row is exact).
  const stride = S + 2;
  alpha.fill(0, 0, stride);
  let n = 0;
  for (let s = Math.max(0, S - 2 * T); s <= Math.min(S - 1, 1); s++) {
    const v = emission[stateClass[s]];
    alpha[2 + s] = v;
    n += v;
  }
  let logScale = 0;
  alphaLog[0] = 0;
  for (let t = 1; t < T; t++) {
    if (!(n > UNDERFLOW && n < Infinity)) return fallback(x, offset, T, C, label, blank, grad, gradScale);
    logScale += Math.log(n);
    alphaLog[t] = logScale;
    const inv = 1 / n;
    const er = t * K;
    const prev = (t - 1) * stride;
    const cur = prev + stride;
    const l = Math.max(0, S - 2 * (T - t));
    const h = Math.min(S - 1, 2 * t + 1);
    alpha[cur] = alpha[cur + 1] = 0;
    // alpha[prev + s], [prev + s + 1], [prev + s + 2] are states s - 2, s - 1, s of frame t - 1.
    let a2 = alpha[prev + l];
    let a1 = alpha[prev + l + 1];
    const pBlank = emission[er] * inv;
    n = 0;
    let s = l;
    if (s & 1) {
      // a label state first; then pairs of a blank (even s: no skip move, the frame's blank probability) and a label
      const a0 = alpha[prev + s + 2];
      let v = (a0 + a1 + skip[s] * a2) * emission[er + stateClass[s]] * inv;
      if (v < TINY) v = 0;
      alpha[cur + s + 2] = v;
      n += v;
      a2 = a1;
      a1 = a0;
      s++;
    }
    for (; s < h; s += 2) {
      const b0 = alpha[prev + s + 2];
      let u = (b0 + a1) * pBlank;
      if (u < TINY) u = 0;
      alpha[cur + s + 2] = u;
      const a0 = alpha[prev + s + 3];
      let v = (a0 + b0 + skip[s + 1] * a1) * emission[er + stateClass[s + 1]] * inv;
      if (v < TINY) v = 0;
      alpha[cur + s + 3] = v;
      n += u + v;
      a2 = b0;
      a1 = a0;
    }
    if (s === h) {
      let u = (alpha[prev + s + 2] + a1) * pBlank;
      if (u < TINY) u = 0;
      alpha[cur + s + 2] = u;
      n += u;
    }
    if (h + 1 < S) alpha[cur + h + 3] = 0;
    if (h + 2 < S) alpha[cur + h + 4] = 0;
  }
  const last = (T - 1) * stride + 2;
  const end = S > 1 ? alpha[last + S - 1] + alpha[last + S - 2] : alpha[last];
  if (!(end > 0)) return fallback(x, offset, T, C, label, blank, grad, gradScale);
  const logLik = logScale + Math.log(end);

  // Backward, one pass per frame t over its band, from the top state down. `beta` holds beta_t (emission at t
  // excluded) / exp(logSuffix); the pass sums the occupancies alpha_t(s) beta_t(s) per lattice class and in total
  // (z), and computes row t - 1 from e(s) = emission_t(s) beta_t(s) / m (m: the sum of row t), flushed like alpha:
  // beta_{t-1}(s) = e(s) + e(s + 1) + skip(s + 2) e(s + 2), with e(s + 1), e(s + 2) carried in locals. Blank states
  // (even s) are summed in a local, which keeps the per-class sums free of a store-to-load chain through occ[0].
  let beta = ws.beta;
  let next = ws.betaNext;
  const { occ } = ws;
  beta.fill(0);
  beta[S - 1] = 1;
  let m = 1;
  if (S > 1) {
    beta[S - 2] = 1;
    m = 2;
  }
  let logSuffix = 0;
  for (let t = T - 1; t >= 0; t--) {
    const a = t * stride + 2;
    const er = t * K;
    const l = Math.max(0, S - 2 * (T - t));
    const h = Math.min(S - 1, 2 * t + 1);
    // The band of frame t - 1 (empty at t = 0): l - 2 <= l1 <= l and h1 <= h.
    const l1 = Math.max(0, S - 2 * (T - t + 1));
    const h1 = Math.min(S - 1, 2 * t - 1);
    const inv = 1 / m;
    const pBlank = emission[er] * inv;
    let zBlank = 0;
    let zLabel = 0;
    let e1 = 0; // e(s + 1); above the band, 0
    let e2 = 0; // e(s + 2)
    let mNext = 0;
    let s = h;
    while (s >= l) {
      if (s & 1 && s <= h1 && s > l) {
        // The bulk of the band in pairs: a label state s, then the blank s - 1 (no skip move into s + 1, a blank).
        const bLabel = beta[s];
        const oLabel = alpha[a + s] * bLabel;
        const k = stateClass[s];
        zLabel += oLabel;
        occ[k] += oLabel;
        const eLabel = emission[er + k] * inv * bLabel;
        let v = eLabel + e1 + skip[s + 2] * e2;
        if (v < TINY) v = 0;
        next[s] = v;
        const bBlank = beta[s - 1];
        zBlank += alpha[a + s - 1] * bBlank;
        const eBlank = pBlank * bBlank;
        let u = eBlank + eLabel;
        if (u < TINY) u = 0;
        next[s - 1] = u;
        mNext += v + u;
        e2 = eLabel;
        e1 = eBlank;
        s -= 2;
        continue;
      }
      // One state: at the top of the band (above the band of t - 1) or the last one at its bottom.
      const b = beta[s];
      const o = alpha[a + s] * b;
      let e0: number;
      if (s & 1) {
        const k = stateClass[s];
        zLabel += o;
        occ[k] += o;
        e0 = emission[er + k] * inv * b;
      } else {
        zBlank += o;
        e0 = pBlank * b;
      }
      if (s <= h1) {
        let v = e0 + e1 + skip[s + 2] * e2;
        if (v < TINY) v = 0;
        next[s] = v;
        mNext += v;
      }
      e2 = e1;
      e1 = e0;
      s--;
    }
    for (; s >= l1; s--) {
      // below the band of frame t: e(s) = 0
      let v = e1 + skip[s + 2] * e2;
      if (v < TINY) v = 0;
      next[s] = v;
      mNext += v;
      e2 = e1;
      e1 = 0;
    }
    // sum_s alpha_t(s) beta_t(s) = p(label) at every frame: check it, in the scaled units of this frame.
    const z = zBlank + zLabel;
    if (!(Math.abs(Math.log(z) + alphaLog[t] + logSuffix - logLik) < CONSISTENCY_TOLERANCE)) {
      occ.fill(0);
      return fallback(x, offset, T, C, label, blank, grad, gradScale);
    }
    if (grad) {
      // d loss / d logit[t, c] = softmax[t, c] - occupancy of class c / z; latticeSoftmax wrote the softmax.
      occ[0] += zBlank;
      const invZ = 1 / z;
      const g = offset + t * C;
      for (let k = 0; k < K; k++) {
        grad[g + latticeClasses[k]] = (emission[er + k] - occ[k] * invZ) * gradScale;
        occ[k] = 0;
      }
    } else {
      occ.fill(0);
    }
    if (t === 0) break;
    if (!(mNext > UNDERFLOW && mNext < Infinity)) return fallback(x, offset, T, C, label, blank, grad, gradScale);
    logSuffix += Math.log(m);
    m = mNext;
    [beta, next] = [next, beta];
  }
  ws.beta = beta;
  ws.betaNext = next;
  return -logLik;
}

function fallback(
  x: Float32Array | Float64Array,
  offset: number,
  T: number,
  C: number,
  label: ArrayLike<number>,
  blank: number,
  grad: Float32Array | null,
  gradScale: number,
): number {
  const logProbs = new Float64Array(T * C);
  logSoftmaxRows(x, offset, T, C, logProbs);
  const loss = ctcLogSpace(logProbs, T, C, label, blank, grad, offset);
  if (grad && gradScale !== 1 && loss < Infinity) {
    for (let i = offset; i < offset + T * C; i++) grad[i] *= gradScale;
  }
  return loss;
}
