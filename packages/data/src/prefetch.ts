import { Rng } from '@scriptorium/runtime/rng';
import { augmentLine, type AugmentConfig } from './augment.js';
import type { Dataset } from './dataset.js';
import { DataError } from './errors.js';
import type { LineSample } from './line-image.js';

export interface PrefetchOptions {
  /** Batches loaded ahead of the one being consumed. Default 2. */
  depth?: number;
  /** Samples loading at once, over all batches (earlier batches first). Default 4. */
  concurrency?: number;
  /** Augmentation applied to every loaded sample (after a LineCache, if the dataset is one). Default none. */
  augment?: AugmentConfig;
  /** Seed of the augmentation. Default 0. */
  seed?: number;
  /** Step number of the first batch (when resuming a run), for augmentation seeds. Default 0. */
  firstStep?: number;
}

/**
 * The seed of the augmentation of sample `index` in the batch of step `step`: a hash of the three, so
 * that augmentation depends neither on load timing nor on which process loads the sample.
 */
export function sampleSeed(seed: number, step: number, index: number): number {
  let h = mix32(seed >>> 0);
  h = mix32((h + Math.imul(step + 1, 0x9e3779b1)) >>> 0);
  return mix32((h + Math.imul(index + 1, 0x85ebca6b)) >>> 0);
}

/** MurmurHash3's 32-bit finaliser. */
function mix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Augments sample `index` of step `step` with its own seed (`sampleSeed`); without `augment`, the sample itself. */
export function augmentSample(
  sample: LineSample,
  index: number,
  step: number,
  options: Pick<PrefetchOptions, 'augment' | 'seed'>,
): LineSample {
  if (!options.augment) return sample;
  return {
    ...sample,
    image: augmentLine(sample.image, options.augment, new Rng(sampleSeed(options.seed ?? 0, step, index))),
  };
}

/** Loads sample `index` of step `step` and augments it as a Prefetcher would (the sequential reference). */
export async function loadSample(
  dataset: Dataset,
  index: number,
  step: number,
  options: PrefetchOptions = {},
): Promise<LineSample> {
  try {
    return augmentSample(await dataset.load(index), index, step, options);
  } catch (err) {
    throw new DataError(`${dataset.name}: sample ${index} ('${dataset.id(index)}'): ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/**
 * Batches of samples, in the order of `batches` (index lists), loaded `depth` batches ahead with at
 * most `concurrency` loads at once. Use as an async iterator (`for await`); breaking out, `return()` or
 * `close()` stops it. A failed load rejects the `next()` of its batch (the first failed sample of the
 * batch, with its index and id); the following batches are still served.
 */
export class Prefetcher implements AsyncIterableIterator<LineSample[]> {
  private readonly source: Iterator<readonly number[]>;
  private readonly queue: Array<Promise<LineSample[]>> = []; // the batch to hand out next, then those ahead
  private readonly unsettled = new Set<Promise<unknown>>(); // batches still loading, handed out or not
  private readonly depth: number;
  private readonly concurrency: number;
  private step: number;
  private loads = 0; // loads holding a slot
  private readonly waiting: Array<() => void> = [];
  private sourceDone = false;
  private closed = false;

  constructor(
    private readonly dataset: Dataset,
    batches: Iterable<readonly number[]>,
    private readonly options: PrefetchOptions = {},
  ) {
    this.depth = options.depth ?? 2;
    this.concurrency = options.concurrency ?? 4;
    if (!Number.isInteger(this.depth) || this.depth < 0)
      throw new DataError(`prefetch: depth = ${this.depth} (expected an integer >= 0)`);
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) {
      throw new DataError(`prefetch: concurrency = ${this.concurrency} (expected a positive integer)`);
    }
    this.step = options.firstStep ?? 0;
    this.source = batches[Symbol.iterator]();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<LineSample[], undefined>> {
    this.fill();
    const head = this.queue.shift(); // the `depth` batches behind it keep loading while it is awaited and used
    if (!head) return { done: true, value: undefined };
    return { done: false, value: await head };
  }

  async return(): Promise<IteratorResult<LineSample[], undefined>> {
    await this.close();
    return { done: true, value: undefined };
  }

  /** Stops: no new loads start, and it resolves once those under way have settled (their results dropped). */
  async close(): Promise<void> {
    if (!this.closed && !this.sourceDone) this.source.return?.(); // lets a generator of batches finish
    this.closed = true;
    this.queue.length = 0; // loads waiting for a slot get one as loads finish, see closed and stop
    await Promise.allSettled(this.unsettled);
  }

  /** Starts batches until the next one and `depth` more are loading. */
  private fill(): void {
    while (!this.closed && !this.sourceDone && this.queue.length < this.depth + 1) {
      const item = this.source.next();
      if (item.done) {
        this.sourceDone = true;
        break;
      }
      const batch = this.loadBatch([...item.value], this.step++);
      // Rejections reach the consumer through next(); this handler keeps a batch ahead that fails first from
      // being an unhandled rejection.
      const settled = batch.catch(() => {}).finally(() => this.unsettled.delete(settled));
      this.unsettled.add(settled);
      this.queue.push(batch);
    }
  }

  private async loadBatch(indices: number[], step: number): Promise<LineSample[]> {
    const results = await Promise.allSettled(indices.map((i) => this.loadOne(i, step)));
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    return results.map((r) => (r as PromiseFulfilledResult<LineSample>).value);
  }

  private async loadOne(index: number, step: number): Promise<LineSample> {
    if (this.loads < this.concurrency) this.loads++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve)); // the slot is handed over on release
    try {
      if (this.closed) throw new DataError('prefetch: closed');
      return await loadSample(this.dataset, index, step, this.options);
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.loads--;
    }
  }
}
