/** The HTML entities that occur in the State of the Union texts (a few 19th-century addresses keep them). */
const ENTITIES: Record<string, string> = {
  quot: '"',
  amp: '&',
  apos: "'",
  lt: '<',
  gt: '>',
  nbsp: ' ',
  mdash: '\u2014',
  ndash: '\u2013',
  hellip: '\u2026',
};

/** Typographic characters and their ASCII equivalents (an em dash is written "--", as the recent addresses do). */
const TO_ASCII: Record<string, string> = {
  '\u2018': "'",
  '\u2019': "'",
  '\u201a': "'",
  '\u201b': "'",
  '`': "'",
  '\u00b4': "'",
  '\u2032': "'",
  '\u201c': '"',
  '\u201d': '"',
  '\u201e': '"',
  '\u201f': '"',
  '\u2033': '"',
  '\u2010': '-',
  '\u2011': '-',
  '\u2012': '-',
  '\u2013': '-',
  '\u2212': '-',
  '\u2014': '--',
  '\u2015': '--',
  '\u2026': '...',
};
const TYPOGRAPHIC = new RegExp(`[${Object.keys(TO_ASCII).join('')}]`, 'g');

/**
 * Plain text as the dataset writes it: HTML entities decoded, Unicode NFC, typographic quotes, dashes and
 * ellipses as ASCII, every run of white space (non-breaking included) one space, no space at either end.
 * Other characters (accented letters, the degree sign) are kept: lines holding them are dropped later.
 */
export function normalizeText(raw: string): string {
  return raw
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
      if (e[0] !== '#') return ENTITIES[e.toLowerCase()] ?? m;
      const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return code <= 0x10ffff ? String.fromCodePoint(code) : m;
    })
    .normalize('NFC')
    .replace(TYPOGRAPHIC, (c) => TO_ASCII[c]!)
    .replace(/\s+/g, ' ')
    .trim();
}
