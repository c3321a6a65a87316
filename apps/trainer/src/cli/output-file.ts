import { constants } from 'node:fs';
import { access, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { errorReason, UsageError } from './errors.js';

/** Refuses an output path whose directory is missing or not writable, or that is a directory. */
export async function checkOutputPath(flag: string, file: string): Promise<void> {
  const fail = (why: string) => new UsageError(`--${flag} ${file}: ${why}`, false);
  const dir = path.dirname(path.resolve(file));
  if ((await stat(file).catch(() => undefined))?.isDirectory()) throw fail('is a directory (expected a file name)');
  const parent = await stat(dir).catch((err: NodeJS.ErrnoException) => {
    throw fail(
      err.code === 'ENOENT'
        ? `directory '${dir}' does not exist`
        : `cannot use directory '${dir}' (${err.code ?? err.message})`,
    );
  });
  if (!parent.isDirectory()) throw fail(`'${dir}' is not a directory`);
  await access(dir, constants.W_OK).catch((err: NodeJS.ErrnoException) => {
    throw fail(`cannot write in '${dir}' (${err.code ?? err.message})`);
  });
}

/**
 * Writes a file whole or not at all: into a temporary file in the same directory, then renamed over it.
 * A path that exists and is not a regular file (/dev/stdout, a pipe) is written in place.
 */
export async function writeFileAtomic(flag: string, file: string, text: string): Promise<void> {
  const existing = await stat(file).catch(() => undefined);
  const tmp =
    existing && !existing.isFile()
      ? undefined
      : path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}`);
  try {
    if (!tmp) return await writeFile(file, text);
    await writeFile(tmp, text);
    await rename(tmp, file);
  } catch (err) {
    if (tmp) await rm(tmp, { force: true });
    throw new UsageError(`--${flag} ${file}: cannot write (${errorReason(err)})`, false);
  }
}
