/**
 * Chooses the LM weight and per-character bonus of beam decoding on a validation split: recognises the lines
 * greedily and with a beam and the character n-gram LM of the textlines training addresses for each
 * (weight, bonus) of a grid, and prints CER/WER per setting (the test split is left for the demo's report).
 *
 * Run from the repo root, after `npm run demo:text`:
 *   node --import tsx --conditions=@scriptorium/source tools/bench/lm-weights.ts [--model runs/demo-text/best] [--lines 200] [--beam 16]
 */
import { openDataset } from '@scriptorium/data';
import { Recognizer } from '@scriptorium/models';
import { initBackend } from '@scriptorium/runtime';
import { evaluateSamples, loadLines } from '../../apps/trainer/src/train/evaluate.js';
import { loadLm } from '../../apps/trainer/src/train/lm.js';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : dflt;
};
const MODEL = arg('model', 'runs/demo-text/best'),
  LINES = Number(arg('lines', '200')),
  BEAM = Number(arg('beam', '16'));

await initBackend({ backend: 'wasm', log: null });
const rec = await Recognizer.load(MODEL);
const valid = await loadLines(
  await openDataset('textlines', { split: 'valid', count: LINES, seed: 777, preprocess: rec.meta.preprocess }),
);
const lm = (await loadLm('textlines', rec.alphabet)).scorer();
const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
const greedy = await evaluateSamples(rec, valid);
console.log(
  `| decoding | weight | bonus | valid CER | valid WER |\n| --- | ---: | ---: | ---: | ---: |\n| greedy | | | ${pct(greedy.cer)} | ${pct(greedy.wer)} |`,
);
const plain = await evaluateSamples(rec, valid, { beam: BEAM });
console.log(`| beam ${BEAM}, no LM | | | ${pct(plain.cer)} | ${pct(plain.wer)} |`);
for (const weight of [0.3, 0.5, 0.8, 1.2])
  for (const bonus of [0, 0.5, 1, 2]) {
    const r = await evaluateSamples(rec, valid, { beam: BEAM, lm, lmWeight: weight, insertionBonus: bonus });
    console.log(`| beam ${BEAM} + LM | ${weight} | ${bonus} | ${pct(r.cer)} | ${pct(r.wer)} |`);
  }
