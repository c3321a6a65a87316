import { DataError } from './errors.js';

export interface AlphabetJson {
  format: 'scriptorium-alphabet';
  version: 1;
  /** Characters of classes 1..n (class 0 is the CTC blank). */
  chars: string[];
}

/** What to do with characters not in the alphabet: throw (default) or drop them. */
export type UnknownPolicy = 'error' | 'drop';

/**
 * Characters (Unicode code points, NFC) <-> class ids. Class 0 is the CTC blank; characters follow in
 * code-point order, so the same texts always give the same alphabet.
 */
export class Alphabet {
  readonly blank = 0;
  readonly chars: readonly string[];
  private readonly index: Map<string, number>;

  constructor(chars: readonly string[]) {
    const seen = new Set<string>();
    for (const c of chars) {
      if ([...c].length !== 1) throw new DataError(`alphabet: entry ${JSON.stringify(c)} is not a single character`);
      if (seen.has(c)) throw new DataError(`alphabet: character ${JSON.stringify(c)} appears twice`);
      seen.add(c);
    }
    this.chars = [...chars];
    this.index = new Map(this.chars.map((c, i) => [c, i + 1]));
  }

  static fromTexts(texts: Iterable<string>): Alphabet {
    const set = new Set<string>();
    for (const t of texts) for (const c of t.normalize('NFC')) set.add(c);
    return new Alphabet([...set].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!));
  }

  /** Number of classes, blank included. */
  get size(): number {
    return this.chars.length + 1;
  }

  encode(text: string, policy: UnknownPolicy = 'error'): number[] {
    const ids: number[] = [];
    const unknown = new Set<string>();
    for (const c of text.normalize('NFC')) {
      const id = this.index.get(c);
      if (id !== undefined) ids.push(id);
      else unknown.add(c);
    }
    if (unknown.size && policy === 'error') {
      throw new DataError(
        `characters not in the alphabet: ${[...unknown].map((c) => JSON.stringify(c)).join(', ')} in ${JSON.stringify(text)}`,
      );
    }
    return ids;
  }

  decode(ids: readonly number[]): string {
    return ids
      .map((id) => {
        if (id === this.blank) return '';
        const c = this.chars[id - 1];
        if (c === undefined) throw new DataError(`alphabet: class id ${id} is out of range (1..${this.chars.length})`);
        return c;
      })
      .join('');
  }

  equals(other: Alphabet): boolean {
    return this.chars.length === other.chars.length && this.chars.every((c, i) => c === other.chars[i]);
  }

  toJSON(): AlphabetJson {
    return { format: 'scriptorium-alphabet', version: 1, chars: [...this.chars] };
  }

  static fromJSON(json: unknown, source = 'alphabet'): Alphabet {
    const j = json as Partial<AlphabetJson>;
    if (!j || j.format !== 'scriptorium-alphabet')
      throw new DataError(`${source}: not a Scriptorium alphabet (format field missing)`);
    if (j.version !== 1) throw new DataError(`${source}: alphabet version ${j.version} is not supported (expected 1)`);
    if (!Array.isArray(j.chars)) throw new DataError(`${source}: 'chars' must be an array of characters`);
    return new Alphabet(j.chars);
  }
}
