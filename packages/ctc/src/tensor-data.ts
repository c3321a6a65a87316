import * as tf from '@tensorflow/tfjs-core';

/** The part of tfjs-backend-wasm's public `BackendWasm` used here: a view of a tensor's data in the wasm heap. */
interface HeapBackend {
  dataIdMap: { has(dataId: object): boolean };
  typedArrayFromHeap(tensor: tf.TensorInfo): Float32Array;
}

/**
 * The float32 data of `x` for reading, without a copy where the active backend allows: on the wasm backend a view of
 * its heap (`BackendWasm.typedArrayFromHeap`, the kernels' own accessor; `dataSync` would copy), elsewhere
 * `dataSync()` (the cpu backend returns its array as is). The view is valid until the next tfjs call that allocates
 * on the backend, so the caller reads it before creating tensors, and never writes to it.
 */
export function readFloat32(x: tf.Tensor): Float32Array {
  const backend = tf.backend() as Partial<HeapBackend>;
  if (isHeapBackend(backend) && backend.dataIdMap.has(x.dataId)) return backend.typedArrayFromHeap(x);
  return x.dataSync() as Float32Array;
}

/**
 * Whether the active backend keeps tensor data in a heap of its own (wasm), so that a tensor made from an array
 * copies it and the array may then be reused. The cpu backend keeps the array itself.
 */
export function backendCopiesArrays(): boolean {
  return isHeapBackend(tf.backend() as Partial<HeapBackend>);
}

function isHeapBackend(backend: Partial<HeapBackend>): backend is HeapBackend {
  return typeof backend.typedArrayFromHeap === 'function' && typeof backend.dataIdMap?.has === 'function';
}
