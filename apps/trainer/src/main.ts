#!/usr/bin/env node
import { createRequire } from 'node:module';
import { UsageError } from './cli/errors.js';
import { parseFlags, usage, type CommandSpec, type ParsedFlags } from './cli/flags.js';
import { applyImageCap } from './cli/image-cap.js';
import { demoCommand, runDemo } from './commands/demo.js';
import { evalCommand, runEval } from './commands/eval.js';
import { keysCommand, runKeys } from './commands/keys.js';
import { lmCommand, runLm } from './commands/lm.js';
import { recognizeCommand, runRecognize } from './commands/recognize.js';
import { runServe, serveCommand } from './commands/serve.js';
import { runTrain, trainCommand } from './commands/train.js';
import { runWorkerCommand, workerCommand } from './commands/worker.js';

const COMMANDS: Array<[CommandSpec, (f: ParsedFlags) => Promise<unknown>]> = [
  [trainCommand, runTrain],
  [workerCommand, runWorkerCommand],
  [evalCommand, runEval],
  [recognizeCommand, runRecognize],
  [lmCommand, runLm],
  [keysCommand, runKeys],
  [demoCommand, runDemo],
  [serveCommand, runServe],
];

function mainUsage(): string {
  const w = Math.max(...COMMANDS.map(([c]) => c.name.length));
  return [
    'usage: scriptorium <command> [options]   (scriptorium <command> --help for its options; scriptorium --version)',
    '',
    'commands:',
    ...COMMANDS.map(([c]) => `  ${c.name.padEnd(w)}  ${c.summary.split('\n')[0]}`),
  ].join('\n');
}

/** The CLI package's version, from its package.json (one directory above src/ and dist/). */
function version(): string {
  return (createRequire(import.meta.url)('../package.json') as { version: string }).version;
}

/** Errors that are the user's to fix: one line, no stack trace. */
const USER_ERRORS = new Set([
  'UsageError',
  'DataError',
  'BundleError',
  'BackendError',
  'AdadeltaConfigError',
  'MDLSTMInputError',
  'CtcInputError',
]);
/** Failures of a distributed run (too few workers, none joined, no coordinator answering): one line, no stack trace, status 1. */
const RUN_ERRORS = new Set(['CoordinatorError', 'WorkerError']);

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V') {
    console.log(`scriptorium ${version()}`);
    return 0;
  }
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(mainUsage());
    return name ? 0 : 2;
  }
  const entry = COMMANDS.find(([c]) => c.name === name);
  try {
    if (!entry)
      throw new UsageError(`unknown command '${name}' (expected one of: ${COMMANDS.map(([c]) => c.name).join(', ')})`);
    const [spec, run] = entry;
    if (rest.includes('--help') || rest.includes('-h')) {
      console.log(usage(spec));
      return 0;
    }
    const flags = parseFlags(spec, rest);
    applyImageCap(flags);
    await run(flags);
    return 0;
  } catch (err) {
    if (!(err instanceof Error)) throw err;
    if (err instanceof UsageError || USER_ERRORS.has(err.name)) {
      console.error(`scriptorium${entry ? ` ${entry[0].name}` : ''}: ${err.message}`);
      if (err instanceof UsageError && err.showUsage) console.error(`\n${entry ? usage(entry[0]) : mainUsage()}`);
      return 2;
    }
    if (RUN_ERRORS.has(err.name)) {
      console.error(`scriptorium${entry ? ` ${entry[0].name}` : ''}: ${err.message}`);
      return 1;
    }
    throw err;
  }
}

process.exitCode = await main(process.argv.slice(2));
