/**
 * The CTC lattice of a label l of length L has S = 2L + 1 states: blank, l[0], blank, l[1], ..., l[L-1], blank.
 * A path moves from state s to s (stay), s + 1 (next), or s + 2 when s + 2 is a label different from the label at
 * s (skipping the blank between two different labels; between repeated labels the blank is required).
 *
 * Writes the class of each state to `ext` and 1 to `skip[s]` where the move s - 2 -> s is allowed; entries
 * `S` and `S + 1` are set to 0 so that loops may read two past the end. Returns S.
 */
export function extendLabel(
  label: ArrayLike<number>,
  blank: number,
  ext: Int32Array,
  skip: Float64Array | Uint8Array,
): number {
  const S = 2 * label.length + 1;
  for (let s = 0; s < S; s++) {
    const isLabel = (s & 1) === 1;
    ext[s] = isLabel ? label[(s - 1) >> 1] : blank;
    skip[s] = isLabel && s >= 3 && ext[s] !== ext[s - 2] ? 1 : 0;
  }
  ext[S] = ext[S + 1] = blank;
  skip[S] = skip[S + 1] = 0;
  return S;
}

/** The fewest frames that can emit `label`: one per label plus one blank between each pair of equal neighbours. */
export function requiredFrames(label: ArrayLike<number>): number {
  let n = label.length;
  for (let i = 1; i < label.length; i++) if (label[i] === label[i - 1]) n++;
  return n;
}
