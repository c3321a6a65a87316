/**
 * The browser entry of @scriptorium/runtime: picks and initialises the tfjs backend in a web page (wasm, with
 * XNNPACK's SIMD build where the browser validates it, else cpu). No Node built-in in its import graph.
 */
// The union package registers every gradient and the cpu backend.
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

export { Rng } from './rng.js';

/** The three files of tfjs-backend-wasm, as named in its dist/. */
export type WasmFileName =
  | 'tfjs-backend-wasm.wasm'
  | 'tfjs-backend-wasm-simd.wasm'
  | 'tfjs-backend-wasm-threaded-simd.wasm';

export interface BrowserBackendOptions {
  /**
   * Where the page serves tfjs-backend-wasm's .wasm files: a URL prefix ending in '/', or a URL per file (a
   * bundler's `?url` imports). Required for 'wasm': the page, not tfjs, decides where its files come from.
   */
  wasmPaths?: string | Partial<Record<WasmFileName, string>>;
  /** 'auto' (default) tries wasm, then cpu. */
  backend?: 'auto' | 'wasm' | 'cpu';
}

export interface BrowserBackendReport {
  /** The tfjs backend now active: 'wasm' or 'cpu'. */
  backend: string;
  /** For wasm: whether the SIMD build runs (it does where the browser validates WebAssembly SIMD). */
  simd?: boolean;
  /** One human line, for the page to show. */
  summary: string;
}

/** Initialises the tfjs backend in a browser; the page says which one it got from `summary`. */
export async function initBrowserBackend(options: BrowserBackendOptions = {}): Promise<BrowserBackendReport> {
  const wanted = options.backend ?? 'auto';
  let why = '';
  if (wanted !== 'cpu') {
    try {
      if (!options.wasmPaths) throw new Error('no wasmPaths given');
      setWasmPaths(options.wasmPaths);
      if (await tf.setBackend('wasm')) {
        await tf.ready();
        const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) as boolean;
        return { backend: 'wasm', simd, summary: `backend: wasm (${simd ? 'SIMD' : 'no SIMD'})` };
      }
      why = 'the wasm backend did not initialise';
    } catch (err) {
      why = (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
    }
    if (wanted === 'wasm') throw new Error(`backend 'wasm' is unavailable: ${why}`);
  }
  await tf.setBackend('cpu');
  await tf.ready();
  return { backend: 'cpu', summary: `backend: cpu${why ? ` (wasm not used: ${why})` : ''}` };
}
