import type { PreprocessConfig } from '@scriptorium/data/browser';
import type { ArchName } from './architectures.js';

export const BUNDLE_FORMAT = 'scriptorium-bundle';
/** The bundle version written. Version 2 adds the files' SHA-256s (`sha256`). */
export const BUNDLE_VERSION = 2;
/** The versions read: 1 (no hashes; every other check applies) and 2. */
export const BUNDLE_VERSIONS_READ: readonly number[] = [1, 2];
/** The files whose SHA-256 bundle.json records (version 2 on). */
export const HASHED_FILES = ['model.json', 'weights.bin', 'alphabet.json'] as const;
export type HashedFile = (typeof HASHED_FILES)[number];

/** What a trained model travels with (bundle.json). */
export interface BundleMeta {
  format: typeof BUNDLE_FORMAT;
  version: number;
  arch: ArchName;
  hyperparameters: Record<string, unknown>;
  widthMultiple: number;
  widthReduction: number;
  usesMask: boolean;
  preprocess: PreprocessConfig;
  /** Free-form training facts: data, steps, validation CER, date. */
  training: Record<string, unknown>;
  /** SHA-256 (hex) of each of HASHED_FILES as written; absent in version 1. */
  sha256?: Record<HashedFile, string>;
}

/** A bundle that cannot be loaded: names the file and the field that does not match, and what was expected. */
export class BundleError extends Error {
  override name = 'BundleError';
}
