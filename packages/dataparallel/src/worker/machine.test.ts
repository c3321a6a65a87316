import { describe, expect, it } from 'vitest';
import { floatFrame } from '../frames.js';
import { createLayout } from '../layout.js';
import { encodeHeader, type Message } from '../protocol.js';
import { runWorker } from '../worker.js';
import { WorkerMachine, type WorkerMachineOptions, type WorkerPort } from './machine.js';
import type { GradientResult, WorkerShard } from './options.js';

// The state machine driven by hand: a recording port instead of a socket, `now` passed in.
const layout = createLayout([{ name: 'p', shape: [2] }]);
const TIMINGS = {
  connectTimeoutMs: 1000,
  rejoinTimeoutMs: 1000,
  retryMs: 100,
  retryMaxMs: 400,
  heartbeatMisses: 3,
  noAnswerWarnMs: 200,
};
const flush = () => new Promise((r) => setImmediate(r));

function frames(msg: Message, tensor?: Float32Array): Buffer[] {
  return tensor ? [encodeHeader(msg), floatFrame(tensor)] : [encodeHeader(msg)];
}
const welcome = (params = Float32Array.of(1, 2), extra: object = {}) =>
  frames(
    { t: 'WELCOME', v: 1, run: 'run-1', rank: 2, version: 5, heartbeatMs: 50, layout, ...extra } as Message,
    params,
  );
const step = (n: number, params?: Float32Array, version = 5) =>
  frames({ t: 'STEP', step: n, shard: 0, version, params: params !== undefined, items: [n], next: [n + 1] }, params);

function machine(extra: Partial<WorkerMachineOptions> = {}) {
  const sent: Message[] = [];
  const periods: number[] = [];
  const logs: string[] = [];
  const computed: { params: number[]; shard: WorkerShard }[] = [];
  let closed = false;
  const port: WorkerPort = {
    send: async (msg) => void sent.push(msg),
    setTickPeriod: (ms) => void periods.push(ms),
    close: async () => void (closed = true),
  };
  const m = new WorkerMachine(
    {
      endpoint: 'tcp://coordinator:1',
      id: 'w',
      caps: { pid: 1 },
      timings: TIMINGS,
      log: (level, msg) => void logs.push(`${level}: ${msg}`),
      computeGradients: (params, shard): GradientResult => {
        computed.push({ params: Array.from(params), shard });
        return { grads: Float32Array.of(0.5, -0.5), lossSum: 3, count: 1 };
      },
      ...extra,
    },
    port,
    0,
  );
  const types = () => sent.map((s) => s.t);
  return { m, sent, types, periods, logs, computed, isClosed: () => closed };
}

describe('WorkerMachine: CONNECTING', () => {
  it('says HELLO at once, then after 100, 200, 400, 400 ms (backoff), and rejects after connectTimeoutMs', async () => {
    const { m, sent, periods } = machine();
    m.start(0);
    for (const now of [50, 100, 250, 300, 650, 700, 1000]) m.tick(now);
    await flush();
    // HELLOs at 0, 100, 300 (100 + 200), 700 (300 + 400); none at 1000 (next due at 1100).
    expect(sent).toHaveLength(4);
    expect(sent[0]).toEqual({ t: 'HELLO', v: 1, worker: 'w', caps: { pid: 1 } });
    expect(periods).toEqual([TIMINGS.retryMs]);
    m.authFailed();
    m.tick(1001);
    expect(m.state.name).toBe('STOPPED');
    await expect(m.exit).rejects.toThrow(
      "worker w: no WELCOME from tcp://coordinator:1 within 1000 ms; 1 CURVE authentication failure(s): is this worker's public key on the coordinator's allow-list?",
    );
  });

  it('without an answer, warns after noAnswerWarnMs naming the endpoint and the likely causes, again when the wait doubles, and keeps saying HELLO', async () => {
    const { m, sent, logs } = machine();
    m.start(0);
    m.tick(199);
    expect(logs.filter((l) => l.startsWith('warn'))).toEqual([]);
    m.authFailed();
    for (const now of [200, 300, 399, 400, 700, 800]) m.tick(now);
    await flush();
    const warns = logs.filter((l) => l.startsWith('warn'));
    // At 200 ms, then when the wait has doubled (400, 800).
    expect(warns).toHaveLength(3);
    expect(warns[0]).toBe(
      'warn: worker w: no answer from tcp://coordinator:1 after 200 ms; still trying (up to 1000 ms). 1 CURVE authentication failure(s) so far. ' +
        'Likely causes: no coordinator listening at that address and port, or a firewall between; with CURVE, a wrong server key, ' +
        "or this worker's public key not on the coordinator's allow-list; CURVE on one side only (both or neither must use it)",
    );
    expect(warns.map((w) => /after (\d+) ms/.exec(w)![1])).toEqual(['200', '400', '800']);
    // Still trying: HELLOs at 0, 100, 300, 700.
    expect(sent.map((s) => s.t)).toEqual(['HELLO', 'HELLO', 'HELLO', 'HELLO']);
    expect(m.state.name).toBe('CONNECTING');
  });

  it('a connection coming up sends HELLO at once, unless one just went out', async () => {
    const { m, types } = machine();
    m.start(0);
    await flush();
    m.handshake(50); // the HELLO at 0 went out 50 ms ago (< retryMs)
    m.handshake(150);
    await flush();
    expect(types()).toEqual(['HELLO', 'HELLO']);
  });
});

describe('WorkerMachine: JOINED and COMPUTING', () => {
  it('WELCOME -> JOINED, STEP -> COMPUTING, GRADS sent -> JOINED; parameters from the frame, then from the version held', async () => {
    const { m, sent, periods, computed } = machine();
    m.start(0);
    m.receive(welcome());
    expect(m.state.name).toBe('JOINED');
    expect(periods).toEqual([TIMINGS.retryMs, 50]); // heartbeats every WELCOME.heartbeatMs
    m.receive(step(1, Float32Array.of(3, 4), 6));
    m.receive(step(2, undefined, 6)); // same version: no frame needed
    await flush();
    expect(m.state.name).toBe('JOINED');
    expect(computed.map((c) => [c.params, c.shard])).toEqual([
      [[3, 4], { step: 1, shard: 0, items: [1], version: 6, next: [2] }],
      [[3, 4], { step: 2, shard: 0, items: [2], version: 6, next: [3] }],
    ]);
    expect(sent.filter((s) => s.t === 'GRADS')).toEqual([
      { t: 'GRADS', step: 1, shard: 0, lossSum: 3, count: 1, computeMs: expect.any(Number) },
      { t: 'GRADS', step: 2, shard: 0, lossSum: 3, count: 1, computeMs: expect.any(Number) },
    ]);
    expect(m.shards).toBe(2);
  });

  it('a STEP it already answered (a held shard re-sent after a repeated HELLO) gets the same GRADS, not a second computation', async () => {
    const { m, sent, computed } = machine();
    m.start(0);
    m.receive(welcome());
    m.receive(step(1));
    m.receive(welcome()); // the HELLO retry's WELCOME, then the held shard's STEP again
    m.receive(step(1));
    m.receive(step(1, Float32Array.of(7, 8), 6)); // the same step and shard at new parameters: computed
    await flush();
    expect(computed.map((c) => [c.shard.step, c.shard.version])).toEqual([
      [1, 5],
      [1, 6],
    ]);
    const grads = sent.filter((s) => s.t === 'GRADS');
    expect(grads).toHaveLength(3);
    expect(grads[1]).toEqual(grads[0]); // the same message, computeMs included
    expect(m.shards).toBe(2);
  });

  it('is COMPUTING while computeGradients runs; BYE waits for the GRADS, then resolves', async () => {
    let finish!: () => void;
    const { m, types } = machine({
      computeGradients: () =>
        new Promise((resolve) => (finish = () => resolve({ grads: new Float32Array(2), lossSum: 0, count: 0 }))),
    });
    m.start(0);
    m.receive(welcome());
    m.receive(step(1));
    await flush();
    expect(m.state).toMatchObject({ name: 'COMPUTING', step: 1, shard: 0 });
    const bye = m.receive(frames({ t: 'BYE', reason: 'coordinator closing' }));
    await flush();
    expect(m.state.name).toBe('COMPUTING');
    finish();
    await bye;
    expect(types()).toEqual(['HELLO', 'GRADS']);
    await expect(m.exit).resolves.toEqual({ reason: 'coordinator closing', shards: 1, rank: 2 });
  });

  it('heartbeatMisses unanswered heartbeats -> CONNECTING (HELLO at once); any message answers them', async () => {
    const { m, types, periods } = machine();
    m.start(0);
    m.receive(welcome());
    m.tick(50);
    m.tick(100);
    m.receive(frames({ t: 'HEARTBEAT' })); // answered: the count starts again
    for (const now of [150, 200, 250]) m.tick(now);
    expect(m.state.name).toBe('JOINED');
    m.tick(300); // 3 unanswered
    expect(m.state.name).toBe('CONNECTING');
    await flush();
    expect(types()).toEqual(['HELLO', 'HEARTBEAT', 'HEARTBEAT', 'HEARTBEAT', 'HEARTBEAT', 'HEARTBEAT', 'HELLO']);
    expect(periods).toEqual([100, 50, 100]);
  });

  it('a coordinator lost for good: after the missed heartbeats, it gives up after rejoinTimeoutMs, not connectTimeoutMs', async () => {
    const { m } = machine({ timings: { ...TIMINGS, rejoinTimeoutMs: 300 } });
    m.start(0);
    m.receive(welcome());
    for (const now of [50, 100, 150, 200]) m.tick(now); // 3 heartbeats unanswered at 150, rejoining at 200
    expect(m.state.name).toBe('CONNECTING');
    m.tick(500);
    expect(m.state.name).toBe('CONNECTING');
    m.tick(501); // 301 ms after the rejoin began, 501 ms after start: well within connectTimeoutMs
    expect(m.state.name).toBe('STOPPED');
    await expect(m.exit).rejects.toThrow('worker w: no WELCOME from tcp://coordinator:1 within 300 ms');
  });

  it('a STEP at a version it does not hold, without parameters -> CONNECTING; STEPs are then dropped until WELCOME', async () => {
    const { m, computed, logs } = machine();
    m.start(0);
    m.receive(welcome());
    m.receive(step(1, undefined, 9));
    m.receive(step(2, undefined, 5));
    await flush();
    expect(m.state.name).toBe('CONNECTING');
    expect(computed).toEqual([]);
    expect(logs).toContain('warn: worker w: STEP 1 at version 9 without parameters (have 5); rejoining');
  });

  it('drops a STEP whose parameter frame has the wrong size or a non-finite value', async () => {
    const { m, computed, logs } = machine();
    m.start(0);
    m.receive(welcome());
    m.receive(step(1, Float32Array.of(1, 2, 3)));
    m.receive(step(2, Float32Array.of(1, NaN)));
    await flush();
    expect(computed).toEqual([]);
    expect(m.state.name).toBe('JOINED');
    expect(logs.filter((l) => l.startsWith('warn'))).toEqual([
      'warn: worker w: STEP 1 parameter frame of 12 bytes, expected 8; dropped',
      'warn: worker w: STEP 2 params[1] = NaN; dropped',
    ]);
  });

  it('a WELCOME while computing (a HELLO retry crossing it) stays COMPUTING with the new session', async () => {
    let finish!: () => void;
    const { m } = machine({
      computeGradients: () =>
        new Promise((resolve) => (finish = () => resolve({ grads: new Float32Array(2), lossSum: 0, count: 0 }))),
    });
    m.start(0);
    m.receive(welcome());
    m.receive(step(1));
    await flush();
    m.receive(welcome(Float32Array.of(7, 8), { rank: 4 }));
    expect(m.state).toMatchObject({ name: 'COMPUTING', session: { rank: 4 } });
    finish();
    await flush();
    expect(m.state).toMatchObject({ name: 'JOINED', session: { rank: 4 } });
  });
});

describe('WorkerMachine: STOPPED', () => {
  it('onWelcome runs before a STEP is computed; when it throws: BYE with the reason, and rejects', async () => {
    const order: string[] = [];
    const { m, sent } = machine({
      onWelcome: async (w) => {
        order.push(`setup rank ${w.rank}`);
        throw new Error("cannot open '/nowhere'");
      },
      computeGradients: () => {
        order.push('compute');
        return { grads: new Float32Array(2), lossSum: 0, count: 0 };
      },
    });
    m.start(0);
    m.receive(welcome());
    m.receive(step(1));
    await expect(m.exit).rejects.toThrow("cannot open '/nowhere'");
    expect(order).toEqual(['setup rank 2']);
    expect(sent.at(-1)).toEqual({ t: 'BYE', reason: "setup failed: cannot open '/nowhere'" });
  });

  it("a WELCOME with another layout than the worker's: BYE listing the differences, and rejects", async () => {
    const { m, sent } = machine({ layout: createLayout([{ name: 'p', shape: [1, 2] }]) });
    m.start(0);
    m.receive(welcome());
    await expect(m.exit).rejects.toThrow("tensor 'p' has shape [2], expected [1, 2]");
    expect(sent.at(-1)).toMatchObject({ t: 'BYE', reason: expect.stringContaining("tensor 'p' has shape [2]") });
  });

  it('computeGradients returning the wrong number of gradients rejects, naming the step', async () => {
    const { m } = machine({ computeGradients: () => ({ grads: new Float32Array(3), lossSum: 0, count: 1 }) });
    m.start(0);
    m.receive(welcome());
    m.receive(step(4));
    await expect(m.exit).rejects.toThrow(
      'computeGradients returned 3 gradients for step 4 shard 0, expected a Float32Array of 2',
    );
  });

  it('abort: BYE, then resolves with reason aborted; later events change nothing', async () => {
    const { m, types, isClosed } = machine();
    m.start(0);
    m.receive(welcome());
    m.abort();
    m.receive(step(1));
    m.tick(5000);
    await flush();
    expect(types()).toEqual(['HELLO', 'BYE']);
    expect(isClosed()).toBe(true);
    await expect(m.exit).resolves.toEqual({ reason: 'aborted', shards: 0, rank: 2 });
  });

  it('runWorker with a signal already aborted resolves at once', async () => {
    const signal = AbortSignal.abort();
    const exit = await runWorker({
      endpoint: 'tcp://127.0.0.1:9',
      signal,
      computeGradients: () => ({ grads: new Float32Array(0), lossSum: 0, count: 0 }),
      log: () => {},
    });
    expect(exit).toEqual({ reason: 'aborted', shards: 0, rank: -1 });
  });
});
