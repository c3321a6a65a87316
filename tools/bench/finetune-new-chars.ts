/**
 * Fine-tuning with new characters, measured: a digit model (the bundle `npm start` trains) is fine-tuned with
 * `train --init-from` on lines of MNIST digits with '+' and '-' (glyphs of the handwriting fonts), two characters
 * its alphabet lacks. Reported before and after: CER on held-out lines of that kind (digits of MNIST's test split,
 * symbols in fonts training never drew), how many '+' and '-' are read right (aligned to the reference), and CER on
 * the mnist-lines test split, the digits-only task it was trained on.
 *
 * Run from the repo root, after `npm start` (or with --model pointing at a digit bundle):
 *   node --import tsx --conditions=@scriptorium/source tools/bench/finetune-new-chars.ts [--model runs/demo/best] [--steps 1000] \
 *     [--out runs/finetune-plus-minus] [--variants all,output,rehearsal]
 * Variants: `all` fine-tunes every layer on the new lines; `output` only the output layer (--freeze the rest);
 * `rehearsal` every layer, each line drawn from mnist-lines training lines (the old task) with probability 0.5
 * (`--mix-data mnist-lines --mix-share 0.5`).
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import {
  DEFAULT_PREPROCESS,
  mnistDigitPools,
  normalizeLineSync,
  openDataset,
  splitRange,
  writeSplit,
  type Dataset,
  type LineImage,
} from '@scriptorium/data';
import { Recognizer } from '@scriptorium/models';
import { initBackend, Rng } from '@scriptorium/runtime';
import { train } from '../../apps/trainer/src/commands/train.js';
import { alignCharacters } from '../../apps/trainer/src/train/error-report.js';
import { evaluate, type EvalReport } from '../../apps/trainer/src/train/evaluate.js';
import { TRAIN_DEFAULTS } from '../../apps/trainer/src/train/options.js';
import { fontsOfSplit } from '../../packages/data/src/textlines/fonts.js';
import { renderTextLine } from '../../packages/data/src/textlines/render.js';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : dflt;
};
const MODEL = arg('model', 'runs/demo/best'),
  STEPS = Number(arg('steps', '1000')),
  OUT = arg('out', 'runs/finetune-plus-minus');
const VARIANTS = arg('variants', 'all,output,rehearsal').split(',');
const SIZE = 28;

/** A '+' or '-' in a font, drawn at MNIST's scale (the em over 28 rows), cut to its ink columns; ink high. */
function symbol(ch: string, font: string, rng: Rng): LineImage {
  const img = renderTextLine({
    text: ch,
    font,
    fontSize: SIZE * rng.uniform(0.9, 1.2),
    letterSpacing: 0,
    wordSpacing: 1,
    slant: rng.uniform(-0.2, 0.2),
    drift: { amplitude: 0, period: 30, phase: 0 },
    glyphJitter: 0,
    stroke: 0,
    ink: 1,
    paper: 0,
    noise: 0,
    pixelSeed: rng.uint32(),
  });
  return normalizeLineSync(img, { height: SIZE, cropMargins: false, contrastNormalize: true });
}

/** Lines of 3 to 8 tokens: MNIST digits of `split`, and '+' or '-' (15% each token) in the split's fonts. */
function plusMinusLines(split: 'train' | 'valid' | 'test', count: number, seed: number): Dataset {
  const pools = mnistDigitPools(),
    fonts = fontsOfSplit(split).map((f) => f.name);
  const compose = (i: number) => {
    const rng = new Rng(seed * 1_000_003 + i);
    const tokens: string[] = [];
    for (let n = 3 + rng.int(6), k = 0; k < n; k++)
      tokens.push(rng.next() < 0.3 ? '+-'[rng.int(2)]! : String(rng.int(10)));
    const font = fonts[rng.int(fonts.length)]!;
    const parts = tokens.map((t): LineImage => {
      if (t === '+' || t === '-') return symbol(t, font, rng);
      const d = Number(t),
        [a, b] = splitRange(d, split),
        k = a + rng.int(b - a);
      return { data: pools[d]!.subarray(k * SIZE * SIZE, (k + 1) * SIZE * SIZE), width: SIZE, height: SIZE };
    });
    const gaps = parts.map(() => 1 + rng.int(6));
    const width = parts.reduce((w, p, k) => w + p.width + gaps[k]!, 4);
    const data = new Float32Array(width * SIZE);
    let x = 2;
    parts.forEach((p, k) => {
      for (let y = 0; y < SIZE; y++)
        for (let c = 0; c < p.width; c++)
          data[y * width + x + c] = Math.max(data[y * width + x + c]!, p.data[y * p.width + c]!);
      x += p.width + gaps[k]!;
    });
    return {
      id: `plus-minus-${split}-${i}`,
      text: tokens.join(''),
      image: normalizeLineSync({ data, width, height: SIZE }, DEFAULT_PREPROCESS),
    };
  };
  return {
    name: `plus-minus:${split}`,
    size: count,
    id: (i) => `plus-minus-${split}-${i}`,
    text: (i) => compose(i).text,
    load: async (i) => compose(i),
  };
}

/** Of the '+' and '-' in the references, how many the hypotheses have in their place (minimum-edit alignment). */
function symbolRecall(report: EvalReport): string {
  let seen = 0,
    right = 0;
  for (const l of report.lines) {
    for (const op of alignCharacters([...l.ref], [...l.hyp])) {
      if (op.ref !== '+' && op.ref !== '-') continue;
      seen++;
      if (op.kind === 'match') right++;
    }
  }
  return `${right} of ${seen} (${((100 * right) / Math.max(1, seen)).toFixed(1)}%)`;
}

await initBackend({ backend: 'wasm', log: null });
const dir = path.join(OUT, 'data');
await rm(OUT, { recursive: true, force: true });
const manifests = {
  train: await writeSplit(plusMinusLines('train', 4000, 1), path.join(dir, 'train')),
  valid: await writeSplit(plusMinusLines('valid', 200, 2), path.join(dir, 'valid')),
};
const test = plusMinusLines('test', 300, 3);
const score = async (bundle: string) => {
  const rec = await Recognizer.load(bundle);
  const digits = await openDataset('mnist-lines', {
    split: 'test',
    count: 300,
    seed: 12345,
    preprocess: rec.meta.preprocess,
  });
  const [pm, dg] = [await evaluate(rec, test), await evaluate(rec, digits)];
  return `plus-minus test CER ${(100 * pm.cer).toFixed(2)}%, '+'/'-' read ${symbolRecall(pm)}; mnist-lines test CER ${(100 * dg.cer).toFixed(2)}%`;
};
console.log(`before (${MODEL}): ${await score(MODEL)}`);
// Every layer; only the output layer (the features kept as the digits taught them); every layer with the old task's
// lines mixed in: what each buys and costs.
const RUNS: Record<string, { name: string; freeze?: string[]; mixData?: string; mixShare?: number }> = {
  all: { name: 'all layers' },
  output: {
    name: 'output layer only (--freeze mdlstm1,conv1,mdlstm2,conv2,mdlstm3)',
    freeze: ['mdlstm1', 'conv1', 'mdlstm2', 'conv2', 'mdlstm3'],
  },
  rehearsal: {
    name: 'all layers, half the lines mnist-lines (rehearsal: --mix-data mnist-lines --mix-share 0.5)',
    mixData: 'mnist-lines',
    mixShare: 0.5,
  },
};
for (const v of VARIANTS) {
  const run = RUNS[v];
  if (!run) throw new Error(`--variants: unknown '${v}' (expected ${Object.keys(RUNS).join(', ')})`);
  const t0 = Date.now();
  const summary = await train(
    {
      ...TRAIN_DEFAULTS,
      data: `manifest:${manifests.train}`,
      valid: `manifest:${manifests.valid}`,
      initFrom: MODEL,
      freeze: run.freeze,
      mixData: run.mixData,
      mixShare: run.mixShare,
      model: { arch: 'pham2014', modelOptions: { dropout: 0 } },
      batch: 8,
      maxSteps: STEPS,
      evalEvery: 250,
      validLines: 200,
      workers: 0,
      out: path.join(OUT, `run-${v}`),
      backend: 'wasm',
      quiet: true,
    },
    { log: () => {} },
  );
  console.log(
    `fine-tuned ${run.name}: ${summary.steps} steps in ${((Date.now() - t0) / 60_000).toFixed(1)} min (batch 8), best ${summary.bestDir}: ${await score(summary.bestDir)}`,
  );
}
