import { writeFile } from 'node:fs/promises';
import { generateCurveKeyPair } from '@scriptorium/dataparallel';
import { errorCode, UsageError } from '../cli/errors.js';
import { flagValue, type CommandSpec, type ParsedFlags } from '../cli/flags.js';

export const keysCommand: CommandSpec = {
  name: 'keys',
  summary:
    'Generate a CURVE key pair (Z85) for encrypted, authenticated training. The file holds both keys (keep it private);\n' +
    "give the public key to the other side: workers list the coordinator's, the coordinator allows the workers'.",
  synopsis: '--out FILE',
  flags: [
    { name: 'out', type: 'string', metavar: 'FILE', help: 'where to write {"publicKey","secretKey"} (mode 0600)' },
  ],
};

export async function runKeys(flags: ParsedFlags): Promise<void> {
  const out = flagValue(flags, 'out', 'string');
  if (!out) throw new UsageError('keys: --out FILE is required');
  const pair = generateCurveKeyPair();
  try {
    await writeFile(out, `${JSON.stringify(pair, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    const code = errorCode(err);
    throw new UsageError(
      code === 'EEXIST'
        ? `keys: '${out}' already exists (refusing to overwrite a key file)`
        : `keys: cannot write '${out}' (${code})`,
      false,
    );
  }
  console.log(`wrote ${out}; public key: ${pair.publicKey}`);
}
