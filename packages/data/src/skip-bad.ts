import type { Dataset } from './dataset.js';
import { DataError } from './errors.js';
import type { LineSample } from './line-image.js';

export interface SkippedSample {
  index: number;
  id: string;
  /** The DataError's message, which names the file and line. */
  message: string;
}

export interface SkipBadOptions {
  /** Called once per bad sample, when it first fails. */
  onSkip?: (skipped: SkippedSample) => void;
  /** Fail (with the last bad sample's error) once more than this many distinct samples are bad. Default Infinity. */
  maxSkipped?: number;
}

/** Loads samples, turning bad data into `undefined` plus a report. */
export interface SkippingLoader {
  readonly dataset: Dataset;
  /** The sample, or undefined when its data is bad (a DataError). Other errors are rethrown. */
  load(i: number): Promise<LineSample | undefined>;
  /** Every bad sample so far, each once, in the order found; `.length` is the count. */
  readonly skipped: readonly SkippedSample[];
}

/**
 * Wraps a dataset so that a sample whose `load` throws a DataError (missing or undecodable image, ...) is
 * skipped instead of stopping a run. Nothing is dropped silently: each bad sample is reported to `onSkip` and
 * kept in `skipped`; it is not loaded again (later calls return undefined at once). The caller decides what a
 * gap means (a smaller batch, say), so `load(i)` always stays sample i.
 */
export function skipBad(dataset: Dataset, options: SkipBadOptions = {}): SkippingLoader {
  const maxSkipped = options.maxSkipped ?? Infinity;
  const skipped: SkippedSample[] = [];
  const bad = new Set<number>();
  return {
    dataset,
    skipped,
    load: async (i) => {
      if (bad.has(i)) return undefined;
      try {
        return await dataset.load(i);
      } catch (err) {
        if (!(err instanceof DataError)) throw err;
        if (bad.has(i)) return undefined; // a concurrent load of the same sample already reported it
        bad.add(i);
        const report = { index: i, id: dataset.id(i), message: err.message };
        skipped.push(report);
        options.onSkip?.(report);
        if (skipped.length > maxSkipped)
          throw new DataError(
            `${skipped.length} bad samples, more than maxSkipped ${maxSkipped}; last: ${err.message}`,
          );
        return undefined;
      }
    },
  };
}
