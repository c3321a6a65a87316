// Shared helpers for this package's tests (not exported from the package).
import * as tf from '@tensorflow/tfjs-core';
import type { Direction } from './config.js';
import type { MDLSTMWeights } from './mdlstm-op.js';
import type { ReferenceWeights } from './reference.js';

/** Deterministic values in [-scale, scale) from an LCG. */
export function randomArray(n: number, seed: number, scale = 0.5): Float64Array {
  let s = seed >>> 0;
  return Float64Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32 - 0.5) * 2 * scale;
  });
}

export function randomWeights(
  dirs: number,
  channels: number,
  units: number,
  seed: number,
  peephole = false,
): ReferenceWeights {
  const G = 5 * units;
  return {
    kernel: randomArray(dirs * channels * G, seed),
    recurrentKernel: randomArray(dirs * 2 * units * G, seed + 1),
    bias: randomArray(dirs * G, seed + 2),
    peephole: peephole ? randomArray(dirs * 5 * units, seed + 3) : undefined,
  };
}

export function toTensors(w: ReferenceWeights, dirs: number, channels: number, units: number): MDLSTMWeights {
  const G = 5 * units;
  return {
    kernel: tf.tensor3d(Float32Array.from(w.kernel), [dirs, channels, G]),
    recurrentKernel: tf.tensor3d(Float32Array.from(w.recurrentKernel), [dirs, 2 * units, G]),
    bias: tf.tensor2d(Float32Array.from(w.bias), [dirs, G]),
    peephole: w.peephole ? tf.tensor3d(Float32Array.from(w.peephole), [dirs, 5, units]) : undefined,
  };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

export const DIRS: Direction[] = ['tl', 'tr', 'bl', 'br'];
