// Shared helpers for the trainer's command-line tests (cli.test.ts, cli-errors.test.ts).
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseFlags } from './cli/flags.js';
import { trainCommand } from './commands/train.js';

const run = promisify(execFile);
export const MAIN = path.resolve(__dirname, 'main.ts');
export const NODE_ARGS = ['--import', 'tsx', '--conditions=@scriptorium/source'];

/** Runs the CLI from source; resolves with exit code and output (never rejects). */
export async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [...NODE_ARGS, MAIN, ...args], {
      cwd: path.resolve(__dirname, '../../..'),
      env: { ...process.env, SCRIPTORIUM_BACKEND: 'wasm' },
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** A TCP port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** Flags of a tiny, quick training run (the model and data of every CLI test that trains). */
export const TINY_FLAGS = [
  '--train-lines',
  '24',
  '--valid-lines',
  '6',
  '--batch',
  '4',
  '--eval-every',
  '3',
  '--checkpoint-every',
  '2',
  '--backend',
  'wasm',
  '--quiet',
  '--dropout',
  '0',
];

export const tiny = (out: string, extra: string[] = []) =>
  parseFlags(trainCommand, ['--out', out, ...TINY_FLAGS, ...extra]);

export const quiet = { log: () => {} };
