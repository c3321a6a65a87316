/**
 * Draws docs/images/textlines-samples.png: four lines of each textlines split (train, valid, test; seed 1, each
 * in another font), 48 px high, dark ink on white, stacked with a 6 px gap, and prints each line's split, index,
 * font and text.
 *
 *   node --import tsx --conditions=@scriptorium/source tools/textlines-samples.ts [out.png]
 */
import { textLines, writeLinePng, type LineImage } from '@scriptorium/data';

const OUT = process.argv[2] ?? 'docs/images/textlines-samples.png';
const HEIGHT = 48,
  GAP = 6,
  PER_SPLIT = 4;

const lines: LineImage[] = [];
for (const split of ['train', 'valid', 'test'] as const) {
  // The first lines of the dataset, but one per font, to show more hands.
  const ds = textLines({ split, count: 1000, seed: 1, height: HEIGHT });
  const fonts = new Set<string>();
  for (let i = 0; fonts.size < PER_SPLIT; i++) {
    const s = ds.compose(i);
    if (fonts.has(s.font)) continue;
    fonts.add(s.font);
    lines.push(s.image);
    console.log(`${split}\t${i}\t${s.font}\t${s.text}`);
  }
}
// One canvas, ink high (writeLinePng turns it dark on white): the lines left-aligned, one under another.
const width = Math.max(...lines.map((l) => l.width)) + 2 * GAP;
const height = lines.length * (HEIGHT + GAP) + GAP;
const data = new Float32Array(width * height);
lines.forEach((l, k) => {
  const top = GAP + k * (HEIGHT + GAP);
  for (let y = 0; y < l.height; y++) data.set(l.data.subarray(y * l.width, (y + 1) * l.width), (top + y) * width + GAP);
});
await writeLinePng({ data, width, height }, OUT);
console.log(`wrote ${OUT} (${width} x ${height})`);
