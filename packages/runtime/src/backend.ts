import { createRequire } from 'node:module';
import path from 'node:path';
// The union package registers every gradient (tfjs-core alone registers none, and its
// register_all_gradients entry does not resolve under Node ESM).
import * as tf from '@tensorflow/tfjs';

/** Backends Scriptorium knows, best first. `tensorflow` is libtensorflow through tfjs-node(-gpu). */
export const BACKEND_NAMES = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export interface BackendOptions {
  /** Which backend to use. Default 'auto'; the environment variable SCRIPTORIUM_BACKEND wins over it. */
  backend?: BackendName | string;
  /** Where the one-line report goes. Default: console.error. Pass `null` for silence. */
  log?: ((line: string) => void) | null;
}

export interface BackendAttempt {
  name: string;
  ok: boolean;
  /** Why it was not used (one line), when `ok` is false. */
  reason?: string;
}

export interface BackendReport {
  /** The tfjs backend now active: 'tensorflow', 'wasm' or 'cpu'. */
  backend: string;
  /** For tensorflow: which npm package provided it. */
  provider?: string;
  attempts: BackendAttempt[];
  /** One human line: which backend is active and why each better one was not. */
  summary: string;
}

/** A user mistake about backends: printed as one line by the CLI, no stack trace. */
export class BackendError extends Error {
  override name = 'BackendError';
}

const INSTALL_HINT =
  'install it with `npm install @tensorflow/tfjs-node` (CPU) or `npm install @tensorflow/tfjs-node-gpu` ' +
  '(GPU; needs CUDA 11.2 and cuDNN 8.1); its install script downloads libtensorflow, so it needs internet access';

const require = createRequire(import.meta.url);

export function parseBackendName(value: string, source: string): BackendName {
  const name = value.trim().toLowerCase();
  if ((BACKEND_NAMES as readonly string[]).includes(name)) return name as BackendName;
  throw new BackendError(`${source}: unknown backend '${value}' (expected one of: ${BACKEND_NAMES.join(', ')})`);
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0]!.trim();
}

async function tryTensorflow(): Promise<{ ok: true; provider: string } | { ok: false; reason: string }> {
  const reasons: string[] = [];
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      require.resolve(pkg);
    } catch {
      reasons.push(`${pkg} is not installed`);
      continue;
    }
    try {
      await import(pkg);
      if (await tf.setBackend('tensorflow')) return { ok: true, provider: pkg };
      reasons.push(`${pkg} loaded but the 'tensorflow' backend did not initialise`);
    } catch (err) {
      reasons.push(`${pkg} failed to load: ${firstLine(err)}`);
    }
  }
  return { ok: false, reason: reasons.join('; ') };
}

async function tryWasm(): Promise<{ ok: true } | { ok: false; reason: string }> {
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const dist =
      path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
    wasm.setWasmPaths(dist);
    if (await tf.setBackend('wasm')) return { ok: true };
    return { ok: false, reason: 'the wasm backend did not initialise' };
  } catch (err) {
    return { ok: false, reason: firstLine(err) };
  }
}

/**
 * Picks and initialises the tfjs backend. This is the only place in Scriptorium that does.
 * 'auto' tries tensorflow (tfjs-node-gpu, then tfjs-node), then wasm, then cpu.
 */
export async function initBackend(options: BackendOptions = {}): Promise<BackendReport> {
  const env = process.env.SCRIPTORIUM_BACKEND;
  const wanted =
    env !== undefined && env.trim() !== ''
      ? parseBackendName(env, 'SCRIPTORIUM_BACKEND')
      : parseBackendName(options.backend ?? 'auto', 'backend');
  const log = options.log === undefined ? (line: string) => console.error(line) : options.log;
  const attempts: BackendAttempt[] = [];
  let provider: string | undefined;

  const order: Exclude<BackendName, 'auto'>[] = wanted === 'auto' ? ['tensorflow', 'wasm', 'cpu'] : [wanted];
  let active: string | undefined;
  for (const name of order) {
    if (name === 'tensorflow') {
      const r = await tryTensorflow();
      if (r.ok) {
        provider = r.provider;
        active = name;
        attempts.push({ name, ok: true });
        break;
      }
      attempts.push({ name, ok: false, reason: r.reason });
      if (wanted === 'tensorflow') {
        throw new BackendError(`backend 'tensorflow' is unavailable (${r.reason}); ${INSTALL_HINT}`);
      }
    } else if (name === 'wasm') {
      const r = await tryWasm();
      if (r.ok) {
        active = name;
        attempts.push({ name, ok: true });
        break;
      }
      attempts.push({ name, ok: false, reason: r.reason });
      if (wanted === 'wasm') throw new BackendError(`backend 'wasm' is unavailable: ${r.reason}`);
    } else {
      await tf.setBackend('cpu');
      // The cpu backend prints a multi-line advert for tfjs-node on first use; our one-line report
      // already says why a faster backend is not active.
      (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
      active = 'cpu';
      attempts.push({ name, ok: true });
      break;
    }
  }
  await tf.ready();
  const backend = active ?? tf.getBackend();
  const skipped = attempts.filter((a) => !a.ok).map((a) => `${a.name}: ${a.reason}`);
  const summary =
    `backend: ${backend}${provider ? ` (${provider})` : ''}` +
    (wanted === 'auto' ? '' : ' (requested)') +
    (skipped.length ? `; not used: ${skipped.join('; ')}` : '');
  log?.(summary);
  return { backend, provider, attempts, summary };
}
