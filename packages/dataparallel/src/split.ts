/**
 * Splits a global batch into `parts` contiguous shards whose sizes differ by at most one
 * (the first `items.length % parts` shards get the extra item). Empty shards are omitted,
 * so fewer than `parts` shards come back when the batch is smaller than `parts`.
 */
export function splitBatch<T>(items: readonly T[], parts: number): T[][] {
  if (!Number.isInteger(parts) || parts < 1)
    throw new Error(`splitBatch: parts must be a positive integer, got ${parts}`);
  const base = Math.floor(items.length / parts);
  const extra = items.length % parts;
  const out: T[][] = [];
  let start = 0;
  for (let p = 0; p < parts; p++) {
    const n = base + (p < extra ? 1 : 0);
    if (n === 0) break;
    out.push(items.slice(start, start + n));
    start += n;
  }
  return out;
}
