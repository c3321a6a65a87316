import type { CellOptions } from '../config.js';
import { MDLSTM_SIMD_WASM_BASE64 } from './mdlstm-simd-wasm.js';

/**
 * JavaScript side of the WebAssembly SIMD MDLSTM scan (assembly/mdlstm-simd.ts): lays the inputs out in the
 * module's memory (weights interleaved so that f32x4 lane d is direction d), runs the scan, and reads the
 * results back as plain arrays. One module instance serves every call; its memory grows to the largest
 * call and is reused.
 */

/** What the kernel needs to know of a scan. */
export interface SimdScanShape {
  B: number;
  H: number;
  W: number;
  C: number;
  U: number;
  /** One entry per direction (at most four): whether its scan runs bottom-up / right-to-left. */
  flips: ReadonlyArray<{ flipY: boolean; flipX: boolean }>;
  bounded: boolean;
}

/** The weights as the op holds them: K [D, C, 5U], R [D, 2U, 5U], bias [D, 5U], P [D, 5, U] or undefined. */
export interface SimdWeights {
  K: Float32Array;
  R: Float32Array;
  bias: Float32Array;
  P: Float32Array | undefined;
}

export interface SimdForward {
  /** h of every cell and direction, original frame: [B, H, W, D, U] (the layer's concatenated output). */
  h: Float32Array;
  /** c, the same layout, when asked for (simdForward's withC). */
  c: Float32Array | undefined;
  /** The module's h, c and gate buffers, kept for simdBackward (the memory is reused by later calls). */
  saved: Float32Array;
}

export interface SimdGradients {
  gx: Float32Array; // [B, H, W, C]
  gK: Float32Array; // [D, C, 5U]
  gR: Float32Array; // [D, 2U, 5U]
  gb: Float32Array; // [D, 5U]
  gP: Float32Array | undefined; // [D, 5, U]
}

/** The part of the WebAssembly API used here (the project's TypeScript libs, ES2023 without DOM, do not declare it). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

interface Kernel {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  heapBase: () => number;
  configure: (...args: number[]) => void;
  setPointers: (...args: number[]) => void;
  forward: () => void;
  backward: () => void;
  activate: (kind: number, src: number, dst: number, n: number) => void;
}

let bytes: Uint8Array | undefined;
let kernel: Kernel | undefined | null; // null: checked, not available
let unavailable = ''; // why not, when kernel is null

function wasmBytes(): Uint8Array {
  if (!bytes) {
    const bin = atob(MDLSTM_SIMD_WASM_BASE64);
    bytes = new Uint8Array(bin.length);
    for (let k = 0; k < bin.length; k++) bytes[k] = bin.charCodeAt(k);
  }
  return bytes;
}

/**
 * Whether this JavaScript engine runs the kernel: WebAssembly with 128-bit SIMD (validating the kernel itself
 * checks exactly the features it uses).
 */
export function simdAvailable(): boolean {
  return loadKernel() !== null;
}

/** Why simdAvailable() is false ('' when it is true). */
export function simdUnavailableReason(): string {
  loadKernel();
  return unavailable;
}

/** The kernel handles the standard cell's activations only (sigmoid gates, tanh candidate and output). */
export function simdSupports(cell: Required<CellOptions>, directions: number): boolean {
  return cell.recurrentActivation === 'sigmoid' && cell.activation === 'tanh' && directions >= 1 && directions <= 4;
}

function loadKernel(): Kernel | null {
  if (kernel !== undefined) return kernel;
  kernel = null;
  const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (!wasm) unavailable = 'this engine has no WebAssembly';
  else if (!wasm.validate(wasmBytes()))
    unavailable = 'this engine has no WebAssembly SIMD (the kernel does not validate)';
  else {
    try {
      kernel = new wasm.Instance(new wasm.Module(wasmBytes()), {}).exports as Kernel;
    } catch (e) {
      // E.g. an embedder that refuses synchronous compilation: the JavaScript orders take over.
      unavailable = `the kernel did not load: ${(e as Error).message}`;
    }
  }
  return kernel;
}

function theKernel(): Kernel {
  const k = loadKernel();
  if (!k) throw new Error(`mdlstm simd: ${unavailable} (check simdAvailable() before calling the kernel)`);
  return k;
}

/** Byte offsets of the module's buffers for one scan (see assembly/mdlstm-simd.ts for their layouts). */
interface Layout {
  w: number;
  wt: number;
  bias: number;
  peep: number;
  scratch: number;
  x: number;
  mask: number;
  h: number;
  c: number;
  z: number;
  hc: number;
  gx: number;
  gw: number;
  gb: number;
  gp: number;
  dh: number;
  dc: number;
  /** h, c and z: the forward state kept for the backward pass. */
  savedStart: number;
  savedEnd: number;
  end: number;
}

const VEC = 16; // bytes per f32x4
const TILE = 4; // samples in flight at once in the kernel (its scratch holds inputs, gate sums and input gradients of each)

function layout(sh: SimdScanShape, base: number): Layout {
  const { B, H, W, C, U } = sh;
  const D = sh.flips.length,
    G = 5 * U,
    I = C + 2 * U;
  const cells = B * H * W,
    padded = B * (H + 1) * (W + 1);
  let at = Math.ceil(base / VEC) * VEC;
  const take = (n: number) => {
    const o = at;
    at += Math.ceil(n / VEC) * VEC;
    return o;
  };
  const w = take(G * I * VEC),
    wt = take(I * G * VEC),
    bias = take(G * VEC),
    peep = take(5 * U * VEC);
  const scratch = take(TILE * (2 * I + G) * VEC),
    x = take(cells * C * 4),
    mask = take(cells * 4);
  const h = take(padded * U * VEC),
    c = take(padded * U * VEC),
    z = take(cells * G * VEC);
  const hc = take(2 * D * cells * U * 4),
    gx = take(cells * C * 4);
  const gw = take(G * I * VEC),
    gb = take(G * VEC),
    gp = take(5 * U * VEC);
  const dh = take(padded * U * VEC),
    dc = take(padded * U * VEC);
  return {
    w,
    wt,
    bias,
    peep,
    scratch,
    x,
    mask,
    h,
    c,
    z,
    hc,
    gx,
    gw,
    gb,
    gp,
    dh,
    dc,
    savedStart: h,
    savedEnd: hc,
    end: at,
  };
}

/** Grows the module's memory to `bytes` (it never shrinks: later calls reuse it). */
function growTo(k: Kernel, bytes: number, what: () => string): void {
  const need = bytes - k.memory.buffer.byteLength;
  if (need <= 0) return;
  try {
    k.memory.grow(Math.ceil(need / 65536));
  } catch (e) {
    throw new Error(
      `mdlstm simd: ${what()} needs ${Math.ceil(bytes / 2 ** 20)} MiB of WebAssembly memory, and growing it failed (${(e as Error).message}); use a smaller batch or implementation 'cells'`,
    );
  }
}

/**
 * Configures the kernel for `sh`, grows its memory to fit, writes the weights, x and mask; returns the layout.
 * withC: c goes out (forward) and its gradient comes in (backward).
 */
function prepare(
  k: Kernel,
  sh: SimdScanShape,
  x: Float32Array,
  wts: SimdWeights,
  mask: Float32Array | undefined,
  withC: boolean,
): Layout {
  const { B, H, W, C, U, flips } = sh;
  const D = flips.length;
  if (D < 1 || D > 4) throw new Error(`mdlstm simd: ${D} directions (the kernel takes 1 to 4, one per f32x4 lane)`);
  const L = layout(sh, k.heapBase());
  growTo(k, L.end, () => `[${B}, ${H}, ${W}, ${C}] with ${U} units in ${D} directions`);
  let fy = 0,
    fx = 0;
  flips.forEach((f, d) => {
    if (f.flipY) fy |= 1 << d;
    if (f.flipX) fx |= 1 << d;
  });
  k.configure(B, H, W, C, U, D, fy, fx, sh.bounded ? 1 : 0, mask ? 1 : 0, wts.P ? 1 : 0, withC ? 1 : 0);
  k.setPointers(
    L.w,
    L.wt,
    L.bias,
    L.peep,
    L.x,
    L.mask,
    L.h,
    L.c,
    L.z,
    L.hc,
    L.gx,
    L.gw,
    L.gb,
    L.gp,
    L.dh,
    L.dc,
    L.scratch,
  );
  const mem = new Float32Array(k.memory.buffer);
  writeWeights(mem, L, sh, wts);
  mem.set(x, L.x / 4);
  if (mask) mem.set(mask, L.mask / 4);
  return L;
}

/**
 * Interleaves the weights per direction (lane d = direction d; spare lanes zero): w [G][I] and its transpose
 * wt [I][G], whose inputs k are the C channels (K's rows) then h_y and h_x (R's rows); bias [G]; peep [5U].
 */
function writeWeights(mem: Float32Array, L: Layout, sh: SimdScanShape, { K, R, bias, P }: SimdWeights): void {
  const { C, U } = sh;
  const D = sh.flips.length,
    G = 5 * U,
    I = C + 2 * U;
  const w = L.w / 4,
    wt = L.wt / 4;
  mem.fill(0, w, L.scratch / 4); // w, wt, bias and peep: spare lanes (and peep when absent) stay zero
  for (let d = 0; d < D; d++) {
    for (let k = 0; k < I; k++) {
      const row = k < C ? K.subarray((d * C + k) * G) : R.subarray((d * 2 * U + k - C) * G);
      for (let g = 0; g < G; g++) {
        mem[w + (g * I + k) * 4 + d] = row[g]!;
        mem[wt + (k * G + g) * 4 + d] = row[g]!;
      }
    }
    for (let g = 0; g < G; g++) mem[L.bias / 4 + g * 4 + d] = bias[d * G + g]!;
    if (P) for (let r = 0; r < 5 * U; r++) mem[L.peep / 4 + r * 4 + d] = P[d * 5 * U + r]!;
  }
}

/**
 * The forward scan: h (and with `withC`, c) of every cell, and the state the backward pass needs. Without c,
 * the backward pass takes d(loss)/d(c) = 0 (c reaches the loss only through h).
 */
export function simdForward(
  sh: SimdScanShape,
  x: Float32Array,
  wts: SimdWeights,
  mask: Float32Array | undefined,
  withC = false,
): SimdForward {
  const k = theKernel();
  const L = prepare(k, sh, x, wts, mask, withC);
  k.forward();
  const mem = new Float32Array(k.memory.buffer);
  const n = sh.flips.length * sh.B * sh.H * sh.W * sh.U,
    at = L.hc / 4;
  return {
    h: mem.slice(at, at + n),
    c: withC ? mem.slice(at + n, at + 2 * n) : undefined,
    saved: mem.slice(L.savedStart / 4, L.savedEnd / 4),
  };
}

/**
 * The backward scan from d(loss)/d(h) and d(loss)/d(c) of every cell (layouts as simdForward's h and c; dc
 * undefined: zero, as when only h reaches the loss; given only if the forward pass was asked for c).
 */
export function simdBackward(
  sh: SimdScanShape,
  x: Float32Array,
  wts: SimdWeights,
  mask: Float32Array | undefined,
  fwd: SimdForward,
  dh: Float32Array,
  dc: Float32Array | undefined,
): SimdGradients {
  if (dc && !fwd.c)
    throw new Error('mdlstm simd: a gradient for c, but the forward pass did not output c (simdForward withC)');
  const k = theKernel();
  const L = prepare(k, sh, x, wts, mask, !!dc);
  let mem = new Float32Array(k.memory.buffer);
  mem.set(fwd.saved, L.savedStart / 4);
  mem.set(dh, L.hc / 4);
  if (dc) mem.set(dc, L.hc / 4 + dh.length);
  k.backward();
  mem = new Float32Array(k.memory.buffer);
  return readGradients(mem, L, sh, !!wts.P);
}

/** De-interleaves gw, gb, gp into the op's weight layouts; copies gx out. */
function readGradients(mem: Float32Array, L: Layout, sh: SimdScanShape, peephole: boolean): SimdGradients {
  const { B, H, W, C, U } = sh;
  const D = sh.flips.length,
    G = 5 * U,
    I = C + 2 * U;
  const gK = new Float32Array(D * C * G),
    gR = new Float32Array(D * 2 * U * G),
    gb = new Float32Array(D * G);
  const gP = peephole ? new Float32Array(D * 5 * U) : undefined;
  const gw = L.gw / 4;
  for (let d = 0; d < D; d++) {
    for (let g = 0; g < G; g++) {
      for (let ch = 0; ch < C; ch++) gK[(d * C + ch) * G + g] = mem[gw + (g * I + ch) * 4 + d]!;
      for (let v = 0; v < 2 * U; v++) gR[(d * 2 * U + v) * G + g] = mem[gw + (g * I + C + v) * 4 + d]!;
      gb[d * G + g] = mem[L.gb / 4 + g * 4 + d]!;
    }
    if (gP) for (let r = 0; r < 5 * U; r++) gP[d * 5 * U + r] = mem[L.gp / 4 + r * 4 + d]!;
  }
  return { gx: mem.slice(L.gx / 4, L.gx / 4 + B * H * W * C), gK, gR, gb, gP };
}

export type SimdActivation = 'exp' | 'sigmoid' | 'tanh';

/** The kernel's vectorised activation applied to `values` (for the error-bound tests). */
export function simdActivation(kind: SimdActivation, values: Float32Array): Float32Array {
  const k = theKernel();
  const n = Math.ceil(values.length / 4) * 4;
  const src = Math.ceil(k.heapBase() / VEC) * VEC,
    dst = src + n * 4;
  growTo(k, dst + n * 4, () => `${values.length} activations`);
  const mem = new Float32Array(k.memory.buffer);
  mem.fill(0, src / 4, src / 4 + n);
  mem.set(values, src / 4);
  k.activate(kind === 'exp' ? 0 : kind === 'sigmoid' ? 1 : 2, src, dst, n);
  return mem.slice(dst / 4, dst / 4 + values.length);
}
