import { describe, expect, it } from 'vitest';
import { Coordinator } from './coordinator.js';
import type { CoordinatorEvent } from './coordinator/options.js';
import { createLayout } from './layout.js';
import { silentLogger } from './logger.js';
import { runWorker, type GradientResult, type WorkerShard } from './worker.js';

// In-process workers with a pure-JS "model": loss = mean over samples of sum_j (p_j - 1)^2 / 2,
// so the mean gradient is p - 1 whatever the shard; an item -1 makes the gradient NaN, and an item -2
// is left out (as an application skipping a bad sample does: it is not counted).
const layout = createLayout([{ name: 'p', shape: [4] }]);
const FAST = { heartbeatMs: 100, stepTimeoutMs: 10_000, joinTimeoutMs: 10_000, log: silentLogger };

function compute(params: Float32Array, shard: WorkerShard): GradientResult {
  const items = (shard.items as number[]).filter((i) => i !== -2);
  const bad = items.includes(-1);
  const grads = Float32Array.from(params, (p) => (bad ? NaN : items.length === 0 ? 0 : p - 1));
  return { grads, lossSum: items.length, count: items.length };
}

function worker(endpoint: string, extra: Partial<Parameters<typeof runWorker>[0]> = {}) {
  return runWorker({ endpoint, computeGradients: compute, log: silentLogger, ...extra });
}

describe('runWorker', () => {
  it('rejects, listing the differences, when the coordinator has another layout', async () => {
    const coord = await Coordinator.start({ layout, params: new Float32Array(4), ...FAST });
    const mine = createLayout([{ name: 'p', shape: [2, 2] }]);
    await expect(worker(coord.endpoint, { layout: mine })).rejects.toThrow(
      "the coordinator's layout: parameter layout differs: tensor 'p' has shape [4], expected [2, 2]",
    );
    await coord.close();
  });

  it('gets the config in WELCOME and finishes onWelcome before computing a STEP', async () => {
    const config = { model: 'tiny', alphabet: ['', 'a', 'é'], sizes: [1, 2.5], nested: { flag: true, none: null } };
    const coord = await Coordinator.start({ layout, params: new Float32Array(4), ...FAST, config });
    const seen: unknown[] = [];
    let ready = false;
    const running = worker(coord.endpoint, {
      onWelcome: async (w) => {
        seen.push(w.config, w.rank, w.layout.size);
        await new Promise((r) => setTimeout(r, 300)); // slower than the first STEP's arrival
        ready = true;
      },
      computeGradients: (params, shard) => {
        if (!ready) throw new Error('STEP computed before onWelcome finished');
        return compute(params, shard);
      },
    });
    await coord.waitForWorkers(1);
    expect((await coord.step([1, 2])).count).toBe(2);
    expect(seen.slice(0, 3)).toEqual([config, 0, 4]); // (a HELLO retry crossing the WELCOME may welcome it twice)
    await coord.close();
    await running;
  });

  it('each STEP carries, as a prefetch hint, the part of the next batch the same worker gets next', async () => {
    const coord = await Coordinator.start({ layout, params: new Float32Array(4), ...FAST });
    const seen = new Map<number, WorkerShard[]>(); // by rank
    const workers = [0, 1].map((k) =>
      worker(coord.endpoint, {
        id: `w${k}`,
        computeGradients: (params, shard) => {
          seen.set(k, [...(seen.get(k) ?? []), shard]);
          return compute(params, shard);
        },
      }),
    );
    await coord.waitForWorkers(2);
    const batches = [
      [1, 2, 3, 4],
      [5, 6, 7],
      [8, 9, 10, 11],
    ];
    for (let s = 0; s < batches.length; s++) await coord.step(batches[s]!, { next: batches[s + 1] });
    for (const all of seen.values()) {
      // A HELLO retried before its WELCOME arrived reads as a rejoin, and the coordinator sends the held shard
      // again; the worker answers it with the GRADS it sent, so each shard is computed once.
      const shards = all;
      expect(shards.map((sh) => sh.step)).toEqual([1, 2, 3]);
      for (let s = 0; s < 2; s++) expect(shards[s]!.next).toEqual(shards[s + 1]!.items); // the hint came true
      expect(shards[2]!.next).toBeUndefined(); // no next batch given
    }
    expect([...seen.values()].flatMap((sh) => sh[0]!.items).sort()).toEqual([1, 2, 3, 4]);
    await coord.close();
    await Promise.all(workers);
  });

  it('says BYE and rejects when onWelcome throws; the coordinator carries on with the others', async () => {
    const coord = await Coordinator.start({
      layout,
      params: new Float32Array(4),
      ...FAST,
      config: { data: '/nowhere' },
    });
    const good = worker(coord.endpoint);
    await coord.waitForWorkers(1);
    const bad = worker(coord.endpoint, { onWelcome: () => Promise.reject(new Error("cannot open '/nowhere'")) });
    await expect(bad).rejects.toThrow("cannot open '/nowhere'");
    expect((await coord.step([1, 2, 3])).count).toBe(3);
    expect(coord.liveWorkers).toBe(1);
    await coord.close();
    await good;
  });

  it('refuses a config that is not plain JSON data or too big for WELCOME', async () => {
    const start = (config: unknown) => Coordinator.start({ layout, params: new Float32Array(4), ...FAST, config });
    await expect(start({ weights: new Float32Array(2) })).rejects.toThrow(
      "options.config: field 'weights' is a Float32Array; expected plain JSON data",
    );
    await expect(start({ model: { bytes: Buffer.from('ab') } })).rejects.toThrow(
      "options.config: field 'bytes' is a Buffer; expected plain JSON data",
    );
    await expect(start(() => 1)).rejects.toThrow('options.config is function; expected JSON data');
    await expect(start({ text: 'x'.repeat(600_000) })).rejects.toThrow(
      /options.config packs into 6000\d\d bytes; at most 524288 fit in WELCOME/,
    );
    // Within its own limit, but with a layout of 20,000 named tensors the whole WELCOME header is too big.
    const big = createLayout(
      Array.from({ length: 20_000 }, (_, k) => ({ name: `layer${k}/${'w'.repeat(40)}`, shape: [1] })),
    );
    await expect(
      Coordinator.start({
        layout: big,
        params: new Float32Array(big.size),
        ...FAST,
        config: { text: 'x'.repeat(400_000) },
      }),
    ).rejects.toThrow(
      /the WELCOME header \(layout of 20000 tensors plus options.config\) is \d+ bytes; at most 1048576 fit/,
    );
  });

  it('says BYE when aborted, and the coordinator drops it at once', async () => {
    const events: CoordinatorEvent[] = [];
    const coord = await Coordinator.start({
      layout,
      params: new Float32Array(4),
      ...FAST,
      onEvent: (e) => events.push(e),
    });
    const abort = new AbortController();
    const running = worker(coord.endpoint, { signal: abort.signal });
    await coord.waitForWorkers(1);
    abort.abort();
    expect((await running).reason).toBe('aborted');
    await new Promise((r) => setTimeout(r, 100));
    expect(coord.liveWorkers).toBe(0);
    expect(events.find((e) => e.type === 'leave')).toMatchObject({ reason: 'left (worker stopped)' });
    await coord.close();
  });

  it('follows a restarted coordinator on the same endpoint', async () => {
    const first = await Coordinator.start({ layout, params: new Float32Array(4), ...FAST });
    const endpoint = first.endpoint;
    const running = worker(endpoint);
    await first.waitForWorkers(1);
    await first.step([1, 2]);
    // A coordinator that dies without BYE: the worker notices unanswered heartbeats and rejoins.
    (first as unknown as { router: { close(): void } }).router.close();
    // libzmq releases the port in its I/O thread some time after close(): binding it again at once can fail with
    // EADDRINUSE (a restarted coordinator process binds after the old one exited), so the restart is retried briefly.
    const second = await startWhenFree(() =>
      Coordinator.start({ layout, params: Float32Array.of(3, 3, 3, 3), ...FAST, endpoint }),
    );
    await second.waitForWorkers(1);
    const r = await second.step([1, 2, 3]);
    expect(r.count).toBe(3);
    await second.close();
    expect((await running).reason).toBe('coordinator closing');
    await first.close();
  });
});

describe('non-finite gradients', () => {
  it('confirmed by a second worker: step() throws naming the shard (default onNonFinite: throw)', async () => {
    const drops: string[] = [];
    const coord = await Coordinator.start({
      layout,
      params: new Float32Array(4),
      ...FAST,
      onEvent: (e) => e.type === 'drop' && drops.push(e.reason),
    });
    const workers = [worker(coord.endpoint), worker(coord.endpoint)];
    await coord.waitForWorkers(2);
    const before = Float32Array.from(coord.params);
    // Shards [1, 2] and [-1, 4]: shard 1 is NaN on whichever worker computes it.
    await expect(coord.step([1, 2, -1, 4])).rejects.toThrow(
      /Coordinator.step 1: shard 1 from worker '.*' has gradient\[0\] = NaN/,
    );
    expect(Array.from(coord.params)).toEqual(Array.from(before));
    expect(coord.completedSteps).toBe(0);
    expect(drops).toEqual([expect.stringContaining('non-finite gradient[0] = NaN for step 1 shard 1; retrying')]); // retried on the other worker
    await coord.close();
    await Promise.all(workers);
  });

  it('a step whose every sample was left out by the workers is skipped, not averaged over zero samples', async () => {
    const coord = await Coordinator.start({ layout, params: new Float32Array(4), ...FAST });
    const running = [worker(coord.endpoint), worker(coord.endpoint)];
    await coord.waitForWorkers(2);
    const empty = await coord.step([-2, -2, -2]);
    expect([empty.skipped, empty.count]).toEqual([true, 0]);
    expect(Array.from(coord.params)).toEqual([0, 0, 0, 0]);
    // One sample left: its shard alone is the average (gradient -1: the first step moves each p by ~4.472e-3).
    const one = await coord.step([-2, 5, -2, -2]);
    expect([one.skipped, one.count]).toEqual([false, 1]);
    for (const p of coord.params) expect(p).toBeCloseTo(Math.sqrt(1e-6 / 0.050001), 6);
    await coord.close();
    await Promise.all(running);
  });

  it("with onNonFinite: 'skip' the step is skipped and the next one applies", async () => {
    const coord = await Coordinator.start({
      layout,
      params: new Float32Array(4),
      ...FAST,
      optimizer: { onNonFinite: 'skip' },
    });
    const running = worker(coord.endpoint);
    await coord.waitForWorkers(1);
    const skipped = await coord.step([-1, 2]);
    expect(skipped.skipped).toBe(true);
    expect(Array.from(coord.params)).toEqual([0, 0, 0, 0]);
    const ok = await coord.step([1, 2]);
    expect(ok.skipped).toBe(false);
    // Gradient p - 1 = -1 everywhere; the first Adadelta step from zero state moves each
    // parameter by +sqrt(eps / (0.05 * 1 + eps)) = sqrt(1e-6 / 0.050001) ~ 4.472e-3.
    for (const p of coord.params) expect(p).toBeCloseTo(Math.sqrt(1e-6 / 0.050001), 6);
    await coord.close();
    await running;
  });
});

/** Retries `start` for up to 5 s while the endpoint is still in use. */
async function startWhenFree(start: () => Promise<Coordinator>): Promise<Coordinator> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (attempt >= 100 || !/Address already in use/.test(String(err))) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
