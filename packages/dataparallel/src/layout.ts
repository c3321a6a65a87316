/**
 * The parameter layout: every trainable tensor of a model laid end to end in one flat
 * Float32Array. The coordinator, the workers and checkpoints all agree on it.
 */
export interface LayoutEntry {
  /** Unique name of the tensor (e.g. a tfjs variable name). */
  name: string;
  /** Its shape; `size` is the product of the dimensions ([] is a scalar of size 1). */
  shape: number[];
  /** First element of this tensor in the flat buffer. */
  offset: number;
  /** Number of elements. */
  size: number;
}

export interface ParamLayout {
  entries: LayoutEntry[];
  /** Total number of float32 elements (sum of the entry sizes). */
  size: number;
}

/** Builds a layout from names and shapes, in the given order, packed without gaps. */
export function createLayout(tensors: readonly { name: string; shape: readonly number[] }[]): ParamLayout {
  const entries: LayoutEntry[] = [];
  const seen = new Set<string>();
  let offset = 0;
  tensors.forEach((t, i) => {
    if (typeof t.name !== 'string' || t.name === '') {
      throw new Error(`layout entry ${i}: name must be a non-empty string, got ${JSON.stringify(t.name)}`);
    }
    if (seen.has(t.name)) throw new Error(`layout entry ${i}: duplicate name '${t.name}'`);
    seen.add(t.name);
    for (const d of t.shape) {
      if (!Number.isInteger(d) || d < 0) {
        throw new Error(
          `layout entry ${i} ('${t.name}'): shape [${t.shape.join(', ')}] has dimension ${d}, expected non-negative integers`,
        );
      }
    }
    const size = t.shape.reduce((a, b) => a * b, 1);
    entries.push({ name: t.name, shape: [...t.shape], offset, size });
    offset += size;
  });
  return { entries, size: offset };
}

/**
 * Checks that `layout` is well formed (offsets packed in order, sizes match shapes) and
 * returns it; throws naming the first bad entry. Used on layouts read from the wire or disk.
 */
export function validateLayout(layout: unknown, source = 'layout'): ParamLayout {
  const l = layout as ParamLayout;
  if (typeof l !== 'object' || l === null || !Array.isArray(l.entries) || !Number.isInteger(l.size)) {
    throw new Error(`${source}: expected { entries: [...], size: integer }`);
  }
  const rebuilt = createLayout(l.entries);
  const diffs = layoutDifferences(rebuilt, l);
  if (diffs.length > 0) throw new Error(`${source}: inconsistent offsets or sizes: ${diffs.join('; ')}`);
  return rebuilt;
}

/**
 * Human-readable differences between two layouts (empty when they match): missing or extra
 * tensors, different shapes or offsets, different total size.
 */
export function layoutDifferences(expected: ParamLayout, actual: ParamLayout): string[] {
  const out: string[] = [];
  const byName = new Map(actual.entries.map((e) => [e.name, e]));
  expected.entries.forEach((e, i) => {
    const a = byName.get(e.name);
    if (!a) {
      out.push(`tensor '${e.name}' [${e.shape.join(', ')}] is missing`);
      return;
    }
    if (a.shape.length !== e.shape.length || a.shape.some((d, k) => d !== e.shape[k])) {
      out.push(`tensor '${e.name}' has shape [${a.shape.join(', ')}], expected [${e.shape.join(', ')}]`);
    } else if (a.offset !== e.offset || a.size !== e.size) {
      out.push(
        `tensor '${e.name}' is at offset ${a.offset} (size ${a.size}), expected offset ${e.offset} (size ${e.size}); position ${i}`,
      );
    }
  });
  const names = new Set(expected.entries.map((e) => e.name));
  for (const a of actual.entries)
    if (!names.has(a.name)) out.push(`unexpected tensor '${a.name}' [${a.shape.join(', ')}]`);
  if (out.length === 0 && expected.size !== actual.size)
    out.push(`total size ${actual.size}, expected ${expected.size}`);
  return out;
}

/** Throws listing every difference when `actual` does not match `expected`. */
export function assertSameLayout(expected: ParamLayout, actual: ParamLayout, what: string): void {
  const diffs = layoutDifferences(expected, actual);
  if (diffs.length > 0) throw new Error(`${what}: parameter layout differs: ${diffs.join('; ')}`);
}
