import { AdadeltaConfigError } from './config.js';

/** Running averages E[g^2] and E[dx^2], one float32 per parameter, and the number of steps applied. */
export interface AdadeltaState {
  accumGrad: Float32Array;
  accumDelta: Float32Array;
  iterations: number;
}

export function createAdadeltaState(size: number): AdadeltaState {
  if (!Number.isInteger(size) || size < 0)
    throw new AdadeltaConfigError(`adadelta: state size ${size} is invalid (expected an integer >= 0)`);
  return { accumGrad: new Float32Array(size), accumDelta: new Float32Array(size), iterations: 0 };
}

// Layout (little-endian): magic 'ADAD' | u32 version | u32 size | f64 iterations | f32[size] accumGrad | f32[size] accumDelta
const MAGIC = 0x44414441; // 'ADAD' read as a little-endian u32
const VERSION = 1;
const HEADER = 20;

export function serializeAdadeltaState(state: AdadeltaState): Uint8Array {
  const n = state.accumGrad.length;
  if (state.accumDelta.length !== n) {
    throw new AdadeltaConfigError(
      `adadelta: state accumGrad has ${n} values but accumDelta ${state.accumDelta.length}`,
    );
  }
  const bytes = new Uint8Array(HEADER + 8 * n);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, VERSION, true);
  view.setUint32(8, n, true);
  view.setFloat64(12, state.iterations, true);
  const body = new DataView(bytes.buffer, HEADER);
  for (let i = 0; i < n; i++) {
    body.setFloat32(4 * i, state.accumGrad[i]!, true);
    body.setFloat32(4 * (n + i), state.accumDelta[i]!, true);
  }
  return bytes;
}

export function deserializeAdadeltaState(bytes: Uint8Array): AdadeltaState {
  if (bytes.byteLength < HEADER)
    throw new AdadeltaConfigError(
      `adadelta state: ${bytes.byteLength} bytes is too short for the ${HEADER}-byte header`,
    );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC)
    throw new AdadeltaConfigError('adadelta state: bad magic (not an Adadelta state)');
  const version = view.getUint32(4, true);
  if (version !== VERSION)
    throw new AdadeltaConfigError(`adadelta state: version ${version} is not supported (expected ${VERSION})`);
  const n = view.getUint32(8, true);
  if (bytes.byteLength !== HEADER + 8 * n) {
    throw new AdadeltaConfigError(
      `adadelta state: ${bytes.byteLength} bytes, expected ${HEADER + 8 * n} for ${n} parameters`,
    );
  }
  const state = createAdadeltaState(n);
  state.iterations = view.getFloat64(12, true);
  for (let i = 0; i < n; i++) {
    state.accumGrad[i] = view.getFloat32(HEADER + 4 * i, true);
    state.accumDelta[i] = view.getFloat32(HEADER + 4 * (n + i), true);
  }
  return state;
}
