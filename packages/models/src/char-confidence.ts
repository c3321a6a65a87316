/**
 * Per-character confidences of a decoded line: for each character, the highest posterior probability of its class
 * over the frames of its alignment span (softmax over the classes of each frame). A character read clearly gets a
 * frame near 1; one the model hesitated over (a 3 that might be an 8) stays well below it on every frame.
 *
 * `logits`: one line's [T, C] frame scores (row-major, unnormalised); `labels[i]` was emitted over frames
 * `spans[i]` = [start, end).
 */
export function charConfidences(
  logits: Float32Array,
  classes: number,
  labels: readonly number[],
  spans: ReadonlyArray<readonly [number, number]>,
): number[] {
  return labels.map((label, i) => {
    const [start, end] = spans[i]!;
    let best = -Infinity;
    for (let t = start; t < end; t++) {
      const row = t * classes;
      let max = -Infinity;
      for (let c = 0; c < classes; c++) max = Math.max(max, logits[row + c]!);
      let sum = 0;
      for (let c = 0; c < classes; c++) sum += Math.exp(logits[row + c]! - max);
      best = Math.max(best, logits[row + label]! - max - Math.log(sum));
    }
    return Math.exp(best);
  });
}
