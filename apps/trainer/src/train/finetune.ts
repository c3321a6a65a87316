import type * as tf from '@tensorflow/tfjs-core';
import { Alphabet } from '@scriptorium/data';
import type { ParamLayout } from '@scriptorium/dataparallel';
import { loadBundle, type LoadedBundle } from '@scriptorium/models';
import { UsageError } from '../cli/errors.js';
import type { ModelChoice } from '../job.js';

/**
 * Fine-tuning (--init-from BUNDLE): a run that starts from a trained model. The model (architecture, options, line
 * height) is the bundle's; characters of the new data that the bundle's alphabet lacks are appended to it, and the
 * output layer grows to match: the old classes keep their weights, the new ones start from a small random init,
 * so the model reads as before until the new characters are learned. --freeze keeps chosen layers as they are.
 */
export interface FineTuneBase {
  dir: string;
  bundle: LoadedBundle;
  model: ModelChoice;
}

/** Options a run takes from its architecture's builder, not from the bundle's hyperparameters. */
const SET_BY_JOB = new Set(['alphabetSize', 'height', 'seed']);

/** Opens the bundle to start from; its model options, minus those the job sets, with --dropout if given. */
export async function openFineTuneBase(dir: string, dropout: number | undefined): Promise<FineTuneBase> {
  const bundle = await loadBundle(dir);
  if (bundle.meta.arch === 'cnn-blstm') {
    // Its batch normalisation keeps running statistics outside the trained weights, which a run does not carry over.
    throw new UsageError(
      `--init-from ${dir}: fine-tuning a cnn-blstm model is not supported yet (its batch-norm statistics would restart); pham2014 models are`,
      false,
    );
  }
  const options = Object.fromEntries(Object.entries(bundle.meta.hyperparameters).filter(([k]) => !SET_BY_JOB.has(k)));
  if (dropout !== undefined) options.dropout = dropout;
  return { dir, bundle, model: { arch: bundle.meta.arch, modelOptions: options } as ModelChoice };
}

/** The bundle's alphabet with the characters of `data` it lacks appended (code-point order), so old classes keep their indices. */
export function grownAlphabet(base: Alphabet, data: Alphabet): { alphabet: Alphabet; added: string[] } {
  const known = new Set(base.chars);
  const added = data.chars.filter((c) => !known.has(c));
  return { alphabet: added.length > 0 ? new Alphabet([...base.chars, ...added]) : base, added };
}

/** A variable's layer: its name up to the first '/', without the _N suffix tfjs adds to repeated names. */
export function layerOf(variableName: string): string {
  return variableName.split('/')[0]!.replace(/_\d+$/, '');
}

/** How much smaller than a fresh layer's the new classes' output weights start. */
const NEW_CLASS_SCALE = 0.1;
/** How far below the lowest old class's output bias the new classes' biases start. */
const NEW_CLASS_BIAS_BELOW = 4;

/**
 * Flat parameters (in `layout` order) for a model built like the bundle's with more output classes: every weight
 * the bundle's, except the output layer's columns for the new classes, which take `fresh` (the new model's own
 * initial weights) scaled by NEW_CLASS_SCALE, and biases NEW_CLASS_BIAS_BELOW under the lowest old one, so that the
 * old classes keep their scores exactly and the new ones start out unlikely.
 */
export function fineTuneParams(
  base: readonly tf.Variable[],
  fresh: readonly tf.Variable[],
  layout: ParamLayout,
): Float32Array {
  if (base.length !== fresh.length)
    throw new UsageError(
      `--init-from: the bundle has ${base.length} weight tensors, the model to train ${fresh.length}`,
      false,
    );
  const out = new Float32Array(layout.size);
  layout.entries.forEach((entry, i) => {
    const b = base[i]!,
      f = fresh[i]!;
    if (layerOf(b.name) !== layerOf(f.name))
      throw new UsageError(`--init-from: weight ${i} is ${b.name} in the bundle and ${f.name} in the model`, false);
    const bv = b.dataSync() as Float32Array,
      fv = f.dataSync() as Float32Array;
    if (b.shape.join() === f.shape.join()) return out.set(bv, entry.offset);
    // Only the last axis (classes) may differ, and only grow: [..., oldC] inside [..., newC].
    const oldC = b.shape[b.shape.length - 1]!,
      newC = f.shape[f.shape.length - 1]!;
    const grows =
      layerOf(f.name) === 'output' &&
      b.shape.length === f.shape.length &&
      b.shape.slice(0, -1).join() === f.shape.slice(0, -1).join() &&
      newC > oldC;
    if (!grows) {
      throw new UsageError(
        `--init-from: ${b.name} has shape [${b.shape}] in the bundle, [${f.shape}] in the model (only the output classes may grow)`,
        false,
      );
    }
    const isBias = f.shape.length === 1;
    const newBias = isBias ? Math.min(...bv) - NEW_CLASS_BIAS_BELOW : 0;
    for (let row = 0; row < fv.length / newC; row++) {
      for (let c = 0; c < newC; c++) {
        out[entry.offset + row * newC + c] =
          c < oldC ? bv[row * oldC + c]! : isBias ? newBias : NEW_CLASS_SCALE * fv[row * newC + c]!;
      }
    }
  });
  return out;
}

/** The flat ranges [offset, offset + size) of the layers named in --freeze; an unknown name is refused with the list. */
export function frozenRanges(layout: ParamLayout, layers: readonly string[]): Array<[number, number]> {
  const known = [...new Set(layout.entries.map((e) => layerOf(e.name)))];
  for (const name of layers)
    if (!known.includes(name))
      throw new UsageError(
        `--freeze ${name}: no such layer with weights (expected some of: ${known.join(', ')})`,
        false,
      );
  return layout.entries.filter((e) => layers.includes(layerOf(e.name))).map((e) => [e.offset, e.offset + e.size]);
}
