/// <reference lib="dom" />
/// <reference types="vite/client" />
/**
 * The recogniser page: loads a model bundle (served next to the page at bundle/, `?bundle=URL`, or picked by the
 * user), then reads an uploaded line image or a line written on the canvas. Everything after loading runs in the
 * tab: no network request. `window.scriptorium` exposes the state for the end-to-end test.
 */
import { normalizeLineSync, rawPixelsToLine, type LineImage } from '@scriptorium/data/browser';
import {
  LineRecognizer,
  loadBundleFromFiles,
  loadBundleFromUrl,
  type LoadedBundle,
  type Recognition,
} from '@scriptorium/models/browser';
import { simdAvailable } from '@scriptorium/mdlstm/browser';
import { initBrowserBackend } from '@scriptorium/runtime/browser';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { debounce } from './debounce.js';
import { DrawPad } from './draw-pad.js';
import { fileToLine } from './image-input.js';
import { renderLine, renderText } from './result-view.js';

/** Quiet time after the last pen movement before the written line is read, ms. */
const LIVE_DEBOUNCE_MS = 250;

export interface PageState {
  /** Resolves when the backend and the bundle are ready (rejects with the loading error). */
  ready: Promise<void>;
  backend?: string;
  /** performance.now() when the page became ready and when it first showed a recognition. */
  readyAt?: number;
  firstRecognitionAt?: number;
  recognitions: number;
  /** The last recognition, the time it took and the size of the normalised line it read. */
  last?: { source: 'upload' | 'pad'; recognition: Recognition; ms: number; width: number; height: number };
  error?: string;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const state: PageState = { ready: Promise.resolve(), recognitions: 0 };
(window as unknown as { scriptorium: PageState }).scriptorium = state;

let recognizer: LineRecognizer | undefined;
let busy: Promise<unknown> = Promise.resolve();

function showError(message: string): void {
  state.error = message;
  const el = $('text');
  el.textContent = message;
  el.className = 'text error';
}

function useBundle(b: LoadedBundle, where: string): void {
  recognizer = LineRecognizer.fromBundle(b);
  const steps = b.meta.training.steps;
  $('model').textContent =
    `model: ${b.meta.arch}, ${b.alphabet.chars.length} characters${typeof steps === 'number' ? `, ${steps} steps` : ''} (${where})`;
}

/** Reads one line; calls are queued so live recognitions never overlap. */
function read(image: LineImage, source: 'upload' | 'pad'): Promise<void> {
  const job = busy.then(async () => {
    if (!recognizer) return;
    const t0 = performance.now();
    const line = normalizeLineSync(image, recognizer.meta.preprocess);
    const [r] = await recognizer.recognizeSamples([{ id: source, text: '', image: line }]);
    const ms = performance.now() - t0;
    state.recognitions++;
    state.firstRecognitionAt ??= performance.now();
    state.last = { source, recognition: r!, ms, width: line.width, height: line.height };
    $('text').className = 'text';
    renderText($('text'), r!);
    renderLine($<HTMLCanvasElement>('line'), line, r!);
    $('timing').textContent = `${line.width} x ${line.height} line read in ${ms.toFixed(0)} ms (${state.backend})`;
  });
  busy = job.catch(() => undefined);
  return job.catch((err: unknown) => showError(`cannot read this line: ${(err as Error).message}`));
}

async function start(): Promise<void> {
  const backend = await initBrowserBackend({
    wasmPaths: {
      'tfjs-backend-wasm.wasm': wasmPlain,
      'tfjs-backend-wasm-simd.wasm': wasmSimd,
      'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimd,
    },
  });
  // The MDLSTM layers run our WebAssembly SIMD kernel where the browser validates it, typed-array scans elsewhere.
  const mdlstm = simdAvailable() ? 'MDLSTM SIMD kernel' : 'MDLSTM in JavaScript (no WebAssembly SIMD)';
  state.backend = `${backend.summary.replace(/^backend: /, '')}, ${mdlstm}`;
  $('backend').textContent = `${backend.summary}, ${mdlstm}`;
  const from = new URLSearchParams(location.search).get('bundle') ?? 'bundle/';
  const url = new URL(from, location.href);
  useBundle(await loadBundleFromUrl(url), url.pathname);
  // One forward pass on a blank line: the backend compiles its kernels now, not on the user's first line.
  await recognizer!.recognizeImages([{ data: new Float32Array(32 * 64), width: 64, height: 32 }]);
  state.readyAt = performance.now();
}

const pad = new DrawPad(
  $<HTMLCanvasElement>('pad'),
  debounce(() => {
    if (!pad.empty) void read(rawPixelsToLine(pad.pixels(), 'pad'), 'pad');
  }, LIVE_DEBOUNCE_MS),
);
$('clear').addEventListener('click', () => pad.clear());

$<HTMLInputElement>('image').addEventListener('change', async (e) => {
  const file = (e.target as HTMLInputElement).files?.[0];
  if (!file) return;
  try {
    await state.ready;
    await read(await fileToLine(file), 'upload');
  } catch (err) {
    showError(`${file.name}: ${(err as Error).message}`);
  }
});

$<HTMLInputElement>('bundle').addEventListener('change', async (e) => {
  const files = (e.target as HTMLInputElement).files;
  if (!files?.length) return;
  try {
    useBundle(await loadBundleFromFiles(Array.from(files)), 'chosen files');
  } catch (err) {
    showError((err as Error).message);
  }
});

state.ready = start();
state.ready.catch((err: unknown) => {
  $('model').textContent = 'model: not loaded';
  showError(`could not start: ${(err as Error).message}`);
});
