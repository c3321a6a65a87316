// MDLSTM speed: the fused typed-array op (cells, diagonals and simd implementations) and the wavefront of tfjs ops vs a per-cell scan built from tfjs ops
// and the float64 reference.
// Run: node --import tsx --conditions=@scriptorium/source tools/bench/mdlstm.ts [wasm|cpu ...]
// Side by side (the fast implementations only, interleaved rounds, medians):
//      node --import tsx --conditions=@scriptorium/source tools/bench/mdlstm.ts --compare [wasm|cpu ...]
import * as tf from '@tensorflow/tfjs-core';
import { mdlstm, mdlstmReference, type MDLSTMWeights } from '@scriptorium/mdlstm';
import { initBackend } from '@scriptorium/runtime';

const SIZES = [
  { units: 2, channels: 4, h: 32, w: 256 },
  { units: 10, channels: 6, h: 8, w: 128 },
  { units: 50, channels: 20, h: 2, w: 64 },
];
const BATCH = 8;

function weights(D: number, C: number, U: number): MDLSTMWeights {
  return {
    kernel: tf.randomUniform([D, C, 5 * U], -0.3, 0.3),
    recurrentKernel: tf.randomUniform([D, 2 * U, 5 * U], -0.3, 0.3),
    bias: tf.zeros([D, 5 * U]),
  };
}

async function timeIt(fn: () => void, minMs = 1500): Promise<number> {
  fn(); // warm-up
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < minMs || n < 2) {
    fn();
    n++;
  }
  return (performance.now() - t0) / n;
}

/**
 * Computes `f` and reads its result back. The values are read outside tf.tidy: a tidy returning a typed
 * array walks all its elements looking for tensors, which costs more than a small scan.
 */
function run(f: () => tf.Tensor): void {
  const t = tf.tidy(f);
  t.dataSync();
  t.dispose();
}

/** One direction ('tl') scanned cell by cell with tfjs ops: the naive implementation. */
function perCellScan(x: tf.Tensor4D, w: MDLSTMWeights, rows: number): tf.Tensor {
  const [B, , W, C] = x.shape;
  const U = w.kernel.shape[2]! / 5;
  const k = tf.squeeze(tf.slice(w.kernel, [0, 0, 0], [1, C, 5 * U]), [0]);
  const r = tf.squeeze(tf.slice(w.recurrentKernel, [0, 0, 0], [1, 2 * U, 5 * U]), [0]);
  const b = tf.squeeze(tf.slice(w.bias, [0, 0], [1, 5 * U]), [0]);
  const zero = tf.zeros([B, U]);
  let prevRowH: tf.Tensor[] = Array(W).fill(zero),
    prevRowC: tf.Tensor[] = Array(W).fill(zero);
  const outs: tf.Tensor[] = [];
  for (let i = 0; i < rows; i++) {
    const rowH: tf.Tensor[] = [],
      rowC: tf.Tensor[] = [];
    for (let j = 0; j < W; j++) {
      const xij = tf.reshape(tf.slice(x, [0, i, j, 0], [B, 1, 1, C]), [B, C]);
      const hx = j ? rowH[j - 1]! : zero,
        cx = j ? rowC[j - 1]! : zero;
      const a = tf.add(tf.add(tf.matMul(xij, k), tf.matMul(tf.concat([prevRowH[j]!, hx], 1), r)), b);
      const [ai, afy, afx, ao, ag] = tf.split(a, 5, 1);
      const c = tf.add(
        tf.mul(tf.sigmoid(ai!), tf.tanh(ag!)),
        tf.add(tf.mul(tf.sigmoid(afy!), prevRowC[j]!), tf.mul(tf.sigmoid(afx!), cx)),
      );
      const h = tf.mul(tf.sigmoid(ao!), tf.tanh(c));
      rowH.push(h);
      rowC.push(c);
      outs.push(h);
    }
    prevRowH = rowH;
    prevRowC = rowC;
  }
  return tf.stack(outs);
}

const args = process.argv.slice(2);
const compareMode = args.includes('--compare');
const backends = args.filter((a) => a !== '--compare').length ? args.filter((a) => a !== '--compare') : ['wasm', 'cpu'];
const lines: string[] = [];
if (compareMode) {
  for (const backend of backends) await compare(backend, lines);
  console.log(lines.join('\n'));
  process.exit(0);
}

/** Median of xs. */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/**
 * The fast implementations side by side on each layer size: ROUNDS rounds, each timing every implementation
 * in turn (forward, then forward + backward), so that a change in the machine's load hits all of them alike;
 * medians over the rounds.
 */
async function compare(backend: string, out: string[]): Promise<void> {
  const ROUNDS = 7;
  await initBackend({ backend, log: null });
  const impls = ['cells', 'diagonals', 'simd'] as const;
  const a = tf.randomNormal([512, 512]),
    bm = tf.randomNormal([512, 512]);
  const peak = (2 * 512 ** 3) / (await timeIt(() => run(() => tf.matMul(a, bm)), 1000)) / 1e6; // GFLOP/s
  tf.dispose([a, bm]);
  out.push(
    `\n### ${backend}: ${ROUNDS} interleaved rounds, median ms (matmul 512x512x512: ${peak.toFixed(2)} GFLOP/s)\n`,
  );
  out.push(
    '| grid (units, channels, HxW), batch 8 | implementation | forward ms | fwd+bwd ms | cells/s fwd+bwd | GFLOP/s fwd (% of matmul) | fwd+bwd vs cells |',
  );
  out.push('| --- | --- | ---: | ---: | ---: | ---: | ---: |');
  for (const s of SIZES) {
    const D = 4,
      U = s.units,
      C = s.channels;
    const x = tf.randomUniform([BATCH, s.h, s.w, C]) as tf.Tensor4D;
    const w = weights(D, C, U);
    const cells = BATCH * s.h * s.w * D;
    const flopsPerCell = 2 * C * 5 * U + 2 * 2 * U * 5 * U + 20 * U; // as in the full table below
    const fwdOf = (implementation: (typeof impls)[number]) => () =>
      run(() => mdlstm(x, w, { implementation }) as tf.Tensor);
    const bwdOf = (implementation: (typeof impls)[number]) => () =>
      tf.tidy(() => {
        const g = tf.grads((xx: tf.Tensor, k: tf.Tensor, r: tf.Tensor) =>
          tf.sum(mdlstm(xx, { kernel: k, recurrentKernel: r, bias: w.bias }, { implementation }) as tf.Tensor),
        )([x, w.kernel, w.recurrentKernel]);
        g.forEach((t) => t.dataSync());
      });
    const times = new Map(impls.map((i) => [i, { fwd: [] as number[], bwd: [] as number[] }]));
    for (const i of impls) {
      fwdOf(i)();
      bwdOf(i)();
    } // warm-up
    for (let r = 0; r < ROUNDS; r++) {
      for (const i of impls) {
        times.get(i)!.fwd.push(await timeIt(fwdOf(i), 300));
        times.get(i)!.bwd.push(await timeIt(bwdOf(i), 300));
      }
    }
    const cellsBwd = median(times.get('cells')!.bwd);
    for (const i of impls) {
      const f = median(times.get(i)!.fwd),
        b = median(times.get(i)!.bwd);
      const gflops = (cells * flopsPerCell) / f / 1e6;
      out.push(
        `| ${U}, ${C}, ${s.h}x${s.w} | ${i} | ${f.toFixed(1)} | ${b.toFixed(1)} | ${(cells / b / 1e3).toFixed(2)}M | ${gflops.toFixed(2)} (${((100 * gflops) / peak).toFixed(0)}%) | ${(cellsBwd / b).toFixed(1)}x |`,
      );
    }
    tf.dispose([x, w.kernel, w.recurrentKernel, w.bias]);
  }
}

for (const backend of backends) {
  await initBackend({ backend, log: null });
  // The backend's own matmul speed, for scale.
  const a = tf.randomNormal([512, 512]),
    bm = tf.randomNormal([512, 512]);
  const mmMs = await timeIt(() => run(() => tf.matMul(a, bm)), 1000);
  lines.push(`\n### ${backend} (matmul 512x512x512: ${((2 * 512 ** 3) / mmMs / 1e6).toFixed(2)} GFLOP/s)\n`);
  lines.push(
    '| grid (units, channels, HxW), batch 8 | implementation | forward ms | fwd+bwd ms | cells/s fwd | cells/s fwd+bwd | GFLOP/s fwd | per-cell tfjs scan fwd ms | speed-up vs per-cell | reference fwd ms |',
  );
  lines.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const s of SIZES) {
    const D = 4,
      U = s.units,
      C = s.channels;
    const x = tf.randomUniform([BATCH, s.h, s.w, C]) as tf.Tensor4D;
    const w = weights(D, C, U);
    const cells = BATCH * s.h * s.w * D; // cells of all four directions
    const flopsPerCell = 2 * C * 5 * U + 2 * 2 * U * 5 * U + 20 * U;
    // Per-cell scan: one direction over a few rows, extrapolated to 4 directions x all rows.
    const rows = Math.min(s.h, 2);
    const cellMs = await timeIt(() => run(() => perCellScan(x, w, rows)), 500);
    const perCellFull = cellMs * (s.h / rows) * D;
    // Reference (float64, one cell at a time in JS), batch 1, scaled to the batch.
    const x64 = Float64Array.from(x.slice([0, 0, 0, 0], [1, s.h, s.w, C]).dataSync());
    const wr = {
      kernel: Float64Array.from(w.kernel.dataSync()),
      recurrentKernel: Float64Array.from(w.recurrentKernel.dataSync()),
      bias: Float64Array.from(w.bias.dataSync()),
    };
    const refMs =
      (await timeIt(
        () =>
          mdlstmReference({
            x: x64,
            shape: [1, s.h, s.w, C],
            units: U,
            directions: ['tl', 'tr', 'bl', 'br'],
            weights: wr,
          }),
        500,
      )) * BATCH;
    for (const implementation of ['cells', 'diagonals', 'wavefront'] as const) {
      const fwd = await timeIt(() => run(() => mdlstm(x, w, { implementation }) as tf.Tensor));
      const bwd = await timeIt(() =>
        tf.tidy(() => {
          const g = tf.grads((xx: tf.Tensor, k: tf.Tensor, r: tf.Tensor) =>
            tf.sum(mdlstm(xx, { kernel: k, recurrentKernel: r, bias: w.bias }, { implementation }) as tf.Tensor),
          )([x, w.kernel, w.recurrentKernel]);
          g.forEach((t) => t.dataSync());
        }),
      );
      lines.push(
        `| ${U}, ${C}, ${s.h}x${s.w} | ${implementation} | ${fwd.toFixed(1)} | ${bwd.toFixed(1)} | ${(cells / fwd / 1e3).toFixed(2)}M | ${(cells / bwd / 1e3).toFixed(2)}M | ${((cells * flopsPerCell) / fwd / 1e6).toFixed(3)} | ${perCellFull.toFixed(0)}${rows < s.h ? ` (extrapolated from ${rows} rows, 1 direction)` : ' (1 direction x4)'} | ${(perCellFull / fwd).toFixed(1)}x | ${refMs.toFixed(1)} |`,
      );
    }
    tf.dispose([x, w.kernel, w.recurrentKernel, w.bias]);
  }
}
console.log(lines.join('\n'));
