/**
 * The shard schedule of one step, pure (no sockets, no timers): the global batch split into
 * contiguous shards, which live worker computes which shard, and which shards go back to the
 * queue when a worker dies, leaves, misses its deadline or answers non-finite. Each shard goes
 * through the states docs/protocol.md draws:
 *
 *   QUEUED --assign--> ASSIGNED --answer--> DONE
 *     ^                   |                  |
 *     +-- released -------+                  |
 *     +-- non-finite, retried elsewhere -----+
 */
import { splitBatch } from '../split.js';

/** What the schedule needs to know of a worker: a stable key and its rank (lower ranks are served first). */
export interface ScheduledWorker {
  readonly key: string;
  readonly rank: number;
}

export type ShardStatus<W, A> =
  | { readonly state: 'QUEUED' }
  | { readonly state: 'ASSIGNED'; readonly worker: W; readonly since: number }
  | { readonly state: 'DONE'; readonly worker: W; readonly answer: A };

/** A shard in the ASSIGNED state. */
export type AssignedShard<W, A> = Shard<W, A> & { readonly status: Extract<ShardStatus<W, A>, { state: 'ASSIGNED' }> };

export interface Shard<W, A> {
  /** Index within the step (the STEP's and GRADS's `shard`). */
  readonly index: number;
  readonly items: unknown[];
  /** The prefetch hint sent with it (the next batch, split the same way). */
  readonly next: unknown[] | undefined;
  /** Assignments so far: 1 after the first, 2+ after reassignment. */
  attempt: number;
  status: ShardStatus<W, A>;
  /** Keys of the workers whose answer was non-finite (the shard is retried once elsewhere). */
  readonly nonFiniteFrom: Set<string>;
}

export class ShardSchedule<W extends ScheduledWorker, A> {
  readonly shards: Shard<W, A>[];
  /** Assignments of shards that had been assigned before (after a death, a deadline, a non-finite answer). */
  reassigned = 0;

  /** Step `step`'s `items` in `parts` contiguous shards whose sizes differ by at most one (fewer when items are fewer). */
  constructor(
    readonly step: number,
    items: readonly unknown[],
    parts: number,
    next?: readonly unknown[],
  ) {
    const nextShards = next && next.length > 0 ? splitBatch(next, parts) : undefined;
    this.shards = splitBatch(items, parts).map((shardItems, index) => ({
      index,
      items: shardItems,
      next: nextShards?.[index],
      attempt: 0,
      status: { state: 'QUEUED' },
      nonFiniteFrom: new Set<string>(),
    }));
  }

  get allDone(): boolean {
    return this.shards.every((s) => s.status.state === 'DONE');
  }

  /** The shard `w` is computing, if any (a worker computes one shard at a time). */
  heldBy(w: W): AssignedShard<W, A> | undefined {
    return this.shards.find((s): s is AssignedShard<W, A> => s.status.state === 'ASSIGNED' && s.status.worker === w);
  }

  /**
   * Gives every QUEUED shard, in shard order, to a free worker of `live` (one not computing a
   * shard), lowest rank first, avoiding workers that already answered that shard non-finite unless
   * only they are left. Returns the assignments made now, for the caller to send.
   */
  assign(live: readonly W[], now: number): { shard: Shard<W, A>; worker: W }[] {
    const free = live.filter((w) => !this.heldBy(w)).sort((a, b) => a.rank - b.rank);
    const assigned: { shard: Shard<W, A>; worker: W }[] = [];
    for (const shard of this.shards) {
      if (shard.status.state !== 'QUEUED') continue;
      let i = free.findIndex((w) => !shard.nonFiniteFrom.has(w.key));
      // Only workers that already failed this shard are left: give it to them anyway.
      if (i < 0 && live.every((w) => shard.nonFiniteFrom.has(w.key))) i = free.length > 0 ? 0 : -1;
      if (i < 0) continue;
      const worker = free.splice(i, 1)[0]!;
      if (shard.attempt > 0) this.reassigned++;
      shard.attempt++;
      shard.status = { state: 'ASSIGNED', worker, since: now };
      assigned.push({ shard, worker });
    }
    return assigned;
  }

  /** Why the answer of `w` for shard `index` cannot be taken, or null when it can. */
  refuse(w: W, index: number): string | null {
    const shard = this.shards[index];
    if (!shard) return `GRADS for shard ${index}, step ${this.step} has ${this.shards.length} shard(s)`;
    if (shard.status.state !== 'ASSIGNED' || shard.status.worker !== w)
      return `GRADS for shard ${index}, which is not assigned to it`;
    return null;
  }

  /** ASSIGNED -> DONE (check with `refuse` first). */
  complete(w: W, index: number, answer: A): void {
    const reason = this.refuse(w, index);
    if (reason) throw new Error(`ShardSchedule.complete: ${reason}`);
    this.shards[index]!.status = { state: 'DONE', worker: w, answer };
  }

  /** `w` is gone (dead, left, late): its ASSIGNED shard goes back to the queue. Returns that shard. */
  release(w: W): Shard<W, A> | undefined {
    const shard: Shard<W, A> | undefined = this.heldBy(w);
    if (shard) shard.status = { state: 'QUEUED' };
    return shard;
  }

  /**
   * Shard `index` was answered non-finite. The first time, when a live worker that has not tried it
   * exists, it goes back to the queue (a faulty worker?) and this returns true; otherwise the answer
   * stands (a diverging model) and this returns false.
   */
  retryElsewhere(index: number, live: readonly W[]): boolean {
    const shard = this.shards[index]!;
    if (shard.status.state !== 'DONE')
      throw new Error(`ShardSchedule.retryElsewhere: shard ${index} is ${shard.status.state}, expected DONE`);
    const from = shard.status.worker;
    const others = live.some((o) => o.key !== from.key && !shard.nonFiniteFrom.has(o.key));
    if (shard.nonFiniteFrom.size > 0 || !others) return false;
    shard.nonFiniteFrom.add(from.key);
    shard.status = { state: 'QUEUED' };
    return true;
  }

  /** Every shard's answer with its worker and attempt, in shard order (not arrival order). */
  answers(): { shard: Shard<W, A>; worker: W; answer: A }[] {
    return this.shards.map((shard) => {
      if (shard.status.state !== 'DONE')
        throw new Error(`ShardSchedule.answers: shard ${shard.index} is ${shard.status.state}, expected DONE`);
      return { shard, worker: shard.status.worker, answer: shard.status.answer };
    });
  }
}
