import type { LmScorer } from './beam-search-decode.js';
import { CtcInputError } from './errors.js';

export interface CharNgramLmOptions {
  /** n: each character is predicted from the n - 1 before it (padded with a start-of-line marker). */
  order: number;
  /**
   * Class index -> character, one code point each, as the decoder's classes are numbered. Entries that are '' (the
   * blank, typically index 0) are never predicted. Characters of the text that are not in it are skipped.
   */
  alphabet: readonly string[];
  /**
   * A word boundary (typically ' ', which must be in the alphabet): when set, a context does not reach back across
   * it. What came before the last boundary is replaced by a word-start marker, so a word's characters are predicted
   * from the boundary and the word so far, whatever the previous word was (the counts of a corpus whose word order
   * is not the test's then carry over better). The boundary itself is predicted from the word before it. Default:
   * none, contexts run across words.
   */
  wordBoundary?: string;
}

/** The serialised form: the counts of the full-order n-grams, from which all lower orders are rebuilt. */
export interface CharNgramLmJson {
  className: 'CharNgramLm';
  order: number;
  alphabet: string[];
  /** [context class indices (-1 = start of line, -2 = start of word)..., next class index, count], context of length order - 1. */
  ngrams: number[][];
  /** CharNgramLmOptions.wordBoundary; absent when none. */
  wordBoundary?: string;
}

const BOS = -1;
/** Before the last word boundary, with CharNgramLmOptions.wordBoundary. */
const BOW = -2;

/**
 * A character n-gram language model with interpolated Witten-Bell smoothing (Witten and Bell 1991; the form in
 * Chen and Goodman 1998, section 2.4), over the classes of a CTC alphabet:
 *
 *   P(c | h) = (N(h, c) + T(h) P(c | h')) / (N(h) + T(h)),
 *
 * where h' drops the oldest character of h, N counts occurrences, T(h) is the number of distinct characters seen
 * after h, and below the empty context is the uniform distribution over the alphabet. Every character of the
 * alphabet therefore has a non-zero probability in every context. Each line of the training text is one
 * sequence; the end of a line is not modelled (decoders score prefixes).
 */
export class CharNgramLm {
  readonly order: number;
  readonly alphabet: readonly string[];
  readonly wordBoundary: string | undefined;
  /** The class of wordBoundary; -3 (no class) without one. */
  private readonly boundary: number;
  /** Characters of the training text that were not in the alphabet (skipped). */
  unknownCharacters = 0;
  private readonly classOf = new Map<string, number>();
  private readonly vocabulary: number;
  /** context key -> (next class -> count), for contexts of every length 0 .. order - 1. */
  private readonly counts = new Map<string, Map<number, number>>();
  /** context key -> total count N(h). */
  private readonly totals = new Map<string, number>();

  private constructor(options: CharNgramLmOptions) {
    const { order, alphabet } = options;
    if (!Number.isInteger(order) || order < 1) throw new CtcInputError(`order: ${order}; expected an integer >= 1`);
    alphabet.forEach((ch, i) => {
      if (ch === '') return;
      if ([...ch].length !== 1)
        throw new CtcInputError(`alphabet[${i}]: '${ch}' is not a single character (code point)`);
      if (this.classOf.has(ch)) {
        throw new CtcInputError(`alphabet[${i}]: '${ch}' is already alphabet[${this.classOf.get(ch)}]`);
      }
      this.classOf.set(ch, i);
    });
    if (this.classOf.size === 0) throw new CtcInputError('alphabet: has no characters');
    this.order = order;
    this.alphabet = [...alphabet];
    this.vocabulary = this.classOf.size;
    this.wordBoundary = options.wordBoundary;
    const boundary = options.wordBoundary === undefined ? -3 : this.classOf.get(options.wordBoundary);
    if (boundary === undefined)
      throw new CtcInputError(`wordBoundary: '${options.wordBoundary}' is not in the alphabet`);
    this.boundary = boundary;
  }

  /** Counts the n-grams of `text`, one sequence per line. */
  static train(text: string, options: CharNgramLmOptions): CharNgramLm {
    const lm = new CharNgramLm(options);
    for (const line of text.split(/\r?\n/)) {
      const history: number[] = new Array(lm.order - 1).fill(BOS);
      for (const ch of line) {
        const c = lm.classOf.get(ch);
        if (c === undefined) {
          lm.unknownCharacters++;
          continue;
        }
        lm.add(history, c, 1);
        history.push(c);
        history.shift();
        if (c === lm.boundary) history.fill(BOW, 0, history.length - 1);
      }
    }
    return lm;
  }

  /** Trains on a UTF-8 text file, one sequence per line. */
  static fromJSON(json: CharNgramLmJson): CharNgramLm {
    if (json.className !== 'CharNgramLm')
      throw new CtcInputError(`className: '${json.className}'; expected 'CharNgramLm'`);
    const lm = new CharNgramLm({ order: json.order, alphabet: json.alphabet, wordBoundary: json.wordBoundary });
    json.ngrams.forEach((g, i) => {
      const next = g[json.order - 1]!;
      const count = g[json.order]!;
      if (
        g.length !== json.order + 1 ||
        !g.every(Number.isInteger) ||
        lm.alphabet[next] === undefined ||
        !(count > 0)
      ) {
        throw new CtcInputError(
          `ngrams[${i}]: [${g.join(', ')}] is not [context (order - 1 classes), next class, count > 0]`,
        );
      }
      lm.add(g.slice(0, json.order - 1), next, count);
    });
    return lm;
  }

  toJSON(): CharNgramLmJson {
    const ngrams: number[][] = [];
    for (const [key, next] of this.counts) {
      const context = key === '' ? [] : key.split(',').map(Number);
      if (context.length !== this.order - 1) continue;
      for (const [c, n] of next) ngrams.push([...context, c, n]);
    }
    const json: CharNgramLmJson = { className: 'CharNgramLm', order: this.order, alphabet: [...this.alphabet], ngrams };
    if (this.wordBoundary !== undefined) json.wordBoundary = this.wordBoundary;
    return json;
  }

  /** Natural-log probability of class `next` after the classes `prefix` (the start of a line). */
  logProb(prefix: readonly number[], next: number): number {
    return this.logProbs(prefix)[next] ?? -Infinity;
  }

  /** Natural-log probabilities of every class after `prefix`, indexed like the alphabet ('' entries: -Infinity). */
  logProbs(prefix: readonly number[]): Float64Array {
    const history = this.history(prefix);
    const p = Float64Array.from(this.alphabet, (ch) => (ch === '' ? 0 : 1 / this.vocabulary));
    for (let k = 0; k <= history.length; k++) {
      const key = history.slice(history.length - k).join(',');
      const counts = this.counts.get(key);
      if (!counts) break; // a longer context was never seen either
      const total = this.totals.get(key)!;
      const types = counts.size;
      for (let c = 0; c < p.length; c++) p[c] = ((counts.get(c) ?? 0) + types * p[c]!) / (total + types);
    }
    return p.map(Math.log);
  }

  /**
   * The model as a beam-search scorer. It computes the whole distribution of a context once and reuses it while
   * the calls keep the same last order - 1 labels (a beam search asks for every class after each new prefix).
   */
  scorer(): LmScorer {
    const context = new Int32Array(this.order - 1);
    let dist: Float64Array | null = null;
    return (prefix, next) => {
      const history = this.history(prefix);
      let same = dist !== null;
      history.forEach((c, k) => {
        if (context[k] !== c) [same, context[k]] = [false, c];
      });
      if (!same) dist = this.logProbs(prefix);
      return dist![next] ?? -Infinity;
    };
  }

  /**
   * The last order - 1 classes of `prefix`, padded on the left with the start-of-line marker; with a word boundary,
   * everything before the last boundary in them is the start-of-word marker (as `train` counts them).
   */
  private history(prefix: readonly number[]): number[] {
    const n = this.order - 1;
    const h = Array.from({ length: n }, (_, k) => (prefix.length - n + k >= 0 ? prefix[prefix.length - n + k]! : BOS));
    const last = h.lastIndexOf(this.boundary);
    if (last > 0) h.fill(BOW, 0, last);
    return h;
  }

  /** Adds `count` occurrences of `next` after `context` (length order - 1) to every order. */
  private add(context: readonly number[], next: number, count: number): void {
    for (let k = 0; k <= context.length; k++) {
      const key = context.slice(context.length - k).join(',');
      let m = this.counts.get(key);
      if (!m) this.counts.set(key, (m = new Map()));
      m.set(next, (m.get(next) ?? 0) + count);
      this.totals.set(key, (this.totals.get(key) ?? 0) + count);
    }
  }
}
