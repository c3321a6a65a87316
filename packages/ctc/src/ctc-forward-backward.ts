import { ctcLogSpace } from './ctc-log-space.js';
import { scaledBackward, scaledForward } from './ctc-scaled.js';
import { buildLattice, Workspace } from './ctc-workspace.js';
import { checkBlank, checkLabel, checkLengths, checkShape, CtcInputError } from './errors.js';
import { requiredFrames } from './extended-label.js';
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

/** Loss of sample at `offset` (and its gradient into `grad`): the scaled passes, or log space where they give up. */
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
  const { emission, latticeClasses } = ws;
  // Writes the softmax times gradScale to the gradient rows, the lattice classes' softmax to `emission`. A class of
  // the lattice more than 600 below the frame's largest logit would underflow and could silently drop the dominant
  // paths: such samples go to log space.
  if (!latticeSoftmax(x, offset, T, C, latticeClasses, K, ws.row, emission, grad, gradScale)) {
    return fallback(x, offset, T, C, label, blank, grad, gradScale);
  }
  const logLik = scaledForward(ws, S, K, T);
  if (Number.isNaN(logLik) || !scaledBackward(ws, S, K, T, logLik, grad, offset, C, gradScale)) {
    return fallback(x, offset, T, C, label, blank, grad, gradScale);
  }
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
