import { ctcLogSpace } from './ctc-log-space.js';
import { checkBlank, checkLabel, checkLengths, checkShape, CtcInputError } from './errors.js';
import { extendLabel, requiredFrames } from './extended-label.js';
import { logSoftmaxRows, softmaxRows } from './log-softmax.js';

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
/** Logit range (max - min within a frame) above which a sample is done in log space: e^-600 ~ 1e-261. */
const MAX_LOGIT_RANGE = 600;
/** A per-frame normaliser below this means float64 underflow is near: the sample is redone in log space. */
const UNDERFLOW = 1e-280;
/**
 * Normalised forward/backward entries below this are set to 0. They matter only if the other direction weighs
 * them over 1e144 times more than the rest, and then the consistency check catches it. Products of two stored
 * entries stay above 1e-300, out of the subnormal range (where x86 arithmetic is ~50x slower).
 */
const TINY = 1e-150;

/**
 * CTC loss and its exact gradient w.r.t. the logits, per sample, on typed arrays.
 *
 * Forward-backward over the 2L+1 lattice states with scaled probabilities in float64 (Rabiner's scaling: each
 * frame's forward and backward vectors are divided by their sum, and the logs of the sums are accumulated), so the
 * inner loops are multiply-adds with no exp/log per cell, one pass per direction over only the band of states that
 * can lie on a complete path, in buffers allocated once per call.
 * Every frame's sum over states of alpha*beta must give the same likelihood; a sample where it does not, where a
 * normaliser underflows, or where a frame's logits span more than 600 is recomputed by the log-space reference
 * {@link ctcLogSpace}. Infeasible samples (label needs more frames than given) get +Infinity and zero gradient.
 */
export function ctcForwardBackward(options: CtcForwardBackwardOptions): CtcForwardBackwardResult {
  const [batch, time, classes] = options.shape;
  const grad = new Float32Array(batch * time * classes);
  const loss = run(options, grad);
  return { loss, grad };
}

/** The per-sample losses of {@link ctcForwardBackward} without the gradient (same checks, same numbers). */
export function ctcForward(options: CtcForwardBackwardOptions): Float64Array {
  return run(options, null);
}

function run(o: CtcForwardBackwardOptions, grad: Float32Array | null): Float64Array {
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
  const ws = new Workspace(time, classes, 2 * maxLabel + 1);
  const loss = new Float64Array(batch);
  for (let b = 0; b < batch; b++) {
    const offset = b * time * classes;
    let l = sampleScaled(o.logits, offset, o.logitLengths[b]!, classes, o.labels[b]!, blank, ws, grad);
    if (l === Infinity) {
      grad?.fill(0, offset, offset + time * classes);
      if (o.zeroInfinity) l = 0;
    }
    loss[b] = l;
  }
  return loss;
}

/** Buffers sized for the largest sample, reused across samples: no allocation inside the lattice loops. */
class Workspace {
  readonly prob: Float64Array; // [time, classes] softmax (log-softmax on the fallback path)
  readonly alpha: Float64Array; // [time, states] scaled forward variables
  readonly prefixLog: Float64Array; // [time] sum of the logs of the forward normalisers of frames 0..t
  readonly ext: Int32Array; // [states + 2] class of each state
  readonly skip: Float64Array; // [states + 2] 1 (a float, to multiply by) where the skip move s-2 -> s is allowed
  beta: Float64Array; // [states + 2]
  betaNext: Float64Array; // [states + 2]
  readonly e: Float64Array; // [states + 2] emission * beta
  readonly occ: Float64Array; // [classes] occupancy per class at one frame, kept at 0 between frames

  constructor(time: number, classes: number, states: number) {
    this.prob = new Float64Array(time * classes);
    this.alpha = new Float64Array(time * states);
    this.prefixLog = new Float64Array(time);
    this.ext = new Int32Array(states + 2);
    this.skip = new Float64Array(states + 2);
    this.beta = new Float64Array(states + 2);
    this.betaNext = new Float64Array(states + 2);
    this.e = new Float64Array(states + 2);
    this.occ = new Float64Array(classes);
  }
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
): number {
  if (requiredFrames(label) > T) return Infinity;
  if (T === 0) return 0; // empty label and no frames: probability 1
  const { prob, alpha, prefixLog, ext, skip } = ws;
  const S = extendLabel(label, blank, ext, skip);
  // Probabilities that underflow (logits > 600 apart in a frame) could silently drop the dominant paths: such
  // samples go to log space.
  if (!(softmaxRows(x, offset, T, C, prob) <= MAX_LOGIT_RANGE)) return fallback(x, offset, T, C, label, blank, ws, grad);

  // Only states in [lo(t), hi(t)] can be on a complete path: by frame t a path has reached at most state 2t + 1,
  // and it must still reach state S - 2 by frame T - 1, moving at most two states per frame. The loops visit only
  // that band (a fifth to a third fewer cells on typical shapes); entries next to it that a move reads are zeroed.
  const lo = (t: number) => Math.max(0, S - 2 * (T - t));
  const hi = (t: number) => Math.min(S - 1, 2 * t + 1);

  // Forward. Row t of `alpha` holds alpha_t / exp(prefixLog[t]): each row is divided by its sum n_t (the logs
  // accumulate in prefixLog), and entries below TINY of the row are flushed to 0 so that no product ever reaches
  // the slow subnormal range of float64. Row 0 is not flushed: a path dropped at frame t > 0 is then still
  // counted by the alpha*beta sums of the frames before t, and the consistency check below sees the difference
  // (beta needs no such care: its last row is exact).
  let n = 0;
  for (let s = lo(0); s <= hi(0); s++) n += prob[ext[s]];
  if (!(n > UNDERFLOW && n < Infinity)) return fallback(x, offset, T, C, label, blank, ws, grad);
  alpha.fill(0, 0, S);
  for (let s = lo(0); s <= hi(0); s++) alpha[s] = prob[ext[s]] / n;
  let logSum = Math.log(n);
  prefixLog[0] = logSum;
  for (let t = 1; t < T; t++) {
    const prev = (t - 1) * S;
    const cur = prev + S;
    const p = t * C;
    const l = lo(t);
    const h = hi(t);
    let s = l;
    let v = 0;
    n = 0;
    if (s === 0) {
      v = alpha[prev] * prob[p + blank];
      alpha[cur] = v;
      n += v;
      s++;
    }
    if (s === 1 && s <= h) {
      v = (alpha[prev + 1] + alpha[prev]) * prob[p + ext[1]];
      alpha[cur + 1] = v;
      n += v;
      s++;
    }
    for (; s <= h; s++) {
      v = (alpha[prev + s] + alpha[prev + s - 1] + skip[s] * alpha[prev + s - 2]) * prob[p + ext[s]];
      alpha[cur + s] = v;
      n += v;
    }
    if (!(n > UNDERFLOW && n < Infinity)) return fallback(x, offset, T, C, label, blank, ws, grad);
    logSum += Math.log(n);
    prefixLog[t] = logSum;
    const inv = 1 / n;
    for (s = l; s <= h; s++) {
      v = alpha[cur + s] * inv;
      alpha[cur + s] = v < TINY ? 0 : v;
    }
    if (h + 1 < S) alpha[cur + h + 1] = 0;
    if (h + 2 < S) alpha[cur + h + 2] = 0;
  }
  const last = (T - 1) * S;
  const end = S > 1 ? alpha[last + S - 1] + alpha[last + S - 2] : alpha[last];
  if (!(end > 0)) return fallback(x, offset, T, C, label, blank, ws, grad);
  const logLik = logSum + Math.log(end);

  // Backward. `beta` holds beta_t (emission at t excluded) / exp(logSuffix), normalised and flushed like alpha.
  // In the same pass: the occupancies alpha_t(s) beta_t(s), summed per class and in total (z), and
  // e(s) = emission_t(s) beta_t(s), which feeds the three moves into s for beta_{t-1}. Blank states (even s) are
  // summed in a local, which keeps the per-class sums free of a store-to-load chain through occ[blank].
  let beta = ws.beta;
  let next = ws.betaNext;
  const { e, occ } = ws;
  beta.fill(0);
  beta[S - 1] = 1;
  if (S > 1) beta[S - 2] = 1;
  let logSuffix = 0;
  for (let t = T - 1; t >= 0; t--) {
    const a = t * S;
    const p = t * C;
    const l = lo(t);
    const h = hi(t);
    const pBlank = prob[p + blank];
    let zBlank = 0;
    for (let s = l + (l & 1); s <= h; s += 2) {
      const b = beta[s];
      zBlank += alpha[a + s] * b;
      e[s] = pBlank * b;
    }
    let z = zBlank;
    for (let s = l + 1 - (l & 1); s <= h; s += 2) {
      const b = beta[s];
      const o = alpha[a + s] * b;
      z += o;
      occ[ext[s]] += o;
      e[s] = prob[p + ext[s]] * b;
    }
    // sum_s alpha_t(s) beta_t(s) = p(label) at every frame: check it, in the scaled units of this frame.
    if (!(Math.abs(Math.log(z) + prefixLog[t] + logSuffix - logLik) < CONSISTENCY_TOLERANCE)) {
      occ.fill(0);
      return fallback(x, offset, T, C, label, blank, ws, grad);
    }
    if (grad) {
      // d loss / d logit[t, c] = softmax[t, c] - occupancy of class c / z
      occ[blank] += zBlank;
      const invZ = 1 / z;
      const g = offset + p;
      for (let c = 0; c < C; c++) {
        grad[g + c] = prob[p + c] - occ[c] * invZ;
        occ[c] = 0;
      }
    } else {
      occ.fill(0);
    }
    if (t === 0) break;
    // The moves into the band of frame t - 1 read e from lo(t - 1) >= l - 2 to hi(t - 1) + 2 <= h + 2.
    if (l >= 1) e[l - 1] = 0;
    if (l >= 2) e[l - 2] = 0;
    e[h + 1] = e[h + 2] = 0;
    const l1 = lo(t - 1);
    const h1 = hi(t - 1);
    let m = 0;
    for (let s = l1; s <= h1; s++) {
      const v = e[s] + e[s + 1] + skip[s + 2] * e[s + 2];
      next[s] = v;
      m += v;
    }
    if (!(m > UNDERFLOW && m < Infinity)) return fallback(x, offset, T, C, label, blank, ws, grad);
    logSuffix += Math.log(m);
    const inv = 1 / m;
    for (let s = l1; s <= h1; s++) {
      const v = next[s] * inv;
      next[s] = v < TINY ? 0 : v;
    }
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
  ws: Workspace,
  grad: Float32Array | null,
): number {
  logSoftmaxRows(x, offset, T, C, ws.prob);
  return ctcLogSpace(ws.prob, T, C, label, blank, grad, offset);
}
