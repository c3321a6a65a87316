import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { launchLocal } from './launch-local.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Alive and not a zombie (a reaped or zombie process counts as gone). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function waitUntil(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return cond();
}

type Line = { pid: number; index: string; gpu: string | null };

/** Starts fixtures/launcher.ts and resolves with its pid and the 2 workers' lines. */
async function startLauncher(): Promise<{ launcher: ReturnType<typeof spawn>; lines: Line[] }> {
  const launcher = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'fixtures/launcher.ts')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: Line[] = [];
  let buf = '';
  await new Promise<void>((resolve, reject) => {
    launcher.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const parts = buf.split('\n');
      buf = parts.pop()!;
      for (const p of parts) lines.push(JSON.parse(p) as Line);
      if (lines.length === 2) resolve();
    });
    launcher.once('exit', (code) => reject(new Error(`launcher exited early (${code})`)));
  });
  return { launcher, lines: lines.sort((a, b) => Number(a.index) - Number(b.index)) };
}

describe('launchLocal', () => {
  it('gives each worker its index and stop() ends them all', async () => {
    const workers = launchLocal({
      workers: 3,
      script: path.join(here, 'fixtures/print-env.mjs'),
      gpus: ['0', '1'],
      env: { EXTRA: 'x' },
      stdio: 'pipe',
    });
    let out = '';
    for (const c of workers.children) c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await waitUntil(() => out.split('\n').length > 3, 10_000);
    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { index: string; count: string; gpu: string; extra: string })
      .sort((a, b) => Number(a.index) - Number(b.index));
    // GPUs are dealt round-robin: worker i gets gpus[i % 2].
    expect(lines).toEqual([
      { index: '0', count: '3', gpu: '0', extra: 'x' },
      { index: '1', count: '3', gpu: '1', extra: 'x' },
      { index: '2', count: '3', gpu: '0', extra: 'x' },
    ]);
    const pids = workers.children.map((c) => c.pid!);
    expect(pids.every(alive)).toBe(true);
    expect(await workers.stop()).toEqual([null, null, null]); // ended by SIGTERM
    expect(pids.some(alive)).toBe(false);
  });

  it('leaves no orphans when the launcher gets SIGINT', async () => {
    const { launcher, lines } = await startLauncher();
    expect(lines.map((l) => l.gpu)).toEqual(['3', '5']);
    expect(lines.every((l) => alive(l.pid))).toBe(true);
    launcher.kill('SIGINT');
    expect(await waitUntil(() => !lines.some((l) => alive(l.pid)), 10_000)).toBe(true);
  });

  it('leaves no orphans when the launcher is killed with SIGKILL (workers notice over IPC)', async () => {
    const { launcher, lines } = await startLauncher();
    launcher.kill('SIGKILL');
    expect(await waitUntil(() => !lines.some((l) => alive(l.pid)), 10_000)).toBe(true);
  });

  it('restarts a worker killed by a signal, with backoff, at most restart.max times; a clean exit is not restarted', async () => {
    const events: { index: number; restart: number; delayMs: number | null; signal: string | null }[] = [];
    const workers = launchLocal({
      workers: 2,
      nodeArgs: ['--import', 'tsx'],
      script: path.join(here, 'fixtures/idle-worker.ts'),
      stdio: 'pipe',
      restart: {
        max: 2,
        backoffMs: 50,
        onRestart: ({ index, restart, delayMs, signal }) => events.push({ index, restart, delayMs, signal }),
      },
    });
    const first = workers.children[1]!;
    await waitUntil(() => first.pid !== undefined && alive(first.pid), 10_000);
    for (let k = 0; k < 3; k++) {
      const c = workers.children[1]!;
      c.kill('SIGKILL');
      // Restarted (a new process in its place) until the restarts are used up.
      if (k < 2)
        expect(await waitUntil(() => workers.children[1] !== c && alive(workers.children[1]!.pid!), 10_000)).toBe(true);
      else expect(await waitUntil(() => events.length === 3, 10_000)).toBe(true);
    }
    // Backoff doubles: 50, then 100 ms; the third death finds no restarts left (delayMs null).
    expect(events).toEqual([
      { index: 1, restart: 1, delayMs: 50, signal: 'SIGKILL' },
      { index: 1, restart: 2, delayMs: 100, signal: 'SIGKILL' },
      { index: 1, restart: 3, delayMs: null, signal: 'SIGKILL' },
    ]);
    expect(alive(workers.children[0]!.pid!)).toBe(true); // the other worker untouched
    expect(await workers.stop()).toEqual([null, null]);
    expect(events).toHaveLength(3); // stop() restarts nothing
    const clean = launchLocal({
      workers: 1,
      command: process.execPath,
      args: ['-e', 'process.exit(0)'],
      restart: {
        max: 2,
        backoffMs: 50,
        onRestart: () => events.push({ index: -1, restart: 0, delayMs: 0, signal: null }),
      },
    });
    expect(await clean.exited).toEqual([0]);
    expect(events).toHaveLength(3);
  });

  it('rejects a bad worker count', () => {
    expect(() => launchLocal({ workers: 0, script: 'x.js' })).toThrow(
      'launchLocal: workers must be a positive integer, got 0',
    );
  });
});
