import { describe, expect, it } from 'vitest';
import type { HelloMsg } from '../protocol.js';
import { evictions, Membership, StallClock, welcomeMessage, type WorkerRecord } from './membership.js';

const hello = (worker: string, extra: Partial<HelloMsg> = {}): HelloMsg => ({
  t: 'HELLO',
  v: 1,
  worker,
  caps: { pid: 42, host: 'h' },
  ...extra,
});
const rid = (key: string) => Buffer.from(key, 'hex');

describe('Membership', () => {
  it('gives ranks in joining order and keeps pid and host from the caps', () => {
    const m = new Membership();
    const a = m.add('aa', rid('aa'), hello('a'), 0, 100);
    const b = m.add('bb', rid('bb'), hello('b', { caps: { pid: 'not a number' } }), 0, 100);
    expect([a.rank, a.pid, a.host, b.rank, b.pid, b.host]).toEqual([0, 42, 'h', 1, undefined, undefined]);
    expect(m.size).toBe(2);
    expect(m.remove(a)).toBe(true);
    expect(m.remove(a)).toBe(false); // already gone
    expect(m.add('cc', rid('cc'), hello('c'), 0, 100).rank).toBe(2); // ranks are never reused...
    expect(m.add('dd', rid('dd'), hello('d'), 0, 100, 0).rank).toBe(0); // ...unless given (a worker replacing another)
  });

  it('tells what a HELLO means: refused version, the same worker again, a new worker, a new id on a known routing id', () => {
    const m = new Membership();
    expect(m.hello('aa', hello('a', { v: 99 }))).toEqual({
      kind: 'refuse',
      drop: 'HELLO with protocol version 99, expected 1',
      reason: 'protocol version 99 is not supported (coordinator speaks 1)',
    });
    expect(m.hello('aa', hello('a'))).toEqual({ kind: 'join', replaces: undefined });
    const a = m.add('aa', rid('aa'), hello('a'), 0, 0);
    expect(m.hello('aa', hello('a'))).toEqual({ kind: 'again', worker: a });
    expect(m.hello('aa', hello('a2'))).toEqual({ kind: 'join', replaces: a });
  });

  it('waitFor resolves when enough workers joined, and rejects on timeout or close', async () => {
    const m = new Membership();
    const two = m.waitFor(2, 5000, 'tcp://x');
    m.add('aa', rid('aa'), hello('a'), 0, 0);
    m.add('bb', rid('bb'), hello('b'), 0, 0);
    await expect(two).resolves.toBeUndefined();
    await expect(m.waitFor(3, 20, 'tcp://x')).rejects.toThrow(
      'Coordinator: 2 live worker(s) after 20 ms, need 3 (endpoint tcp://x)',
    );
    const three = m.waitFor(3, 5000, 'tcp://x');
    expect(m.close().map((w) => w.id)).toEqual(['a', 'b']);
    await expect(three).rejects.toThrow('Coordinator: closed while waiting for workers');
    expect(m.size).toBe(0);
  });
});

describe('evictions', () => {
  const timings = { stepTimeoutMs: 1000, heartbeatMs: 100, heartbeatMisses: 5 }; // silent limit 500 ms
  const record = (id: string, lastSeen: number): WorkerRecord => ({
    key: id,
    routingId: rid('00'),
    id,
    rank: 0,
    version: 0,
    lastSeen,
  });

  it('evicts a busy worker past the step deadline and an idle one silent past heartbeatMs * heartbeatMisses', () => {
    const workers = [
      record('busy-late', 0),
      record('busy-silent', 0),
      record('idle-silent', 0),
      record('idle-ok', 9600),
    ];
    const held = (w: WorkerRecord) =>
      w.id === 'busy-late' ? { index: 3, since: 8000 } : w.id === 'busy-silent' ? { index: 1, since: 9500 } : undefined;
    expect(evictions(workers, 10_000, timings, held)).toEqual([
      { worker: workers[0], reason: 'missed the step deadline (1000 ms) on shard 3' },
      // busy-silent stays: a busy worker is judged by the deadline, not by heartbeats
      { worker: workers[2], reason: 'silent for 10000 ms' },
    ]);
  });

  it('the limits are strict: exactly at the limit is still live', () => {
    const w = record('w', 500);
    expect(evictions([w], 1000, timings, () => undefined)).toEqual([]);
    expect(evictions([w], 1001, timings, () => undefined)).toHaveLength(1);
    expect(evictions([w], 2000, timings, () => ({ index: 0, since: 1000 }))).toEqual([]);
  });

  it('counts no time before listeningSince (the end of a stall of the coordinator) against a worker', () => {
    const idle = record('idle', 0); // silent 10 s, but the coordinator itself was stalled until 9600
    const busy = record('busy', 0);
    const held = (w: WorkerRecord) => (w.id === 'busy' ? { index: 0, since: 0 } : undefined);
    expect(evictions([idle, busy], 10_000, timings, held, 9600)).toEqual([]);
    expect(evictions([idle, busy], 10_101, timings, held, 9600).map((e) => e.worker.id)).toEqual(['idle']); // 501 ms after the stall
    expect(evictions([idle, busy], 10_601, timings, held, 9600).map((e) => e.reason)).toEqual([
      'silent for 10601 ms',
      'missed the step deadline (1000 ms) on shard 0',
    ]);
  });
});

describe('welcomeMessage', () => {
  it("carries the worker's rank, the run, version, heartbeat and layout; the config only when there is one", () => {
    const w = new Membership().add('aa', rid('aa'), hello('a'), 0, 100);
    const layout = { entries: [{ name: 'w', shape: [2], offset: 0, size: 2 }], size: 2 };
    const run = { run: 'r1', version: 7, layout, heartbeatMs: 500 };
    expect(welcomeMessage(w, run)).toEqual({
      t: 'WELCOME',
      v: 1,
      run: 'r1',
      rank: 0,
      version: 7,
      heartbeatMs: 500,
      layout,
    });
    expect(welcomeMessage(w, run)).not.toHaveProperty('config');
    expect(welcomeMessage(w, { ...run, config: { job: 1 } }).config).toEqual({ job: 1 });
  });
});

describe('StallClock', () => {
  it('reports a tick more than two periods late as a stall, and silence counts from its end', () => {
    const clock = new StallClock(100, 0);
    expect(clock.tick(100)).toBe(0);
    expect(clock.tick(300)).toBe(0); // exactly two periods: not a stall
    expect(clock.listeningSince).toBe(-Infinity);
    expect(clock.tick(1300)).toBe(1000);
    expect(clock.listeningSince).toBe(1300);
    expect(clock.tick(1400)).toBe(0);
    expect(clock.listeningSince).toBe(1300);
  });
});
