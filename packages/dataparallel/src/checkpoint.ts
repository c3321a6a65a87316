/**
 * Versioned, atomic, verified checkpoints of a data-parallel run: parameters, optimizer state, step,
 * and the application's own state (data cursor, RNG state, metadata) as JSON.
 *
 * File layout of format 3, the one written (little-endian):
 *   'SCDPCKPT' | u32 format version | u32 header length | header (JSON, UTF-8)
 *   | params (f32[layout.size]) | optimizer state (adadelta bytes) | extra arrays (f32 each)
 *   | SHA-256 of every byte before it (32 bytes)
 * The header holds the step, the layout, the byte lengths, the names and lengths of the extra arrays
 * and the application state; the trailing hash covers it as well as the payload.
 * Formats 1 and 2 (older; the hash in the header, over the payload only) are still read.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { deserializeAdadeltaState, serializeAdadeltaState, type AdadeltaState } from '@scriptorium/adadelta';
import { hashFile, readWhole, writeFully, type WriteAt } from './file-io.js';
import { layoutDifferences, validateLayout, type ParamLayout } from './layout.js';

/** The format this version writes; it reads this one and the older 1 and 2. */
export const CHECKPOINT_FORMAT = 3;
const EXTRA_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const MAGIC = 'SCDPCKPT';
const EXT = '.dpck';
const HASH_BYTES = 32;

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

export interface SaveCheckpointOptions {
  /** Newest checkpoints to keep in `dir` after a verified save. Default 3; 0 keeps all. */
  keep?: number;
  /** The write call (default `FileHandle.write`); fault-injection tests pass one that writes short or fails. */
  write?: WriteAt;
}

interface Header {
  format: number;
  step: number;
  runId: string;
  createdAt: string;
  layout: ParamLayout;
  paramsBytes: number;
  optimizerBytes: number;
  /** Formats 1 and 2 only: the SHA-256 of the payload (format 3 ends with a hash of the whole file instead). */
  sha256?: string;
  appState: unknown;
  /** The extra arrays after the optimizer state, in this order (absent: none). */
  extras?: Array<{ name: string; length: number }>;
}

/** File name of the checkpoint after `step` (zero-padded so names sort by step). */
export function checkpointFileName(step: number): string {
  return `step-${String(step).padStart(9, '0')}${EXT}`;
}

/**
 * Writes a checkpoint into `dir` atomically: a temporary file in the same directory is written (every
 * byte, or the save rejects), fsynced, read back and hashed, renamed over the final name, then the
 * directory is fsynced. Only then are checkpoints beyond the newest `keep` removed. On any failure the
 * temporary file is removed and nothing is pruned. Returns the path written.
 */
export async function saveCheckpoint(
  dir: string,
  data: CheckpointData,
  options: SaveCheckpointOptions = {},
): Promise<string> {
  if (data.params.length !== data.layout.size) {
    throw new Error(`saveCheckpoint: params has ${data.params.length} values, layout expects ${data.layout.size}`);
  }
  const appJson = JSON.stringify(data.appState ?? null);
  const params = new Uint8Array(data.params.buffer, data.params.byteOffset, data.params.byteLength);
  const optimizer = serializeAdadeltaState(data.optimizerState);
  const extras = Object.entries(data.extras ?? {}).map(([name, a]) => {
    if (!EXTRA_NAME.test(name))
      throw new Error(`saveCheckpoint: extra array name '${name}' (expected 1 to 64 letters, digits, '_', '.' or '-')`);
    return { name, bytes: new Uint8Array(a.buffer, a.byteOffset, a.byteLength), length: a.length };
  });
  const header: Header = {
    format: CHECKPOINT_FORMAT,
    step: data.step,
    runId: data.runId ?? '',
    createdAt: new Date().toISOString(),
    layout: data.layout,
    paramsBytes: params.byteLength,
    optimizerBytes: optimizer.byteLength,
    appState: JSON.parse(appJson),
    extras: extras.map(({ name, length }) => ({ name, length })),
  };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(16);
  prefix.write(MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(CHECKPOINT_FORMAT, 8);
  prefix.writeUInt32LE(headerBytes.length, 12);
  const body = [prefix, headerBytes, params, optimizer, ...extras.map((e) => e.bytes)];
  const hash = createHash('sha256');
  for (const b of body) hash.update(b);
  const digest = hash.digest();
  const chunks = [...body, digest];
  const expectedSize = chunks.reduce((n, c) => n + c.byteLength, 0);

  await fs.mkdir(dir, { recursive: true });
  const final = path.join(dir, checkpointFileName(data.step));
  const tmp = path.join(dir, `.${checkpointFileName(data.step)}.${process.pid}.${Date.now()}.tmp`);
  const fh = await fs.open(tmp, 'wx');
  try {
    try {
      await writeFully(fh, tmp, chunks, options.write);
      await fh.sync();
    } finally {
      await fh.close();
    }
    // Read back what the kernel holds: the size and the hash must be what was meant to be written.
    const back = await hashFile(tmp, HASH_BYTES);
    if (back.size !== expectedSize || back.sha256 !== digest.toString('hex') || back.tail !== digest.toString('hex')) {
      throw new Error(
        `${tmp}: read back ${back.size} bytes (expected ${expectedSize}) that do not hash to what was written; checkpoint not saved`,
      );
    }
    await fs.rename(tmp, final);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
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
  const buf = await readWhole(file);
  const fail = (what: string): never => {
    throw new Error(`${file}: ${what}`);
  };
  if (buf.length < 16 || buf.toString('latin1', 0, 8) !== MAGIC)
    fail(`not a dataparallel checkpoint (magic '${MAGIC}' missing)`);
  const format = buf.readUInt32LE(8);
  if (format < 1 || format > CHECKPOINT_FORMAT)
    fail(`checkpoint format ${format} is not supported (this version reads 1 to ${CHECKPOINT_FORMAT})`);
  const headerLength = buf.readUInt32LE(12);
  if (16 + headerLength > buf.length)
    fail(`header length ${headerLength} runs past the end of the file (${buf.length} bytes)`);
  let header: Header;
  try {
    header = JSON.parse(buf.toString('utf8', 16, 16 + headerLength)) as Header;
  } catch (err) {
    return fail(`header is not valid JSON (${(err as Error).message})`);
  }
  if (typeof header !== 'object' || header === null) fail('header is not a JSON object');
  const start = 16 + headerLength;
  const extraList = (format >= 2 ? header.extras : []) ?? [];
  if (
    !Array.isArray(extraList) ||
    !extraList.every(
      (e) => typeof e?.name === 'string' && EXTRA_NAME.test(e.name) && Number.isInteger(e.length) && e.length >= 0,
    ) ||
    new Set(extraList.map((e) => e.name)).size !== extraList.length
  ) {
    fail(`header.extras is not a list of { name, length } with distinct names`);
  }
  for (const field of ['paramsBytes', 'optimizerBytes'] as const) {
    if (!Number.isInteger(header[field]) || header[field] < 0)
      fail(`header.${field} ${header[field]} is not a byte count`);
  }
  const extraBytes = extraList.reduce((n, e) => n + 4 * e.length, 0);
  const hashBytes = format >= 3 ? HASH_BYTES : 0;
  const expectedLength = start + header.paramsBytes + header.optimizerBytes + extraBytes + hashBytes;
  if (buf.length !== expectedLength)
    fail(`file has ${buf.length} bytes, expected ${expectedLength} (truncated or corrupt)`);
  const payload = buf.subarray(start, buf.length - hashBytes);
  if (format >= 3) {
    // One hash over everything before it: magic, format, header and payload.
    const sha = createHash('sha256')
      .update(buf.subarray(0, buf.length - HASH_BYTES))
      .digest('hex');
    const stored = buf.toString('hex', buf.length - HASH_BYTES);
    if (sha !== stored)
      fail(`SHA-256 mismatch (stored ${stored.slice(0, 12)}..., computed ${sha.slice(0, 12)}...): corrupt file`);
  } else {
    const hash = createHash('sha256').update(payload.subarray(0, header.paramsBytes + header.optimizerBytes));
    if (format === 2) hash.update(JSON.stringify(extraList.map(({ name, length }) => ({ name, length }))));
    const sha = hash.update(payload.subarray(header.paramsBytes + header.optimizerBytes)).digest('hex');
    if (sha !== header.sha256)
      fail(
        `SHA-256 mismatch (stored ${String(header.sha256).slice(0, 12)}..., computed ${sha.slice(0, 12)}...): corrupt file`,
      );
  }
  if (!Number.isSafeInteger(header.step) || header.step < 0)
    fail(`header.step ${JSON.stringify(header.step)} is not a step count (expected an integer >= 0)`);
  const layout = validateLayout(header.layout, `${file}: header.layout`);
  if (header.paramsBytes !== layout.size * 4)
    fail(`header.paramsBytes ${header.paramsBytes} does not match the layout (${layout.size * 4})`);
  if (expectedLayout) {
    const diffs = layoutDifferences(expectedLayout, layout);
    if (diffs.length) fail(`parameter layout differs from the model's: ${diffs.join('; ')}`);
  }
  const params = new Float32Array(layout.size);
  new Uint8Array(params.buffer).set(payload.subarray(0, header.paramsBytes));
  const optimizerState = deserializeAdadeltaState(
    new Uint8Array(payload.subarray(header.paramsBytes, header.paramsBytes + header.optimizerBytes)),
  );
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
