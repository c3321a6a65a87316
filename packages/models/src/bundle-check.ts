/**
 * The checks a bundle passes before a model is built from it: its metadata, the files' SHA-256s, the
 * weights manifest, the weight bytes (count, finiteness) and the shapes the topology expects. Each failure
 * is a BundleError naming the file and the field.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { ARCHS } from './architectures.js';
import type { BundleMeta } from './bundle-meta.js';
import { BUNDLE_FORMAT, BUNDLE_VERSIONS_READ, BundleError, HASHED_FILES, type HashedFile } from './bundle-meta.js';
import { sha256 } from './sha256.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const positiveInteger = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;
const show = (v: unknown): string => (v === undefined ? 'missing' : JSON.stringify(v));

export { sha256 };

/** bundle.json's fields, each as loading needs it (`file`: bundle.json's path, for the messages). */
export function checkMeta(meta: unknown, file: string): BundleMeta {
  const fail = (field: string, v: unknown, expected: string): never => {
    throw new BundleError(`${file}: ${field} is ${show(v)}, expected ${expected}`);
  };
  if (!isObject(meta)) throw new BundleError(`${file}: not a JSON object`);
  if (meta.format !== BUNDLE_FORMAT)
    throw new BundleError(`${file}: format is '${meta.format}', expected '${BUNDLE_FORMAT}'`);
  if (!BUNDLE_VERSIONS_READ.includes(meta.version as number)) {
    throw new BundleError(
      `${file}: bundle version ${meta.version} is not supported by this Scriptorium (this version reads ${BUNDLE_VERSIONS_READ.join(' and ')})`,
    );
  }
  if (!ARCHS.some((arch) => arch === meta.arch))
    throw new BundleError(`${file}: unknown architecture '${meta.arch}' (expected one of: ${ARCHS.join(', ')})`);
  for (const field of ['widthMultiple', 'widthReduction'] as const)
    if (!positiveInteger(meta[field])) fail(field, meta[field], 'a positive integer');
  if ((meta.widthMultiple as number) % (meta.widthReduction as number) !== 0) {
    fail('widthMultiple', meta.widthMultiple, `a multiple of widthReduction (${meta.widthReduction})`);
  }
  if (typeof meta.usesMask !== 'boolean') fail('usesMask', meta.usesMask, 'true or false');
  for (const field of ['hyperparameters', 'preprocess', 'training'] as const)
    if (!isObject(meta[field])) fail(field, meta[field], 'an object');
  const pre = meta.preprocess as Record<string, unknown>;
  if (!positiveInteger(pre.height)) fail('preprocess.height', pre.height, 'a positive integer');
  if (pre.maxWidth !== undefined && !positiveInteger(pre.maxWidth))
    fail('preprocess.maxWidth', pre.maxWidth, 'a positive integer');
  // Bundles saved before baseline straightening and deslanting have no fields: their lines were neither.
  pre.straighten ??= false;
  pre.deslant ??= false;
  for (const field of ['cropMargins', 'contrastNormalize', 'straighten', 'deslant'] as const) {
    if (pre[field] !== undefined && typeof pre[field] !== 'boolean')
      fail(`preprocess.${field}`, pre[field], 'true or false');
  }
  // Bundles saved before the paper level was measured have no field; their lines were normalised from a zero background.
  pre.background ??= 'zero';
  if (pre.background !== 'paper' && pre.background !== 'zero')
    fail('preprocess.background', pre.background, "'paper' or 'zero'");
  if (meta.version !== 1) {
    const hashes = meta.sha256;
    if (!isObject(hashes)) fail('sha256', hashes, `the SHA-256s of ${HASHED_FILES.join(', ')}`);
    for (const f of HASHED_FILES) {
      const h = (hashes as Record<string, unknown>)[f];
      if (typeof h !== 'string' || !/^[0-9a-f]{64}$/.test(h))
        fail(`sha256['${f}']`, h, 'a SHA-256 in hex (64 characters)');
    }
  }
  return meta as unknown as BundleMeta;
}

/** Throws when `bytes` (the file `name` at `file`) do not hash to what bundle.json records (version 2 on). */
export function checkHash(meta: BundleMeta, name: HashedFile, file: string, bytes: Uint8Array): void {
  const stored = meta.sha256?.[name];
  if (stored === undefined) return; // version 1: no hashes
  const computed = sha256(bytes);
  if (computed !== stored) {
    throw new BundleError(
      `${file}: SHA-256 mismatch (bundle.json sha256['${name}'] is ${stored.slice(0, 12)}..., the file hashes to ${computed.slice(0, 12)}...): the file is corrupt or was changed`,
    );
  }
}

export interface ModelJson {
  modelTopology: object;
  weightsManifest: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;
}

/** model.json's structure: a topology and a weights manifest of float32 tensors with integer shapes. */
export function checkModelJson(
  json: unknown,
  file: string,
): { modelTopology: object; specs: tf.io.WeightsManifestEntry[] } {
  if (!isObject(json)) throw new BundleError(`${file}: not a JSON object`);
  if (!isObject(json.modelTopology))
    throw new BundleError(`${file}: modelTopology is ${show(json.modelTopology)}, expected an object`);
  const groups = json.weightsManifest;
  if (!Array.isArray(groups) || !groups.every((g) => isObject(g) && Array.isArray(g.weights))) {
    throw new BundleError(`${file}: weightsManifest is not a list of { paths, weights }`);
  }
  const specs = groups.flatMap((g) => g.weights as unknown[]);
  specs.forEach((s, i) => {
    const where = `${file}: weightsManifest weight ${i}`;
    if (!isObject(s) || typeof s.name !== 'string')
      throw new BundleError(`${where}: name is ${show(isObject(s) ? s.name : s)}, expected a string`);
    if (!Array.isArray(s.shape) || !s.shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new BundleError(
        `${where} ('${s.name}'): shape is ${show(s.shape)}, expected a list of non-negative integers`,
      );
    }
    if (s.dtype !== 'float32' || s.quantization !== undefined) {
      throw new BundleError(
        `${where} ('${s.name}'): dtype is ${show(s.dtype)}${s.quantization ? ' (quantised)' : ''}, expected "float32"`,
      );
    }
  });
  return { modelTopology: json.modelTopology, specs: specs as tf.io.WeightsManifestEntry[] };
}

/**
 * The weights of weights.bin (at `file`), one Float32Array per manifest entry: refuses extra or missing bytes
 * and any NaN or infinite value, naming the weight and the index.
 */
export function checkWeights(
  specs: tf.io.WeightsManifestEntry[],
  bytes: Uint8Array,
  file: string,
): Map<string, { shape: number[]; values: Float32Array }> {
  const expected = specs.reduce((n, s) => n + 4 * s.shape.reduce((a, b) => a * b, 1), 0);
  if (bytes.byteLength !== expected) {
    throw new BundleError(
      `${file}: ${bytes.byteLength} bytes, but model.json's weightsManifest describes ${expected} (${bytes.byteLength > expected ? 'extra' : 'missing'} bytes)`,
    );
  }
  const all = new Float32Array(expected / 4);
  new Uint8Array(all.buffer).set(bytes);
  const out = new Map<string, { shape: number[]; values: Float32Array }>();
  let at = 0;
  for (const s of specs) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const values = all.subarray(at, at + n);
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0)
      throw new BundleError(`${file}: weight '${s.name}' has ${values[bad]} at index ${bad}, expected finite values`);
    if (out.has(s.name))
      throw new BundleError(`${file.replace(/weights\.bin$/, 'model.json')}: weightsManifest names '${s.name}' twice`);
    out.set(s.name, { shape: s.shape, values });
    at += n;
  }
  return out;
}

/** Each weight of `model` has its entry in `weights` with the same shape, and no entry is left over (names: originalName). */
export function checkShapes(
  model: tfl.LayersModel,
  weights: Map<string, { shape: number[] }>,
  modelFile: string,
): void {
  const needed = model.layers.flatMap((l) =>
    l.weights.map((w) => ({ name: w.originalName, shape: w.shape as number[] })),
  );
  for (const w of needed) {
    const got = weights.get(w.name);
    if (!got)
      throw new BundleError(
        `${modelFile}: weightsManifest has no weight '${w.name}' (shape [${w.shape.join(', ')}]) that the topology needs`,
      );
    if (got.shape.length !== w.shape.length || got.shape.some((d, i) => d !== w.shape[i])) {
      throw new BundleError(
        `${modelFile}: weightsManifest gives '${w.name}' shape [${got.shape.join(', ')}], the topology needs [${w.shape.join(', ')}]`,
      );
    }
  }
  const names = new Set(needed.map((w) => w.name));
  const extra = [...weights.keys()].filter((n) => !names.has(n));
  if (extra.length)
    throw new BundleError(
      `${modelFile}: weightsManifest has weights the topology does not use: ${extra.map((n) => `'${n}'`).join(', ')}`,
    );
}
