import { describe, expect, it } from 'vitest';
import { firstNonFinite, floatFrame, frameFloats } from './frames.js';

describe('float frames', () => {
  it('round-trips float32 values exactly, little-endian', () => {
    const values = Float32Array.of(1.5, -0, 3.4028234663852886e38, 1e-45, Math.PI);
    const frame = floatFrame(values);
    expect(frame.byteLength).toBe(20);
    expect(frame.readFloatLE(0)).toBe(1.5);
    const back = frameFloats(Buffer.from(frame), 5)!;
    expect(Buffer.from(back.buffer, back.byteOffset, 20).equals(frame)).toBe(true);
  });

  it('copies an unaligned frame and rejects a wrong length', () => {
    const raw = Buffer.alloc(13);
    const unaligned = raw.subarray(1); // byteOffset 1
    unaligned.writeFloatLE(2.25, 0);
    unaligned.writeFloatLE(-7, 4);
    unaligned.writeFloatLE(0.5, 8);
    expect(Array.from(frameFloats(unaligned, 3)!)).toEqual([2.25, -7, 0.5]);
    expect(frameFloats(unaligned, 2)).toBeNull();
  });

  it('finds the first non-finite value', () => {
    expect(firstNonFinite(Float32Array.of(1, 2, 3))).toBe(-1);
    expect(firstNonFinite(Float32Array.of(1, NaN, Infinity))).toBe(1);
    expect(firstNonFinite(Float32Array.of(0, -Infinity))).toBe(1);
  });
});
