import { Recognizer } from '@scriptorium/models';
import { initBackend } from '@scriptorium/runtime';
import { UsageError } from '../cli/errors.js';
import type { CommandSpec, ParsedFlags } from '../cli/flags.js';

export const recognizeCommand: CommandSpec = {
  name: 'recognize',
  summary: 'Transcribe line images (PNG, JPEG, TIFF, WebP) with a model bundle.',
  synopsis: '--model DIR [--beam N] [--json] image...',
  positionals: true,
  flags: [
    { name: 'model', type: 'string', metavar: 'DIR', help: 'model bundle directory' },
    { name: 'beam', type: 'int', min: 1, default: 1, help: 'beam width (1: greedy)' },
    { name: 'json', type: 'boolean', default: false, help: 'one JSON object per image (file, text, confidence, spans)' },
    { name: 'backend', type: 'string', choices: ['auto', 'tensorflow', 'wasm', 'cpu'], default: 'auto', help: 'tfjs backend' },
  ],
};

export async function runRecognize(flags: ParsedFlags): Promise<void> {
  if (!flags.model) throw new UsageError('recognize: --model DIR is required');
  if (flags._.length === 0) throw new UsageError('recognize: give at least one image file');
  await initBackend({ backend: flags.backend as string, log: null });
  const rec = await Recognizer.load(flags.model as string);
  const results = await rec.recognize(flags._, { beam: flags.beam as number });
  results.forEach((r, k) => {
    const file = flags._[k]!;
    if (flags.json) console.log(JSON.stringify({ file, text: r.text, confidence: r.confidence, spans: r.pixelSpans }));
    else console.log(`${file}\t${r.text}\t${r.confidence.toFixed(3)}`);
  });
}
