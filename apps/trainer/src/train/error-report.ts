/**
 * Error analysis of a recognition run: what kind of character errors (substitutions, deletions,
 * insertions), which confusions, and how the CER depends on line length. Pure functions on strings;
 * `eval` prints `formatErrorReport` and writes the report as JSON with `--report`.
 */

/** How many of the most frequent confusions a report keeps, unless `topConfusions` says otherwise. */
export const DEFAULT_TOP_CONFUSIONS = 20;

/** How many confusions `formatErrorReport` shows (the JSON keeps the report's `topConfusions`). */
export const SCREEN_CONFUSIONS = 10;

/** Reference line lengths (characters) of the CER-by-length buckets, inclusive; `null`: no upper bound. */
export const LENGTH_BUCKETS: ReadonlyArray<readonly [number, number | null]> = [
  [0, 0],
  [1, 5],
  [6, 10],
  [11, 20],
  [21, 40],
  [41, 80],
  [81, null],
];

export interface ErrorReportOptions {
  /** How many of the most frequent confusions to keep (0: none). Default DEFAULT_TOP_CONFUSIONS (20). */
  topConfusions?: number;
}

export type EditKind = 'substitution' | 'deletion' | 'insertion';

/** One step of an alignment of a reference to a hypothesis; '' stands for the side that has no character. */
export interface EditOp {
  kind: 'match' | EditKind;
  ref: string;
  hyp: string;
}

/** A reference character recognised as another (deletion: hyp ''; insertion: ref ''), and how often. */
export interface Confusion {
  kind: EditKind;
  ref: string;
  hyp: string;
  count: number;
}

export interface ErrorTotals {
  lines: number;
  /** Reference characters (code points after NFC), the CER's denominator. */
  refChars: number;
  hypChars: number;
  substitutions: number;
  deletions: number;
  insertions: number;
  /** substitutions + deletions + insertions: the character edit distance, as `cer` of @scriptorium/ctc counts it. */
  edits: number;
  /** edits / refChars (a zero total counts as 1, as `cer` does). */
  cer: number;
  /** Each kind's count over refChars (same convention); the three add up to `cer`. */
  substitutionRate: number;
  deletionRate: number;
  insertionRate: number;
}

/** The lines whose reference length lies in [minChars, maxChars]. */
export interface LengthBucket {
  label: string;
  minChars: number;
  maxChars: number | null;
  lines: number;
  chars: number;
  edits: number;
  /** edits / chars (zero chars count as 1, as `cer` does). */
  cer: number;
}

export interface ErrorReport {
  totals: ErrorTotals;
  /** The most frequent confusions, most frequent first (ties: substitutions, deletions, insertions, then by character). */
  confusions: Confusion[];
  /** How many different confusions there were (`confusions` keeps the top ones). */
  distinctConfusions: number;
  /** One per LENGTH_BUCKETS entry, empty ones included. */
  buckets: LengthBucket[];
}

const DIAGONAL = 0,
  UP = 1,
  LEFT = 2;

/**
 * A minimum-edit alignment of two character sequences (unit costs, Wagner and Fischer 1974), start to end.
 * Where several alignments are minimal, each cell prefers a match or substitution, then a deletion, then an
 * insertion. O(|ref| |hyp|) time and bytes.
 */
export function alignCharacters(ref: readonly string[], hyp: readonly string[]): EditOp[] {
  const m = ref.length,
    n = hyp.length,
    w = n + 1;
  const from = new Uint8Array((m + 1) * w); // [m + 1, n + 1]: the step that reached each cell
  let prev = new Int32Array(w),
    cur = new Int32Array(w); // distances of rows i - 1 and i
  for (let j = 1; j <= n; j++) {
    prev[j] = j;
    from[j] = LEFT;
  }
  for (let i = 1; i <= m; i++) {
    cur[0] = i;
    from[i * w] = UP;
    for (let j = 1; j <= n; j++) {
      let d = prev[j - 1]! + (ref[i - 1] === hyp[j - 1] ? 0 : 1),
        step = DIAGONAL;
      if (prev[j]! + 1 < d) [d, step] = [prev[j]! + 1, UP];
      if (cur[j - 1]! + 1 < d) [d, step] = [cur[j - 1]! + 1, LEFT];
      cur[j] = d;
      from[i * w + j] = step;
    }
    [prev, cur] = [cur, prev];
  }
  const ops: EditOp[] = [];
  for (let i = m, j = n; i > 0 || j > 0; ) {
    const step = from[i * w + j];
    if (step === DIAGONAL) {
      const r = ref[--i]!,
        h = hyp[--j]!;
      ops.push({ kind: r === h ? 'match' : 'substitution', ref: r, hyp: h });
    } else if (step === UP) ops.push({ kind: 'deletion', ref: ref[--i]!, hyp: '' });
    else ops.push({ kind: 'insertion', ref: '', hyp: hyp[--j]! });
  }
  return ops.reverse();
}

/**
 * Counts the character errors of (reference, hypothesis) lines. Both sides are NFC-normalised and split into
 * code points, so a base letter with a combining accent is one character when NFC composes it, and S + D + I
 * of each line equals `levenshtein` on those code points (what `cer` counts on NFC text).
 */
export function errorReport(
  lines: ReadonlyArray<{ ref: string; hyp: string }>,
  options: ErrorReportOptions = {},
): ErrorReport {
  const top = options.topConfusions ?? DEFAULT_TOP_CONFUSIONS;
  if (!Number.isInteger(top) || top < 0)
    throw new RangeError(`errorReport: topConfusions must be an integer >= 0, got ${top}`);
  const counts = { substitution: 0, deletion: 0, insertion: 0 };
  const confusions = new Map<string, Confusion>();
  const buckets: LengthBucket[] = LENGTH_BUCKETS.map(([min, max]) => ({
    label: max === null ? `${min}+` : min === max ? `${min}` : `${min}-${max}`,
    minChars: min,
    maxChars: max,
    lines: 0,
    chars: 0,
    edits: 0,
    cer: 0,
  }));
  let refChars = 0,
    hypChars = 0;
  for (const line of lines) {
    const ref = Array.from(line.ref.normalize('NFC')),
      hyp = Array.from(line.hyp.normalize('NFC'));
    let edits = 0;
    for (const op of alignCharacters(ref, hyp)) {
      if (op.kind === 'match') continue;
      edits++;
      counts[op.kind]++;
      const key = `${op.ref}\u0000${op.hyp}`;
      const c = confusions.get(key);
      if (c) c.count++;
      else confusions.set(key, { kind: op.kind, ref: op.ref, hyp: op.hyp, count: 1 });
    }
    refChars += ref.length;
    hypChars += hyp.length;
    const b = buckets.find((b) => ref.length >= b.minChars && (b.maxChars === null || ref.length <= b.maxChars))!;
    b.lines++;
    b.chars += ref.length;
    b.edits += edits;
  }
  for (const b of buckets) b.cer = b.edits / Math.max(b.chars, 1);
  const edits = counts.substitution + counts.deletion + counts.insertion;
  const per = Math.max(refChars, 1);
  const order: Record<EditKind, number> = { substitution: 0, deletion: 1, insertion: 2 };
  const byCount = (a: Confusion, b: Confusion) =>
    b.count - a.count || order[a.kind] - order[b.kind] || compare(a.ref, b.ref) || compare(a.hyp, b.hyp);
  return {
    totals: {
      lines: lines.length,
      refChars,
      hypChars,
      substitutions: counts.substitution,
      deletions: counts.deletion,
      insertions: counts.insertion,
      edits,
      cer: edits / per,
      substitutionRate: counts.substitution / per,
      deletionRate: counts.deletion / per,
      insertionRate: counts.insertion / per,
    },
    confusions: [...confusions.values()].sort(byCount).slice(0, top),
    distinctConfusions: confusions.size,
    buckets,
  };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The report for the screen: S/D/I counts with their shares of the errors and rates over reference characters,
 * the SCREEN_CONFUSIONS most frequent confusions in two columns, and the CER of each non-empty length bucket.
 */
export function formatErrorReport(report: ErrorReport): string {
  const t = report.totals;
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
  const out = [
    `character errors: ${t.edits} over ${t.refChars} reference characters in ${t.lines} line${t.lines === 1 ? '' : 's'}`,
  ];
  if (t.edits > 0) {
    const kinds: Array<[string, number]> = [
      ['substitutions', t.substitutions],
      ['deletions', t.deletions],
      ['insertions', t.insertions],
    ];
    const cw = Math.max(...kinds.map(([, n]) => String(n).length));
    for (const [name, n] of kinds) {
      out.push(
        `  ${name.padEnd(13)} ${String(n).padStart(cw)}  ${pct(n / t.edits).padStart(7)} of errors  ${pct(n / Math.max(t.refChars, 1)).padStart(7)} of characters`,
      );
    }
    const shown = report.confusions.slice(0, SCREEN_CONFUSIONS);
    out.push(`most frequent confusions (reference -> recognised, ${charLabel('')} = none):`);
    const cells = shown.map((c) => [`${charLabel(c.ref)} -> ${charLabel(c.hyp)}`, String(c.count)] as const);
    const pairW = Math.max(...cells.map(([p]) => displayWidth(p))),
      countW = Math.max(...cells.map(([, n]) => n.length));
    const cell = ([p, n]: readonly [string, string]) =>
      `${n.padStart(countW)}  ${p}${' '.repeat(pairW - displayWidth(p))}`;
    const rows = Math.ceil(cells.length / 2);
    for (let r = 0; r < rows; r++) {
      const right = cells[r + rows];
      out.push(`  ${cell(cells[r]!)}${right ? `      ${cell(right)}` : ''}`.trimEnd());
    }
  }
  out.push('CER by reference length (characters):');
  out.push(`  ${'length'.padEnd(7)} ${'lines'.padStart(6)} ${'chars'.padStart(8)} ${'CER'.padStart(8)}`);
  for (const b of report.buckets.filter((b) => b.lines > 0)) {
    out.push(
      `  ${b.label.padEnd(7)} ${String(b.lines).padStart(6)} ${String(b.chars).padStart(8)} ${pct(b.cer).padStart(8)}`,
    );
  }
  return out.join('\n');
}

/** A character as the screen shows it: ∅ for none, ␣ for a space, ◌ under a lone combining mark, U+XXXX for other invisibles. */
export function charLabel(c: string): string {
  if (c === '') return '∅';
  if (c === ' ') return '␣';
  if (/^\p{M}$/u.test(c)) return `◌${c}`;
  if (/^[\p{C}\p{Z}]$/u.test(c)) return `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
  return c;
}

/** Columns a label takes on a terminal, roughly: code points, combining marks not counted. */
function displayWidth(s: string): number {
  return Array.from(s.replace(/\p{M}/gu, '')).length;
}
