import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha256 } from './sha256.js';

describe('sha256 (plain JavaScript, for Node and browsers alike)', () => {
  it('gives the FIPS 180-4 example digests', () => {
    // FIPS 180-4 appendix examples: '' and 'abc'.
    expect(sha256('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('equals node:crypto on every length around the 64-byte block and padding edges, and on 1 MB', () => {
    const bytes = Uint8Array.from({ length: 1 << 20 }, (_, i) => (i * 2654435761) >>> 24);
    for (const n of [1, 55, 56, 63, 64, 65, 119, 120, 127, 128, 1000, 1 << 20]) {
      const part = bytes.subarray(0, n);
      expect(sha256(part), `length ${n}`).toBe(createHash('sha256').update(part).digest('hex'));
    }
  });
});
