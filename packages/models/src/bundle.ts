import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { Alphabet, DEFAULT_PREPROCESS, type PreprocessConfig } from '@scriptorium/data';
import { ARCHS, type ArchName, type BuiltArch } from './architectures.js';
import { HtrModel } from './htr-model.js';

export const BUNDLE_FORMAT = 'scriptorium-bundle';
export const BUNDLE_VERSION = 1;

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
}

/** A bundle that cannot be loaded: names the file and what does not match. */
export class BundleError extends Error {
  override name = 'BundleError';
}

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
  };
  const parent = path.dirname(path.resolve(dir));
  await mkdir(parent, { recursive: true });
  const tmp = path.join(parent, `.${path.basename(dir)}.tmp-${process.pid}-${Date.now()}`);
  await mkdir(tmp);
  await writeFile(path.join(tmp, 'model.json'), JSON.stringify(modelJson));
  await writeFile(path.join(tmp, 'weights.bin'), Buffer.from(weightData));
  await writeFile(path.join(tmp, 'alphabet.json'), `${JSON.stringify(b.alphabet.toJSON(), null, 2)}\n`);
  await writeFile(path.join(tmp, 'bundle.json'), `${JSON.stringify(meta, null, 2)}\n`);
  const old = `${tmp}.old`;
  await rename(dir, old).catch(() => undefined);
  await rename(tmp, dir);
  await rm(old, { recursive: true, force: true });
}

async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new BundleError(`${file}: missing (${(err as NodeJS.ErrnoException).code}); is this a Scriptorium model bundle?`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new BundleError(`${file}: not valid JSON (${(err as Error).message})`);
  }
}

export interface LoadedBundle {
  model: HtrModel;
  alphabet: Alphabet;
  meta: BundleMeta;
}

/** Loads a bundle, checking its format, version, architecture and that the alphabet fits the output layer. */
export async function loadBundle(dir: string): Promise<LoadedBundle> {
  const metaFile = path.join(dir, 'bundle.json');
  const meta = (await readJson(metaFile)) as BundleMeta;
  if (meta?.format !== BUNDLE_FORMAT) throw new BundleError(`${metaFile}: format is '${meta?.format}', expected '${BUNDLE_FORMAT}'`);
  if (meta.version !== BUNDLE_VERSION) {
    throw new BundleError(`${metaFile}: bundle version ${meta.version} is not supported by this Scriptorium (expected ${BUNDLE_VERSION})`);
  }
  if (!ARCHS.includes(meta.arch)) throw new BundleError(`${metaFile}: unknown architecture '${meta.arch}' (expected one of: ${ARCHS.join(', ')})`);
  const alphabetFile = path.join(dir, 'alphabet.json');
  let alphabet: Alphabet;
  try {
    alphabet = Alphabet.fromJSON(await readJson(alphabetFile), alphabetFile);
  } catch (err) {
    throw err instanceof BundleError ? err : new BundleError((err as Error).message);
  }
  const modelFile = path.join(dir, 'model.json');
  const modelJson = (await readJson(modelFile)) as { modelTopology: object; weightsManifest: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }> };
  let weightData: Buffer;
  try {
    weightData = await readFile(path.join(dir, 'weights.bin'));
  } catch {
    throw new BundleError(`${path.join(dir, 'weights.bin')}: missing`);
  }
  const weightSpecs = modelJson.weightsManifest.flatMap((g) => g.weights);
  const layersModel = await tfl.loadLayersModel(
    tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs, weightData: new Uint8Array(weightData).buffer }),
  );
  const classes = layersModel.outputs[0]!.shape[layersModel.outputs[0]!.shape.length - 1];
  if (classes !== alphabet.size) {
    throw new BundleError(
      `${dir}: the model outputs ${classes} classes but alphabet.json has ${alphabet.size} (${alphabet.chars.length} characters + blank)`,
    );
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
