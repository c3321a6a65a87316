import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { DataError } from './errors.js';

/**
 * Confinement of a dataset's files to one directory: for a worker that opens a data spec someone else sent (a remote
 * coordinator), so that a manifest line, a PAGE `imageFilename` or an IAM id cannot read outside it. Paths are
 * resolved with symlinks followed before they are compared. A file that does not exist passes (opening it reports
 * it). The check and the open are two steps: a file swapped for a symlink in between is not caught.
 */
export interface DataRoot {
  /** The directory as given (for messages) and as resolved. */
  readonly dir: string;
  readonly real: string;
}

export async function dataRoot(dir: string): Promise<DataRoot> {
  try {
    return { dir, real: await realpath(dir) };
  } catch (err) {
    throw new DataError(
      `data root '${dir}': cannot resolve it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
}

const outside = (dir: string, file: string): boolean => {
  const rel = path.relative(dir, file);
  return rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel);
};

/**
 * Throws a DataError naming `where`, the file and the root when `file` lies outside `root`: as written (`..`,
 * absolute paths; whether or not it exists), or once symlinks are followed. The message does not say where a
 * symlink leads or whether the file exists: it may go back to whoever sent the data spec. No-op without a root.
 */
export async function checkInsideRoot(root: DataRoot | undefined, file: string, where: string): Promise<void> {
  if (!root) return;
  const refuse = () =>
    new DataError(
      `${where}: '${file}' is outside the data root ${root.dir} (a worker opens only files inside its --data-root)`,
    );
  const resolved = path.resolve(file);
  if (outside(root.real, resolved) && outside(path.resolve(root.dir), resolved)) throw refuse();
  let real: string;
  try {
    real = await realpath(file);
  } catch {
    return; // does not exist (inside the root as written): opening it says so
  }
  if (outside(root.real, real)) throw refuse();
}
