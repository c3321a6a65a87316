/**
 * CTC loss + gradient speed on the two shapes of issue 17, ours and PyTorch's side by side in one run.
 *
 * Run from the repo root (PyTorch from Debian's python3-torch 1.13; never a test or CI dependency):
 *   node --import tsx --conditions=@scriptorium/source tools/bench/ctc.ts [--rounds 5] [--seconds 1] [--no-torch]
 *
 * Each round measures, per shape: the public `ctcLoss` op under `tf.grad` as a user calls it (logits tensor in,
 * gradient read back with dataSync; log-softmax and the tfjs wrapping included) on the wasm and the cpu backend,
 * `ctcForwardBackward` alone on typed arrays, and PyTorch's log_softmax + ctc_loss + backward with 2 threads and 1
 * thread (tools/bench/ctc_torch.py --serve, a child process that waits while ours runs). Rounds alternate so that
 * a shared machine's load affects both alike; each measurement is the mean ms per iteration over `--seconds` after a
 * warm-up (ours: 3 iterations and a fifth of that time; PyTorch: 3 iterations). The table gives the median over
 * rounds of each, and the ratio PyTorch 2 threads / ours paired within each round (then the median over rounds),
 * with the load average (`uptime`) at the start of each round.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, Rng } from '@scriptorium/runtime';
import { ctcForwardBackward, ctcLoss } from '@scriptorium/ctc';

type Shape = readonly [batch: number, time: number, classes: number, labelLength: number];
const SHAPES: Shape[] = [
  [16, 128, 80, 40],
  [32, 500, 100, 100],
];
const SERIES = ['op wasm', 'op cpu', 'ctcForwardBackward', 'torch 2 threads', 'torch 1 thread'] as const;
type Series = (typeof SERIES)[number];

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** Mean ms per call over at least `seconds` (and 5 calls), after warming up for 3 calls and a fifth of that time. */
function time(fn: () => void, seconds: number): number {
  const warm = performance.now() + seconds * 200;
  for (let i = 0; i < 3 || performance.now() < warm; i++) fn();
  let iters = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    fn();
    iters++;
    elapsed = performance.now() - start;
  } while (elapsed < seconds * 1000 || iters < 5);
  return elapsed / iters;
}

/** PyTorch in a child process, one JSON request and answer per line (ctc_torch.py --serve). */
function startTorch(): {
  measure: (shape: Shape, threads: number, seconds: number) => Promise<number>;
  stop: () => void;
} {
  const child = spawn('/usr/bin/python3', ['tools/bench/ctc_torch.py', '--serve'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return {
    async measure(shape, threads, seconds) {
      child.stdin!.write(`${JSON.stringify({ shape, threads, seconds })}\n`);
      const { value, done } = await lines.next();
      if (done) throw new Error('tools/bench/ctc_torch.py --serve exited (is python3-torch installed?)');
      return (JSON.parse(value as string) as { ms: number }).ms;
    },
    stop: () => child.stdin!.end(),
  };
}

function inputs([B, T, C, L]: Shape) {
  const rng = new Rng(0);
  const logits = Float32Array.from({ length: B * T * C }, () => rng.normal());
  const labels = Array.from({ length: B }, () => Array.from({ length: L }, () => 1 + rng.int(C - 1)));
  const logitLengths = new Array<number>(B).fill(T);
  return { logits, labels, logitLengths };
}

/** ms per iteration of the op with its gradient, as a user calls it, on `backend`. */
function timeOp(backend: 'wasm' | 'cpu', shape: Shape, seconds: number): number {
  tf.setBackend(backend);
  const [B, T, C] = shape;
  const { logits, labels, logitLengths } = inputs(shape);
  const x = tf.tensor3d(logits, [B, T, C]);
  const grad = tf.grad((v: tf.Tensor) => ctcLoss({ logits: v as tf.Tensor3D, labels, logitLengths }));
  const ms = time(() => {
    const g = grad(x);
    g.dataSync();
    g.dispose();
  }, seconds);
  x.dispose();
  return ms;
}

function timeForwardBackward(shape: Shape, seconds: number): number {
  const [B, T, C] = shape;
  const { logits, labels, logitLengths } = inputs(shape);
  return time(() => ctcForwardBackward({ logits, shape: [B, T, C], labels, logitLengths }), seconds);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

async function main(): Promise<void> {
  const rounds = arg('--rounds', 5);
  const seconds = arg('--seconds', 1);
  const withTorch = !process.argv.includes('--no-torch');
  await initBackend({ backend: 'cpu', log: null });
  await initBackend({ backend: 'wasm', log: null });
  const torch = withTorch ? startTorch() : null;
  const results = new Map<string, number[]>();
  const record = (shape: Shape, series: Series, ms: number) => {
    const key = `${shape.join(',')}|${series}`;
    results.set(key, [...(results.get(key) ?? []), ms]);
    process.stdout.write(` ${series} ${ms.toFixed(2)}`);
  };
  const loads: string[] = [];
  for (let round = 1; round <= rounds; round++) {
    const load = os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
    loads.push(load);
    for (const shape of SHAPES) {
      process.stdout.write(`round ${round} (load ${load}) [${shape.join(',')}]:`);
      record(shape, 'op wasm', timeOp('wasm', shape, seconds));
      if (torch) record(shape, 'torch 2 threads', await torch.measure(shape, 2, seconds));
      record(shape, 'op cpu', timeOp('cpu', shape, seconds));
      if (torch) record(shape, 'torch 1 thread', await torch.measure(shape, 1, seconds));
      record(shape, 'ctcForwardBackward', timeForwardBackward(shape, seconds));
      process.stdout.write(' ms/iter\n');
    }
  }
  torch?.stop();
  console.log(
    `\nload average (1, 5, 15 min) at the start of each round: ${loads.join('; ')}; now ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(
    `median over ${rounds} rounds, ms per iteration; ratio = PyTorch 2 threads / ours within each round (above 1, ours is ` +
      `faster), median over rounds\n`,
  );
  console.log(
    '| shape | op wasm | op cpu | ctcForwardBackward | PyTorch 2 threads | PyTorch 1 thread | ratio wasm | ratio cpu |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const shape of SHAPES) {
    const m = (s: Series) => median(results.get(`${shape.join(',')}|${s}`) ?? [NaN]);
    const [B, T, C, L] = shape;
    const cells = [m('op wasm'), m('op cpu'), m('ctcForwardBackward'), m('torch 2 threads'), m('torch 1 thread')];
    const series = (s: Series) => results.get(`${shape.join(',')}|${s}`) ?? [];
    const ratio = (ours: Series) => {
      const torch2 = series('torch 2 threads');
      return `${median(series(ours).map((ms, round) => torch2[round]! / ms)).toFixed(2)}x`;
    };
    console.log(
      `| [B${B}, T${T}, C${C}, L${L}] | ${cells.map((v) => v.toFixed(2)).join(' | ')} | ${ratio('op wasm')} | ${ratio('op cpu')} |`,
    );
  }
}

await main();
