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
