import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { Alphabet, DEFAULT_PREPROCESS, type PreprocessConfig } from '@scriptorium/data';
import type { BuiltArch } from './architectures.js';
import { checkHash, checkMeta, checkModelJson, checkShapes, checkWeights, sha256 } from './bundle-check.js';
import { BUNDLE_FORMAT, BUNDLE_VERSION, BundleError, type BundleMeta, type HashedFile } from './bundle-meta.js';
import { HtrModel } from './htr-model.js';

export { BUNDLE_FORMAT, BUNDLE_VERSION, BUNDLE_VERSIONS_READ, BundleError, HASHED_FILES } from './bundle-meta.js';
export type { BundleMeta, HashedFile } from './bundle-meta.js';

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
  const weightData = a.weightData instanceof ArrayBuffer ? a.weightData : tf.io.concatenateArrayBuffers(a.weightData as ArrayBuffer[]);
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
    sha256: { 'model.json': sha256(files['model.json']), 'weights.bin': sha256(files['weights.bin']), 'alphabet.json': sha256(files['alphabet.json']) },
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
    throw new BundleError(`${file}: missing (${(err as NodeJS.ErrnoException).code}); is this a Scriptorium model bundle?`);
  }
}

function parseJson(bytes: Buffer, file: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new BundleError(`${file}: not valid JSON (${(err as Error).message})`);
  }
}

export interface LoadedBundle {
  model: HtrModel;
  alphabet: Alphabet;
  meta: BundleMeta;
}

/**
 * Loads a bundle. Refuses, with a BundleError naming the file and the field: an unknown format, version or
 * architecture; inconsistent metadata; a file whose SHA-256 is not the one bundle.json records; a weights
 * manifest that does not describe weights.bin byte for byte or does not fit the topology's shapes; NaN or
 * infinite weights; an alphabet whose size does not match the output layer.
 */
export async function loadBundle(dir: string): Promise<LoadedBundle> {
  const file = (name: string) => path.join(dir, name);
  const meta = checkMeta(parseJson(await readBundleFile(file('bundle.json')), file('bundle.json')), file('bundle.json'));
  const bytes = {} as Record<HashedFile, Buffer>;
  for (const name of ['model.json', 'weights.bin', 'alphabet.json'] as const) {
    bytes[name] = await readBundleFile(file(name));
    checkHash(meta, name, file(name), bytes[name]);
  }
  let alphabet: Alphabet;
  try {
    alphabet = Alphabet.fromJSON(parseJson(bytes['alphabet.json'], file('alphabet.json')), file('alphabet.json'));
  } catch (err) {
    throw err instanceof BundleError ? err : new BundleError((err as Error).message);
  }
  const { modelTopology, specs } = checkModelJson(parseJson(bytes['model.json'], file('model.json')), file('model.json'));
  const weights = checkWeights(specs, bytes['weights.bin'], file('weights.bin'));
  let layersModel: tfl.LayersModel;
  try {
    layersModel = await tfl.loadLayersModel(tf.io.fromMemory({ modelTopology }));
  } catch (err) {
    throw new BundleError(`${file('model.json')}: modelTopology does not build a model (${(err as Error).message.split('\n')[0]})`);
  }
  checkShapes(layersModel, weights, file('model.json'));
  const tensors = Object.fromEntries([...weights].map(([name, w]) => [name, tf.tensor(w.values, w.shape, 'float32')]));
  try {
    layersModel.loadWeights(tensors);
  } finally {
    tf.dispose(Object.values(tensors));
  }
  const outShape = layersModel.outputs[0]!.shape;
  const classes = outShape[outShape.length - 1];
  if (classes !== alphabet.size) {
    throw new BundleError(
      `${dir}: the model outputs ${classes} classes but alphabet.json has ${alphabet.size} (${alphabet.chars.length} characters + blank)`,
    );
  }
  const inputs = layersModel.inputs.length;
  if (meta.usesMask !== (inputs === 2)) {
    throw new BundleError(`${file('bundle.json')}: usesMask is ${meta.usesMask}, but the model has ${inputs} input(s) (${inputs === 2 ? 'image and mask' : 'image'})`);
  }
  const height = layersModel.inputs[0]!.shape[1];
  if (height !== meta.preprocess.height) {
    throw new BundleError(`${file('bundle.json')}: preprocess.height is ${meta.preprocess.height}, but the model takes lines ${height} pixels high`);
  }
  const built: BuiltArch = {
    model: layersModel,
    widthMultiple: meta.widthMultiple,
    widthReduction: meta.widthReduction,
    usesMask: meta.usesMask,
    hyperparameters: meta.hyperparameters,
  };
  return { model: new HtrModel(meta.arch, built), alphabet, meta };
}
