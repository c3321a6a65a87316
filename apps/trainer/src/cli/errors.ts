/**
 * A mistake in what the user asked for (flag, value, file). The CLI prints its message on one line,
 * followed by the command's usage when `showUsage`, and exits with status 2; no stack trace.
 */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(
    message: string,
    readonly showUsage = true,
  ) {
    super(message);
  }
}

/** What a caught value says: an Error's message, else the value as text. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A Node system error's code ('ENOENT', 'EEXIST', ...), or undefined. */
export function errorCode(err: unknown): string | undefined {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

/** Why a file operation failed, in brief: the system error's code where there is one, else the message. */
export function errorReason(err: unknown): string {
  return errorCode(err) ?? errorMessage(err);
}
