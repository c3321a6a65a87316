import { readFile } from 'node:fs/promises';
import { errorReason, UsageError } from '../cli/errors.js';

/** Reads a key file written by `scriptorium keys`. */
export async function readCurveKeys(file: string): Promise<{ publicKey: string; secretKey: string }> {
  let json: { publicKey?: unknown; secretKey?: unknown };
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`--curve-keys: cannot read '${file}' (${errorReason(err)})`, false);
  }
  if (
    typeof json.publicKey !== 'string' ||
    typeof json.secretKey !== 'string' ||
    json.publicKey.length !== 40 ||
    json.secretKey.length !== 40
  ) {
    throw new UsageError(
      `${file}: expected {"publicKey", "secretKey"} as 40-character Z85 strings (made by 'scriptorium keys')`,
      false,
    );
  }
  return { publicKey: json.publicKey, secretKey: json.secretKey };
}
