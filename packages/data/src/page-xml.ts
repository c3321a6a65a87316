import { access, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Dataset } from './dataset.js';
import { DataError } from './errors.js';
import { decodeImage, inkBytes } from './image-io.js';
import { normalizeLine, type PreprocessConfig } from './normalize.js';
import type { LineImage } from './line-image.js';
import { readUtf8 } from './text-file.js';
import { checkInsideRoot, type DataRoot } from './data-root.js';
import { childElements, parseXml, textContent, XmlError, type XmlElement, type XmlNode } from './xml.js';

/** A polygon vertex in page pixels: [x, y]. */
export type Point = [number, number];

/** One TextLine of a PAGE document. */
export interface PageLine {
  /** `<xml file stem>_<TextLine id>`. */
  id: string;
  text: string;
  points: Point[];
  /** The page image: as written in the file from `pageLines`, resolved to a path by `pageXmlDataset`. */
  image: string;
  /** Where the TextLine is, for errors: `page.xml:17`. */
  where: string;
  /** The Page element's line and declared size (0 when not given), for image errors. */
  page: { where: string; width: number; height: number };
  /** The TextLine element, with its place in the source. */
  element: XmlElement;
}

/** The decoded page image as ink bytes (0 background .. 255 ink), row-major. */
interface InkPage {
  data: Uint8Array;
  width: number;
  height: number;
}

/**
 * PAGE XML (2013, 2019 or older; elements are matched by local name, not namespace): every `*.xml` in `dir`
 * (sorted, not recursive), every TextLine in document order. The line image is the bounding box of the
 * TextLine's `Coords` polygon, cut from the Page's `imageFilename` (relative to the XML file, or to its parent
 * when the XML sits in a `page/` folder, as in Transkribus exports), with pixels outside the polygon set to
 * background. The text is the TextLine's own `TextEquiv/Unicode` (lowest `index`, else the first), trimmed, NFC.
 * Errors name the XML file and line. With a `root`, the folder, every XML file and every image must resolve inside it.
 */
export async function pageXmlDataset(dir: string, preprocess: PreprocessConfig, root?: DataRoot): Promise<Dataset> {
  await checkInsideRoot(root, dir, 'PAGE folder');
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.toLowerCase().endsWith('.xml')).sort();
  } catch (err) {
    throw new DataError(`${dir}: cannot read folder (${(err as NodeJS.ErrnoException).code})`);
  }
  const lines: PageLine[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    await checkInsideRoot(root, file, 'PAGE XML file');
    const doc = pageLines(file, await readUtf8(file, 'PAGE XML file'));
    if (doc.lines.length === 0) continue;
    const image = await findImage(file, doc.imageFilename, doc.lines[0]!.page.where);
    await checkInsideRoot(root, image, `${doc.lines[0]!.page.where}: imageFilename`);
    for (const l of doc.lines) lines.push({ ...l, image });
  }
  if (lines.length === 0) throw new DataError(`${dir}: no TextLines in ${names.length} PAGE XML files`);
  const pages = new PageCache(2);
  return {
    name: `page:${dir}`,
    size: lines.length,
    id: (i) => lines[i]!.id,
    text: (i) => lines[i]!.text,
    load: async (i) => {
      const l = lines[i]!;
      const page = await pages.get(l);
      const crop = cropPolygon(page, l.points);
      if (!crop) throw new DataError(`${l.where}: TextLine lies outside the ${page.width}x${page.height} page image`);
      return { id: l.id, text: l.text, image: await normalizeLine(crop, preprocess) };
    },
  };
}

/** Parses one PAGE document into its lines (image paths still as written in the file); for training, each needs a text. */
export function pageLines(
  file: string,
  source: string,
  requireText = true,
): { lines: PageLine[]; imageFilename: string; page: PageLine['page'] } {
  let root: XmlElement;
  try {
    root = parseXml(source);
  } catch (err) {
    if (err instanceof XmlError) throw new DataError(`${file}:${err.line}: ${err.message}`);
    throw err;
  }
  if (root.name !== 'PcGts')
    throw new DataError(`${file}:${root.line}: root element is <${root.name}>, expected <PcGts> (PAGE XML)`);
  const page = childElements(root, 'Page')[0];
  if (!page) throw new DataError(`${file}:${root.line}: no Page element`);
  const imageFilename = page.attrs['imageFilename'];
  if (!imageFilename) throw new DataError(`${file}:${page.line}: Page has no imageFilename`);
  const pageInfo = {
    where: `${file}:${page.line}`,
    width: Number(page.attrs['imageWidth'] ?? 0),
    height: Number(page.attrs['imageHeight'] ?? 0),
  };
  const stem = path.basename(file).replace(/\.xml$/i, '');
  const lines: PageLine[] = [];
  const seen = new Map<string, number>();
  for (const tl of descendants(page, 'TextLine')) {
    const where = `${file}:${tl.line}`;
    const lineId = tl.attrs['id'] ?? `l${lines.length + 1}`;
    const first = seen.get(lineId);
    if (first !== undefined)
      throw new DataError(`${where}: duplicate TextLine id '${lineId}' (first on line ${first})`);
    seen.set(lineId, tl.line);
    const text = lineText(tl);
    if (text === '' && requireText)
      throw new DataError(`${where}: TextLine '${lineId}' has no text (no TextEquiv/Unicode, or an empty one)`);
    lines.push({
      id: `${stem}_${lineId}`,
      text,
      points: linePoints(tl, file, lineId),
      image: imageFilename,
      where,
      page: pageInfo,
      element: tl,
    });
  }
  return { lines, imageFilename, page: pageInfo };
}

/** The elements named `name` under `el`, in document order, not looking inside a match (iterative: any depth). */
function* descendants(el: XmlElement, name: string): Generator<XmlElement> {
  const todo: XmlNode[] = [...el.children].reverse();
  while (todo.length) {
    const c = todo.pop()!;
    if (typeof c === 'string') continue;
    if (c.name === name) yield c;
    else for (let i = c.children.length - 1; i >= 0; i--) todo.push(c.children[i]!);
  }
}

/** The TextLine's own TextEquiv (not its Words' or Glyphs'): lowest `index`, else the first. */
function lineText(tl: XmlElement): string {
  const equivs = childElements(tl, 'TextEquiv');
  const index = (e: XmlElement): number => (e.attrs['index'] === undefined ? Infinity : Number(e.attrs['index']));
  const best = equivs.reduce<XmlElement | undefined>(
    (b, e) => (b === undefined || index(e) < index(b) ? e : b),
    undefined,
  );
  const unicode = best && childElements(best, 'Unicode')[0];
  return unicode ? textContent(unicode).trim().normalize('NFC') : '';
}

/** `Coords points="x1,y1 x2,y2 ..."`, or the older `<Coords><Point x y/>...</Coords>`; rounded to pixels. */
function linePoints(tl: XmlElement, file: string, lineId: string): Point[] {
  const coords = childElements(tl, 'Coords')[0];
  if (!coords) throw new DataError(`${file}:${tl.line}: TextLine '${lineId}' has no Coords`);
  const where = `${file}:${coords.line}`;
  const num = (s: string | undefined): number =>
    s !== undefined && /^\s*-?\d+(\.\d+)?\s*$/.test(s) ? Math.round(Number(s)) : NaN;
  let points: Point[];
  const attr = coords.attrs['points'];
  if (attr !== undefined) {
    points =
      attr.trim() === ''
        ? []
        : attr
            .trim()
            .split(/\s+/)
            .map((pair) => {
              const [x, y, extra] = pair.split(',');
              const p: Point = [num(x), num(y)];
              if (extra !== undefined || Number.isNaN(p[0]) || Number.isNaN(p[1])) {
                throw new DataError(
                  `${where}: bad Coords point '${pair}' in TextLine '${lineId}' (expected 'x1,y1 x2,y2 ...')`,
                );
              }
              return p;
            });
  } else {
    points = childElements(coords, 'Point').map((pt) => {
      const p: Point = [num(pt.attrs['x']), num(pt.attrs['y'])];
      if (Number.isNaN(p[0]) || Number.isNaN(p[1]))
        throw new DataError(`${file}:${pt.line}: Point needs integer x and y attributes`);
      return p;
    });
  }
  if (points.length < 3)
    throw new DataError(`${where}: TextLine '${lineId}' has ${points.length} Coords points, expected at least 3`);
  return points;
}

/** The page image: relative to the XML file, or to its parent when the XML is in a `page/` folder (Transkribus). */
export async function findImage(xmlFile: string, imageFilename: string, where: string): Promise<string> {
  const xmlDir = path.dirname(xmlFile);
  const candidates = [path.resolve(xmlDir, imageFilename)];
  if (path.basename(xmlDir) === 'page') candidates.push(path.resolve(xmlDir, '..', imageFilename));
  for (const file of candidates) {
    try {
      await access(file);
      return file;
    } catch {
      // try the next place
    }
  }
  throw new DataError(`${where}: image '${imageFilename}' not found (looked for ${candidates.join(' and ')})`);
}

/** The last few decoded pages, so that consecutive lines of one page decode it once. */
class PageCache {
  private readonly pages = new Map<string, Promise<InkPage>>();

  constructor(private readonly capacity: number) {}

  get(line: PageLine): Promise<InkPage> {
    let page = this.pages.get(line.image);
    if (page) {
      this.pages.delete(line.image); // re-inserted below as the most recent
    } else {
      const decoding = decodePage(line);
      decoding.catch(() => {
        if (this.pages.get(line.image) === decoding) this.pages.delete(line.image); // retry on the next get
      });
      page = decoding;
      if (this.pages.size >= this.capacity) this.pages.delete(this.pages.keys().next().value!);
    }
    this.pages.set(line.image, page);
    return page;
  }
}

export async function decodePage(line: Pick<PageLine, 'image' | 'page'>): Promise<InkPage> {
  const { where, width, height } = line.page;
  const img = await decodeImage(line.image, `${where}: image '${line.image}'`);
  if ((width > 0 && width !== img.width) || (height > 0 && height !== img.height)) {
    throw new DataError(
      `${where}: image '${line.image}' is ${img.width}x${img.height}, but the Page says ${width}x${height}`,
    );
  }
  return { data: inkBytes(img.data), width: img.width, height: img.height };
}

/**
 * Cuts the bounding box of `points` (clipped to the page) out of `page`; pixels outside the polygon become
 * background (0). Returns undefined when the box misses the page.
 */
export function cropPolygon(page: InkPage, points: readonly Point[]): LineImage | undefined {
  const xs = points.map((p) => p[0]),
    ys = points.map((p) => p[1]);
  const x0 = Math.max(0, Math.min(...xs)),
    x1 = Math.min(page.width - 1, Math.max(...xs));
  const y0 = Math.max(0, Math.min(...ys)),
    y1 = Math.min(page.height - 1, Math.max(...ys));
  if (x0 > x1 || y0 > y1) return undefined;
  const width = x1 - x0 + 1,
    height = y1 - y0 + 1;
  const mask = polygonMask(points, x0, y0, width, height);
  const data = new Float32Array(width * height); // [height, width]
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      if (mask[y * width + x]) data[y * width + x] = page.data[(y0 + y) * page.width + x0 + x]! / 255;
  return { data, width, height };
}

/**
 * 1 for each pixel of the box [x0, x0 + width) x [y0, y0 + height) that lies in the closed polygon (edges
 * included; even-odd rule for self-intersections), with a pixel taken as its integer point; [height, width].
 * Scanline: per row, the spans between crossings (each edge counted on [min y, max y)), plus the edge points.
 */
export function polygonMask(
  points: readonly Point[],
  x0: number,
  y0: number,
  width: number,
  height: number,
): Uint8Array {
  const mask = new Uint8Array(width * height);
  const fill = (row: number, from: number, to: number): void => {
    const a = Math.max(from, x0) - x0,
      b = Math.min(to, x0 + width - 1) - x0;
    if (a <= b) mask.fill(1, row * width + a, row * width + b + 1);
  };
  const crossings: number[] = [];
  for (let row = 0; row < height; row++) {
    const y = y0 + row;
    crossings.length = 0;
    for (let k = 0; k < points.length; k++) {
      const [ax, ay] = points[k]!;
      const [bx, by] = points[(k + 1) % points.length]!;
      if (ay === by) {
        if (ay === y) fill(row, Math.min(ax, bx), Math.max(ax, bx));
        continue;
      }
      if (y < Math.min(ay, by) || y > Math.max(ay, by)) continue;
      const num = (y - ay) * (bx - ax),
        den = by - ay;
      if (num % den === 0) fill(row, ax + num / den, ax + num / den); // the edge passes through a pixel
      if (y < Math.max(ay, by)) crossings.push(ax + num / den);
    }
    crossings.sort((a, b) => a - b);
    for (let j = 0; j + 1 < crossings.length; j += 2)
      fill(row, Math.ceil(crossings[j]!), Math.floor(crossings[j + 1]!));
  }
  return mask;
}
