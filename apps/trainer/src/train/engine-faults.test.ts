/**
 * Fault injection on distributed training runs (issue 18), each fault with what is promised:
 * - a local worker killed mid-run (`--workers 2`): it is restarted (logged), the run goes on with the
 *   live worker meanwhile and completes every step;
 * - no worker joins a `--listen` run in time: one line naming the endpoint, no stack trace, status 1;
 * - a worker whose coordinator never answers: the same.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { MAIN, NODE_ARGS, TINY_FLAGS } from '../cli-test-util.js';
import { parseFlags } from '../cli/flags.js';
import { runTrain, trainCommand } from '../commands/train.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'trainer-faults-'));
const TINY = TINY_FLAGS;

/** Runs the CLI from source with a 1 s join timeout; resolves with its status and stderr. */
function cli(args: string[]): Promise<{ code: number; stderr: string }> {
  return promisify(execFile)(process.execPath, [...NODE_ARGS, MAIN, ...args], {
    cwd: path.resolve(__dirname, '../../../..'),
    env: { ...process.env, SCRIPTORIUM_JOIN_TIMEOUT_MS: '1000' },
  }).then(
    (r) => ({ code: 0, stderr: r.stderr }),
    (err: { code: number; stderr: string }) => err,
  );
}

describe('distributed training under faults', () => {
  it('a local worker killed mid-run is restarted and the run completes every step', async () => {
    const out = path.join(tmp, 'kill');
    const lines: string[] = [];
    let killed: number | undefined;
    const log = (line: string) => {
      lines.push(line);
      // The second worker's join: the run starts now; kill that worker a moment into it.
      const m = /joined as rank 1 \(.* pid (\d+)\)/.exec(line);
      if (m && killed === undefined) {
        killed = Number(m[1]);
        setTimeout(() => process.kill(killed!, 'SIGKILL'), 300);
      }
    };
    const s = await runTrain(parseFlags(trainCommand, ['--out', out, '--max-steps', '6', '--workers', '2', ...TINY]), {
      log,
      workerScript: MAIN,
      workerNodeArgs: NODE_ARGS,
    });
    expect(killed).toBeDefined();
    expect(s.steps).toBe(6);
    const trainRows = (dir: string) =>
      readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { type: string; step: number; lines: number })
        .filter((m) => m.type === 'train');
    const train = trainRows(s.runDir);
    expect(train.map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6]);
    // Every line of every step counted once: the same per-step line counts as the same run in one process.
    const single = await runTrain(
      parseFlags(trainCommand, ['--out', path.join(tmp, 'single'), '--max-steps', '6', '--workers', '0', ...TINY]),
      { log: () => {} },
    );
    expect(train.map((m) => m.lines)).toEqual(trainRows(single.runDir).map((m) => m.lines));
    const all = lines.join('\n');
    // Ranks follow the joining order, launch indexes need not: either index.
    expect(all).toMatch(
      new RegExp(`local worker [01] \\(pid ${killed}\\) was killed by SIGKILL; restart 1 of 5 in 1000 ms`),
    );
    expect(all).toMatch(/removed: unreachable|removed: .*deadline/);
  }, 120_000);

  it('no worker joins a --listen run in time: one line, no stack trace, status 1', async () => {
    const r = await cli([
      'train',
      '--out',
      path.join(tmp, 'listen'),
      '--max-steps',
      '1',
      '--listen',
      'tcp://127.0.0.1:0',
      ...TINY,
    ]);
    expect(r.code, r.stderr).toBe(1);
    const last = r.stderr.trim().split('\n').at(-1)!;
    expect(last).toMatch(
      /^scriptorium train: Coordinator: 0 live worker\(s\) after 1000 ms, need 1 \(endpoint tcp:\/\/127\.0\.0\.1:\d+\)$/,
    );
    expect(r.stderr).not.toMatch(/^\s+at /m);
  }, 60_000);

  it('a worker whose coordinator never answers: one line naming the endpoint, no stack trace, status 1', async () => {
    // Port 9 (discard): nothing listens there, and libzmq keeps retrying the connection.
    const r = await cli(['worker', '--connect', 'tcp://127.0.0.1:9', '--backend', 'wasm', '--quiet']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(
      /^scriptorium worker: worker \S+: no WELCOME from tcp:\/\/127\.0\.0\.1:9 within 1000 ms$/,
    );
    expect(r.stderr).not.toMatch(/^\s+at /m);
  }, 60_000);
});
