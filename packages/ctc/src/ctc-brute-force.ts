/**
 * Slow, obvious CTC by enumerating every path (classes^frames of them): the oracle for tests on tiny cases.
 * `logits`: row-major [frames, classes], unnormalised.
 */

/** Removes repeats, then blanks: the CTC collapse B(path). */
export function collapsePath(path: readonly number[], blank: number): number[] {
  const out: number[] = [];
  for (let t = 0; t < path.length; t++) {
    if (path[t] !== blank && (t === 0 || path[t] !== path[t - 1])) out.push(path[t]!);
  }
  return out;
}

/** Calls `visit(path, probability)` for every path of `frames` classes. */
export function forEachPath(
  logits: ArrayLike<number>,
  frames: number,
  classes: number,
  visit: (path: number[], prob: number) => void,
): void {
  const probs: number[][] = [];
  for (let t = 0; t < frames; t++) {
    const row = Array.from({ length: classes }, (_, c) => logits[t * classes + c]!);
    const max = Math.max(...row);
    const e = row.map((v) => Math.exp(v - max));
    const sum = e.reduce((a, b) => a + b, 0);
    probs.push(e.map((v) => v / sum));
  }
  const path = new Array<number>(frames).fill(0);
  const total = classes ** frames;
  for (let k = 0; k < total; k++) {
    let rest = k;
    let p = 1;
    for (let t = 0; t < frames; t++) {
      path[t] = rest % classes;
      rest = Math.floor(rest / classes);
      p *= probs[t]![path[t]!]!;
    }
    visit(path, p);
  }
}

/**
 * Loss -log p(label) and its gradient w.r.t. the logits, from the definition: p(label) is the sum of the
 * probabilities of the paths that collapse to it, and d(-log p)/d logit[t][c] = softmax[t][c] - P(path_t = c | label).
 */
export function ctcBruteForce(
  logits: ArrayLike<number>,
  frames: number,
  classes: number,
  label: readonly number[],
  blank: number,
): { loss: number; grad: Float64Array } {
  let total = 0;
  const mass = new Float64Array(frames * classes); // probability of the label's paths through (t, c)
  const softmax = new Float64Array(frames * classes);
  const key = label.join(',');
  forEachPath(logits, frames, classes, (path, p) => {
    for (let t = 0; t < frames; t++) softmax[t * classes + path[t]!] += p; // marginals = softmax
    if (collapsePath(path, blank).join(',') !== key) return;
    total += p;
    for (let t = 0; t < frames; t++) mass[t * classes + path[t]!] += p;
  });
  const grad = new Float64Array(frames * classes);
  if (total === 0) return { loss: Infinity, grad };
  for (let i = 0; i < grad.length; i++) grad[i] = softmax[i]! - mass[i]! / total;
  return { loss: -Math.log(total), grad };
}

/** log p(labelling) for every labelling with non-zero probability, keyed by labels joined with ','. */
export function labellingLogProbs(
  logits: ArrayLike<number>,
  frames: number,
  classes: number,
  blank: number,
): Map<string, number> {
  const probs = new Map<string, number>();
  forEachPath(logits, frames, classes, (path, p) => {
    const key = collapsePath(path, blank).join(',');
    probs.set(key, (probs.get(key) ?? 0) + p);
  });
  return new Map([...probs].map(([k, p]) => [k, Math.log(p)]));
}
