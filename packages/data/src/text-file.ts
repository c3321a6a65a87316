import { readFile } from 'node:fs/promises';
import { DataError } from './errors.js';

/**
 * Reads a text file as strict UTF-8 (a leading BOM is dropped). Errors name the file, and for bad bytes the
 * first line holding them: `lines.txt:17: not valid UTF-8`. `what` says what the file is for: 'split list'.
 */
export async function readUtf8(file: string, what: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DataError(code === 'ENOENT' ? `${file}: ${what} not found` : `${file}: cannot read ${what} (${code})`);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new DataError(`${file}:${firstBadLine(bytes)}: not valid UTF-8`);
  }
}

/** The 1-based number of the first line whose bytes are not valid UTF-8. */
function firstBadLine(bytes: Buffer): number {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let start = 0;
  for (let line = 1; ; line++) {
    const end = bytes.indexOf(0x0a, start);
    try {
      decoder.decode(bytes.subarray(start, end < 0 ? bytes.length : end));
    } catch {
      return line;
    }
    if (end < 0) return line; // unreachable for a file the whole-file decode rejected
    start = end + 1;
  }
}
