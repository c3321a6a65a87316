/**
 * The browser entry points reach no Node built-in and no sharp: each is bundled by esbuild for the browser platform
 * (from the TypeScript sources, as the page is), and every import of a Node module or of sharp is recorded with the
 * file that made it. Third-party files may name Node modules behind their own environment checks (emscripten glue),
 * so the check is on the imports our packages make (and that the others are tfjs's and seedrandom's only).
 */
import { builtinModules } from 'node:module';
import path from 'node:path';
import { build, type Plugin } from 'esbuild';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const ENTRIES = [
  '@scriptorium/runtime/browser',
  '@scriptorium/mdlstm/browser',
  '@scriptorium/ctc/browser',
  '@scriptorium/data/browser',
  '@scriptorium/models/browser',
];
const NODE_ONLY = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`), 'sharp', 'zeromq']);

/** Bundles `entry` for browsers; the Node-only imports met on the way, as 'importer -> module'. */
async function nodeImports(entry: string): Promise<string[]> {
  const found: string[] = [];
  const recorder: Plugin = {
    name: 'record-node-imports',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        const bare = args.path.split('/')[0] === 'node:' ? args.path : args.path.replace(/\/.*$/, '');
        if (!NODE_ONLY.has(args.path) && !NODE_ONLY.has(bare)) return undefined;
        found.push(`${path.relative(ROOT, args.importer)} -> ${args.path}`);
        return { path: args.path, external: true };
      });
    },
  };
  const result = await build({
    stdin: { contents: `export * from '${entry}';`, resolveDir: import.meta.dirname, loader: 'ts' },
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'esm',
    conditions: ['@scriptorium/source'],
    logLevel: 'silent',
    plugins: [recorder],
  });
  expect(result.errors).toEqual([]);
  return found;
}

describe('browser entry points', () => {
  it.each(
    ENTRIES,
  )('%s bundles for the browser with no Node built-in or sharp imported by our packages', async (entry) => {
    const found = await nodeImports(entry);
    expect(found.filter((line) => line.startsWith('packages/'))).toEqual([]);
    // The rest are tfjs's and seedrandom's requires behind their own Node checks (their package.json "browser"
    // fields map them to empty modules): e.g. tfjs-core's platform_node.js -> util.
    expect(found.filter((line) => !/^node_modules\/(@tensorflow\/tfjs-[a-z-]+|seedrandom)\//.test(line))).toEqual([]);
  });

  it('the check catches what it is for: the Node entries of data and models import sharp and node: modules', async () => {
    const data = await nodeImports('@scriptorium/data');
    expect(data).toContain('packages/data/src/image-io.ts -> sharp');
    expect(data).toContain('packages/data/src/png.ts -> node:zlib');
    expect(
      (await nodeImports('@scriptorium/models')).some((l) => l.startsWith('packages/models/src/bundle.ts -> node:fs')),
    ).toBe(true);
  });
});
