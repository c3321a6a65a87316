// One pham2014 training step (forward, CTC, backward, Adadelta) on wasm with the MDLSTM layers run by the
// JavaScript orders (what 'auto' picked before the SIMD kernel: cells below 4 units, diagonals from 4) and by
// the SIMD kernel, and with the SIMD kernel but tfjs-layers' Dense in place of the Projection layers (the model
// before Projection's explicit-transpose gradient), on the same weights and batch, in interleaved rounds
// (medians), so that the machine's load hits all alike. Shapes as the PyTorch peer of issue 17 builds them: uniform lines of random pixels,
// 80 classes, labels of width/24 characters, dropout 0.5. With --torch, the PyTorch peer
// (tools/bench/mdlstm_pham_torch.py, Debian's python3-torch, 1 and 2 threads) takes its turn in every round.
// Run: node --import tsx --conditions=@scriptorium/source tools/bench/mdlstm-pham-step.ts [rounds] [--torch] [--no-js]
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { Adadelta } from '@scriptorium/adadelta';
import { Alphabet, collate, type LineSample } from '@scriptorium/data';
import { autoImplementation, MDLSTM } from '@scriptorium/mdlstm';
import { buildModel, HtrModel } from '@scriptorium/models';
import { initBackend } from '@scriptorium/runtime';

const args = process.argv.slice(2);
const VARIANTS = ['javascript', 'simd', 'simd, tfl Dense'] as const;
type Variant = (typeof VARIANTS)[number];
const withTorch = args.includes('--torch');
// --no-js: leave out the JavaScript orders (2.5 to 3x slower than the kernel), for quicker runs.
const variants: Variant[] = VARIANTS.filter((v) => v !== 'javascript' || !args.includes('--no-js'));
const ROUNDS = Number(args.find((a) => !a.startsWith('--')) ?? 5);
const TORCH_THREADS = [1, 2];
const CLASSES = 80;
// 79 characters and the blank.
const alphabet = new Alphabet(Array.from({ length: CLASSES - 1 }, (_, k) => String.fromCharCode(33 + k)));

/** Deterministic uniform values in [0, 1) (an LCG), so that every run sees the same lines. */
function uniform(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

function randomLines(count: number, height: number, width: number): LineSample[] {
  const chars = Math.round(width / 24);
  return Array.from({ length: count }, (_, i) => {
    const idx = uniform(chars, 100 + i);
    const text = Array.from(idx, (v) => alphabet.chars[Math.floor(v * alphabet.chars.length)]!).join('');
    return { id: `random-${i}`, text, image: { data: uniform(height * width, i + 1), height, width } };
  });
}

function setVariant(m: HtrModel, v: Variant): void {
  for (const l of m.model.layers) {
    if (l instanceof MDLSTM)
      l.implementation = v === 'javascript' ? autoImplementation('wasm', l.units, false) : 'simd';
  }
}

/** The same model with tfjs-layers' Dense layers where it has Projection layers (same weights, same math). */
async function withDenseLayers(m: HtrModel): Promise<HtrModel> {
  const json = m.model.toJSON(null, false) as unknown as { config: { layers: Array<{ class_name: string }> } };
  for (const layer of json.config.layers) if (layer.class_name === 'Projection') layer.class_name = 'Dense';
  const copy = await tfl.models.modelFromJSON({ modelTopology: json as unknown as tf.io.ModelJSON['modelTopology'] });
  copy.setWeights(m.model.getWeights());
  return new HtrModel(m.arch, { ...m.built, model: copy });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** The PyTorch peer as a child process answering one JSON request per line (see mdlstm_pham_torch.py). */
function torchPeer(): (
  shape: [number, number, number],
  threads: number,
  steps: number,
) => Promise<{ ms: number; torch: string }> {
  const child = spawn('/usr/bin/python3', ['tools/bench/mdlstm_pham_torch.py', '--serve'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  process.on('exit', () => child.kill());
  return async (shape, threads, steps) => {
    child.stdin.write(`${JSON.stringify({ shape, threads, steps })}\n`);
    const line = await lines.next();
    if (line.done)
      throw new Error('tools/bench/mdlstm_pham_torch.py --serve ended without an answer (is python3-torch installed?)');
    return JSON.parse(line.value) as { ms: number; torch: string };
  };
}
const torch = withTorch ? torchPeer() : undefined;

async function shape(count: number, height: number, width: number, reps: number): Promise<string[]> {
  const m = buildModel('pham2014', { alphabetSize: alphabet.size, height, seed: 1 });
  const dense = await withDenseLayers(m);
  const models: Record<Variant, { model: HtrModel; opt: Adadelta }> = {
    javascript: { model: m, opt: new Adadelta() },
    simd: { model: m, opt: new Adadelta() },
    'simd, tfl Dense': { model: dense, opt: new Adadelta() },
  };
  const batch = collate(randomLines(count, height, width), alphabet, { padWidthTo: m.widthMultiple });
  const step = (v: Variant) => {
    const { model, opt } = models[v];
    setVariant(model, v);
    const { grads } = model.lossAndGrads(batch, { dropoutSeed: 1 });
    opt.applyGradients(grads);
    tf.dispose(Object.values(grads));
  };
  const times: Record<string, number[]> = {};
  let torchVersion = '';
  for (const v of variants) step(v); // warm-up
  for (let r = 0; r < ROUNDS; r++) {
    for (const v of variants) {
      const t0 = performance.now();
      for (let k = 0; k < reps; k++) step(v);
      (times[v] ??= []).push((performance.now() - t0) / reps);
    }
    for (const threads of torch ? TORCH_THREADS : []) {
      const answer = await torch!([count, height, width], threads, reps);
      (times[`torch${threads}`] ??= []).push(answer.ms);
      torchVersion = answer.torch;
    }
  }
  tf.disposeVariables();
  const simd = median(times.simd!);
  const what = `${count} lines ${height}x${width}`;
  const row = (name: string, ms: number) =>
    `| ${what} | ${name} | ${ms.toFixed(0)} | ${((count * 1000) / ms).toFixed(1)} | ${(ms / simd).toFixed(2)}x |`;
  const names: Record<Variant, string> = {
    javascript: 'Scriptorium, MDLSTM in the JavaScript orders (cells at 2 units, diagonals at 10 and 50)',
    simd: 'Scriptorium, MDLSTM in the SIMD kernel',
    'simd, tfl Dense': 'Scriptorium, SIMD kernel, tfl Dense layers (generic matMul gradient)',
  };
  return [
    ...variants.map((v) => row(names[v], median(times[v]!))),
    ...(torch
      ? TORCH_THREADS.map((t) =>
          row(`PyTorch ${torchVersion} CPU, ${t} thread${t > 1 ? 's' : ''}`, median(times[`torch${t}`]!)),
        )
      : []),
  ];
}

await initBackend({ backend: 'wasm', log: null });
const rows = [
  '| shape | implementation | ms/step (median) | lines/s | time / SIMD time |',
  '| --- | --- | ---: | ---: | ---: |',
];
rows.push(...(await shape(16, 32, 256, 3)));
rows.push(...(await shape(8, 64, 1024, 1)));
console.log(
  `wasm, ${ROUNDS} interleaved rounds; pham2014, ${buildModel('pham2014', { alphabetSize: CLASSES, height: 32 }).model.countParams()} parameters\n`,
);
console.log(rows.join('\n'));
process.exit(0);
