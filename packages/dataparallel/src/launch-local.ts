/**
 * Spawns worker processes on this machine and makes sure none outlives the launcher: they
 * are stopped on stop(), on the launcher's exit, SIGINT or SIGTERM, and, through the IPC
 * channel, when the launcher dies without cleaning up (runWorker exits on 'disconnect').
 * Optionally, a worker that dies is started again (options.restart).
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
  /**
   * Restart a worker that exits unexpectedly (a signal or a non-zero code, not during stop()):
   * at most `max` times per worker, after `backoffMs` doubling up to `maxBackoffMs`.
   * Default: no restarts.
   */
  restart?: LocalRestartOptions;
}

export interface LocalRestartOptions {
  max: number;
  /** Delay before the first restart, ms (doubles with each restart of the same worker). */
  backoffMs: number;
  /** Default 30 s. */
  maxBackoffMs?: number;
  /**
   * Called when worker `index` exited unexpectedly: `delayMs` is when it is restarted, or null
   * when its `max` restarts are used up (it stays down).
   */
  onRestart?: (event: {
    index: number;
    pid: number | undefined;
    code: number | null;
    signal: NodeJS.Signals | null;
    restart: number;
    delayMs: number | null;
  }) => void;
}

export interface LocalWorkers {
  /** The current process of each worker (a restart replaces its entry). */
  children: ChildProcess[];
  /** Resolves when every worker has exited for good, with their last exit codes (null when killed by a signal). */
  exited: Promise<(number | null)[]>;
  /** SIGTERM to every live child, SIGKILL after the grace period, no more restarts; resolves when all are gone. */
  stop(): Promise<(number | null)[]>;
}

/** Spawns worker `i`: the script (or command) with its arguments, its index and count in the environment. */
function spawnWorker(options: LaunchLocalOptions, i: number): ChildProcess {
  const args = typeof options.args === 'function' ? options.args(i) : (options.args ?? []);
  const env: Record<string, string | undefined> = {
    ...process.env,
    ...options.env,
    SCRIPTORIUM_WORKER_INDEX: String(i),
    SCRIPTORIUM_WORKER_COUNT: String(options.workers),
  };
  if (options.gpus && options.gpus.length > 0) env.CUDA_VISIBLE_DEVICES = options.gpus[i % options.gpus.length];
  const out = options.stdio ?? 'inherit';
  return spawn(
    options.command ?? process.execPath,
    [...(options.nodeArgs ?? []), ...(options.script ? [options.script] : []), ...args],
    {
      cwd: options.cwd,
      env,
      // The IPC channel lets a worker notice (by 'disconnect') that the launcher died.
      stdio: ['ignore', out, out, 'ipc'],
    },
  );
}

export function launchLocal(options: LaunchLocalOptions): LocalWorkers {
  const n = options.workers;
  if (!Number.isInteger(n) || n < 1) throw new Error(`launchLocal: workers must be a positive integer, got ${n}`);
  if (!options.script && !options.command) throw new Error('launchLocal: give a script (run with node) or a command');
  const restart = options.restart;
  if (restart && !(Number.isInteger(restart.max) && restart.max >= 0 && restart.backoffMs >= 0)) {
    throw new Error(
      `launchLocal: restart.max must be an integer >= 0 and restart.backoffMs >= 0, got ${restart.max}, ${restart.backoffMs}`,
    );
  }
  const children: ChildProcess[] = [];
  const codes: (number | null)[] = new Array(n).fill(null);
  const restarts: number[] = new Array(n).fill(0);
  /** Restarts waiting for their backoff, with the `done` of their worker. */
  const pending = new Map<NodeJS.Timeout, () => void>();
  let stopping = false;

  const killAll = (signal: NodeJS.Signals) => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill(signal);
  };
  const onExit = () => killAll('SIGKILL');
  const onSignal = (signal: NodeJS.Signals) => {
    stopping = true;
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

  /** Starts worker `i`; calls `done` once it has exited for good (no restart follows). */
  const start = (i: number, done: () => void): void => {
    const child = spawnWorker(options, i);
    child.channel?.unref();
    children[i] = child;
    let settled = false;
    const settle = (code: number | null, signal: NodeJS.Signals | null) => {
      if (settled) return;
      settled = true;
      codes[i] = code;
      const unexpected = code !== 0 && !stopping;
      if (!unexpected || !restart) return done();
      const nth = ++restarts[i]!;
      if (nth > restart.max) {
        restart.onRestart?.({ index: i, pid: child.pid, code, signal, restart: nth, delayMs: null });
        return done();
      }
      const delayMs = Math.min(restart.backoffMs * 2 ** (nth - 1), restart.maxBackoffMs ?? 30_000);
      restart.onRestart?.({ index: i, pid: child.pid, code, signal, restart: nth, delayMs });
      const timer = setTimeout(() => {
        pending.delete(timer);
        if (stopping) done();
        else start(i, done);
      }, delayMs);
      pending.set(timer, done);
    };
    child.once('error', (err) => {
      process.emitWarning(`launchLocal: worker ${i} failed to start: ${err.message}`);
      settle(null, null);
    });
    child.once('exit', (code, signal) => {
      options.onExit?.(i, code, signal);
      settle(code, signal);
    });
  };
  const exits = Array.from({ length: n }, (_, i) => new Promise<void>((resolve) => start(i, resolve)));
  const exited = Promise.all(exits).then(() => {
    cleanup();
    return codes;
  });
  return {
    children,
    exited,
    async stop() {
      stopping = true;
      for (const [t, done] of pending) {
        clearTimeout(t);
        pending.delete(t);
        done();
      }
      killAll('SIGTERM');
      const timer = setTimeout(() => killAll('SIGKILL'), options.killAfterMs ?? 2000);
      timer.unref();
      const r = await exited;
      clearTimeout(timer);
      return r;
    },
  };
}
