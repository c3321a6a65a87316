/**
 * The characters of the textlines dataset, in code-point order: space, the ASCII letters and digits, and the
 * ASCII punctuation that occurs at least 10 times in the normalised State of the Union text, which every one
 * of the 24 fonts has a glyph for. Left out (a corpus line holding one is dropped):
 * - '%' (61 times): Covered By Your Grace has no glyph for it;
 * - '_' (67 times): fill-in blanks and table rules ("____"), not writing;
 * - '*' (5 times, as "* * *") and '@' (twice, a typo), below the threshold;
 * - non-ASCII: the degree sign (14 times), a few accented letters, a bullet and a control character.
 */
export const TEXTLINES_CHARSET = ' !"$&\'()+,-./0123456789:;?ABCDEFGHIJKLMNOPQRSTUVWXYZ[]abcdefghijklmnopqrstuvwxyz';

const allowed = new Set(TEXTLINES_CHARSET);

/** Whether every character of `text` is in TEXTLINES_CHARSET. */
export function inCharset(text: string): boolean {
  for (const c of text) if (!allowed.has(c)) return false;
  return true;
}
