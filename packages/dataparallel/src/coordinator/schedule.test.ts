import { describe, expect, it } from 'vitest';
import { ShardSchedule } from './schedule.js';

// Workers as the schedule sees them: a key and a rank. Answers are plain numbers here.
const worker = (rank: number) => ({ key: `w${rank}`, rank });
const [w0, w1, w2] = [worker(0), worker(1), worker(2)];
type W = ReturnType<typeof worker>;
const ids = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Who holds which shard, as [shard index, worker key] pairs. */
function holders(s: ShardSchedule<W, number>): [number, string][] {
  return s.shards.flatMap((sh) =>
    sh.status.state === 'ASSIGNED' ? [[sh.index, sh.status.worker.key] as [number, string]] : [],
  );
}

describe('ShardSchedule: splitting and assigning', () => {
  it('splits a batch of 12 ids over 3 live workers: contiguous shards of 4, shard k to rank k', () => {
    const s = new ShardSchedule<W, number>(1, ids(12), 3);
    // Workers listed out of rank order: the lowest rank still gets the first shard.
    const assigned = s.assign([w2, w0, w1], 1000);
    expect(assigned.map((a) => [a.shard.index, a.worker.key, a.shard.items])).toEqual([
      [0, 'w0', [0, 1, 2, 3]],
      [1, 'w1', [4, 5, 6, 7]],
      [2, 'w2', [8, 9, 10, 11]],
    ]);
    expect(s.shards.map((sh) => sh.attempt)).toEqual([1, 1, 1]);
    expect(s.reassigned).toBe(0);
    expect(s.assign([w0, w1, w2], 1001)).toEqual([]); // nothing QUEUED, nobody free
  });

  it('sizes differ by at most one (7 ids over 3: 3, 2, 2), and a batch smaller than the workers gives fewer shards', () => {
    expect(new ShardSchedule(1, ids(7), 3).shards.map((sh) => sh.items)).toEqual([
      [0, 1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect(new ShardSchedule(1, ids(2), 3).shards.map((sh) => sh.items)).toEqual([[0], [1]]);
  });

  it("splits the next batch the same way, as each shard's prefetch hint", () => {
    const s = new ShardSchedule(1, ids(4), 2, [10, 11, 12]);
    expect(s.shards.map((sh) => sh.next)).toEqual([[10, 11], [12]]);
    expect(new ShardSchedule(1, ids(4), 2, []).shards.map((sh) => sh.next)).toEqual([undefined, undefined]);
  });

  it('a worker computes one shard at a time; a queued shard goes to the first worker that answers', () => {
    const s = new ShardSchedule<W, number>(1, ids(6), 3);
    // 3 shards, 2 workers (the third left before the step began).
    s.assign([w0, w1], 0);
    expect(holders(s)).toEqual([
      [0, 'w0'],
      [1, 'w1'],
    ]);
    s.complete(w1, 1, 7);
    expect(s.assign([w0, w1], 5).map((a) => [a.shard.index, a.worker.key])).toEqual([[2, 'w1']]);
    s.complete(w0, 0, 6);
    s.complete(w1, 2, 8);
    expect(s.allDone).toBe(true);
    // Answers in shard order, not arrival order.
    expect(s.answers().map((a) => [a.shard.index, a.worker.key, a.answer])).toEqual([
      [0, 'w0', 6],
      [1, 'w1', 7],
      [2, 'w1', 8],
    ]);
  });
});

describe('ShardSchedule: reassigning', () => {
  it("a dead worker's ids go back to the queue and to the next free worker, counted as a reassignment", () => {
    const s = new ShardSchedule<W, number>(2, ids(12), 3);
    s.assign([w0, w1, w2], 0);
    s.complete(w0, 0, 1);
    const released = s.release(w1); // w1 dies holding shard 1 (ids 4..7)
    expect(released?.index).toBe(1);
    expect(released?.status.state).toBe('QUEUED');
    expect(s.release(w1)).toBeUndefined(); // nothing left to release
    // w2 is busy with shard 2, so w0 (free again) takes ids 4..7.
    const again = s.assign([w0, w2], 10);
    expect(again.map((a) => [a.shard.index, a.worker.key, a.shard.items, a.shard.attempt])).toEqual([
      [1, 'w0', [4, 5, 6, 7], 2],
    ]);
    expect(s.reassigned).toBe(1);
    expect(s.heldBy(w0)?.status.since).toBe(10);
  });

  it('refuses answers for a shard that does not exist, is not assigned to that worker, or is already answered', () => {
    const s = new ShardSchedule<W, number>(3, ids(4), 2);
    s.assign([w0, w1], 0);
    expect(s.refuse(w0, 5)).toBe('GRADS for shard 5, step 3 has 2 shard(s)');
    expect(s.refuse(w0, 1)).toBe('GRADS for shard 1, which is not assigned to it');
    expect(s.refuse(w0, 0)).toBeNull();
    s.complete(w0, 0, 1);
    expect(s.refuse(w0, 0)).toBe('GRADS for shard 0, which is not assigned to it');
    expect(() => s.complete(w0, 0, 1)).toThrow('not assigned to it');
    // A late answer from a worker whose shard went to another one.
    s.release(w1);
    s.assign([w0, w2], 1);
    expect(s.refuse(w1, 1)).toBe('GRADS for shard 1, which is not assigned to it');
  });

  it('a non-finite shard is retried once on a worker that has not tried it, then the answer stands', () => {
    const s = new ShardSchedule<W, number>(1, ids(4), 2);
    s.assign([w0, w1], 0);
    s.complete(w0, 0, NaN);
    s.complete(w1, 1, 2);
    expect(s.retryElsewhere(0, [w0, w1])).toBe(true); // w1 has not tried shard 0
    expect(s.shards[0]!.status.state).toBe('QUEUED');
    // w0 is free but already failed shard 0: w1 gets it.
    expect(s.assign([w0, w1], 1).map((a) => a.worker.key)).toEqual(['w1']);
    s.complete(w1, 0, NaN);
    expect(s.retryElsewhere(0, [w0, w1])).toBe(false); // confirmed by a second worker
    expect(s.shards[0]!.attempt).toBe(2);
    expect(s.reassigned).toBe(1);
  });

  it('with no other worker live, a non-finite answer stands at once; a retried shard goes back to its failed worker when only it is left', () => {
    const alone = new ShardSchedule<W, number>(1, ids(2), 1);
    alone.assign([w0], 0);
    alone.complete(w0, 0, NaN);
    expect(alone.retryElsewhere(0, [w0])).toBe(false);

    const s = new ShardSchedule<W, number>(1, ids(2), 1);
    s.assign([w0], 0);
    s.complete(w0, 0, NaN);
    expect(s.retryElsewhere(0, [w0, w1])).toBe(true);
    // w1 died before taking it: only w0, which failed it, is left, and it gets the shard again.
    expect(s.assign([w0], 1).map((a) => a.worker.key)).toEqual(['w0']);
  });

  it('answers() throws while a shard is not DONE', () => {
    const s = new ShardSchedule<W, number>(1, ids(2), 2);
    s.assign([w0], 0);
    expect(s.allDone).toBe(false);
    expect(() => s.answers()).toThrow('shard 0 is ASSIGNED, expected DONE');
  });
});
