/**
 * CURVE security: key pairs, the ZAP handler that admits only listed worker keys, and the
 * rule that a non-loopback bind needs CURVE or an explicit `insecure`.
 */
import * as zmq from 'zeromq';
import type { Logger } from './logger.js';

export interface CurveKeyPair {
  /** Z85-encoded public key (40 characters): give it to the other side. */
  publicKey: string;
  /** Z85-encoded secret key (40 characters): keep it private. */
  secretKey: string;
}

/** A fresh CURVE key pair (libzmq's zmq_curve_keypair). */
export function generateCurveKeyPair(): CurveKeyPair {
  return zmq.curveKeyPair();
}

const Z85 = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';

/** Decodes Z85 (ZeroMQ RFC 32); throws on a bad length or character. */
export function z85Decode(text: string): Uint8Array {
  if (text.length % 5 !== 0) throw new Error(`z85: length ${text.length} is not a multiple of 5`);
  const out = new Uint8Array((text.length / 5) * 4);
  for (let i = 0, o = 0; i < text.length; i += 5, o += 4) {
    let value = 0;
    for (let k = 0; k < 5; k++) {
      const d = Z85.indexOf(text[i + k]!);
      if (d < 0) throw new Error(`z85: invalid character '${text[i + k]}' at ${i + k}`);
      value = value * 85 + d;
    }
    if (value > 0xffffffff) throw new Error(`z85: group at ${i} overflows 32 bits`);
    out[o] = value >>> 24;
    out[o + 1] = (value >>> 16) & 0xff;
    out[o + 2] = (value >>> 8) & 0xff;
    out[o + 3] = value & 0xff;
  }
  return out;
}

/** Checks a Z85 key (40 characters, 32 bytes); throws naming `what` otherwise. */
export function checkCurveKey(key: unknown, what: string): string {
  if (typeof key !== 'string' || key.length !== 40) {
    throw new Error(`${what}: expected a 40-character Z85 CURVE key, got ${JSON.stringify(key)?.slice(0, 50)}`);
  }
  try {
    z85Decode(key);
  } catch (err) {
    throw new Error(`${what}: ${(err as Error).message}`);
  }
  return key;
}

/** True for ipc://, inproc:// and tcp:// on 127.0.0.0/8, ::1 or localhost. */
export function isLoopbackEndpoint(endpoint: string): boolean {
  if (endpoint.startsWith('ipc://') || endpoint.startsWith('inproc://')) return true;
  const m = /^tcp:\/\/(.+):(\d+|\*)$/.exec(endpoint);
  if (!m) return false;
  const host = m[1]!.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export const ZAP_ENDPOINT = 'inproc://zeromq.zap.01';

/**
 * A ZAP handler (ZeroMQ RFC 27) on `context`: admits CURVE clients whose public key is in
 * `allowedKeys` and denies everyone else. Bind it before the server socket accepts peers.
 */
export class ZapHandler {
  private readonly socket: zmq.Router;
  private readonly allowed: Set<string>;
  private readonly loop: Promise<void>;
  denied = 0;

  constructor(
    context: zmq.Context,
    allowedKeys: readonly string[],
    private readonly log: Logger,
  ) {
    this.allowed = new Set(
      allowedKeys.map((k, i) => Buffer.from(z85Decode(checkCurveKey(k, `curve.allowedClients[${i}]`))).toString('hex')),
    );
    this.socket = new zmq.Router({ context, linger: 0 });
    this.socket.bindSync(ZAP_ENDPOINT);
    this.loop = this.serve();
  }

  private async serve(): Promise<void> {
    try {
      for await (const frames of this.socket) {
        // [peer, "", "1.0", request id, domain, address, identity, mechanism, ...credentials]
        const [peer, , version, requestId, , address, , mechanism, key] = frames;
        if (!peer || !requestId) continue;
        const mech = mechanism?.toString() ?? '';
        const keyHex = key && key.length === 32 ? key.toString('hex') : '';
        const ok = version?.toString() === '1.0' && mech === 'CURVE' && this.allowed.has(keyHex);
        if (!ok) {
          this.denied++;
          this.log(
            'warn',
            `ZAP: denied ${mech || '?'} peer ${address?.toString() || '?'} (key ${keyHex ? 'not in the allow-list' : 'missing'})`,
          );
        }
        await this.socket.send([
          peer,
          '',
          '1.0',
          requestId,
          ok ? '200' : '400',
          ok ? 'OK' : 'key not allowed',
          ok ? keyHex : '',
          '',
        ]);
      }
    } catch (err) {
      if (!this.socket.closed) this.log('error', `ZAP handler stopped: ${(err as Error).message}`);
    }
  }

  async close(): Promise<void> {
    this.socket.close();
    await this.loop;
  }
}
