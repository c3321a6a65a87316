#!/usr/bin/env node
// The `scriptorium` command. npm links a package's bin when it is installed, before anything is built, so the
// link points here (a committed file) rather than at dist/main.js, and this runs the built CLI or says how to build it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  console.error(
    `scriptorium: the CLI is not built (${fileURLToPath(main)} is missing): run \`npm run build\` at the repository root`,
  );
  process.exit(2);
}
await import(main.href);
