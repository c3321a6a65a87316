/**
 * The only file that touches tfjs: moves model variables to and from the flat buffer.
 */
import * as tf from '@tensorflow/tfjs-core';
import { createLayout, type ParamLayout } from './layout.js';

/** The layout of `variables`, in the given order, named by `variable.name`. */
export function layoutFromVariables(variables: readonly tf.Variable[]): ParamLayout {
  return createLayout(variables.map((v) => ({ name: v.name, shape: v.shape })));
}

function checkCount(variables: readonly { name: string }[], layout: ParamLayout, fn: string): void {
  if (variables.length !== layout.entries.length) {
    throw new Error(`${fn}: ${variables.length} tensors for a layout of ${layout.entries.length} entries`);
  }
}

function checkShape(name: string, shape: readonly number[], i: number, layout: ParamLayout, fn: string): void {
  const e = layout.entries[i]!;
  if (shape.length !== e.shape.length || shape.some((d, k) => d !== e.shape[k])) {
    throw new Error(
      `${fn}: tensor ${i} ('${name}') has shape [${shape.join(', ')}], layout entry '${e.name}' expects [${e.shape.join(', ')}]`,
    );
  }
}

/** Copies the values of `variables` (in layout order) into one new Float32Array. */
export function flattenVariables(variables: readonly tf.Tensor[], layout: ParamLayout): Float32Array {
  checkCount(variables as unknown as { name: string }[], layout, 'flattenVariables');
  const flat = new Float32Array(layout.size);
  variables.forEach((v, i) => {
    checkShape((v as tf.Variable).name ?? `#${i}`, v.shape, i, layout, 'flattenVariables');
    flat.set(v.dataSync() as Float32Array, layout.entries[i]!.offset);
  });
  return flat;
}

/**
 * Copies named tensors (e.g. the `grads` of `tf.variableGrads`) into one Float32Array in
 * layout order. Throws naming a tensor the layout needs and the map lacks.
 */
export function flattenNamedTensors(tensors: tf.NamedTensorMap, layout: ParamLayout): Float32Array {
  const flat = new Float32Array(layout.size);
  layout.entries.forEach((e, i) => {
    const t = tensors[e.name];
    if (!t)
      throw new Error(`flattenNamedTensors: no tensor named '${e.name}' (have: ${Object.keys(tensors).join(', ')})`);
    checkShape(e.name, t.shape, i, layout, 'flattenNamedTensors');
    flat.set(t.dataSync() as Float32Array, e.offset);
  });
  return flat;
}

/** Writes `flat` back into `variables` (in layout order). Creates no lasting tensors. */
export function assignFlat(variables: readonly tf.Variable[], flat: Float32Array, layout: ParamLayout): void {
  checkCount(variables, layout, 'assignFlat');
  if (flat.length !== layout.size) {
    throw new Error(`assignFlat: flat buffer has ${flat.length} values, layout expects ${layout.size}`);
  }
  variables.forEach((v, i) => {
    checkShape(v.name, v.shape, i, layout, 'assignFlat');
    const e = layout.entries[i]!;
    tf.tidy(() => v.assign(tf.tensor(flat.subarray(e.offset, e.offset + e.size), e.shape, 'float32')));
  });
}
