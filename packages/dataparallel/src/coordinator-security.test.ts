import { Packr } from 'msgpackr';
import * as zmq from 'zeromq';
import { beforeAll, describe, expect, it } from 'vitest';
import { Coordinator } from './coordinator.js';
import { generateCurveKeyPair } from './curve.js';
import { maxAbsDiff, referenceRun, spawnWorkers } from './fixtures/harness.js';
import { coordinatorFixture } from './fixtures/coordinator-fixture.js';
import { batchIndices } from './fixtures/tiny-model.js';
import { silentLogger } from './logger.js';
import { runWorker } from './worker.js';

const BATCH = 12;
const STEPS = 4;
const packr = new Packr({ useRecords: false });
const pack = (x: unknown) => packr.pack(x);

const fx = coordinatorFixture();
const { start } = fx;
let reference: ReturnType<typeof referenceRun>;

beforeAll(() => {
  reference = referenceRun(STEPS, BATCH);
});

function dealer(endpoint: string, routingId: string, extra: zmq.SocketOptions<zmq.Dealer> = {}): zmq.Dealer {
  const d = new zmq.Dealer({ routingId, linger: 0, ...extra });
  d.connect(endpoint);
  fx.onCleanup(() => d.close());
  return d;
}

/** Receives until a message of type `t` arrives (skipping heartbeats and the like). */
async function next(d: zmq.Dealer, t: string): Promise<{ msg: Record<string, unknown>; frames: Buffer[] }> {
  for (;;) {
    const [header, ...frames] = await d.receive();
    const msg = packr.unpack(header!) as Record<string, unknown>;
    if (msg.t === t) return { msg, frames };
  }
}

describe('Coordinator against hostile peers', () => {
  it('drops malformed, oversized and wrong-step messages and still trains exactly', async () => {
    const drops: string[] = [];
    const coord = await start({ stepTimeoutMs: 1500, onEvent: (e) => e.type === 'drop' && drops.push(e.reason) });
    spawnWorkers(1, coord.endpoint).exited; // the one honest worker
    fx.onCleanup(() => undefined);
    await coord.waitForWorkers(1);
    const P = fx.layout.size;

    // Before HELLO: garbage, unknown type, GRADS from a stranger.
    const rogue = dealer(coord.endpoint, 'rogue');
    await rogue.send(Buffer.from([0xc1, 0xc1, 0xc1])); // 0xc1 is never valid msgpack
    await rogue.send(pack({ t: 'NOPE' }));
    await rogue.send(pack([1, 2, 3]));
    await rogue.send([
      pack({ t: 'GRADS', step: 1, shard: 0, lossSum: 0, count: 12, computeMs: 1 }),
      Buffer.alloc(P * 4),
    ]);
    await rogue.send(pack({ t: 'HELLO', v: 99, worker: 'rogue', caps: {} }));
    expect(String((await next(rogue, 'BYE')).msg.reason)).toContain('protocol version 99');

    // A frame over maxMessageSize (P * 4 + 1 MiB): libzmq disconnects that peer, nothing reaches us.
    const big = dealer(coord.endpoint, 'big');
    const disconnected = new Promise<void>((resolve) => big.events.on('disconnect', () => resolve()));
    await big.send([pack({ t: 'HELLO', v: 1, worker: 'big', caps: {} }), Buffer.alloc(P * 4 + (2 << 20))]);
    await disconnected;

    // Now the rogue joins properly, then misbehaves on its shards.
    await rogue.send(pack({ t: 'HELLO', v: 1, worker: 'rogue', caps: {} }));
    const welcome = await next(rogue, 'WELCOME');
    expect(welcome.frames[0]!.byteLength).toBe(P * 4);
    await coord.waitForWorkers(2);

    const rogueScript = (async () => {
      const step1 = (await next(rogue, 'STEP')).msg;
      const shard = step1.shard as number;
      const grads = (extra: object) =>
        pack({ t: 'GRADS', step: 1, shard, lossSum: 1, count: 6, computeMs: 1, ...extra });
      await rogue.send([grads({ step: 7 }), Buffer.alloc(P * 4)]); // wrong step
      await rogue.send([grads({ shard: 5 }), Buffer.alloc(P * 4)]); // no such shard
      await rogue.send([grads({ shard: 1 - shard }), Buffer.alloc(P * 4)]); // someone else's shard
      await rogue.send([grads({}), Buffer.alloc(P * 4 - 4)]); // gradient frame too short
      await rogue.send([grads({}), Buffer.alloc(P * 4), Buffer.alloc(8)]); // extra frame
      await rogue.send([grads({ count: -1 }), Buffer.alloc(P * 4)]); // bad field
      await rogue.send([grads({})]); // missing gradient frame
      const nan = new Float32Array(P).fill(NaN);
      await rogue.send([grads({}), Buffer.from(nan.buffer)]); // non-finite: retried on the honest worker
      // Step 2: say nothing; the deadline evicts the rogue and its shard is reassigned.
      expect((await next(rogue, 'STEP')).msg.step).toBe(2);
      return (await next(rogue, 'BYE')).msg.reason as string;
    })();

    const results = [];
    for (let s = 1; s <= STEPS; s++) results.push(await coord.step(batchIndices(s, BATCH)));
    expect(await rogueScript).toContain('missed the step deadline');

    for (const r of results) expect(r.count).toBe(BATCH);
    expect(results[0]!.shards).toHaveLength(2);
    expect(results[0]!.reassigned).toBe(1);
    expect(results[1]!.reassigned).toBe(1);
    expect(results[1]!.workers).toBe(1);
    expect(results[2]!.shards).toHaveLength(1);
    const expectedDrops = [
      'not msgpack',
      'unknown message type "NOPE"',
      'header is an array',
      'from a peer that has not said HELLO (at most 1 frame(s)', // GRADS and its gradient frame before HELLO
      'protocol version 99',
      'GRADS for step 7',
      'GRADS for shard 5',
      'not assigned to it',
      `gradient frame of ${P * 4 - 4} bytes`,
      'from a worker (at most 2 frame(s)', // GRADS with 2 data frames
      'GRADS.count is -1',
      'GRADS with 0 data frame(s)',
      'non-finite gradient[0] = NaN',
    ];
    for (const d of expectedDrops)
      expect(
        drops.some((x) => x.includes(d)),
        `${d} in\n${drops.join('\n')}`,
      ).toBe(true);
    expect(coord.dropped).toBe(drops.length);
    // Not corrupted: the honest worker's gradients only, as in the single-process loop.
    expect(maxAbsDiff(coord.params, reference.params)).toBeLessThan(1e-5);
  });

  it('with CURVE, a listed worker joins and an unknown key cannot', async () => {
    const server = generateCurveKeyPair();
    const good = generateCurveKeyPair();
    const stranger = generateCurveKeyPair();
    const coord = await start({ curve: { ...server, allowedClients: [good.publicKey] } });
    const workers = spawnWorkers(1, coord.endpoint, ['--curve', server.publicKey, good.publicKey, good.secretKey]);
    fx.onCleanup(() => workers.stop());
    await coord.waitForWorkers(1);

    const warnings: string[] = [];
    await expect(
      runWorker({
        endpoint: coord.endpoint,
        curve: { serverKey: server.publicKey, ...stranger },
        connectTimeoutMs: 1500,
        noAnswerWarnMs: 500,
        log: (level, msg) => void (level === 'warn' && warnings.push(msg)),
        computeGradients: () => {
          throw new Error('must never be asked');
        },
      }),
    ).rejects.toThrow(/CURVE authentication failure/);
    // It said so while still trying, naming the endpoint and the likely causes.
    expect(warnings[0]).toMatch(
      new RegExp(`no answer from ${coord.endpoint} after \\d+ ms; still trying .*allow-list; CURVE on one side only`),
    );
    // A plain (non-CURVE) peer cannot even complete the handshake.
    const plain = dealer(coord.endpoint, 'plain');
    await plain.send(pack({ t: 'HELLO', v: 1, worker: 'plain', caps: {} }));
    await new Promise((r) => setTimeout(r, 300));
    expect(coord.liveWorkers).toBe(1);
    expect(coord.dropped).toBe(0);

    for (let s = 1; s <= STEPS; s++) await coord.step(batchIndices(s, BATCH));
    expect(maxAbsDiff(coord.params, reference.params)).toBeLessThan(1e-5);
  });

  it('refuses a non-loopback bind without CURVE unless insecure is set', async () => {
    await expect(
      Coordinator.start({ layout: fx.layout, params: fx.params0, endpoint: 'tcp://0.0.0.0:0', log: silentLogger }),
    ).rejects.toThrow(/'tcp:\/\/0\.0\.0\.0:\*' is not loopback; use CURVE .* or set insecure: true/);
    const coord = await start({ endpoint: 'tcp://0.0.0.0:0', insecure: true });
    expect(coord.endpoint).toMatch(/^tcp:\/\/0\.0\.0\.0:\d+$/);
  });
});
