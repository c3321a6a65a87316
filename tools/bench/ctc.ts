/**
 * CTC loss + gradient speed, in ns per lattice cell (batch * time * (2L + 1)), on the two shapes of issue 4.
 * Compare with tools/bench/ctc_torch.py (PyTorch 1.13 CPU ctc_loss + backward, log_softmax included).
 *
 * Run from the repo root:
 *   node --import tsx --conditions=@scriptorium/source tools/bench/ctc.ts [--seconds 3] [--op]
 * Without --op it times ctcForwardBackward on typed arrays (log-softmax included, single thread); with --op it also
 * times ctcLoss through tfjs (cpu backend): dataSync of the logits, the same math, and the gradient tensor.
 */
import { Rng } from '@scriptorium/runtime';
import { ctcForwardBackward } from '@scriptorium/ctc';

const SHAPES: Array<[batch: number, time: number, classes: number, labelLength: number]> = [
  [16, 128, 80, 40],
  [32, 500, 100, 100],
];

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

function time(fn: () => void, minSeconds: number): { ms: number; iters: number } {
  for (let i = 0; i < 3; i++) fn();
  let iters = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    fn();
    iters++;
    elapsed = performance.now() - start;
  } while (elapsed < minSeconds * 1000 || iters < 5);
  return { ms: elapsed / iters, iters };
}

async function main(): Promise<void> {
  const seconds = arg('--seconds', 3);
  const withOp = process.argv.includes('--op');
  let tf: typeof import('@tensorflow/tfjs-core') | undefined;
  let ctcLoss: typeof import('@scriptorium/ctc').ctcLoss | undefined;
  if (withOp) {
    const { initBackend } = await import('@scriptorium/runtime');
    await initBackend({ backend: 'cpu', log: null });
    tf = await import('@tensorflow/tfjs-core');
    ctcLoss = (await import('@scriptorium/ctc')).ctcLoss;
  }
  for (const [B, T, C, L] of SHAPES) {
    const rng = new Rng(0);
    const logits = Float32Array.from({ length: B * T * C }, () => rng.normal());
    const labels = Array.from({ length: B }, () => Int32Array.from({ length: L }, () => 1 + rng.int(C - 1)));
    const logitLengths = new Array<number>(B).fill(T);
    const cells = B * T * (2 * L + 1);
    const r = time(() => ctcForwardBackward({ logits, shape: [B, T, C], labels, logitLengths }), seconds);
    console.log(
      `ctcForwardBackward [${B},${T},${C}] L=${L}: ${r.ms.toFixed(2)} ms/iter, ` +
        `${((r.ms * 1e6) / cells).toFixed(2)} ns/cell (${r.iters} iters)`,
    );
    if (tf && ctcLoss) {
      const x = tf.tensor3d(logits, [B, T, C]);
      const lab = labels.map((l) => Array.from(l));
      const grad = tf.grad((v: import('@tensorflow/tfjs-core').Tensor) =>
        ctcLoss!({ logits: v as import('@tensorflow/tfjs-core').Tensor3D, labels: lab, logitLengths }),
      );
      const o = time(() => {
        const g = grad(x);
        g.dataSync();
        g.dispose();
      }, seconds);
      console.log(
        `ctcLoss op + tf.grad (cpu) [${B},${T},${C}] L=${L}: ${o.ms.toFixed(2)} ms/iter, ` +
          `${((o.ms * 1e6) / cells).toFixed(2)} ns/cell (${o.iters} iters)`,
      );
      x.dispose();
    }
  }
}

await main();
