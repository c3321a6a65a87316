/**
 * A worker that cannot go on (no WELCOME within connectTimeoutMs): the message names the endpoint
 * and what was seen; applications show it as one line, without a stack trace.
 */
export class WorkerError extends Error {
  override readonly name = 'WorkerError';
}
