import { access } from 'node:fs/promises';
import path from 'node:path';
import { checkInsideRoot, type DataRoot } from './data-root.js';
import type { Dataset } from './dataset.js';
import { DataError } from './errors.js';
import { loadLine } from './image-io.js';
import type { PreprocessConfig } from './normalize.js';
import { readUtf8 } from './text-file.js';
import { NAMED_ENTITIES } from './xml.js';

export interface IamOptions {
  /**
   * A split list such as IAM's `trainset.txt`: one line id (`a01-000u-00`) or form id (`a01-000u`, meaning all
   * its lines) per line, `#` comments and blank lines ignored. Only those lines are read, in that order.
   * Default: every line of `lines.txt`.
   */
  split?: string;
  /** Every file (lines.txt, the split list, images) must resolve inside this directory (a worker's --data-root). */
  root?: DataRoot;
  /**
   * Leave out lines whose segmentation result is `err` (IAM flags lines where at least one word's bounding box
   * may be wrong). Default false: kept, since the line image and transcription are usually
   * fine and users of IAM differ on this.
   */
  skipErr?: boolean;
}

interface IamLine {
  id: string;
  text: string;
  err: boolean;
  /** Line in lines.txt, for errors. */
  line: number;
}

const FIELDS = 'id, ok|err, grey level, components, x, y, w, h, transcription';

/**
 * IAM handwritten lines: `DIR/lines.txt` or `DIR/ascii/lines.txt` (records `a01-000u-00 ok 154 19 408 746 1661
 * 89 A|MOVE|to|stop`, `|` standing for a space) and images `DIR/lines/a01/a01-000u/a01-000u-00.png`.
 * Errors name the file and line.
 */
export async function iamDataset(
  dir: string,
  preprocess: PreprocessConfig,
  options: IamOptions = {},
): Promise<Dataset> {
  const file = await findLinesTxt(dir);
  await checkInsideRoot(options.root, file, 'IAM lines.txt');
  if (options.split) await checkInsideRoot(options.root, options.split, 'split list');
  const all = parseIamLines(file, await readUtf8(file, 'IAM lines.txt'));
  let lines = options.split ? selectSplit(all, options.split, file, await readUtf8(options.split, 'split list')) : all;
  if (options.skipErr) lines = lines.filter((l) => !l.err);
  if (lines.length === 0)
    throw new DataError(`${options.split ?? file}: no lines${options.skipErr ? " with segmentation result 'ok'" : ''}`);
  return {
    name: options.split ? `iam:${dir} (split ${options.split})` : `iam:${dir}`,
    size: lines.length,
    id: (i) => lines[i]!.id,
    text: (i) => lines[i]!.text,
    load: async (i) => {
      const l = lines[i]!;
      const [writer, form] = l.id.split('-');
      const rel = `lines/${writer}/${writer}-${form}/${l.id}.png`;
      const where = `${file}:${l.line}: '${l.id}'`;
      await checkInsideRoot(options.root, path.join(dir, rel), where);
      try {
        return { id: l.id, text: l.text, image: await loadLine(path.join(dir, rel), preprocess, where) };
      } catch (err) {
        const msg = (err as Error).message;
        throw new DataError(msg.endsWith('file not found') ? `${where}: image ${path.join(dir, rel)} not found` : msg);
      }
    },
  };
}

async function findLinesTxt(dir: string): Promise<string> {
  for (const file of [path.join(dir, 'lines.txt'), path.join(dir, 'ascii', 'lines.txt')]) {
    try {
      await access(file);
      return file;
    } catch {
      // try the next place
    }
  }
  throw new DataError(`${dir}: no lines.txt or ascii/lines.txt (the IAM line transcriptions)`);
}

/** Parses IAM `lines.txt`; transcription fields from the 9th on are joined with `|`, then `|` becomes a space. */
export function parseIamLines(file: string, source: string): IamLine[] {
  const lines: IamLine[] = [];
  const seen = new Map<string, number>();
  source.split(/\r?\n/).forEach((raw, k) => {
    const where = `${file}:${k + 1}`;
    if (raw.trim() === '' || raw.startsWith('#')) return;
    const f = raw.trim().split(/\s+/);
    if (f.length < 9) throw new DataError(`${where}: expected 9 space-separated fields (${FIELDS}), found ${f.length}`);
    const [id, status] = f as [string, string];
    if (!/^[^-]+-[^-]+-[^-]+$/.test(id))
      throw new DataError(`${where}: expected a line id like 'a01-000u-00', found '${id}'`);
    if (status !== 'ok' && status !== 'err')
      throw new DataError(`${where}: expected segmentation result 'ok' or 'err', found '${status}'`);
    ['grey level', 'components', 'x', 'y', 'w', 'h'].forEach((name, j) => {
      if (!/^-?\d+$/.test(f[2 + j]!))
        throw new DataError(`${where}: expected an integer ${name} in field ${3 + j}, found '${f[2 + j]}'`);
    });
    // IAM writes a double quote as the XML entity &quot; in lines.txt; the other XML entities are decoded too.
    const text = f
      .slice(8)
      .join('|')
      .replaceAll('|', ' ')
      .replace(/&(quot|amp|lt|gt|apos);/g, (_, e: string) => NAMED_ENTITIES[e]!)
      .normalize('NFC');
    if (text.trim() === '') throw new DataError(`${where}: empty transcription for '${id}'`);
    const first = seen.get(id);
    if (first !== undefined) throw new DataError(`${where}: duplicate line id '${id}' (first on line ${first})`);
    seen.set(id, k + 1);
    lines.push({ id, text, err: status === 'err', line: k + 1 });
  });
  return lines;
}

/** The lines named by a split list (line or form ids), in its order. */
function selectSplit(all: IamLine[], splitFile: string, linesFile: string, source: string): IamLine[] {
  const byId = new Map(all.map((l) => [l.id, [l]]));
  const byForm = new Map<string, IamLine[]>();
  for (const l of all) {
    const form = l.id.slice(0, l.id.lastIndexOf('-'));
    if (!byForm.has(form)) byForm.set(form, []);
    byForm.get(form)!.push(l);
  }
  const picked: IamLine[] = [];
  const listedOn = new Map<string, number>();
  source.split(/\r?\n/).forEach((raw, k) => {
    const entry = raw.trim();
    if (entry === '' || entry.startsWith('#')) return;
    const where = `${splitFile}:${k + 1}`;
    const hit = byId.get(entry) ?? byForm.get(entry);
    if (!hit) throw new DataError(`${where}: '${entry}' is neither a line id nor a form id in ${linesFile}`);
    for (const l of hit) {
      const first = listedOn.get(l.id);
      if (first !== undefined) throw new DataError(`${where}: line '${l.id}' is already in the split (line ${first})`);
      listedOn.set(l.id, k + 1);
      picked.push(l);
    }
  });
  return picked;
}
