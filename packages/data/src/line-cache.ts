import type { Dataset } from './dataset.js';
import { DataError } from './errors.js';
import type { LineSample } from './line-image.js';

export interface LineCacheOptions {
  /** Budget for cached image data (4 bytes per pixel); least recently used lines are evicted beyond it. */
  maxBytes: number;
}

export interface LineCacheStats {
  hits: number;
  misses: number;
  /** Image bytes held now. */
  bytes: number;
  entries: number;
}

/**
 * A Dataset that keeps normalised lines of another one in memory, least recently used evicted first
 * once their image data exceeds `maxBytes`, so that later epochs do not decode again. Concurrent loads
 * of one index share a single load; failed loads are not cached. Cached samples are shared: treat
 * them as read-only (augmentation and collate copy).
 */
export class LineCache implements Dataset {
  readonly name: string;
  readonly size: number;
  private readonly lines = new Map<number, LineSample>(); // in use order, least recent first
  private readonly loading = new Map<number, Promise<LineSample>>();
  private readonly counts = { hits: 0, misses: 0, bytes: 0 };

  constructor(
    private readonly inner: Dataset,
    private readonly options: LineCacheOptions,
  ) {
    if (!(options.maxBytes >= 0))
      throw new DataError(`line cache: maxBytes = ${options.maxBytes} (expected a number of bytes >= 0)`);
    this.name = inner.name;
    this.size = inner.size;
  }

  id(i: number): string {
    return this.inner.id(i);
  }

  text(i: number): string {
    return this.inner.text(i);
  }

  load(i: number): Promise<LineSample> {
    const hit = this.lines.get(i);
    if (hit) {
      this.counts.hits++;
      this.lines.delete(i); // move to the most recent end
      this.lines.set(i, hit);
      return Promise.resolve(hit);
    }
    const pending = this.loading.get(i);
    if (pending) {
      this.counts.hits++;
      return pending;
    }
    this.counts.misses++;
    const load = this.inner.load(i).then(
      (sample) => {
        this.loading.delete(i);
        this.insert(i, sample);
        return sample;
      },
      (err: unknown) => {
        this.loading.delete(i);
        throw err;
      },
    );
    this.loading.set(i, load);
    return load;
  }

  stats(): LineCacheStats {
    return { ...this.counts, entries: this.lines.size };
  }

  /** Drops every cached line (the counters stay). */
  clear(): void {
    this.lines.clear();
    this.counts.bytes = 0;
  }

  private insert(i: number, sample: LineSample): void {
    const bytes = sample.image.data.byteLength;
    if (bytes > this.options.maxBytes || this.lines.has(i)) return;
    for (const [j, old] of this.lines) {
      if (this.counts.bytes + bytes <= this.options.maxBytes) break;
      this.lines.delete(j);
      this.counts.bytes -= old.image.data.byteLength;
    }
    this.lines.set(i, sample);
    this.counts.bytes += bytes;
  }
}
