/**
 * Raw tensor frames: float32 values, little-endian, no header. Sent and received without
 * copies where possible (zeromq.js passes frames over 128 bytes by reference).
 */
import os from 'node:os';

if (os.endianness() !== 'LE') {
  throw new Error('@scriptorium/dataparallel: the wire format is little-endian float32; this machine is big-endian');
}

/** A view of `values` as a frame (no copy: do not mutate `values` until the send completes). */
export function floatFrame(values: Float32Array): Buffer {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
}

/**
 * The frame as float32 values: a view when the frame is 4-byte aligned, else a copy.
 * Returns null when the byte length is not `expected * 4`.
 */
export function frameFloats(frame: Buffer, expected: number): Float32Array | null {
  if (frame.byteLength !== expected * 4) return null;
  if (frame.byteOffset % 4 === 0) return new Float32Array(frame.buffer, frame.byteOffset, expected);
  const copy = new Float32Array(expected);
  new Uint8Array(copy.buffer).set(frame);
  return copy;
}

/** Index of the first NaN or infinite value, or -1 when all are finite. */
export function firstNonFinite(values: Float32Array): number {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    // v - v is 0 for finite v and NaN for NaN and +-Infinity.
    if (v - v !== 0) return i;
  }
  return -1;
}
