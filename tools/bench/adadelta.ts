// Flat Adadelta step throughput vs a plain copy loop on the same buffers (the memory-bandwidth limit).
// Run: node --import tsx --conditions=@scriptorium/source tools/bench/adadelta.ts
import { adadeltaStep, createAdadeltaState } from '@scriptorium/adadelta';

function time(fn: () => void, reps: number): number {
  fn(); // warm up (JIT)
  const t0 = performance.now();
  for (let r = 0; r < reps; r++) fn();
  return (performance.now() - t0) / reps / 1000; // seconds per call
}

console.log('| params | step ms | params/s | step GB/s | copy GB/s | step / copy |');
console.log('| ---: | ---: | ---: | ---: | ---: | ---: |');
for (const n of [1_000_000, 10_000_000]) {
  const params = new Float32Array(n).map((_, i) => Math.sin(i));
  const grads = new Float32Array(n).map((_, i) => Math.cos(i) * 1e-2);
  const state = createAdadeltaState(n);
  const reps = n >= 10_000_000 ? 5 : 20;
  const step = time(() => adadeltaStep(params, grads, state), reps);
  // The step reads params, grads, two accumulators (+ a first read of grads for the finite/norm check)
  // and writes params and two accumulators: 8 float32 streams = 32 bytes per parameter.
  const stepBytes = 32 * n;
  const dst = new Float32Array(n);
  const copy = time(() => {
    for (let i = 0; i < n; i++) dst[i] = params[i]!;
  }, reps);
  const copyBytes = 8 * n; // one read, one write
  console.log(
    `| ${n.toLocaleString('en')} | ${(step * 1e3).toFixed(2)} | ${(n / step / 1e6).toFixed(0)}M | ${(stepBytes / step / 1e9).toFixed(2)} | ${(copyBytes / copy / 1e9).toFixed(2)} | ${(stepBytes / step / (copyBytes / copy)).toFixed(2)} |`,
  );
}
