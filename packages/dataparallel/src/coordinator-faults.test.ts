/**
 * Fault injection on the coordinator (issue 18), each fault with what is promised:
 * - a stall of the coordinator's event loop longer than the silence limit (validation runs
 *   synchronously in the coordinator process): every worker is kept, no ghost rank registers, and
 *   the next step completes, whether it starts at once or after a timer; a HELLO queued during a
 *   stall that outlasts waitForWorkers' timeout is read before its verdict.
 * - a hostile peer that never said HELLO sends a 97-frame message of 97 MiB, or an oversized HELLO:
 *   each is dropped unread (bounds on the whole message, far smaller for strangers), nobody joins,
 *   and an honest worker then joins and trains.
 */
import { Packr } from 'msgpackr';
import * as zmq from 'zeromq';
import { describe, expect, it } from 'vitest';
import type { CoordinatorEvent } from './coordinator/options.js';
import { MAX_HELLO_BYTES } from './coordinator/bounds.js';
import { coordinatorFixture } from './fixtures/coordinator-fixture.js';
import { batchIndices } from './fixtures/tiny-model.js';

const BATCH = 12;

const fx = coordinatorFixture();
const { start, spawn } = fx;

/** Blocks this process's event loop for `ms` (as a synchronous validation pass does). */
function busyWait(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    /* stalled */
  }
}

describe('coordinator faults', () => {
  // 'step at once': the next STEP goes out before the queued messages are read, to workers that are
  // rejoining (they drop it): their HELLO gets the shard sent again. 'a timer first': the
  // silence check runs before the queued heartbeats are read: it must not count the stall.
  it.each([
    'step at once',
    'a timer first',
  ])('a stall longer than the silence limit keeps every worker, registers no ghost rank, and the next step completes (%s)', async (then) => {
    const events: CoordinatorEvent[] = [];
    // Silence limit 100 ms x 3 = 300 ms; the stall is 5 times that. The workers' own heartbeats go
    // unanswered meanwhile, so they also send HELLO again: the same worker, not a new rank.
    const coord = await start({
      heartbeatMs: 100,
      heartbeatMisses: 3,
      stepTimeoutMs: 5000,
      joinTimeoutMs: 8000,
      onEvent: (e) => events.push(e),
    });
    const workers = spawn(2, coord.endpoint);
    await coord.waitForWorkers(2);
    const first = await coord.step(batchIndices(1, BATCH));
    expect(first.workers).toBe(2);
    busyWait(1500);
    if (then === 'a timer first') await new Promise((r) => setTimeout(r, 0));
    const second = await coord.step(batchIndices(2, BATCH));
    expect(second.count).toBe(BATCH);
    expect(second.workers).toBe(2);
    expect(
      events.filter((e) => e.type === 'leave'),
      workers.output(),
    ).toEqual([]);
    expect(events.filter((e) => e.type === 'join').map((e) => (e as { rank: number }).rank)).toEqual([0, 1]);
    expect(coord.liveWorkers).toBe(2);
    await coord.close();
    expect(await workers.exited, workers.output()).toEqual([0, 0]);
  }, 45_000);

  it('drops unread a 97-frame, 97 MiB message and an oversized HELLO from a peer that never said HELLO', async () => {
    const events: CoordinatorEvent[] = [];
    const coord = await start({ onEvent: (e) => events.push(e) });
    const packr = new Packr({ useRecords: false });
    const hostile = new zmq.Dealer({ routingId: 'hostile', linger: 0 });
    fx.onCleanup(async () => hostile.close());
    hostile.connect(coord.endpoint);
    const hello = (caps: object) => packr.pack({ t: 'HELLO', v: 1, worker: 'hostile', caps });
    // Each frame is under the per-frame limit (layout.size * 4 + 1 MiB), so libzmq passes the message on.
    await hostile.send([hello({}), ...Array.from({ length: 96 }, () => Buffer.alloc(1 << 20))]);
    // A well-formed HELLO of 200 KiB: joined before, as a worker with 200 KiB of caps.
    await hostile.send(hello({ junk: 'x'.repeat(200_000) }));
    const drops = () => events.filter((e): e is Extract<CoordinatorEvent, { type: 'drop' }> => e.type === 'drop');
    for (let i = 0; i < 100 && drops().length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    expect(drops().map((d) => d.reason)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^message of 97 frame\\(s\\), \\d+ bytes, from a peer that has not said HELLO \\(at most 1 frame\\(s\\), ${MAX_HELLO_BYTES} bytes\\); not decoded$`,
        ),
      ),
      expect.stringMatching(/^message of 1 frame\(s\), \d+ bytes, from a peer that has not said HELLO/),
    ]);
    expect(coord.liveWorkers).toBe(0);
    // The coordinator still serves: an honest worker joins and trains.
    const workers = spawn(1, coord.endpoint);
    await coord.waitForWorkers(1);
    expect((await coord.step(batchIndices(1, BATCH))).count).toBe(BATCH);
    expect(events.filter((e) => e.type === 'join')).toHaveLength(1);
    await coord.close();
    expect(await workers.exited, workers.output()).toEqual([0]);
  }, 45_000);

  it('a HELLO queued during a stall past the waitForWorkers timeout is read before the verdict', async () => {
    const coord = await start();
    const waiting = coord.waitForWorkers(1, 200);
    const peer = new zmq.Dealer({ routingId: 'late', linger: 0 });
    fx.onCleanup(async () => peer.close());
    peer.connect(coord.endpoint);
    void peer.send(new Packr({ useRecords: false }).pack({ t: 'HELLO', v: 1, worker: 'late', caps: {} }));
    // libzmq's own threads connect and deliver the HELLO while this thread is stalled past the 200 ms.
    busyWait(1000);
    await expect(waiting).resolves.toBeUndefined();
    expect(coord.liveWorkers).toBe(1);
  });
});
