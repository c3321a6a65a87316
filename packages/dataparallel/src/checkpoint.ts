/**
 * Versioned, atomic checkpoints of a data-parallel run: parameters, optimizer state, step,
 * and the application's own state (data cursor, RNG state, metadata) as JSON.
 *
 * File layout (little-endian):
 *   'SCDPCKPT' | u32 format version | u32 header length | header (JSON, UTF-8)
 *   | params (f32[layout.size]) | optimizer state (adadelta bytes) | extra arrays (f32 each; format 2 only)
 * The header holds the step, the layout, the byte lengths, the names and lengths of the extra arrays,
 * a SHA-256 of the payload (in format 2 also of the extras' names and lengths), and the application state.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { deserializeAdadeltaState, serializeAdadeltaState, type AdadeltaState } from '@scriptorium/adadelta';
import { layoutDifferences, validateLayout, type ParamLayout } from './layout.js';

/**
 * The newest format this version writes and reads. Format 2 adds named extra arrays; a checkpoint without
 * them is still written as format 1, so older readers keep reading it.
 */
export const CHECKPOINT_FORMAT = 2;
const EXTRA_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const MAGIC = 'SCDPCKPT';
const EXT = '.dpck';

export interface CheckpointData {
  /** Completed optimizer steps. */
  step: number;
  layout: ParamLayout;
  params: Float32Array;
  optimizerState: AdadeltaState;
  /** The application's state; must survive JSON.stringify/parse. Default null. */
  appState?: unknown;
  /** Named float arrays the application keeps with the parameters (e.g. their moving average). Default none. */
  extras?: Record<string, Float32Array>;
  /** Id of the run that wrote it (informative). */
  runId?: string;
}

export interface LoadedCheckpoint extends Required<CheckpointData> {
  path: string;
  createdAt: string;
}

interface Header {
  format: number;
  step: number;
  runId: string;
  createdAt: string;
  layout: ParamLayout;
  paramsBytes: number;
  optimizerBytes: number;
  sha256: string;
  appState: unknown;
  /** The extra arrays after the optimizer state, in this order (absent: none). */
  extras?: Array<{ name: string; length: number }>;
}

/** File name of the checkpoint after `step` (zero-padded so names sort by step). */
export function checkpointFileName(step: number): string {
  return `step-${String(step).padStart(9, '0')}${EXT}`;
}

/**
 * Writes a checkpoint into `dir` atomically: a temporary file in the same directory is
 * written, fsynced and renamed over the final name, then the directory is fsynced. Keeps the
 * newest `keep` checkpoints (default 3; 0 keeps all). Returns the path written.
 */
export async function saveCheckpoint(dir: string, data: CheckpointData, options: { keep?: number } = {}): Promise<string> {
  if (data.params.length !== data.layout.size) {
    throw new Error(`saveCheckpoint: params has ${data.params.length} values, layout expects ${data.layout.size}`);
  }
  const appJson = JSON.stringify(data.appState ?? null);
  const params = new Uint8Array(data.params.buffer, data.params.byteOffset, data.params.byteLength);
  const optimizer = serializeAdadeltaState(data.optimizerState);
  const extras = Object.entries(data.extras ?? {}).map(([name, a]) => {
    if (!EXTRA_NAME.test(name)) throw new Error(`saveCheckpoint: extra array name '${name}' (expected 1 to 64 letters, digits, '_', '.' or '-')`);
    return { name, bytes: new Uint8Array(a.buffer, a.byteOffset, a.byteLength), length: a.length };
  });
  const extraList = extras.map(({ name, length }) => ({ name, length }));
  const format = extras.length ? 2 : 1;
  const hash = createHash('sha256').update(params).update(optimizer);
  // Format 2 hashes the extras' names and lengths too, so that a header edit cannot re-split their bytes.
  if (format === 2) hash.update(JSON.stringify(extraList));
  for (const e of extras) hash.update(e.bytes);
  const sha256 = hash.digest('hex');
  const header: Header = {
    format,
    step: data.step,
    runId: data.runId ?? '',
    createdAt: new Date().toISOString(),
    layout: data.layout,
    paramsBytes: params.byteLength,
    optimizerBytes: optimizer.byteLength,
    sha256,
    appState: JSON.parse(appJson),
    ...(format === 2 ? { extras: extraList } : {}),
  };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(16);
  prefix.write(MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(format, 8);
  prefix.writeUInt32LE(headerBytes.length, 12);

  await fs.mkdir(dir, { recursive: true });
  const final = path.join(dir, checkpointFileName(data.step));
  const tmp = path.join(dir, `.${checkpointFileName(data.step)}.${process.pid}.${Date.now()}.tmp`);
  const fh = await fs.open(tmp, 'wx');
  try {
    await fh.writev([prefix, headerBytes, params, optimizer, ...extras.map((e) => e.bytes)]);
    await fh.sync();
  } catch (err) {
    await fh.close();
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  await fs.rename(tmp, final);
  const dh = await fs.open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
  const keep = options.keep ?? 3;
  if (keep > 0) {
    const all = await listCheckpoints(dir);
    for (const old of all.slice(0, Math.max(0, all.length - keep))) await fs.rm(old, { force: true });
  }
  return final;
}

/** Checkpoint files in `dir`, oldest first ([] when the directory does not exist). */
export async function listCheckpoints(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names
    .filter((n) => /^step-\d+\.dpck$/.test(n))
    .sort()
    .map((n) => path.join(dir, n));
}

/** The newest checkpoint in `dir`, or null. */
export async function latestCheckpoint(dir: string): Promise<string | null> {
  const all = await listCheckpoints(dir);
  return all.length ? all[all.length - 1]! : null;
}

/**
 * Reads and verifies a checkpoint (magic, format version, lengths, SHA-256). When
 * `expectedLayout` is given, throws listing every difference between it and the stored one.
 */
export async function loadCheckpoint(file: string, expectedLayout?: ParamLayout): Promise<LoadedCheckpoint> {
  const buf = await fs.readFile(file);
  const fail = (what: string): never => {
    throw new Error(`${file}: ${what}`);
  };
  if (buf.length < 16 || buf.toString('latin1', 0, 8) !== MAGIC) fail(`not a dataparallel checkpoint (magic '${MAGIC}' missing)`);
  const format = buf.readUInt32LE(8);
  if (format !== 1 && format !== 2) fail(`checkpoint format ${format} is not supported (this version reads 1 and 2)`);
  const headerLength = buf.readUInt32LE(12);
  if (16 + headerLength > buf.length) fail(`header length ${headerLength} runs past the end of the file (${buf.length} bytes)`);
  let header: Header;
  try {
    header = JSON.parse(buf.toString('utf8', 16, 16 + headerLength)) as Header;
  } catch (err) {
    return fail(`header is not valid JSON (${(err as Error).message})`);
  }
  const layout = validateLayout(header.layout, `${file}: header.layout`);
  if (header.paramsBytes !== layout.size * 4) fail(`header.paramsBytes ${header.paramsBytes} does not match the layout (${layout.size * 4})`);
  const start = 16 + headerLength;
  const extraList = (format === 2 ? header.extras : []) ?? [];
  if (
    !Array.isArray(extraList) ||
    !extraList.every((e) => typeof e?.name === 'string' && EXTRA_NAME.test(e.name) && Number.isInteger(e.length) && e.length >= 0) ||
    new Set(extraList.map((e) => e.name)).size !== extraList.length
  ) {
    fail(`header.extras is not a list of { name, length } with distinct names`);
  }
  if (!Number.isInteger(header.optimizerBytes) || header.optimizerBytes < 0) fail(`header.optimizerBytes ${header.optimizerBytes} is not a byte count`);
  const extraBytes = extraList.reduce((n, e) => n + 4 * e.length, 0);
  const expectedLength = start + header.paramsBytes + header.optimizerBytes + extraBytes;
  if (buf.length !== expectedLength) fail(`file has ${buf.length} bytes, expected ${expectedLength} (truncated or corrupt)`);
  const payload = buf.subarray(start);
  const hash = createHash('sha256').update(payload.subarray(0, header.paramsBytes + header.optimizerBytes));
  if (format === 2) hash.update(JSON.stringify(extraList.map(({ name, length }) => ({ name, length }))));
  const sha = hash.update(payload.subarray(header.paramsBytes + header.optimizerBytes)).digest('hex');
  if (sha !== header.sha256) fail(`SHA-256 mismatch (stored ${header.sha256.slice(0, 12)}..., computed ${sha.slice(0, 12)}...): corrupt file`);
  if (expectedLayout) {
    const diffs = layoutDifferences(expectedLayout, layout);
    if (diffs.length) fail(`parameter layout differs from the model's: ${diffs.join('; ')}`);
  }
  const params = new Float32Array(layout.size);
  new Uint8Array(params.buffer).set(payload.subarray(0, header.paramsBytes));
  const optimizerState = deserializeAdadeltaState(new Uint8Array(payload.subarray(header.paramsBytes, header.paramsBytes + header.optimizerBytes)));
  const extras: Record<string, Float32Array> = Object.create(null) as Record<string, Float32Array>;
  let at = header.paramsBytes + header.optimizerBytes;
  for (const e of extraList) {
    const a = new Float32Array(e.length);
    new Uint8Array(a.buffer).set(payload.subarray(at, at + 4 * e.length));
    extras[e.name] = a;
    at += 4 * e.length;
  }
  if (optimizerState.accumGrad.length !== layout.size) {
    fail(`optimizer state has ${optimizerState.accumGrad.length} values, layout expects ${layout.size}`);
  }
  return {
    path: file,
    step: header.step,
    runId: header.runId,
    createdAt: header.createdAt,
    layout,
    params,
    optimizerState,
    appState: header.appState,
    extras,
  };
}
