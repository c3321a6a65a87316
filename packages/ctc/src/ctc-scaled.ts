import type { Workspace } from './ctc-workspace.js';

// The scaled float64 forward-backward of one sample over its lattice (see ctcForwardBackward), as a pair: the
// forward pass fills the workspace's alpha rows, the backward pass walks beta down and writes the gradient. Both
// give up (NaN, false) where the sample must be redone in log space. The backward pass is over 100 lines on purpose:
// it is one recursion over the band of lattice states, in pairs of a label and a blank state with the emissions
// carried from state to state in locals (the CTC loss's inner loop, kept whole as llm.c keeps its kernels).

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
 * The forward pass over the lattice of S states and K classes for T frames: fills ws.alpha and ws.alphaLog from
 * ws.emission; returns log p(label), or NaN when a normaliser leaves float64's range (redo in log space).
 */
export function scaledForward(ws: Workspace, S: number, K: number, T: number): number {
  const { emission, alpha, alphaLog, stateClass, skip } = ws;
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
    if (!(n > UNDERFLOW && n < Infinity)) return Number.NaN;
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
  if (!(end > 0)) return Number.NaN;
  return logScale + Math.log(end);
}

/**
 * The backward pass: checks every frame's sum of alpha*beta against `logLik` and, with `grad`, writes the
 * lattice classes' gradient (softmax minus normalised occupancy, times gradScale) at rows offset + t * C.
 * Returns false when the sample must be redone in log space (ws.occ is then 0 again).
 */
export function scaledBackward(
  ws: Workspace,
  S: number,
  K: number,
  T: number,
  logLik: number,
  grad: Float32Array | null,
  offset: number,
  C: number,
  gradScale: number,
): boolean {
  const { emission, alpha, alphaLog, stateClass, skip, latticeClasses } = ws;
  const stride = S + 2;
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
      return false;
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
    if (!(mNext > UNDERFLOW && mNext < Infinity)) return false;
    logSuffix += Math.log(m);
    m = mNext;
    [beta, next] = [next, beta];
  }
  ws.beta = beta;
  ws.betaNext = next;
  return true;
}
