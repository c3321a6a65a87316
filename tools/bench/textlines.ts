/**
 * textlines throughput on one core: lines composed per second (layout, glyph placement, rasterising, stroke,
 * ink and noise, then normalisation to 32 px), over 500 training lines after a 50-line warm-up (which loads the
 * fonts and the corpus); and text(i), the layout alone.
 *
 *   node --import tsx --conditions=@scriptorium/source tools/bench/textlines.ts [--lines 500]
 */
import { textLines } from '@scriptorium/data';

const LINES = (() => {
  const i = process.argv.indexOf('--lines');
  return i >= 0 ? Number(process.argv[i + 1]) : 500;
})();

const ds = textLines({ split: 'train', count: LINES + 50, seed: 7 });
for (let i = LINES; i < LINES + 50; i++) ds.compose(i);
let width = 0,
  chars = 0;
const t0 = performance.now(),
  cpu0 = process.cpuUsage();
for (let i = 0; i < LINES; i++) {
  const s = ds.compose(i);
  width += s.image.width;
  chars += s.text.length;
}
const ms = performance.now() - t0,
  cpu = process.cpuUsage(cpu0).user / 1000;
const t1 = performance.now();
for (let i = 0; i < 10 * LINES; i++) ds.text(i % ds.size);
const textUs = ((performance.now() - t1) * 1000) / (10 * LINES);
console.log(
  `compose: ${((LINES * 1000) / ms).toFixed(0)} lines/s (${(ms / LINES).toFixed(2)} ms a line, ${(cpu / LINES).toFixed(2)} ms CPU)`,
);
console.log(
  `lines: ${(chars / LINES).toFixed(1)} characters, ${(width / LINES).toFixed(0)} px wide at 32 px on average; text(i): ${textUs.toFixed(1)} us`,
);
