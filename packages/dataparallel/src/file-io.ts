/**
 * File I/O that does not trust one call to move every byte: writes loop on short counts and are split
 * below the ~2 GiB a single write or writev moves on Linux; reads loop until the whole file is in.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';

type FileHandle = fs.FileHandle;

/**
 * Writes `length` bytes of `buffer` from `offset` at file position `position` and resolves with the number
 * of bytes written, which may be fewer (a full disk, a file size limit). The default is `FileHandle.write`;
 * tests pass their own to inject short or failing writes.
 */
export type WriteAt = (
  fh: FileHandle,
  buffer: Uint8Array,
  offset: number,
  length: number,
  position: number,
) => Promise<number>;

export const writeAt: WriteAt = async (fh, buffer, offset, length, position) =>
  (await fh.write(buffer, offset, length, position)).bytesWritten;

/** The most bytes asked of one write call: 1 GiB, well under Linux's 0x7ffff000 per call. */
export const MAX_WRITE_BYTES = 1 << 30;

/**
 * Writes `chunks` one after the other from position 0, looping on short writes, at most `maxBytes` per call.
 * Rejects, naming `file`, when a write makes no progress or claims more than it was given; resolves with the
 * bytes written.
 */
export async function writeFully(
  fh: FileHandle,
  file: string,
  chunks: Uint8Array[],
  write: WriteAt = writeAt,
  maxBytes = MAX_WRITE_BYTES,
): Promise<number> {
  const total = chunks.reduce((n, c) => n + c.byteLength, 0);
  let position = 0;
  for (const chunk of chunks) {
    let done = 0;
    while (done < chunk.byteLength) {
      const want = Math.min(maxBytes, chunk.byteLength - done);
      const n = await write(fh, chunk, done, want, position);
      if (!Number.isInteger(n) || n <= 0 || n > want) {
        throw new Error(
          `${file}: a write of ${want} bytes at offset ${position} wrote ${n} (disk full or file size limit?); ${position} of ${total} bytes written`,
        );
      }
      done += n;
      position += n;
    }
  }
  return position;
}

/** The whole file in one buffer (reads in a loop, so files over fs.readFile's 2 GiB limit load too). */
export async function readWhole(file: string): Promise<Buffer> {
  const fh = await fs.open(file, 'r');
  try {
    const { size } = await fh.stat();
    const buf = Buffer.allocUnsafe(size);
    let at = 0;
    while (at < size) {
      const { bytesRead } = await fh.read(buf, at, Math.min(MAX_WRITE_BYTES, size - at), at);
      if (bytesRead === 0) break; // shrank while being read
      at += bytesRead;
    }
    return at === size ? buf : buf.subarray(0, at);
  } finally {
    await fh.close();
  }
}

/** The size of `file`, the SHA-256 (hex) of all but its last `tail` bytes, and those last bytes (hex); read in 8 MiB pieces. */
export async function hashFile(file: string, tail: number): Promise<{ size: number; sha256: string; tail: string }> {
  const fh = await fs.open(file, 'r');
  try {
    const { size } = await fh.stat();
    const hash = createHash('sha256');
    const piece = Buffer.allocUnsafe(Math.max(1, Math.min(size, 8 << 20)));
    const end = Math.max(0, size - tail);
    let at = 0;
    while (at < end) {
      const { bytesRead } = await fh.read(piece, 0, Math.min(piece.length, end - at), at);
      if (bytesRead === 0) break;
      hash.update(piece.subarray(0, bytesRead));
      at += bytesRead;
    }
    const last = Buffer.alloc(Math.min(tail, size));
    if (last.length) await fh.read(last, 0, last.length, end);
    return { size, sha256: hash.digest('hex'), tail: last.toString('hex') };
  } finally {
    await fh.close();
  }
}
