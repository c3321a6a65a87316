import type { Dataset } from './dataset.js';
import { DataError } from './errors.js';
import { DEFAULT_PREPROCESS, type PreprocessConfig } from './image-io.js';
import { manifestDataset } from './manifest.js';
import { mnistLines, type Split } from './mnist-lines.js';

export interface OpenDatasetOptions {
  preprocess?: PreprocessConfig;
  /** For mnist-lines: which digit pool split. Default 'train'. */
  split?: Split;
  /** For mnist-lines: number of lines. Default 10000 (train), 500 otherwise. */
  count?: number;
  seed?: number;
}

export const DATA_SPECS = ['mnist-lines', 'manifest:FILE'] as const;

/** Opens a dataset from a spec: 'mnist-lines' or 'manifest:path.tsv'. */
export async function openDataset(spec: string, options: OpenDatasetOptions = {}): Promise<Dataset> {
  const preprocess = { ...DEFAULT_PREPROCESS, ...options.preprocess };
  const [kind, ...rest] = spec.split(':');
  const arg = rest.join(':');
  switch (kind) {
    case 'mnist-lines': {
      const split = options.split ?? 'train';
      return mnistLines({ split, count: options.count ?? (split === 'train' ? 10_000 : 500), seed: options.seed ?? 1, height: preprocess.height });
    }
    case 'manifest':
      if (!arg) throw new DataError(`data spec '${spec}': expected manifest:PATH`);
      return manifestDataset(arg, preprocess);
    default:
      throw new DataError(`unknown data spec '${spec}' (expected one of: ${DATA_SPECS.join(', ')})`);
  }
}
