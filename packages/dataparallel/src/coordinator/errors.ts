/**
 * A run the coordinator cannot go on with (too few live workers, none joined in time): the
 * message names what and where; applications show it as one line, without a stack trace.
 */
export class CoordinatorError extends Error {
  override readonly name = 'CoordinatorError';
}
