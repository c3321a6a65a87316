/**
 * Line-pipeline throughput on one core, in lines/s: decode + normalisation and augmentation, for
 * ~1,000-px-wide lines normalised to 64 px high. Grey PNG decodes in JavaScript (png.ts) and the rest is
 * typed-array code on the main thread; sharp decodes everything else (the RGB row).
 *
 * Run from the repo root (UV_THREADPOOL_SIZE=1: sharp runs its work on libuv's pool, so one pool thread
 * plus sharp.concurrency(1) keeps its decoding on one core; lines are processed one at a time, except in the
 * last row, which goes through a Prefetcher):
 *   UV_THREADPOOL_SIZE=1 node --import tsx --conditions=@scriptorium/source tools/bench/data.ts [--seconds 4]
 *
 * The lines are 50 synthetic lines of 20 to 24 real MNIST digits composed 96 px high (a scan's resolution),
 * kept as PNG buffers in memory and written to a temporary folder.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { Rng } from '@scriptorium/runtime/rng';
import {
  AUGMENT_PRESETS,
  augmentLine,
  mnistLines,
  type Dataset,
  decodeImage,
  loadLine,
  type LineImage,
  Prefetcher,
} from '@scriptorium/data';

const SECONDS = (() => {
  const i = process.argv.indexOf('--seconds');
  return i >= 0 ? Number(process.argv[i + 1]) : 4;
})();
const LINES = 50;
const preprocess = { height: 64 };

sharp.concurrency(1);
if (process.env.UV_THREADPOOL_SIZE !== '1')
  console.warn('note: UV_THREADPOOL_SIZE is not 1, decoding may use more than one core');

/** Ink-dark-on-white 8-bit grey PNG of a line image. */
async function encodePng(img: LineImage): Promise<Buffer> {
  const bytes = Buffer.from(Uint8Array.from(img.data, (v) => 255 - Math.round(Math.min(1, Math.max(0, v)) * 255)));
  return sharp(bytes, { raw: { width: img.width, height: img.height, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toBuffer();
}

/** Calls `step` (which processes some lines and returns how many) for SECONDS after a warm-up of LINES lines. */
async function measure(step: (k: number) => Promise<number>): Promise<{ lines: number; seconds: number; cpu: number }> {
  for (let warm = 0; warm < LINES; ) warm += await step(warm);
  const cpu0 = process.cpuUsage(),
    t0 = performance.now();
  let lines = 0;
  while (performance.now() - t0 < SECONDS * 1000) lines += await step(lines);
  const seconds = (performance.now() - t0) / 1000,
    cpu = process.cpuUsage(cpu0);
  return { lines, seconds, cpu: (cpu.user + cpu.system) / 1e6 / seconds };
}

/** One line at a time, round-robin over the lines. */
const each = (fn: (k: number) => Promise<unknown> | unknown) => async (k: number) => (await fn(k % LINES), 1);

const dir = mkdtempSync(path.join(tmpdir(), 'bench-data-'));
try {
  const lines = mnistLines({ split: 'train', count: LINES, seed: 1, height: 96, minDigits: 20, maxDigits: 24 });
  const composed = Array.from({ length: LINES }, (_, i) => lines.compose(i).image);
  const pngs = await Promise.all(composed.map(encodePng));
  // The same lines as 8-bit RGB PNG, which the JavaScript decoder leaves to sharp.
  const rgbPngs = await Promise.all(pngs.map((png) => sharp(png).toColourspace('srgb').png().toBuffer()));
  const files = pngs.map((png, i) => {
    const file = path.join(dir, `line-${i}.png`);
    writeFileSync(file, png);
    return file;
  });
  const normalised = await Promise.all(pngs.map((png) => loadLine(png, preprocess)));
  const bad = normalised.find((n) => n.data.length !== n.width * n.height);
  if (bad)
    throw new Error(
      `loadLine returned ${bad.data.length} values for ${bad.width} x ${bad.height} px (expected one per pixel)`,
    );
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  console.log(
    `${LINES} lines: source ${mean(composed.map((c) => c.width)).toFixed(0)} x 96 px, PNG ${(mean(pngs.map((p) => p.length)) / 1024).toFixed(1)} KiB, ` +
      `normalised ${mean(normalised.map((n) => n.width)).toFixed(0)} x 64 px; ${SECONDS} s per row, UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE ?? '(default 4)'}\n`,
  );

  const augment = AUGMENT_PRESETS.default!;
  const rng = new Rng(1);
  // The Prefetcher row overlaps decoding (on the one libuv thread) with augmentation (on the main thread).
  const dataset: Dataset = {
    name: 'bench',
    size: LINES,
    id: (i) => `line-${i}`,
    text: () => '',
    load: async (i) => ({ id: `line-${i}`, text: '', image: await loadLine(pngs[i]!, preprocess) }),
  };
  const batches = function* () {
    for (let k = 0; ; k += 8) yield Array.from({ length: 8 }, (_, j) => (k + j) % LINES);
  };
  const prefetcher = new Prefetcher(dataset, batches(), { depth: 2, concurrency: 4, augment, seed: 1 });
  const rows: Array<[string, (k: number) => Promise<number>]> = [
    ['decode (PNG buffer)', each((k) => decodeImage(pngs[k]!))],
    ['(a) decode + normalise (PNG buffer)', each((k) => loadLine(pngs[k]!, preprocess))],
    ['(a) decode + normalise (PNG file)', each((k) => loadLine(files[k]!, preprocess))],
    ['(a) decode + normalise (RGB PNG buffer: sharp decodes)', each((k) => loadLine(rgbPngs[k]!, preprocess))],
    [
      '(b) decode + normalise + augment default (PNG buffer)',
      each(async (k) => augmentLine(await loadLine(pngs[k]!, preprocess), augment, rng)),
    ],
    [
      '(b) decode + normalise + augment default (PNG file)',
      each(async (k) => augmentLine(await loadLine(files[k]!, preprocess), augment, rng)),
    ],
    ['(c) augment default alone (normalised, cached)', each((k) => augmentLine(normalised[k]!, augment, rng))],
    [
      '(b) through a Prefetcher (batches of 8, depth 2, concurrency 4)',
      async () => (await prefetcher.next()).value!.length,
    ],
  ];
  console.log('| stage | lines | lines/s | ms/line | CPU/wall |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const [name, fn] of rows) {
    const r = await measure(fn);
    console.log(
      `| ${name} | ${r.lines} | ${(r.lines / r.seconds).toFixed(0)} | ${((r.seconds * 1000) / r.lines).toFixed(2)} | ${r.cpu.toFixed(2)} |`,
    );
  }
  await prefetcher.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
