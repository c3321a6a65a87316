import { isSyntheticSpec, openDataset, type Dataset, type LineSample } from '@scriptorium/data';
import type { TrainJob } from '../job.js';
import { loadLines } from './evaluate.js';

/** Validation lines are kept in memory between evaluations up to this many bytes of pixels. */
const VALID_KEEP_BYTES = 256 * 2 ** 20;

/** The lines a run validates on, and how many of the training lines are left to train on. */
export interface ValidationSet {
  dataset: Dataset;
  count: number;
  trainSize: number;
}

/**
 * --valid when given; else a generated dataset's own valid split; else the last 5% (at least one line) of the
 * training data, which training then leaves out.
 */
export async function validationSet(
  valid: string | undefined,
  count: number,
  job: TrainJob,
  train: Dataset,
): Promise<ValidationSet> {
  if (valid) {
    const dataset = await openDataset(valid, { split: 'valid', count, seed: job.seed, preprocess: job.preprocess });
    return { dataset, count, trainSize: train.size };
  }
  if (isSyntheticSpec(job.data.spec)) {
    // A generated dataset's own valid split, with the same options (digit images, fonts or texts training never sees).
    return {
      dataset: await openDataset(job.data.spec, {
        split: 'valid',
        count,
        seed: job.seed + 1,
        preprocess: job.preprocess,
      }),
      count,
      trainSize: train.size,
    };
  }
  const n = Math.max(1, Math.floor(train.size * 0.05));
  const start = train.size - n;
  const dataset: Dataset = {
    name: `${train.name} (last ${n})`,
    size: n,
    id: (i) => train.id(start + i),
    text: (i) => train.text(start + i),
    load: (i) => train.load(start + i),
  };
  return { dataset, count: Math.min(count, n), trainSize: start };
}

/**
 * The validation lines of each evaluation. They are not augmented, so they are loaded once and kept when they fit
 * in VALID_KEEP_BYTES (mnist-lines' 300: under 5 MB); larger sets are read again at each evaluation.
 */
export class ValidationLines {
  private kept?: LineSample[];
  constructor(private readonly set: ValidationSet) {}

  async load(): Promise<LineSample[]> {
    if (this.kept) return this.kept;
    const lines = await loadLines(this.set.dataset, this.set.count);
    if (lines.reduce((n, l) => n + l.image.data.byteLength, 0) <= VALID_KEEP_BYTES) this.kept = lines;
    return lines;
  }
}
