import { Recognizer } from '@scriptorium/models';
import { BACKEND_NAMES, initBackend } from '@scriptorium/runtime';
import { UsageError } from '../cli/errors.js';
import { flagChoice, flagValue, type CommandSpec, type ParsedFlags } from '../cli/flags.js';
import { IMAGE_CAP_FLAG } from '../cli/image-cap.js';
import { DECODE_FLAGS, decodeOptions } from '../train/lm.js';

export const recognizeCommand: CommandSpec = {
  name: 'recognize',
  summary: 'Transcribe line images (PNG, JPEG, TIFF, WebP) with a model bundle.',
  synopsis: '--model DIR [--beam N] [--lm lm.json] [--json] image...',
  positionals: true,
  flags: [
    { name: 'model', type: 'string', metavar: 'DIR', help: 'model bundle directory' },
    IMAGE_CAP_FLAG,
    ...DECODE_FLAGS,
    { name: 'json', type: 'boolean', default: false, help: 'one JSON object per image: file, text, confidence, charConfidences (per character: its class\'s best posterior over its span), spans (per character, in input pixels)' },
    { name: 'backend', type: 'string', choices: BACKEND_NAMES, default: 'auto', help: 'tfjs backend' },
  ],
};

export async function runRecognize(flags: ParsedFlags): Promise<void> {
  const model = flagValue(flags, 'model', 'string');
  if (!model) throw new UsageError('recognize: --model DIR is required');
  if (flags._.length === 0) throw new UsageError('recognize: give at least one image file');
  await initBackend({ backend: flagChoice(flags, 'backend', BACKEND_NAMES) ?? 'auto', log: null });
  const rec = await Recognizer.load(model);
  const results = await rec.recognize(flags._, await decodeOptions(flags, rec.alphabet));
  const json = flagValue(flags, 'json', 'boolean');
  results.forEach((r, k) => {
    const file = flags._[k]!;
    if (json) console.log(JSON.stringify({ file, text: r.text, confidence: r.confidence, charConfidences: r.charConfidences, spans: r.pixelSpans }));
    else console.log(`${file}\t${r.text}\t${r.confidence.toFixed(3)}`);
  });
}
