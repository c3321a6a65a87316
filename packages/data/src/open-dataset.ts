import type { Dataset } from './dataset.js';
import { DataError } from './errors.js';
import { gtFolderDataset } from './gt-folder.js';
import { iamDataset } from './iam.js';
import { DEFAULT_PREPROCESS, type PreprocessConfig } from './image-io.js';
import { manifestDataset } from './manifest.js';
import { mnistLines, type Split } from './mnist-lines.js';
import { pageXmlDataset } from './page-xml.js';

export interface OpenDatasetOptions {
  preprocess?: PreprocessConfig;
  /** For mnist-lines: which digit pool split. Default 'train'. */
  split?: Split;
  /** For mnist-lines: number of lines. Default 10000 (train), 500 otherwise. */
  count?: number;
  seed?: number;
  /** For iam: a split list of line or form ids (IAM's trainset.txt, say). Default: every line. */
  splitFile?: string;
}

export const DATA_SPECS = ['mnist-lines', 'manifest:FILE', 'iam:DIR', 'gt:DIR', 'page:DIR'] as const;

/**
 * Opens a dataset from a spec: 'mnist-lines', 'manifest:path.tsv', 'iam:DIR' (IAM lines.txt + lines/),
 * 'gt:DIR' (images with .gt.txt beside them) or 'page:DIR' (PAGE XML files).
 */
export async function openDataset(spec: string, options: OpenDatasetOptions = {}): Promise<Dataset> {
  const preprocess = { ...DEFAULT_PREPROCESS, ...options.preprocess };
  const [kind, ...rest] = spec.split(':');
  const arg = rest.join(':');
  if (options.splitFile !== undefined && kind !== 'iam') throw new DataError(`data spec '${spec}': splitFile applies to iam:DIR only`);
  switch (kind) {
    case 'mnist-lines': {
      const split = options.split ?? 'train';
      return mnistLines({ split, count: options.count ?? (split === 'train' ? 10_000 : 500), seed: options.seed ?? 1, height: preprocess.height });
    }
    case 'manifest':
      if (!arg) throw new DataError(`data spec '${spec}': expected manifest:PATH`);
      return manifestDataset(arg, preprocess);
    case 'iam':
      if (!arg) throw new DataError(`data spec '${spec}': expected iam:DIR`);
      return iamDataset(arg, preprocess, { split: options.splitFile });
    case 'gt':
      if (!arg) throw new DataError(`data spec '${spec}': expected gt:DIR`);
      return gtFolderDataset(arg, preprocess);
    case 'page':
      if (!arg) throw new DataError(`data spec '${spec}': expected page:DIR`);
      return pageXmlDataset(arg, preprocess);
    default:
      throw new DataError(`unknown data spec '${spec}' (expected one of: ${DATA_SPECS.join(', ')})`);
  }
}
