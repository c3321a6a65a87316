/** Sample rows per pixel row: coverage is exact horizontally and sampled at SUBSAMPLES heights vertically. */
export const SUBSAMPLES = 5;

/**
 * Fills closed polygons (flat [x0, y0, x1, y1, ...] arrays in pixels, y down, closing edge implied) by the
 * non-zero winding rule, anti-aliased: each pixel row is cut by SUBSAMPLES scanlines at heights
 * y + (k + 0.5) / SUBSAMPLES; on each, the spans where the winding number is non-zero add their exact
 * horizontal overlap with every pixel, weighted 1 / SUBSAMPLES. Returns coverage in [0, 1], row-major
 * [height, width]. Pure JavaScript (no canvas), so it runs the same in node and a browser.
 */
export function fillPolygons(polygons: readonly ArrayLike<number>[], width: number, height: number): Float32Array {
  const edges = buildEdges(polygons, height);
  const out = new Float32Array(width * height);
  const acc = new Float64Array(width + 2); // coverage deltas of one pixel row; a prefix sum turns them into coverage
  // The active edges (those the scanline crosses) and where they cross it, kept sorted by x; edges starting on
  // a scanline are sorted apart and merged in (inserting each one would shift half the list).
  let active = new Int32Array(edges.count),
    xs = new Float64Array(edges.count);
  let merged = new Int32Array(edges.count),
    mergedXs = new Float64Array(edges.count);
  const added = new Int32Array(edges.count),
    addedXs = new Float64Array(edges.count);
  let n = 0;
  const weight = 1 / SUBSAMPLES;
  for (let row = 0, line = 0; row < height; row++) {
    for (let k = 0; k < SUBSAMPLES; k++, line++) {
      const sy = row + (k + 0.5) * weight;
      // An edge covers [y0, y1): drop the finished ones and move the others to this scanline.
      let m = 0;
      for (let a = 0; a < n; a++) {
        const e = active[a]!;
        if (edges.y1[e]! <= sy) continue;
        active[m] = e;
        xs[m++] = edges.x0[e]! + (sy - edges.y0[e]!) * edges.dxdy[e]!;
      }
      sortByX(active, xs, m);
      let r = 0;
      for (let q = edges.start[line]!, end = edges.start[line + 1]!; q < end; q++) {
        const e = edges.order[q]!;
        if (edges.y1[e]! <= sy) continue; // shorter than a scanline step
        added[r] = e;
        addedXs[r++] = edges.x0[e]! + (sy - edges.y0[e]!) * edges.dxdy[e]!;
      }
      if (r > 0) {
        sortByX(added, addedXs, r);
        n = mergeByX(active, xs, m, added, addedXs, r, merged, mergedXs);
        [active, merged, xs, mergedXs] = [merged, active, mergedXs, xs];
      } else n = m;
      let winding = 0,
        start = 0;
      for (let a = 0; a < n; a++) {
        const was = winding;
        winding += edges.dir[active[a]!]!;
        if (was === 0) start = xs[a]!;
        else if (winding === 0) addSpan(acc, width, start, xs[a]!, weight);
      }
    }
    let run = 0;
    for (let x = 0; x < width; x++) {
      run += acc[x]!;
      // Spans never overlap, so run is in [0, 1] but for round-off (which leaves 1e-17 where there is no ink).
      out[row * width + x] = run < 1e-9 ? 0 : run > 1 ? 1 : run;
    }
    acc.fill(0);
  }
  return out;
}

interface Edges {
  count: number;
  /** Top (smaller y) end, the x there, dx per unit y, bottom y, and +1 for an edge going down, -1 up. */
  y0: Float64Array;
  x0: Float64Array;
  dxdy: Float64Array;
  y1: Float64Array;
  dir: Int8Array;
  /** Edge indices by first scanline: those of scanline s are order[start[s]] .. order[start[s + 1] - 1]. */
  order: Int32Array;
  start: Int32Array;
}

/**
 * The non-horizontal edges of all polygons, oriented top to bottom (the direction kept in `dir`), bucketed by
 * the first scanline (of height * SUBSAMPLES, at y = (s + 0.5) / SUBSAMPLES) each one crosses.
 */
function buildEdges(polygons: readonly ArrayLike<number>[], height: number): Edges {
  let total = 0;
  for (const p of polygons) total += p.length >> 1;
  const lines = height * SUBSAMPLES;
  const e: Edges = {
    count: 0,
    y0: new Float64Array(total),
    x0: new Float64Array(total),
    dxdy: new Float64Array(total),
    y1: new Float64Array(total),
    dir: new Int8Array(total),
    order: new Int32Array(total),
    start: new Int32Array(lines + 2),
  };
  const first = new Int32Array(total);
  for (const p of polygons) {
    const n = p.length >> 1;
    for (let i = 0; i < n; i++) {
      const j = i + 1 < n ? i + 1 : 0;
      const ya = p[2 * i + 1]!,
        yb = p[2 * j + 1]!;
      if (ya === yb) continue; // horizontal: no scanline crosses it
      const down = ya < yb,
        c = e.count++;
      e.y0[c] = down ? ya : yb;
      e.y1[c] = down ? yb : ya;
      e.x0[c] = down ? p[2 * i]! : p[2 * j]!;
      e.dxdy[c] = (p[2 * j]! - p[2 * i]!) / (yb - ya);
      e.dir[c] = down ? 1 : -1;
      // Scanline s is at (s + 0.5) / SUBSAMPLES: the first at or below y0, clamped to the image.
      first[c] = Math.min(lines, Math.max(0, Math.ceil(e.y0[c]! * SUBSAMPLES - 0.5)));
    }
  }
  // A counting sort by first scanline (start[s + 1] counts, then running sums).
  for (let c = 0; c < e.count; c++) e.start[first[c]! + 1]++;
  for (let s = 1; s <= lines + 1; s++) e.start[s] += e.start[s - 1]!;
  const fill = e.start.slice(0, lines + 1);
  for (let c = 0; c < e.count; c++) e.order[fill[first[c]!]!++] = c;
  return e;
}

/** Merges two lists sorted by x into `into` / `intoXs`; returns the merged length. */
function mergeByX(
  a: Int32Array,
  ax: Float64Array,
  na: number,
  b: Int32Array,
  bx: Float64Array,
  nb: number,
  into: Int32Array,
  intoXs: Float64Array,
): number {
  let i = 0,
    j = 0,
    o = 0;
  while (i < na || j < nb) {
    const fromA = j >= nb || (i < na && ax[i]! <= bx[j]!);
    into[o] = fromA ? a[i]! : b[j]!;
    intoXs[o++] = fromA ? ax[i++]! : bx[j++]!;
  }
  return o;
}

/** Insertion sort of the first n active edges by crossing x: the order barely changes from one scanline to the next. */
function sortByX(active: Int32Array, xs: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) {
    const e = active[i]!,
      x = xs[i]!;
    let j = i - 1;
    while (j >= 0 && xs[j]! > x) {
      active[j + 1] = active[j]!;
      xs[j + 1] = xs[j]!;
      j--;
    }
    active[j + 1] = e;
    xs[j + 1] = x;
  }
}

/** Adds `w` times the overlap of [a, b) with each pixel [x, x + 1) to the coverage deltas `acc`. */
function addSpan(acc: Float64Array, width: number, a: number, b: number, w: number): void {
  a = Math.max(0, a);
  b = Math.min(width, b);
  if (!(b > a)) return;
  const ia = Math.floor(a),
    ib = Math.floor(b);
  if (ia === ib) {
    acc[ia] += (b - a) * w;
    acc[ia + 1] -= (b - a) * w;
    return;
  }
  // Pixel ia gets (ia + 1 - a), pixels ia + 1 .. ib - 1 get 1, pixel ib gets (b - ib).
  const first = (ia + 1 - a) * w,
    last = (b - ib) * w;
  acc[ia] += first;
  acc[ia + 1] += w - first;
  acc[ib] += last - w;
  acc[ib + 1] -= last;
}
