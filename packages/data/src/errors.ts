/** Bad data or a bad data argument: the message names the file, line, field or argument. */
export class DataError extends Error {
  override name = 'DataError';
}
