/**
 * Spawns worker processes on this machine and makes sure none outlives the launcher: they
 * are stopped on stop(), on the launcher's exit, SIGINT or SIGTERM, and, through the IPC
 * channel, when the launcher dies without cleaning up (runWorker exits on 'disconnect').
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface LaunchLocalOptions {
  /** Number of worker processes. */
  workers: number;
  /** Script run by `command` (appended after `nodeArgs`). */
  script?: string;
  /** Executable. Default: this Node (process.execPath). */
  command?: string;
  /** Arguments before the script (e.g. ['--import', 'tsx']). Default []. */
  nodeArgs?: string[];
  /** Arguments after the script; a function gets the worker index. Default []. */
  args?: string[] | ((index: number) => string[]);
  /** Extra environment (merged over process.env). */
  env?: Record<string, string>;
  /**
   * GPU ids; worker i gets CUDA_VISIBLE_DEVICES = gpus[i % gpus.length]. Default: none
   * (CUDA_VISIBLE_DEVICES is left as inherited).
   */
  gpus?: string[];
  cwd?: string;
  /** 'inherit' (default) or 'pipe' (read child.stdout/stderr yourself). */
  stdio?: 'inherit' | 'pipe';
  /** Called when a worker exits (code or signal). */
  onExit?: (index: number, code: number | null, signal: NodeJS.Signals | null) => void;
  /** Grace period between SIGTERM and SIGKILL on stop. Default 2000 ms. */
  killAfterMs?: number;
}

export interface LocalWorkers {
  children: ChildProcess[];
  /** Resolves when every child has exited, with their exit codes (null when killed by a signal). */
  exited: Promise<(number | null)[]>;
  /** SIGTERM to every live child, SIGKILL after the grace period; resolves when all are gone. */
  stop(): Promise<(number | null)[]>;
}

export function launchLocal(options: LaunchLocalOptions): LocalWorkers {
  const n = options.workers;
  if (!Number.isInteger(n) || n < 1) throw new Error(`launchLocal: workers must be a positive integer, got ${n}`);
  if (!options.script && !options.command) throw new Error('launchLocal: give a script (run with node) or a command');
  const children: ChildProcess[] = [];
  const codes: (number | null)[] = new Array(n).fill(null);
  const exits: Promise<void>[] = [];

  const killAll = (signal: NodeJS.Signals) => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill(signal);
  };
  const onExit = () => killAll('SIGKILL');
  const onSignal = (signal: NodeJS.Signals) => {
    killAll('SIGTERM');
    cleanup();
    // Let the default behaviour (exit) happen when nobody else handles the signal.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  const cleanup = () => {
    process.off('exit', onExit);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  process.on('exit', onExit);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  for (let i = 0; i < n; i++) {
    const args = typeof options.args === 'function' ? options.args(i) : (options.args ?? []);
    const env: Record<string, string | undefined> = {
      ...process.env,
      ...options.env,
      SCRIPTORIUM_WORKER_INDEX: String(i),
      SCRIPTORIUM_WORKER_COUNT: String(n),
    };
    if (options.gpus && options.gpus.length > 0) env.CUDA_VISIBLE_DEVICES = options.gpus[i % options.gpus.length];
    const out = options.stdio ?? 'inherit';
    const child = spawn(options.command ?? process.execPath, [...(options.nodeArgs ?? []), ...(options.script ? [options.script] : []), ...args], {
      cwd: options.cwd,
      env,
      // The IPC channel lets a worker notice (by 'disconnect') that the launcher died.
      stdio: ['ignore', out, out, 'ipc'],
    });
    child.channel?.unref();
    children.push(child);
    exits.push(
      new Promise<void>((resolve) => {
        child.once('error', (err) => {
          process.emitWarning(`launchLocal: worker ${i} failed to start: ${err.message}`);
          codes[i] = null;
          resolve();
        });
        child.once('exit', (code, signal) => {
          codes[i] = code;
          options.onExit?.(i, code, signal);
          resolve();
        });
      }),
    );
  }
  const exited = Promise.all(exits).then(() => {
    cleanup();
    return codes;
  });
  return {
    children,
    exited,
    async stop() {
      killAll('SIGTERM');
      const timer = setTimeout(() => killAll('SIGKILL'), options.killAfterMs ?? 2000);
      timer.unref();
      const r = await exited;
      clearTimeout(timer);
      return r;
    },
  };
}
