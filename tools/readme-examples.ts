/**
 * Runs the TypeScript examples of a package README, for that package's `readme.test.ts`.
 *
 * Conventions in the README:
 * - Every ```ts / ```typescript block is a complete module and runs as written, imports included
 *   (`@scriptorium/<pkg>` resolves to the package's source, as in the other tests).
 * - ```ts fragment marks a sketch that cannot run alone (it names the reader's own model, data or files);
 *   it is not run. Each package test lists its fragments and says why they are fragments.
 * - `console.log(x); // => TEXT` states what the line prints: TEXT is compared with what it printed
 *   (`util.format` of the arguments, as Node's console prints them, white space runs as one space). A `console.log` without `// =>` prints
 *   something that depends on the machine; the test checks it some other way.
 *
 * A block runs as a file in a fresh temporary directory, which is also the working directory while it runs
 * (so a README's relative paths find the fixtures written there), with `node_modules` linked to the
 * repository's. Changing directory needs vitest's default `forks` pool (worker threads cannot `chdir`).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { format } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface ReadmeBlock {
  /** 1-based line of the opening fence in the README. */
  line: number;
  /** `true` for ```ts fragment: not run. */
  fragment: boolean;
  code: string;
}

/** The ```ts and ```typescript blocks of a README, in order. */
export function readmeBlocks(readmePath: string): ReadmeBlock[] {
  const lines = readFileSync(readmePath, 'utf8').split('\n');
  const blocks: ReadmeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && l.startsWith('```'));
    if (end < 0) throw new Error(`${readmePath}:${i + 1}: code block never closed`);
    if (open[1] === 'ts' || open[1] === 'typescript') {
      blocks.push({
        line: i + 1,
        fragment: open[2]!.split(/\s+/).includes('fragment'),
        code: lines.slice(i + 1, end).join('\n'),
      });
    }
    i = end;
  }
  return blocks;
}

export interface BlockRun {
  /** What each `console.log` call printed, in order, each run of white space as one space (a long object
   * prints over several lines; the README writes it on one). */
  printed: string[];
  /** Per `console.log` line of the block, in source order: its `// => TEXT`, or undefined where it has none. */
  expected: (string | undefined)[];
}

/** The `// => TEXT` of each `console.log` line, in source order (undefined where a line has none). */
export function expectedPrints(code: string): (string | undefined)[] {
  return code
    .split('\n')
    .filter((l) => /^\s*console\.log\(/.test(l))
    .map((l) => /\/\/ => (.*)$/.exec(l)?.[1]?.trim());
}

/**
 * `expected` with each unannotated entry replaced by what was printed there: `expect(run.printed)
 * .toEqual(expectedOrPrinted(run))` checks every annotated line and the number of lines printed.
 */
export function expectedOrPrinted(run: BlockRun): string[] {
  return run.expected.map((e, i) => e ?? run.printed[i] ?? '(nothing printed)');
}

export interface RunOptions {
  /** Files to write in the working directory first, by relative path. */
  fixtures?: Record<string, string | Uint8Array>;
  /** Environment variables set while the block runs (restored after). */
  env?: Record<string, string>;
}

/** Runs one block as a module (see the file comment) and returns what it printed. */
export async function runReadmeBlock(block: ReadmeBlock, options: RunOptions = {}): Promise<BlockRun> {
  if (block.fragment) throw new Error(`README line ${block.line}: a fragment is not run`);
  const dir = mkdtempSync(path.join(tmpdir(), 'readme-'));
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  for (const [name, content] of Object.entries(options.fixtures ?? {})) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  }
  const file = path.join(dir, `example-line-${block.line}.ts`);
  writeFileSync(file, block.code);
  const printed: string[] = [];
  const log = console.log;
  const cwd = process.cwd();
  const savedEnv = Object.fromEntries(Object.keys(options.env ?? {}).map((k) => [k, process.env[k]]));
  console.log = (...args: unknown[]) => void printed.push(format(...args).replace(/\s+/g, ' '));
  Object.assign(process.env, options.env);
  process.chdir(dir);
  try {
    await import(/* @vite-ignore */ file);
  } finally {
    process.chdir(cwd);
    console.log = log;
    for (const [k, v] of Object.entries(savedEnv)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rmSync(dir, { recursive: true, force: true });
  }
  return { printed, expected: expectedPrints(block.code) };
}
