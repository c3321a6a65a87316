/**
 * Per-step communication + averaging overhead of @scriptorium/dataparallel, against pushing the
 * same bytes through a plain loopback zeromq socket pair.
 *
 *   node --import tsx --conditions=@scriptorium/source tools/bench/dataparallel.ts [--sizes 1e6,1e7] [--workers 1,2,3,4] [--steps 5] [--compute-ms 0]
 *
 * Workers are real local processes whose "compute" sleeps --compute-ms and returns constant
 * gradients, so a step is: STEP with parameters to k workers, GRADS back, weighted average,
 * Adadelta step. overhead = step wall time - the longest compute time a worker reported - the
 * Adadelta step (which a single-process loop pays too): transfers, validation, averaging.
 * raw = the same bytes (k frames of 4P bytes out, k back) echoed by one plain Dealer process.
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as zmq from 'zeromq';
import { Coordinator, createLayout, launchLocal } from '@scriptorium/dataparallel';

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? def : process.argv[i + 1]!;
};
const sizes = arg('--sizes', '1e6,1e7').split(',').map(Number);
const workerCounts = arg('--workers', '1,2,3,4').split(',').map(Number);
const steps = Number(arg('--steps', '5'));
const computeMs = Number(arg('--compute-ms', '0'));
const nodeArgs = ['--import', 'tsx', '--conditions=@scriptorium/source'];
const script = path.join(here, 'dataparallel-worker.ts');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const MB = (bytes: number) => (bytes / 1e6).toFixed(1);

/** Median time to send k frames of `bytes` to an echo process and get them back. */
async function raw(bytes: number, ks: number[]): Promise<Map<number, number>> {
  const router = new zmq.Router({ linger: 0, maxMessageSize: -1 });
  await router.bind('tcp://127.0.0.1:*');
  const echo = launchLocal({ workers: 1, nodeArgs, script, args: ['echo', router.lastEndpoint!] });
  const [id] = await router.receive(); // 'ready'
  const payload = Buffer.alloc(bytes, 1);
  const out = new Map<number, number>();
  for (const k of ks) {
    const times: number[] = [];
    for (let rep = 0; rep <= steps; rep++) {
      const t0 = performance.now();
      for (let i = 0; i < k; i++) await router.send([id!, payload]);
      for (let i = 0; i < k; i++) await router.receive();
      if (rep > 0) times.push(performance.now() - t0); // rep 0 warms up
    }
    out.set(k, median(times));
  }
  await router.send([id!, 'stop']);
  await echo.exited;
  router.close();
  return out;
}

async function dataparallel(
  size: number,
  k: number,
): Promise<{ ms: number; overhead: number; average: number; optimizer: number }> {
  const layout = createLayout([{ name: 'w', shape: [size] }]);
  const coord = await Coordinator.start({ layout, params: new Float32Array(size).fill(0.01), log: () => {} });
  const workers = launchLocal({ workers: k, nodeArgs, script, args: ['worker', coord.endpoint, String(computeMs)] });
  try {
    await coord.waitForWorkers(k);
    const rows = [];
    for (let s = 0; s <= steps; s++) {
      const r = await coord.step(Array.from({ length: 8 * k }, (_, i) => i));
      if (r.shards.length !== k) throw new Error(`step used ${r.shards.length} shards, expected ${k}`);
      if (s > 0) rows.push(r); // step 0 warms up
    }
    return {
      ms: median(rows.map((r) => r.ms)),
      overhead: median(rows.map((r) => r.ms - r.computeMs - r.optimizerMs)),
      average: median(rows.map((r) => r.averageMs)),
      optimizer: median(rows.map((r) => r.optimizerMs)),
    };
  } finally {
    await coord.close();
    await workers.stop();
  }
}

console.log(
  `# dataparallel overhead (${os.cpus().length} cores ${os.cpus()[0]?.model}; load ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')})`,
);
console.log(`# compute per shard ${computeMs} ms, ${steps} timed steps (median), node ${process.version}`);
console.log(
  '| params | workers | bytes/step | step ms | overhead ms | % of step | of which averaging ms | adadelta ms | raw ms | overhead / raw |',
);
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const size of sizes) {
  const rawMs = await raw(size * 4, workerCounts);
  for (const k of workerCounts) {
    const r = await dataparallel(size, k);
    const bytes = 2 * k * size * 4;
    const rm = rawMs.get(k)!;
    console.log(
      `| ${size.toExponential(0)} | ${k} | ${MB(bytes)} MB | ${r.ms.toFixed(1)} | ${r.overhead.toFixed(1)} | ${((100 * r.overhead) / r.ms).toFixed(0)}% | ${r.average.toFixed(1)} | ${r.optimizer.toFixed(1)} | ${rm.toFixed(1)} | ${(r.overhead / rm).toFixed(2)}x |`,
    );
  }
}
console.log(
  `# load after: ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
