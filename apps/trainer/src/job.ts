import * as tf from '@tensorflow/tfjs-core';
import { Alphabet, collate, openDataset, type Dataset, type PreprocessConfig } from '@scriptorium/data';
import { flattenNamedTensors, layoutFromVariables, type ParamLayout, assignFlat } from '@scriptorium/dataparallel';
import { buildModel, type ArchName, type HtrModel } from '@scriptorium/models';

/**
 * Everything a worker needs to build the same model and data as the coordinator. Written to
 * <run>/job.json; JSON only.
 */
export interface TrainJob {
  arch: ArchName;
  /** Architecture options except alphabetSize (taken from the alphabet). */
  modelOptions: Record<string, unknown>;
  alphabet: ReturnType<Alphabet['toJSON']>;
  /** Training data spec (e.g. 'mnist-lines', 'manifest:train.tsv') and, for mnist-lines, its size and seed. */
  data: { spec: string; count: number; seed: number };
  preprocess: PreprocessConfig;
  seed: number;
}

/** A model replica with its training data: computes gradients for a list of sample indices. */
export interface Replica {
  model: HtrModel;
  alphabet: Alphabet;
  dataset: Dataset;
  layout: ParamLayout;
  variables: tf.Variable[];
  /** Sets the parameters, then computes the mean-loss gradient over the samples `indices` (flat, layout order). */
  computeGradients(params: Float32Array, indices: readonly number[]): Promise<{ grads: Float32Array; lossSum: number; count: number; losses: Float32Array }>;
}

export async function createReplica(job: TrainJob): Promise<Replica> {
  const alphabet = Alphabet.fromJSON(job.alphabet, 'job alphabet');
  const dataset = await openDataset(job.data.spec, { split: 'train', count: job.data.count, seed: job.data.seed, preprocess: job.preprocess });
  const model = buildModel(job.arch, { ...job.modelOptions, alphabetSize: alphabet.size, height: job.preprocess.height, seed: job.seed } as never);
  const variables = model.variables;
  const layout = layoutFromVariables(variables);
  return {
    model,
    alphabet,
    dataset,
    layout,
    variables,
    async computeGradients(params, indices) {
      assignFlat(variables, params, layout);
      const samples = await Promise.all(indices.map((i) => dataset.load(i)));
      const batch = collate(samples, alphabet, { padWidthTo: model.widthMultiple });
      const { lossSum, losses, grads } = model.lossAndGrads(batch);
      const flat = flattenNamedTensors(grads, layout);
      tf.dispose(Object.values(grads));
      return { grads: flat, lossSum, count: indices.length, losses };
    },
  };
}
