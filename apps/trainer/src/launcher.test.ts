import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../bin/scriptorium.js', import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  bin: Record<string, string>;
};

describe('the scriptorium launcher (the package bin, committed so that npm links it before a build)', () => {
  // A copy of the launcher in a package of its own, with or without a (stub) dist/main.js beside it.
  const dir = mkdtempSync(path.join(tmpdir(), 'launcher-'));
  mkdirSync(path.join(dir, 'bin'));
  copyFileSync(bin, path.join(dir, 'bin', 'scriptorium.js'));
  writeFileSync(path.join(dir, 'package.json'), '{"type": "module"}\n');
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [path.join(dir, 'bin', 'scriptorium.js'), ...args], { encoding: 'utf8' });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is what the package.json bin names', () => {
    expect(pkg.bin.scriptorium).toBe('./bin/scriptorium.js');
  });

  it('says how to build when dist/ is missing, with status 2 and no stack trace', () => {
    const r = run('--version');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /^scriptorium: the CLI is not built \(.*dist\/main\.js is missing\): run `npm run build` at the repository root\n$/,
    );
  });

  it('runs dist/main.js with the arguments once it is built', () => {
    mkdirSync(path.join(dir, 'dist'));
    writeFileSync(path.join(dir, 'dist', 'main.js'), "console.log('main', JSON.stringify(process.argv.slice(2)));\n");
    const r = run('eval', '--model', 'x');
    expect([r.status, r.stdout]).toEqual([0, 'main ["eval","--model","x"]\n']);
  });
});
