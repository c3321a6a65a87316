import { describe, expect, it } from 'vitest';
import { checkCurveKey, generateCurveKeyPair, isLoopbackEndpoint, z85Decode } from './curve.js';

describe('z85Decode', () => {
  it('decodes the ZeroMQ RFC 32 test vector', () => {
    // RFC 32: the 8 bytes 86 4F D2 6F B5 59 F7 5B encode to "HelloWorld".
    expect(Buffer.from(z85Decode('HelloWorld')).toString('hex')).toBe('864fd26fb559f75b');
  });

  it('rejects bad lengths and characters', () => {
    expect(() => z85Decode('abcd')).toThrow('z85: length 4 is not a multiple of 5');
    expect(() => z85Decode('abc"e')).toThrow(`z85: invalid character '"' at 3`);
  });
});

describe('generateCurveKeyPair', () => {
  it('gives two distinct 40-character Z85 keys of 32 bytes each', () => {
    const a = generateCurveKeyPair();
    const b = generateCurveKeyPair();
    for (const k of [a.publicKey, a.secretKey]) {
      expect(k).toHaveLength(40);
      expect(z85Decode(checkCurveKey(k, 'key'))).toHaveLength(32);
    }
    expect(a.publicKey).not.toBe(b.publicKey);
    expect(() => checkCurveKey('short', 'curve.serverKey')).toThrow(
      'curve.serverKey: expected a 40-character Z85 CURVE key, got "short"',
    );
  });
});

describe('isLoopbackEndpoint', () => {
  it.each([
    ['tcp://127.0.0.1:5555', true],
    ['tcp://127.0.0.1:*', true],
    ['tcp://127.1.2.3:5555', true],
    ['tcp://localhost:5555', true],
    ['tcp://[::1]:5555', true],
    ['ipc:///tmp/dp.sock', true],
    ['inproc://dp', true],
    ['tcp://0.0.0.0:5555', false],
    ['tcp://*:5555', false],
    ['tcp://10.0.0.5:5555', false],
    ['tcp://eth0:5555', false],
    ['tcp://127.0.0.1.evil.com:5555', false],
  ])('%s -> %s', (endpoint, expected) => {
    expect(isLoopbackEndpoint(endpoint)).toBe(expected);
  });
});
