/**
 * Building a model from a bundle's bytes, wherever they come from: files (bundle.ts, Node), URLs or `File`s
 * (bundle-web.ts, browsers). Every check of bundle-check.ts runs the same way for each source.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { Alphabet } from '@scriptorium/data/browser';
import type { BuiltArch } from './architectures.js';
import { checkHash, checkMeta, checkModelJson, checkShapes, checkWeights } from './bundle-check.js';
import { BundleError, type BundleMeta, type HashedFile } from './bundle-meta.js';
import { HtrModel } from './htr-model.js';
import './layers.js';

/** A bundle's four files. */
export type BundleFileName = 'bundle.json' | HashedFile;

export interface LoadedBundle {
  model: HtrModel;
  alphabet: Alphabet;
  meta: BundleMeta;
}

/** Where a bundle's files come from: `read` gives a file's bytes (a BundleError when it cannot), `where` its name in messages. */
export interface BundleSource {
  read(name: BundleFileName): Promise<Uint8Array>;
  where(name: BundleFileName): string;
  /** The bundle itself in messages (its directory or URL). */
  label: string;
}

function parseJson(bytes: Uint8Array, file: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new BundleError(`${file}: not valid JSON (${(err as Error).message})`);
  }
}

/**
 * Loads a bundle from `source`. Refuses, with a BundleError naming the file and the field: an unknown format,
 * version or architecture; inconsistent metadata; a file whose SHA-256 is not the one bundle.json records; a
 * weights manifest that does not describe weights.bin byte for byte or does not fit the topology's shapes; NaN or
 * infinite weights; an alphabet whose size does not match the output layer.
 */
export async function loadBundleFrom(source: BundleSource): Promise<LoadedBundle> {
  const file = (name: BundleFileName) => source.where(name);
  const meta = checkMeta(parseJson(await source.read('bundle.json'), file('bundle.json')), file('bundle.json'));
  const bytes = {} as Record<HashedFile, Uint8Array>;
  for (const name of ['model.json', 'weights.bin', 'alphabet.json'] as const) {
    bytes[name] = await source.read(name);
    checkHash(meta, name, file(name), bytes[name]);
  }
  let alphabet: Alphabet;
  try {
    alphabet = Alphabet.fromJSON(parseJson(bytes['alphabet.json'], file('alphabet.json')), file('alphabet.json'));
  } catch (err) {
    throw err instanceof BundleError ? err : new BundleError((err as Error).message);
  }
  const { modelTopology, specs } = checkModelJson(
    parseJson(bytes['model.json'], file('model.json')),
    file('model.json'),
  );
  const weights = checkWeights(specs, bytes['weights.bin'], file('weights.bin'));
  let layersModel: tfl.LayersModel;
  try {
    layersModel = await tfl.loadLayersModel(tf.io.fromMemory({ modelTopology }));
  } catch (err) {
    throw new BundleError(
      `${file('model.json')}: modelTopology does not build a model (${(err as Error).message.split('\n')[0]})`,
    );
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
      `${source.label}: the model outputs ${classes} classes but alphabet.json has ${alphabet.size} (${alphabet.chars.length} characters + blank)`,
    );
  }
  const inputs = layersModel.inputs.length;
  if (meta.usesMask !== (inputs === 2)) {
    throw new BundleError(
      `${file('bundle.json')}: usesMask is ${meta.usesMask}, but the model has ${inputs} input(s) (${inputs === 2 ? 'image and mask' : 'image'})`,
    );
  }
  const height = layersModel.inputs[0]!.shape[1];
  if (height !== meta.preprocess.height) {
    throw new BundleError(
      `${file('bundle.json')}: preprocess.height is ${meta.preprocess.height}, but the model takes lines ${height} pixels high`,
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
