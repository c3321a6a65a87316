import type { Split } from '../mnist-lines.js';

export interface TextLineFont {
  /** The @fontsource package's font id, e.g. 'indie-flower'. */
  name: string;
  /** The npm package the font file comes from. */
  package: string;
  /** As the package's package.json states it. */
  license: 'OFL-1.1' | 'Apache-2.0';
  /** Who drew it (the package's metadata.json attribution), the "writer" that a split must not share. */
  designer: string;
  /** Print-like (letters apart) or cursive (joined, or half-joined like Caveat). */
  style: 'print' | 'cursive';
  /**
   * The font draws lowercase letters as small capitals (Permanent Marker, Rock Salt): its lines are written in
   * capitals and transcribed so, since a reader could not tell a small-capital 'o' from an 'O'.
   */
  capitals: boolean;
  split: Split;
}

const font = (
  name: string,
  license: TextLineFont['license'],
  designer: string,
  style: TextLineFont['style'],
  split: Split,
  capitals = false,
): TextLineFont => ({
  name,
  package: `@fontsource/${name}`,
  license,
  designer,
  style,
  capitals,
  split,
});

/**
 * The 24 handwriting fonts of the textlines dataset, each in exactly one split. Fonts by one designer are
 * variations of one hand (Kimberly Geswein's eight are her own handwriting), so a split is a set of designers,
 * not of fonts: train holds Geswein's and Font Diner's fonts and three single-font designers (16 fonts, 3
 * cursive); valid is Pablo Impallari's four (Dancing Script and Kaushan Script cursive, Caveat half-joined, Itim
 * print); test is four single-font designers (Marck Script cursive; Kalam, Patrick Hand and Reenie Beanie
 * print). Every split thus mixes print and cursive hands. Other handwriting fonts are kept out of this table
 * on purpose: they are reserved for an independent evaluation.
 */
export const TEXTLINE_FONTS: readonly TextLineFont[] = [
  font('architects-daughter', 'OFL-1.1', 'Kimberly Geswein', 'print', 'train'),
  font('cedarville-cursive', 'OFL-1.1', 'Kimberly Geswein', 'cursive', 'train'),
  font('covered-by-your-grace', 'OFL-1.1', 'Kimberly Geswein', 'print', 'train'),
  font('gloria-hallelujah', 'OFL-1.1', 'Kimberly Geswein', 'print', 'train'),
  font('indie-flower', 'OFL-1.1', 'Kimberly Geswein', 'print', 'train'),
  font('shadows-into-light', 'OFL-1.1', 'Kimberly Geswein', 'print', 'train'),
  font('swanky-and-moo-moo', 'OFL-1.1', 'Kimberly Geswein', 'print', 'train'),
  font('the-girl-next-door', 'OFL-1.1', 'Kimberly Geswein', 'print', 'train'),
  font('homemade-apple', 'Apache-2.0', 'Font Diner', 'cursive', 'train'),
  font('permanent-marker', 'Apache-2.0', 'Font Diner', 'print', 'train', true),
  font('rock-salt', 'Apache-2.0', 'Font Diner', 'print', 'train', true),
  font('satisfy', 'Apache-2.0', 'Font Diner', 'cursive', 'train'),
  font('schoolbell', 'Apache-2.0', 'Font Diner', 'print', 'train'),
  font('delius', 'OFL-1.1', 'Natalia Raices', 'print', 'train'),
  font('nanum-pen-script', 'OFL-1.1', 'Sandoll Communications', 'print', 'train'),
  font('short-stack', 'OFL-1.1', 'Sorkin Type', 'print', 'train'),
  font('caveat', 'OFL-1.1', 'Pablo Impallari', 'cursive', 'valid'),
  font('dancing-script', 'OFL-1.1', 'Pablo Impallari', 'cursive', 'valid'),
  font('kaushan-script', 'OFL-1.1', 'Pablo Impallari', 'cursive', 'valid'),
  font('itim', 'OFL-1.1', 'Cadson Demak and Pablo Impallari', 'print', 'valid'),
  font('marck-script', 'OFL-1.1', 'Denis Masharov', 'cursive', 'test'),
  font('kalam', 'OFL-1.1', 'Indian Type Foundry', 'print', 'test'),
  font('patrick-hand', 'OFL-1.1', 'Patrick Wagesreiter', 'print', 'test'),
  font('reenie-beanie', 'OFL-1.1', 'Typeco', 'print', 'test'),
];

/** The fonts of one split, in table order. */
export function fontsOfSplit(split: Split): TextLineFont[] {
  return TEXTLINE_FONTS.filter((f) => f.split === split);
}
