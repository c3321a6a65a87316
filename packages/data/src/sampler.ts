import { Rng } from '@scriptorium/runtime/rng';
import { DataError } from './errors.js';

export interface SamplerState {
  epoch: number;
  /** Batches of this epoch already handed out. */
  position: number;
}

export interface BatchSamplerOptions {
  /** Sample widths (for bucketing); omit for plain shuffled batches. */
  widths?: ArrayLike<number>;
  size: number;
  batchSize: number;
  seed: number;
  /** Sort by width inside windows of `bucketWindow` batches, so that batches hold similar widths. Default 50 (0: off). */
  bucketWindow?: number;
  /** Drop the last incomplete batch of an epoch. Default false. */
  dropLast?: boolean;
}

/**
 * Epochs of batches of sample indices: shuffled by seed and epoch, optionally bucketed by width to cut
 * padding. The whole state is (epoch, position), so a run resumes exactly.
 */
export class BatchSampler {
  private epochBatches: number[][] = [];
  private state: SamplerState = { epoch: 0, position: 0 };

  constructor(private readonly o: BatchSamplerOptions) {
    if (!Number.isInteger(o.batchSize) || o.batchSize < 1)
      throw new DataError(`sampler: batchSize = ${o.batchSize} (expected a positive integer)`);
    if (o.size < 1) throw new DataError('sampler: the dataset is empty');
    if (o.widths && o.widths.length !== o.size)
      throw new DataError(`sampler: ${o.widths.length} widths for ${o.size} samples`);
    this.epochBatches = this.batchesOf(0);
  }

  /** The batches of one epoch (deterministic in seed and epoch). */
  batchesOf(epoch: number): number[][] {
    const rng = new Rng((this.o.seed * 1000003 + epoch * 7919) >>> 0);
    const order = rng.shuffle(Array.from({ length: this.o.size }, (_, i) => i));
    const B = this.o.batchSize,
      window = (this.o.bucketWindow ?? 50) * B;
    if (this.o.widths && window > 0) {
      const w = this.o.widths;
      for (let s = 0; s < order.length; s += window) {
        const chunk = order.slice(s, s + window).sort((a, b) => w[a]! - w[b]!);
        order.splice(s, chunk.length, ...chunk);
      }
    }
    const batches: number[][] = [];
    for (let s = 0; s < order.length; s += B) {
      const batch = order.slice(s, s + B);
      if (batch.length < B && this.o.dropLast) break;
      batches.push(batch);
    }
    return this.o.widths && window > 0 ? rng.shuffle(batches) : batches;
  }

  get batchesPerEpoch(): number {
    return this.epochBatches.length;
  }

  get epoch(): number {
    return this.state.epoch;
  }

  /** The next batch; moves to a new epoch (newly shuffled) when this one is exhausted. */
  next(): number[] {
    if (this.state.position >= this.epochBatches.length) {
      this.state = { epoch: this.state.epoch + 1, position: 0 };
      this.epochBatches = this.batchesOf(this.state.epoch);
    }
    return this.epochBatches[this.state.position++]!;
  }

  /** The batch next() will return, without moving (across an epoch boundary too). */
  peek(): number[] {
    if (this.state.position < this.epochBatches.length) return this.epochBatches[this.state.position]!;
    return this.batchesOf(this.state.epoch + 1)[0]!;
  }

  getState(): SamplerState {
    return { ...this.state };
  }

  setState(state: SamplerState): void {
    if (!Number.isInteger(state.epoch) || !Number.isInteger(state.position) || state.epoch < 0 || state.position < 0) {
      throw new DataError(`sampler: bad state ${JSON.stringify(state)}`);
    }
    this.state = { ...state };
    this.epochBatches = this.batchesOf(state.epoch);
  }
}

/** Padding ratio of batches: padded pixels / all pixels, given sample widths. */
export function paddingRatio(batches: readonly (readonly number[])[], widths: ArrayLike<number>): number {
  let pad = 0,
    all = 0;
  for (const b of batches) {
    const max = Math.max(...b.map((i) => widths[i]!));
    for (const i of b) {
      pad += max - widths[i]!;
      all += max;
    }
  }
  return all ? pad / all : 0;
}

/** The indices of rank `rank` of `worldSize`: i where i % worldSize == rank. Disjoint and covering. */
export function shard(indices: readonly number[], rank: number, worldSize: number): number[] {
  if (!Number.isInteger(worldSize) || worldSize < 1)
    throw new DataError(`shard: worldSize = ${worldSize} (expected a positive integer)`);
  if (!Number.isInteger(rank) || rank < 0 || rank >= worldSize)
    throw new DataError(`shard: rank = ${rank} (expected 0..${worldSize - 1})`);
  return indices.filter((_, k) => k % worldSize === rank);
}
