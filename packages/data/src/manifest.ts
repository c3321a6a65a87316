import path from 'node:path';
import { checkInsideRoot, type DataRoot } from './data-root.js';
import type { Dataset } from './dataset.js';
import { DataError } from './errors.js';
import { loadLine } from './image-io.js';
import type { PreprocessConfig } from './normalize.js';
import { readUtf8 } from './text-file.js';

interface Entry {
  file: string;
  text: string;
  line: number;
}

/**
 * A UTF-8 TSV manifest: `relative/path.png<TAB>transcription` per line, paths relative to the manifest,
 * `#` comments and blank lines ignored. Every problem names the file and line. With a `root`, the manifest and
 * every image must resolve inside it.
 */
export async function manifestDataset(file: string, preprocess: PreprocessConfig, root?: DataRoot): Promise<Dataset> {
  await checkInsideRoot(root, file, 'manifest');
  const text = await readUtf8(file, 'manifest');
  const dir = path.dirname(file);
  const entries: Entry[] = [];
  text.split(/\r?\n/).forEach((raw, k) => {
    const line = k + 1;
    if (raw.trim() === '' || raw.startsWith('#')) return;
    const cols = raw.split('\t');
    if (cols.length !== 2)
      throw new DataError(
        `${file}:${line}: expected 2 tab-separated columns (path, transcription), found ${cols.length}`,
      );
    const transcription = cols[1]!.normalize('NFC');
    if (transcription.trim() === '') throw new DataError(`${file}:${line}: empty transcription for '${cols[0]}'`);
    entries.push({ file: cols[0]!, text: transcription, line });
  });
  if (entries.length === 0) throw new DataError(`${file}: no samples`);
  return {
    name: `manifest:${file}`,
    size: entries.length,
    id: (i) => entries[i]!.file,
    text: (i) => entries[i]!.text,
    load: async (i) => {
      const e = entries[i]!;
      const where = `${file}:${e.line}: '${e.file}'`;
      const image = path.resolve(dir, e.file);
      await checkInsideRoot(root, image, where);
      try {
        return { id: e.file, text: e.text, image: await loadLine(image, preprocess, where) };
      } catch (err) {
        const msg = (err as Error).message;
        throw new DataError(
          msg.includes('file not found') ? `${where} not found (paths are relative to the manifest)` : msg,
        );
      }
    },
  };
}
