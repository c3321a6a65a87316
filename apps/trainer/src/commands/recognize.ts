import { rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { normalizeLine, pageXmlWithText, readPageForRecognition } from '@scriptorium/data';
import { Recognizer, type RecognizeOptions } from '@scriptorium/models';
import { BACKEND_NAMES, initBackend } from '@scriptorium/runtime';
import { UsageError } from '../cli/errors.js';
import { flagChoice, flagValue, type CommandSpec, type ParsedFlags } from '../cli/flags.js';
import { IMAGE_CAP_FLAG } from '../cli/image-cap.js';
import { DECODE_FLAGS, decodeOptions } from '../train/lm.js';

export const recognizeCommand: CommandSpec = {
  name: 'recognize',
  summary: 'Transcribe line images (PNG, JPEG, TIFF, WebP), or the TextLines of a PAGE XML file, with a model bundle.',
  synopsis: '--model DIR [--beam N] [--lm lm.json] [--json] image... | --page-xml IN.xml --out OUT.xml',
  positionals: true,
  flags: [
    { name: 'model', type: 'string', metavar: 'DIR', help: 'model bundle directory' },
    IMAGE_CAP_FLAG,
    ...DECODE_FLAGS,
    {
      name: 'json',
      type: 'boolean',
      default: false,
      help: "one JSON object per image: file, text, confidence, charConfidences (per character: its class's best posterior over its span), spans (per character, in input pixels)",
    },
    {
      name: 'page-xml',
      type: 'string',
      metavar: 'IN.xml',
      help: "recognise every TextLine of this PAGE XML file (cut from its page image by its Coords) and write the file to --out with each TextLine's TextEquiv (text and conf) replaced; every other byte is kept",
    },
    {
      name: 'out',
      type: 'string',
      metavar: 'OUT.xml',
      help: 'with --page-xml: where to write the result (written atomically; not the input file)',
    },
    { name: 'backend', type: 'string', choices: BACKEND_NAMES, default: 'auto', help: 'tfjs backend' },
  ],
};

export async function runRecognize(flags: ParsedFlags): Promise<void> {
  const model = flagValue(flags, 'model', 'string');
  if (!model) throw new UsageError('recognize: --model DIR is required');
  const pageXml = flagValue(flags, 'page-xml', 'string'),
    out = flagValue(flags, 'out', 'string');
  if (pageXml !== undefined) {
    if (flags._.length > 0) throw new UsageError('recognize: give image files or --page-xml, not both');
    if (out === undefined) throw new UsageError('recognize --page-xml: --out OUT.xml is required');
    if (path.resolve(out) === path.resolve(pageXml))
      throw new UsageError(`recognize --page-xml: --out ${out} is the input file; write the result elsewhere`);
  } else if (out !== undefined) {
    throw new UsageError('recognize: --out goes with --page-xml');
  } else if (flags._.length === 0) {
    throw new UsageError('recognize: give at least one image file, or --page-xml IN.xml --out OUT.xml');
  }
  await initBackend({ backend: flagChoice(flags, 'backend', BACKEND_NAMES) ?? 'auto', log: null });
  const rec = await Recognizer.load(model);
  const decode = await decodeOptions(flags, rec.alphabet);
  if (pageXml !== undefined) return recognizePage(rec, pageXml, out!, decode);
  const results = await rec.recognize(flags._, decode);
  const json = flagValue(flags, 'json', 'boolean');
  results.forEach((r, k) => {
    const file = flags._[k]!;
    if (json)
      console.log(
        JSON.stringify({
          file,
          text: r.text,
          confidence: r.confidence,
          charConfidences: r.charConfidences,
          spans: r.pixelSpans,
        }),
      );
    else console.log(`${file}\t${r.text}\t${r.confidence.toFixed(3)}`);
  });
}

/** Recognises every TextLine of a PAGE XML file and writes the file with their TextEquivs replaced to `out`, atomically. */
async function recognizePage(rec: Recognizer, file: string, out: string, decode: RecognizeOptions): Promise<void> {
  const page = await readPageForRecognition(file);
  const inside = page.lines.filter((l) => l.image !== undefined);
  for (const l of page.lines)
    if (!l.image) console.error(`${l.where}: TextLine '${l.id}' lies outside the page image; left as it was`);
  const samples = await Promise.all(
    inside.map(async (l) => ({ id: l.id, text: '', image: await normalizeLine(l.image!, rec.meta.preprocess) })),
  );
  const recognised = await rec.recognizeSamples(samples, decode);
  const byLine = new Map(inside.map((l, k) => [l, recognised[k]!]));
  const xml = pageXmlWithText(
    page,
    page.lines.map((l) => {
      const r = byLine.get(l);
      return r && { text: r.text, conf: r.confidence };
    }),
  );
  const tmp = `${out}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, xml);
    await rename(tmp, out);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  for (const l of inside) console.log(`${l.id}\t${byLine.get(l)!.text}\t${byLine.get(l)!.confidence.toFixed(3)}`);
  console.error(`${file}: ${inside.length} of ${page.lines.length} TextLines recognised, written to ${out}`);
}
