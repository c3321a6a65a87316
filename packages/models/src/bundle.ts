import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { DEFAULT_PREPROCESS, type Alphabet, type PreprocessConfig } from '@scriptorium/data/browser';
import { BUNDLE_FORMAT, BUNDLE_VERSION, BundleError, type BundleMeta, type HashedFile } from './bundle-meta.js';
import { loadBundleFrom, type LoadedBundle } from './bundle-load.js';
import type { HtrModel } from './htr-model.js';
import { sha256 } from './sha256.js';

export { BUNDLE_FORMAT, BUNDLE_VERSION, BUNDLE_VERSIONS_READ, BundleError, HASHED_FILES } from './bundle-meta.js';
export type { BundleMeta, HashedFile } from './bundle-meta.js';
export { loadBundleFrom } from './bundle-load.js';
export type { BundleFileName, BundleSource, LoadedBundle } from './bundle-load.js';

/**
 * Writes a model bundle: model.json + weights.bin (the tfjs layers format), alphabet.json and bundle.json.
 * Atomic: written to a sibling temporary directory, then renamed over `dir`.
 */
export async function saveBundle(
  dir: string,
  b: { model: HtrModel; alphabet: Alphabet; preprocess?: PreprocessConfig; training?: Record<string, unknown> },
): Promise<void> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await b.model.model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const a = artifacts!;
  const weightData =
    a.weightData instanceof ArrayBuffer ? a.weightData : tf.io.concatenateArrayBuffers(a.weightData as ArrayBuffer[]);
  const modelJson = {
    format: a.format ?? 'layers-model',
    generatedBy: a.generatedBy,
    convertedBy: null,
    modelTopology: a.modelTopology,
    weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }],
  };
  const files: Record<HashedFile, Buffer> = {
    'model.json': Buffer.from(JSON.stringify(modelJson)),
    'weights.bin': Buffer.from(weightData),
    'alphabet.json': Buffer.from(`${JSON.stringify(b.alphabet.toJSON(), null, 2)}\n`),
  };
  const meta: BundleMeta = {
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    arch: b.model.arch,
    hyperparameters: b.model.hyperparameters,
    widthMultiple: b.model.built.widthMultiple,
    widthReduction: b.model.built.widthReduction,
    usesMask: b.model.built.usesMask,
    preprocess: { ...DEFAULT_PREPROCESS, ...b.preprocess },
    training: { savedAt: new Date().toISOString(), ...b.training },
    sha256: {
      'model.json': sha256(files['model.json']),
      'weights.bin': sha256(files['weights.bin']),
      'alphabet.json': sha256(files['alphabet.json']),
    },
  };
  const parent = path.dirname(path.resolve(dir));
  await mkdir(parent, { recursive: true });
  const tmp = path.join(parent, `.${path.basename(dir)}.tmp-${process.pid}-${Date.now()}`);
  await mkdir(tmp);
  for (const [name, bytes] of Object.entries(files)) await writeFile(path.join(tmp, name), bytes);
  await writeFile(path.join(tmp, 'bundle.json'), `${JSON.stringify(meta, null, 2)}\n`);
  const old = `${tmp}.old`;
  await rename(dir, old).catch(() => undefined);
  await rename(tmp, dir);
  await rm(old, { recursive: true, force: true });
}

/** The bytes of `file`, a BundleError naming it when it cannot be read. */
async function readBundleFile(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new BundleError(
      `${file}: missing (${(err as NodeJS.ErrnoException).code}); is this a Scriptorium model bundle?`,
    );
  }
}

/** Loads the bundle in directory `dir`, with every check of loadBundleFrom (bundle-load.ts). */
export async function loadBundle(dir: string): Promise<LoadedBundle> {
  return loadBundleFrom({
    read: (name) => readBundleFile(path.join(dir, name)),
    where: (name) => path.join(dir, name),
    label: dir,
  });
}
