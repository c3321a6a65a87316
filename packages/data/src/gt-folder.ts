import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { checkInsideRoot, type DataRoot } from './data-root.js';
import type { Dataset } from './dataset.js';
import { DataError } from './errors.js';
import { loadLine } from './image-io.js';
import type { PreprocessConfig } from './normalize.js';
import { readUtf8 } from './text-file.js';

export interface GtFolderOptions {
  /** Leave out images that have no `.gt.txt` beside them. Default false: an error lists them. */
  ignoreMissingGt?: boolean;
  /** The folder and every file in it must resolve inside this directory (a worker's --data-root). */
  root?: DataRoot;
}

const IMAGE = /\.(png|jpe?g|tiff?|webp)$/i;
/** How many transcriptions are read at once. */
const READ_CONCURRENCY = 64;

/**
 * A folder (searched recursively) of line images, each with its transcription beside it, Kraken/Calamari/OCRopus
 * style: `x.png` or `x.bin.png` (also .jpg .jpeg .tif .tiff .webp) with `x.gt.txt` (UTF-8, one line; trailing
 * line ends dropped; NFC). Samples are sorted by path (code-point order); the id is the path without extension.
 */
export async function gtFolderDataset(
  dir: string,
  preprocess: PreprocessConfig,
  options: GtFolderOptions = {},
): Promise<Dataset> {
  await checkInsideRoot(options.root, dir, 'gt folder');
  const files = await listFiles(dir);
  const present = new Set(files);
  const byGt = new Map<string, string>(); // gt path -> image path, relative to dir
  const missing: string[] = [];
  let images = 0;
  for (const image of files.filter((f) => IMAGE.test(f))) {
    images++;
    const gt = `${image.replace(IMAGE, '').replace(/\.bin$/, '')}.gt.txt`;
    const other = byGt.get(gt);
    if (other)
      throw new DataError(
        `${path.join(dir, gt)}: transcribes both '${other}' and '${image}'; keep one image per .gt.txt`,
      );
    if (present.has(gt)) byGt.set(gt, image);
    else missing.push(image);
  }
  if (images === 0) throw new DataError(`${dir}: no line images (.png .jpg .jpeg .tif .tiff .webp)`);
  if (missing.length > 0 && !options.ignoreMissingGt) {
    const more = missing.length > 3 ? `, and ${missing.length - 3} more` : '';
    throw new DataError(
      `${dir}: ${missing.length} of ${images} images have no transcription (NAME.gt.txt beside NAME.png): ` +
        `${missing.slice(0, 3).join(', ')}${more} (set ignoreMissingGt to leave them out)`,
    );
  }
  const pairs = [...byGt].map(([gt, image]) => ({ gt, image, id: gt.slice(0, -'.gt.txt'.length), text: '' }));
  if (pairs.length === 0) throw new DataError(`${dir}: no image has a .gt.txt transcription`);
  for (let start = 0; start < pairs.length; start += READ_CONCURRENCY) {
    const read = async (p: (typeof pairs)[number]) => {
      await checkInsideRoot(options.root, path.join(dir, p.gt), 'transcription');
      p.text = await readGt(path.join(dir, p.gt));
    };
    await Promise.all(pairs.slice(start, start + READ_CONCURRENCY).map(read));
  }
  return {
    name: `gt:${dir}`,
    size: pairs.length,
    id: (i) => pairs[i]!.id,
    text: (i) => pairs[i]!.text,
    load: async (i) => {
      const p = pairs[i]!;
      const file = path.join(dir, p.image);
      await checkInsideRoot(options.root, file, 'line image');
      return { id: p.id, text: p.text, image: await loadLine(file, preprocess, file) };
    },
  };
}

/** One transcription: a single non-empty line (trailing line ends dropped), NFC. */
async function readGt(file: string): Promise<string> {
  const text = (await readUtf8(file, 'transcription')).replace(/[\r\n]+$/, '');
  const lines = text.split(/\r?\n/);
  if (lines.length > 1) throw new DataError(`${file}:2: expected one line of text, found ${lines.length} lines`);
  if (text.trim() === '') throw new DataError(`${file}:1: empty transcription`);
  return text.normalize('NFC');
}

/** Every file under `dir`, as sorted relative paths with '/' separators. Symbolic links count as files. */
async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(path.join(dir, rel), { withFileTypes: true });
    } catch (err) {
      throw new DataError(`${path.join(dir, rel)}: cannot read folder (${(err as NodeJS.ErrnoException).code})`);
    }
    for (const e of entries) {
      const child = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(child);
      else if (e.isFile() || e.isSymbolicLink()) out.push(child);
    }
  };
  await walk('');
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
