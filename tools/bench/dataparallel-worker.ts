/**
 * Benchmark helper process for tools/bench/dataparallel.ts.
 *   dataparallel-worker.ts worker <endpoint> <computeMs>   a runWorker whose "compute" sleeps
 *                                                         computeMs and returns constant gradients
 *   dataparallel-worker.ts echo <endpoint>                 a plain zeromq Dealer echoing every message
 */
import * as zmq from 'zeromq';
import { runWorker } from '@scriptorium/dataparallel';

const [mode, endpoint, computeMs] = process.argv.slice(2);
if (mode === 'echo') {
  const d = new zmq.Dealer({ linger: 0, maxMessageSize: -1 });
  d.connect(endpoint!);
  await d.send('ready');
  for await (const frames of d) {
    if (frames[0]!.toString() === 'stop') break;
    await d.send(frames);
  }
  d.close();
} else {
  let grads: Float32Array | null = null;
  await runWorker({
    endpoint: endpoint!,
    log: () => {},
    computeGradients: async (params, shard) => {
      grads ??= new Float32Array(params.length).fill(1e-3);
      if (Number(computeMs) > 0) await new Promise((r) => setTimeout(r, Number(computeMs)));
      return { grads, lossSum: shard.items.length, count: shard.items.length };
    },
  });
}
process.exit(0);
