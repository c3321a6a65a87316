import { readFile } from 'node:fs/promises';
import { checkInsideRoot, type DataRoot } from './data-root.js';
import type { LineImage } from './line-image.js';
import { DataError } from './errors.js';
import { cropPolygon, decodePage, findImage, pageLines } from './page-xml.js';
import { readUtf8 } from './text-file.js';
import { childElements, escapeXml, type XmlElement } from './xml.js';

/** One TextLine of a PAGE file to recognise: its id, where it is, and its image cut by its Coords (not normalised). */
export interface PageRecognitionLine {
  /** The TextLine's `id`. */
  id: string;
  /** `page.xml:17`, for messages. */
  where: string;
  /** Undefined when the polygon lies outside the page image. */
  image: LineImage | undefined;
  element: XmlElement;
}

export interface PageForRecognition {
  file: string;
  /** The file's text as read (a leading BOM dropped): pageXmlWithText rewrites only the TextLines' TextEquiv in it. */
  source: string;
  /** Whether the file started with a UTF-8 byte order mark (pageXmlWithText puts it back). */
  bom?: boolean;
  lines: PageRecognitionLine[];
}

/**
 * A PAGE XML file's TextLines (with or without text) and their images, cut from the page image as `page:DIR` cuts
 * them for training (bounding box of the Coords polygon, outside it background).
 */
export async function readPageForRecognition(file: string, root?: DataRoot): Promise<PageForRecognition> {
  await checkInsideRoot(root, file, 'PAGE XML file');
  const source = await readUtf8(file, 'PAGE XML file');
  const bom = (await readFile(file)).subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]));
  // Text is written back as UTF-8: a file that declares another encoding would then be misread by other tools.
  const declared = /^\s*<\?xml[^>]*\bencoding\s*=\s*["']([^"']+)["']/.exec(source)?.[1];
  if (declared && !/^utf-?8$/i.test(declared))
    throw new DataError(
      `${file}:1: declares encoding '${declared}'; recognised text is written as UTF-8, so only UTF-8 PAGE files are rewritten (convert it first)`,
    );
  const doc = pageLines(file, source, false);
  if (doc.lines.length === 0) return { file, source, bom, lines: [] };
  const image = await findImage(file, doc.imageFilename, doc.page.where);
  await checkInsideRoot(root, image, `${doc.page.where}: imageFilename`);
  const page = await decodePage({ image, page: doc.page });
  const lines = doc.lines.map((l) => ({
    id: l.element.attrs['id'] ?? l.id,
    where: l.where,
    image: cropPolygon(page, l.points),
    element: l.element,
  }));
  return { file, source, bom, lines };
}

/** What to write into one TextLine: the text, and its confidence in [0, 1] (the TextEquiv's `conf`) when known. */
export interface PageLineText {
  text: string;
  conf?: number;
}

/** Elements PAGE (2013 and 2019) puts after a TextLine's TextEquiv: a new one goes before the first of them. */
const AFTER_TEXT_EQUIV = new Set(['TextStyle', 'UserDefined', 'Labels']);

/**
 * `page.source` with the TextEquiv of each TextLine given a result replaced by `<TextEquiv conf="..."><Unicode>text
 * </Unicode></TextEquiv>` (the TextLine's own TextEquivs: its Words' and Glyphs' are left as they are; a second
 * line-level one is removed, as it would contradict the new text). Where a line has none, the new one goes before
 * its TextStyle, UserDefined or Labels, else at the end. Element names take the TextLine's namespace prefix. Every
 * other byte of the file is kept as it was.
 */
export function pageXmlWithText(page: PageForRecognition, results: ReadonlyArray<PageLineText | undefined>): string {
  const edits: Array<{ from: number; to: number; text: string }> = [];
  page.lines.forEach((line, k) => {
    const r = results[k];
    if (!r) return;
    const tl = line.element;
    const prefix = tl.qname.includes(':') ? tl.qname.slice(0, tl.qname.indexOf(':') + 1) : '';
    const conf =
      r.conf === undefined || !Number.isFinite(r.conf) ? '' : ` conf="${Math.min(1, Math.max(0, r.conf)).toFixed(4)}"`;
    const equiv = `<${prefix}TextEquiv${conf}><${prefix}Unicode>${escapeXml(r.text)}</${prefix}Unicode></${prefix}TextEquiv>`;
    const old = childElements(tl, 'TextEquiv');
    if (old.length > 0) {
      edits.push({ from: old[0]!.start, to: old[0]!.end, text: equiv });
      for (const e of old.slice(1)) edits.push({ from: e.start, to: e.end, text: '' });
      return;
    }
    if (tl.contentStart === tl.end) {
      // <TextLine .../>: no Coords inside, so pageLines refused it already; kept for completeness.
      edits.push({ from: tl.end - 2, to: tl.end, text: `>${equiv}</${tl.qname}>` });
      return;
    }
    const before = tl.children.find((c): c is XmlElement => typeof c !== 'string' && AFTER_TEXT_EQUIV.has(c.name));
    const at = before ? before.start : tl.contentEnd;
    edits.push({ from: at, to: at, text: equiv });
  });
  edits.sort((a, b) => a.from - b.from);
  const parts: string[] = page.bom ? ['\uFEFF'] : [];
  let at = 0;
  for (const e of edits) {
    parts.push(page.source.slice(at, e.from), e.text);
    at = e.to;
  }
  parts.push(page.source.slice(at));
  return parts.join('');
}
