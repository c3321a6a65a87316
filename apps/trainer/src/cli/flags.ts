import { readFileSync } from 'node:fs';
import { errorMessage, errorReason, UsageError } from './errors.js';

export type FlagType = 'string' | 'int' | 'number' | 'boolean' | 'duration' | 'list';

export interface FlagSpec {
  name: string;
  type: FlagType;
  help: string;
  default?: unknown;
  /** Allowed values for a string flag. */
  choices?: readonly string[];
  /** Smallest allowed value for int/number flags. */
  min?: number;
  /** Placeholder in the usage text, e.g. 'DIR'. */
  metavar?: string;
}

export interface CommandSpec {
  name: string;
  summary: string;
  /** Usage line after `scriptorium <name>`, e.g. '[options] image...'. */
  synopsis: string;
  flags: FlagSpec[];
  /** Whether positional arguments are accepted (they are returned in `_`). */
  positionals?: boolean;
}

export type ParsedFlags = Record<string, unknown> & { _: string[] };

/**
 * A parsed flag's value, checked against the type parseFlags coerced it to ('number' for int, number and duration
 * flags); undefined when the flag was not given and has no default. A mismatch is a bug in the command, not the user's.
 */
export function flagValue(flags: ParsedFlags, name: string, type: 'string'): string | undefined;
export function flagValue(flags: ParsedFlags, name: string, type: 'number'): number | undefined;
export function flagValue(flags: ParsedFlags, name: string, type: 'boolean'): boolean | undefined;
export function flagValue(flags: ParsedFlags, name: string, type: 'list'): string[] | undefined;
export function flagValue(flags: ParsedFlags, name: string, type: 'string' | 'number' | 'boolean' | 'list'): unknown {
  const value = flags[name];
  if (value === undefined || (type === 'list' ? isStringList(value) : typeof value === type)) return value;
  throw new TypeError(`internal: flag --${name} holds ${JSON.stringify(value)}, not a ${type}`);
}

/** A string flag's value as one of its choices (parseFlags has refused any other). */
export function flagChoice<T extends string>(flags: ParsedFlags, name: string, choices: readonly T[]): T | undefined {
  const value = flagValue(flags, name, 'string');
  if (value === undefined) return undefined;
  const choice = choices.find((c) => c === value);
  if (choice === undefined)
    throw new TypeError(`internal: flag --${name} holds '${value}', not one of ${choices.join(', ')}`);
  return choice;
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

const DURATION_UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses '90s', '10m', '1h30m', '2h' or a plain number of seconds into milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const s = text.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let pos = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * DURATION_UNIT_MS[m[2]!]!; // the pattern admits only these units
    pos = re.lastIndex;
  }
  if (pos !== s.length || s.length === 0) {
    throw new UsageError(`--${flag}: '${text}' is not a duration (expected e.g. 90s, 10m, 1h30m)`);
  }
  return total;
}

function coerce(spec: FlagSpec, raw: unknown, where: string): unknown {
  const bad = (expected: string) => new UsageError(`${where}: '${String(raw)}' is not ${expected}`);
  switch (spec.type) {
    case 'boolean':
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      throw bad('true or false');
    case 'int':
    case 'number': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      if (!Number.isFinite(n) || (spec.type === 'int' && !Number.isInteger(n))) {
        throw bad(spec.type === 'int' ? 'an integer' : 'a number');
      }
      if (spec.min !== undefined && n < spec.min) throw bad(`>= ${spec.min}`);
      return n;
    }
    case 'duration':
      if (typeof raw === 'number') return raw * 1000;
      return parseDuration(String(raw), spec.name);
    case 'list':
      if (Array.isArray(raw)) return raw.map(String);
      return String(raw)
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
    case 'string': {
      const s = String(raw);
      if (spec.choices && !spec.choices.includes(s)) {
        throw new UsageError(`${where}: unknown value '${s}' (expected one of: ${spec.choices.join(', ')})`);
      }
      return s;
    }
  }
}

/**
 * Parses `--flag value`, `--flag=value`, `--no-flag` and positionals against a command's spec.
 * `--config FILE` (JSON object with flag names as keys, camelCase or kebab-case) supplies values that
 * flags on the command line override. Unknown flags and bad values throw a UsageError.
 */
export function parseFlags(cmd: CommandSpec, argv: readonly string[]): ParsedFlags {
  const byName = new Map(cmd.flags.map((f) => [f.name, f]));
  const given: Record<string, unknown> = {};
  const positionals: string[] = [];
  let configPath: string | undefined;

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--') || arg === '--') {
      if (arg.startsWith('-') && arg.length > 1 && !/^-\d/.test(arg)) {
        throw new UsageError(`unknown option '${arg}' for '${cmd.name}' (options start with --)`);
      }
      if (!cmd.positionals) throw new UsageError(`'${cmd.name}' takes no positional argument, got '${arg}'`);
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    let name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    const inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
    let value: unknown = inline;
    if (name === 'config') {
      configPath = inline ?? argv[++i];
      if (!configPath) throw new UsageError(`--config needs a FILE`);
      continue;
    }
    if (!byName.has(name) && name.startsWith('no-') && byName.get(name.slice(3))?.type === 'boolean') {
      name = name.slice(3);
      value = false;
    }
    const spec = byName.get(name);
    if (!spec) throw new UsageError(`unknown option '--${name}' for '${cmd.name}'`);
    if (value === undefined) {
      if (spec.type === 'boolean') value = true;
      else {
        value = argv[++i];
        if (value === undefined) throw new UsageError(`--${name} needs a value (${spec.metavar ?? spec.type})`);
      }
    }
    given[name] = coerce(spec, value, `--${name}`);
  }

  const result: ParsedFlags = { _: positionals };
  if (configPath) {
    for (const [key, raw] of Object.entries(readConfigFile(configPath))) {
      const name = key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
      const spec = byName.get(name);
      if (!spec) throw new UsageError(`${configPath}: unknown key '${key}' for '${cmd.name}'`);
      if (!(name in given)) result[name] = coerce(spec, raw, `${configPath}: ${key}`);
    }
  }
  for (const spec of cmd.flags) {
    if (spec.name in given) result[spec.name] = given[spec.name];
    else if (!(spec.name in result) && spec.default !== undefined) result[spec.name] = spec.default;
  }
  return result;
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--config: cannot read '${file}' (${errorReason(err)})`, false);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${file}: not valid JSON (${errorMessage(err)})`, false);
  }
  if (!isPlainObject(json)) {
    throw new UsageError(`${file}: expected a JSON object of option names to values`, false);
  }
  return json;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The usage text of one command. */
export function usage(cmd: CommandSpec): string {
  const lines = [`usage: scriptorium ${cmd.name} ${cmd.synopsis}`, '', cmd.summary, '', 'options:'];
  const left = (f: FlagSpec) =>
    `  --${f.name}${f.type === 'boolean' ? '' : ` ${f.metavar ?? (f.choices ? f.choices.join('|') : f.type.toUpperCase())}`}`;
  const width = Math.max(...cmd.flags.map((f) => left(f).length), 20) + 2;
  for (const f of cmd.flags) {
    const def = f.default === undefined || f.default === false ? '' : ` (default: ${fmtDefault(f)})`;
    lines.push(`${left(f).padEnd(width)}${f.help}${def}`);
  }
  lines.push(`${'  --config FILE'.padEnd(width)}JSON file of option values (command-line flags win)`);
  lines.push(`${'  --help'.padEnd(width)}show this help`);
  return lines.join('\n');
}

function fmtDefault(f: FlagSpec): string {
  if (f.type === 'duration' && typeof f.default === 'number') return `${f.default / 1000}s`;
  return Array.isArray(f.default) ? f.default.join(',') : String(f.default);
}
