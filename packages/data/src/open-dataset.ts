import { dataRoot } from './data-root.js';
import type { Dataset } from './dataset.js';
import { DataError } from './errors.js';
import { gtFolderDataset } from './gt-folder.js';
import { iamDataset } from './iam.js';
import { DEFAULT_PREPROCESS, type PreprocessConfig } from './normalize.js';
import { manifestDataset } from './manifest.js';
import {
  MNIST_LAYOUT_DEFAULTS,
  MNIST_UNSEEN_DEFAULTS,
  mnistLines,
  mnistUnseenLines,
  type Split,
} from './mnist-lines.js';
import { pageXmlDataset } from './page-xml.js';
import { TEXTLINES_DEFAULTS } from './textlines/options.js';
import { textLines } from './textlines/textlines.js';

export interface OpenDatasetOptions {
  preprocess?: PreprocessConfig;
  /** For generated datasets (mnist-lines, mnist-unseen, textlines): which split. Default 'train'. */
  split?: Split;
  /** For generated datasets: number of lines. Default 10000 (train), 500 otherwise. */
  count?: number;
  seed?: number;
  /** For iam: a split list of line or form ids (IAM's trainset.txt, say). Default: every line. */
  splitFile?: string;
  /**
   * For file data (manifest, iam, gt, page): every file must resolve, symlinks followed, inside this directory, or
   * loading it throws a DataError naming it. Default: no confinement (the user typed the path).
   */
  dataRoot?: string;
}

export const DATA_SPECS = [
  'mnist-lines[:OPTIONS]',
  'mnist-unseen[:OPTIONS]',
  'textlines[:OPTIONS]',
  'manifest:FILE',
  'iam:DIR',
  'gt:DIR',
  'page:DIR',
] as const;

/** Generated datasets: their splits are chosen by `split`, and `name:key=value,...` sets their options. */
export const SYNTHETIC_KINDS = ['mnist-lines', 'mnist-unseen', 'textlines'] as const;

/** True for specs of generated datasets ('mnist-lines', 'mnist-unseen:slant=0.2', ...), which have their own splits. */
export function isSyntheticSpec(spec: string): boolean {
  return (SYNTHETIC_KINDS as readonly string[]).includes(spec.split(':')[0]!);
}

/**
 * The options of a generated dataset's spec: 'maxDigits=12,slant=0.3' -> { maxDigits: 12, slant: 0.3 }. Every
 * key must be one of `defaults`' and every value a number; the error names the spec and the key.
 */
export function parseSpecOptions(
  spec: string,
  arg: string,
  defaults: Readonly<Record<string, number>>,
): Record<string, number> {
  const out: Record<string, number> = {};
  if (!arg) return out;
  for (const item of arg.split(',')) {
    const eq = item.indexOf('=');
    const key = (eq < 0 ? item : item.slice(0, eq)).trim(),
      raw = eq < 0 ? '' : item.slice(eq + 1).trim();
    if (!Object.hasOwn(defaults, key))
      throw new DataError(
        `data spec '${spec}': unknown option '${key}' (expected one of: ${Object.keys(defaults).join(', ')})`,
      );
    const value = raw === '' ? NaN : Number(raw);
    if (eq < 0 || !Number.isFinite(value))
      throw new DataError(`data spec '${spec}': ${key}=${raw} (expected ${key}=NUMBER, default ${defaults[key]})`);
    if (Object.hasOwn(out, key)) throw new DataError(`data spec '${spec}': ${key} given twice`);
    out[key] = value;
  }
  return out;
}

/** The spec of a generated dataset with these options: syntheticSpec('mnist-lines', { maxDigits: 6 }) -> 'mnist-lines:maxDigits=6'. */
export function syntheticSpec(
  kind: (typeof SYNTHETIC_KINDS)[number],
  options: Readonly<Record<string, number | undefined>> = {},
): string {
  const items = Object.entries(options)
    .filter((e): e is [string, number] => e[1] !== undefined)
    .map(([k, v]) => `${k}=${v}`);
  return items.length > 0 ? `${kind}:${items.join(',')}` : kind;
}

/**
 * Opens a dataset from a spec: 'mnist-lines', 'mnist-unseen' or 'textlines' (options as 'mnist-lines:maxDigits=12,slant=0.3'), 'manifest:path.tsv', 'iam:DIR' (IAM lines.txt + lines/),
 * 'gt:DIR' (images with .gt.txt beside them) or 'page:DIR' (PAGE XML files).
 */
export async function openDataset(spec: string, options: OpenDatasetOptions = {}): Promise<Dataset> {
  const preprocess = { ...DEFAULT_PREPROCESS, ...options.preprocess };
  const root = options.dataRoot !== undefined ? await dataRoot(options.dataRoot) : undefined;
  const [kind, ...rest] = spec.split(':');
  const arg = rest.join(':');
  if (options.splitFile !== undefined && kind !== 'iam')
    throw new DataError(`data spec '${spec}': splitFile applies to iam:DIR only`);
  switch (kind) {
    case 'mnist-lines':
    case 'mnist-unseen': {
      const split = options.split ?? 'train';
      const defaults = kind === 'mnist-lines' ? MNIST_LAYOUT_DEFAULTS : MNIST_UNSEEN_DEFAULTS;
      const layout = parseSpecOptions(spec, arg, defaults as unknown as Record<string, number>);
      const make = kind === 'mnist-lines' ? mnistLines : mnistUnseenLines;
      return make({
        ...layout,
        split,
        count: options.count ?? (split === 'train' ? 10_000 : 500),
        seed: options.seed ?? 1,
        preprocess,
      });
    }
    case 'textlines': {
      const split = options.split ?? 'train';
      const drawing = parseSpecOptions(spec, arg, TEXTLINES_DEFAULTS);
      return textLines({
        ...drawing,
        split,
        count: options.count ?? (split === 'train' ? 10_000 : 500),
        seed: options.seed ?? 1,
        preprocess,
      });
    }
    case 'manifest':
      if (!arg) throw new DataError(`data spec '${spec}': expected manifest:PATH`);
      return manifestDataset(arg, preprocess, root);
    case 'iam':
      if (!arg) throw new DataError(`data spec '${spec}': expected iam:DIR`);
      return iamDataset(arg, preprocess, { split: options.splitFile, root });
    case 'gt':
      if (!arg) throw new DataError(`data spec '${spec}': expected gt:DIR`);
      return gtFolderDataset(arg, preprocess, { root });
    case 'page':
      if (!arg) throw new DataError(`data spec '${spec}': expected page:DIR`);
      return pageXmlDataset(arg, preprocess, root);
    default:
      throw new DataError(`unknown data spec '${spec}' (expected one of: ${DATA_SPECS.join(', ')})`);
  }
}
