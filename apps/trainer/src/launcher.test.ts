import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../bin/scriptorium.js', import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string; bin: Record<string, string> };

describe('the scriptorium launcher (the package bin, committed so npm links it before a build)', () => {
  it('is what the package.json bin names, and runs the built CLI', () => {
    expect(pkg.bin.scriptorium).toBe('./bin/scriptorium.js');
    // CI builds before it tests; the launcher runs dist/main.js, which prints the package version.
    expect(execFileSync(process.execPath, [bin, '--version'], { encoding: 'utf8' }).trim()).toBe(`scriptorium ${pkg.version}`);
  });
});
