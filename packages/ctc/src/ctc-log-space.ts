import { extendLabel, requiredFrames } from './extended-label.js';

/** log(exp(a) + exp(b)) without overflow; exact for -Infinity arguments. */
export function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  return a > b ? a + Math.log1p(Math.exp(b - a)) : b + Math.log1p(Math.exp(a - b));
}

/**
 * CTC loss and gradient of one sample in log space: the plain textbook forward-backward (Graves et al. 2006), used
 * as the fallback of the scaled fast path when float64 probabilities underflow, and as a reference in tests.
 *
 * `logProbs`: [frames, classes] log-softmax of the logits. Returns -log p(label | logits); when `grad` is given,
 * writes d loss / d logits (softmax minus normalised state occupancy) to grad[gradOffset ...] for the `frames`
 * rows, or leaves it untouched when the loss is infinite.
 */
export function ctcLogSpace(
  logProbs: Float64Array,
  frames: number,
  classes: number,
  label: ArrayLike<number>,
  blank: number,
  grad: Float32Array | null = null,
  gradOffset = 0,
): number {
  if (requiredFrames(label) > frames) return Infinity;
  if (frames === 0) return 0; // empty label, no frames: probability 1
  const S = 2 * label.length + 1;
  const ext = new Int32Array(S + 2);
  const skip = new Uint8Array(S + 2);
  extendLabel(label, blank, ext, skip);
  const lp = (t: number, s: number) => logProbs[t * classes + ext[s]];

  // alpha[t][s]: log-probability of emitting frames 0..t and being in state s at t.
  const alpha = new Float64Array(frames * S).fill(-Infinity);
  alpha[0] = lp(0, 0);
  if (S > 1) alpha[1] = lp(0, 1);
  for (let t = 1; t < frames; t++) {
    for (let s = 0; s < S; s++) {
      const prev = (t - 1) * S;
      let a = alpha[prev + s];
      if (s >= 1) a = logAddExp(a, alpha[prev + s - 1]);
      if (skip[s]) a = logAddExp(a, alpha[prev + s - 2]);
      alpha[t * S + s] = a + lp(t, s);
    }
  }
  const last = (frames - 1) * S;
  const logLik = S > 1 ? logAddExp(alpha[last + S - 1], alpha[last + S - 2]) : alpha[last];
  if (logLik === -Infinity) return Infinity;
  if (!grad) return -logLik;

  // beta[s] at frame t: log-probability of emitting frames t+1.. from state s at t (emission at t excluded).
  let beta = new Float64Array(S).fill(-Infinity);
  beta[S - 1] = 0;
  if (S > 1) beta[S - 2] = 0;
  const occ = new Float64Array(classes);
  for (let t = frames - 1; t >= 0; t--) {
    occ.fill(-Infinity);
    for (let s = 0; s < S; s++) occ[ext[s]] = logAddExp(occ[ext[s]], alpha[t * S + s] + beta[s]);
    for (let c = 0; c < classes; c++) {
      grad[gradOffset + t * classes + c] = Math.exp(logProbs[t * classes + c]) - Math.exp(occ[c] - logLik);
    }
    const next = new Float64Array(S).fill(-Infinity);
    for (let s = 0; s < S; s++) {
      let b = beta[s] + lp(t, s);
      if (s + 1 < S) b = logAddExp(b, beta[s + 1] + lp(t, s + 1));
      if (s + 2 < S && skip[s + 2]) b = logAddExp(b, beta[s + 2] + lp(t, s + 2));
      next[s] = b;
    }
    beta = next;
  }
  return -logLik;
}
