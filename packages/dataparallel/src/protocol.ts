/**
 * Message headers of the coordinator <-> worker protocol (see docs/protocol.md).
 * Every message is one msgpack header frame, optionally followed by one raw float32 frame
 * (parameters in WELCOME/STEP, gradients in GRADS). Decoders return an error string
 * instead of throwing, so a malformed message is logged and dropped.
 */
import { Packr } from 'msgpackr';

export const PROTOCOL_VERSION = 1;

export interface HelloMsg {
  t: 'HELLO';
  /** Protocol version the worker speaks. */
  v: number;
  /** Worker id (free text, for logs). */
  worker: string;
  /** Capabilities and facts about the worker: pid, host, backend... (free-form). */
  caps: Record<string, unknown>;
}
export interface WelcomeMsg {
  t: 'WELCOME';
  v: number;
  run: string;
  rank: number;
  /** Parameter version sent along (the number of optimizer steps applied). */
  version: number;
  heartbeatMs: number;
  layout: { entries: { name: string; shape: number[]; offset: number; size: number }[]; size: number };
  /** The application's config (CoordinatorOptions.config): what a worker needs to build its replica. */
  config?: unknown;
}
export interface StepMsg {
  t: 'STEP';
  step: number;
  shard: number;
  /** Parameter version the shard is computed at. */
  version: number;
  /** Whether a parameter frame follows (false when the worker already has `version`). */
  params: boolean;
  /** Opaque shard items (e.g. sample indices), from the application. */
  items: unknown[];
  /** A prefetch hint: the items this worker will probably get at the next step (same shard, same workers). */
  next?: unknown[];
}
export interface GradsMsg {
  t: 'GRADS';
  step: number;
  shard: number;
  lossSum: number;
  count: number;
  computeMs: number;
}
export interface HeartbeatMsg {
  t: 'HEARTBEAT';
}
export interface ByeMsg {
  t: 'BYE';
  reason: string;
}
export type Message = HelloMsg | WelcomeMsg | StepMsg | GradsMsg | HeartbeatMsg | ByeMsg;
export type MessageType = Message['t'];

const packr = new Packr({ useRecords: false, mapsAsObjects: true });

/** Largest header frame a peer accepts. */
export const MAX_HEADER_BYTES = 1 << 20;

/** Largest WELCOME config, packed: the header frame limit (1 MiB) must leave room for the layout. */
export const MAX_CONFIG_BYTES = 512 * 1024;

/**
 * The JSON form of an application config for WELCOME, checked: plain JSON data that packs into at most
 * MAX_CONFIG_BYTES. Typed arrays, Maps and Sets are refused (JSON would silently turn them into objects).
 */
export function welcomeConfig(config: unknown, what = 'options.config'): unknown {
  let json: string | undefined;
  try {
    json = JSON.stringify(config, function (this: Record<string, unknown>, key: string, value: unknown) {
      const raw = this[key]; // before toJSON (a Buffer's would hide it)
      if (ArrayBuffer.isView(raw) || raw instanceof ArrayBuffer || raw instanceof Map || raw instanceof Set) {
        throw new Error(
          `${key === '' ? what : `${what}: field '${key}'`} is a ${(raw as object).constructor.name}; expected plain JSON data`,
        );
      }
      return value;
    });
  } catch (err) {
    if ((err as Error).message.startsWith(what)) throw err;
    throw new Error(`${what}: ${(err as Error).message}`);
  }
  if (json === undefined) throw new Error(`${what} is ${typeof config}; expected JSON data`);
  const plain = JSON.parse(json) as unknown;
  const bytes = packr.pack(plain).length;
  if (bytes > MAX_CONFIG_BYTES)
    throw new Error(`${what} packs into ${bytes} bytes; at most ${MAX_CONFIG_BYTES} fit in WELCOME`);
  return plain;
}

export function encodeHeader(msg: Message): Buffer {
  return packr.pack(msg);
}

type Decoded = { ok: true; msg: Message } | { ok: false; reason: string };

const isInt = (x: unknown, min = 0): x is number => Number.isSafeInteger(x) && (x as number) >= min;
const isFiniteNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Checks one field; returns an error string naming it, or null. */
function field(m: Record<string, unknown>, name: string, ok: (x: unknown) => boolean, expected: string): string | null {
  return ok(m[name])
    ? null
    : `${String(m.t)}.${name} is ${JSON.stringify(m[name])?.slice(0, 60)}, expected ${expected}`;
}

function firstError(...errors: (string | null)[]): string | null {
  return errors.find((e) => e !== null) ?? null;
}

/**
 * Decodes and validates a header frame: the type is known and every field has the right
 * type and range. Checks that need the receiver's state (step, sizes) are the caller's.
 */
export function decodeHeader(frame: Buffer | undefined): Decoded {
  if (!frame || frame.length === 0) return { ok: false, reason: 'missing header frame' };
  if (frame.length > MAX_HEADER_BYTES)
    return { ok: false, reason: `header frame of ${frame.length} bytes (limit 1 MiB)` };
  let m: unknown;
  try {
    m = packr.unpack(frame);
  } catch (err) {
    return { ok: false, reason: `header is not msgpack (${(err as Error).message.split('\n')[0]})` };
  }
  if (!isObj(m)) return { ok: false, reason: `header is ${Array.isArray(m) ? 'an array' : typeof m}, expected a map` };
  let err: string | null;
  switch (m.t) {
    case 'HELLO':
      err = firstError(
        field(m, 'v', (x) => isInt(x), 'a protocol version'),
        field(
          m,
          'worker',
          (x) => typeof x === 'string' && x.length > 0 && x.length <= 256,
          'a string of 1 to 256 characters',
        ),
        field(m, 'caps', isObj, 'a map'),
      );
      break;
    case 'WELCOME':
      err = firstError(
        field(m, 'v', (x) => isInt(x), 'a protocol version'),
        field(m, 'run', (x) => typeof x === 'string', 'a string'),
        field(m, 'rank', (x) => isInt(x), 'a non-negative integer'),
        field(m, 'version', (x) => isInt(x), 'a non-negative integer'),
        field(m, 'heartbeatMs', (x) => isInt(x, 1), 'a positive integer'),
        field(m, 'layout', (x) => isObj(x) && Array.isArray(x.entries) && isInt(x.size), '{ entries, size }'),
      );
      break;
    case 'STEP':
      err = firstError(
        field(m, 'step', (x) => isInt(x, 1), 'a positive integer'),
        field(m, 'shard', (x) => isInt(x), 'a non-negative integer'),
        field(m, 'version', (x) => isInt(x), 'a non-negative integer'),
        field(m, 'params', (x) => typeof x === 'boolean', 'a boolean'),
        field(m, 'items', Array.isArray, 'an array'),
      );
      // A hint never blocks a step: a malformed one is dropped, the STEP kept.
      if (m.next !== undefined && !Array.isArray(m.next)) delete m.next;
      break;
    case 'GRADS':
      err = firstError(
        field(m, 'step', (x) => isInt(x, 1), 'a positive integer'),
        field(m, 'shard', (x) => isInt(x), 'a non-negative integer'),
        // May be NaN or infinite (a diverging model): the coordinator decides, like for gradients.
        field(m, 'lossSum', (x) => typeof x === 'number', 'a number'),
        field(m, 'count', (x) => isFiniteNum(x) && x >= 0, 'a finite number >= 0'),
        field(m, 'computeMs', (x) => isFiniteNum(x) && x >= 0, 'a finite number >= 0'),
      );
      break;
    case 'HEARTBEAT':
      err = null;
      break;
    case 'BYE':
      err = field(m, 'reason', (x) => typeof x === 'string', 'a string');
      break;
    default:
      return { ok: false, reason: `unknown message type ${JSON.stringify(m.t)?.slice(0, 40)}` };
  }
  return err ? { ok: false, reason: err } : { ok: true, msg: m as unknown as Message };
}
