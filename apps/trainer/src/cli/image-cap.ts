import { MAX_IMAGE_PIXELS_ENV, DEFAULT_MAX_IMAGE_PIXELS } from '@scriptorium/data';
import { flagValue, type FlagSpec, type ParsedFlags } from './flags.js';

/** `--max-image-pixels N`: the cap on a decoded image's pixels, for the commands that read image files. */
export const IMAGE_CAP_FLAG: FlagSpec = {
  name: 'max-image-pixels',
  type: 'int',
  min: 1,
  metavar: 'N',
  help: `refuse image files of more than N pixels before decoding them (default ${DEFAULT_MAX_IMAGE_PIXELS.toLocaleString('en-US')}, or ${MAX_IMAGE_PIXELS_ENV}); local workers get the same cap`,
};

/** Sets the cap through the environment, so that it holds in this process and in the workers it starts. */
export function applyImageCap(flags: ParsedFlags): void {
  const cap = flagValue(flags, IMAGE_CAP_FLAG.name, 'number');
  if (cap !== undefined) process.env[MAX_IMAGE_PIXELS_ENV] = String(cap);
}
