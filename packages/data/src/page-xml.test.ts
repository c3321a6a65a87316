import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { DataError } from './errors.js';
import { openDataset } from './open-dataset.js';
import { cropPolygon, pageXmlDataset, polygonMask, type Point } from './page-xml.js';

/** Keeps the crop as it is: no margin crop, no contrast stretch, and a height equal to the crop's. */
const exact = (height: number) => ({ height, cropMargins: false, contrastNormalize: false });

async function blackPage(file: string, width = 40, height = 30): Promise<void> {
  mkdirSync(path.dirname(file), { recursive: true });
  await sharp({ create: { width, height, channels: 3, background: '#000000' } })
    .png()
    .toFile(file);
}

function pageXml(imageFilename: string, body: string, pageAttrs = ''): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<PcGts xmlns="http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15">',
    '  <Metadata><Creator>test</Creator></Metadata>',
    `  <Page imageFilename="${imageFilename}" ${pageAttrs}>`,
    '    <TextRegion id="r1">',
    '      <Coords points="0,0 39,0 39,29 0,29"/>',
    body,
    '    </TextRegion>',
    '  </Page>',
    '</PcGts>',
  ].join('\n');
}

/** A TextLine element, its `<TextLine>` on the first of its lines. */
function textLine(id: string, points: string, text: string): string {
  return `      <TextLine id="${id}"><Coords points="${points}"/>\n        <TextEquiv><Unicode>${text}</Unicode></TextEquiv>\n      </TextLine>`;
}

/** The slow, obvious reference: a pixel is in if it lies on an edge or inside by ray casting (even-odd). */
function insideNaive(points: readonly Point[], x: number, y: number): boolean {
  let inside = false;
  for (let k = 0, j = points.length - 1; k < points.length; j = k++) {
    const [ax, ay] = points[j]!,
      [bx, by] = points[k]!;
    const onEdge =
      (bx - ax) * (y - ay) === (by - ay) * (x - ax) &&
      Math.min(ax, bx) <= x &&
      x <= Math.max(ax, bx) &&
      Math.min(ay, by) <= y &&
      y <= Math.max(ay, by);
    if (onEdge) return true;
    if (ay > y !== by > y && x < ax + ((y - ay) * (bx - ax)) / (by - ay)) inside = !inside;
  }
  return inside;
}

describe('polygonMask', () => {
  it('matches a per-pixel reference on random polygons, edges included', () => {
    let seed = 12345;
    const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let trial = 0; trial < 300; trial++) {
      const points = Array.from({ length: 3 + rand(6) }, (): Point => [rand(20) - 3, rand(20) - 3]);
      const [x0, y0, w, h] = [rand(5) - 2, rand(5) - 2, 1 + rand(18), 1 + rand(18)];
      const reference = new Uint8Array(w * h);
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) reference[y * w + x] = insideNaive(points, x0 + x, y0 + y) ? 1 : 0;
      expect({ trial, points, mask: polygonMask(points, x0, y0, w, h) }).toEqual({ trial, points, mask: reference });
    }
  });
});

describe('cropPolygon', () => {
  it('cuts the bounding box and blanks pixels outside the polygon', () => {
    const page = { data: new Uint8Array(20 * 20).fill(255), width: 20, height: 20 }; // all ink
    // Triangle (2,3) (11,3) (2,12): box x 2..11, y 3..12 = 10x10; pixel (x, y) of the crop is in iff x + y <= 9.
    const crop = cropPolygon(page, [
      [2, 3],
      [11, 3],
      [2, 12],
    ])!;
    expect([crop.width, crop.height]).toEqual([10, 10]);
    for (let y = 0; y < 10; y++) for (let x = 0; x < 10; x++) expect(crop.data[y * 10 + x]).toBe(x + y <= 9 ? 1 : 0);
    // Clipped to the page: x -5..4 -> 0..4.
    expect(
      cropPolygon(page, [
        [-5, 0],
        [4, 0],
        [4, 1],
      ])!.width,
    ).toBe(5);
    expect(
      cropPolygon(page, [
        [30, 0],
        [40, 0],
        [40, 5],
      ]),
    ).toBeUndefined();
  });
});

describe('pageXmlDataset', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'data-page-'));
  const p1 = path.join(dir, 'p1.xml');
  const p2 = path.join(dir, 'p2.xml');
  beforeAll(async () => {
    await blackPage(path.join(dir, 'black.png'));
    await blackPage(path.join(dir, 'img', 'black2.png'));
    const lines = [
      '      <TextLine id="tri">',
      '        <Coords points="0,0 9,0 0,9"/>',
      '        <Word id="w1"><Coords points="0,0 1,0 1,1"/><TextEquiv><Unicode>word level</Unicode></TextEquiv></Word>',
      '        <TextEquiv index="2"><Unicode>second choice</Unicode></TextEquiv>',
      '        <TextEquiv index="1"><Unicode>Fish &amp; chips &lt;3 &#x263A;&#33;</Unicode></TextEquiv>',
      '      </TextLine>',
      textLine('rect', '10,10 29,10 29,19 10,19', 'cafe\u0301'),
    ].join('\n');
    writeFileSync(p1, pageXml('black.png', lines, 'imageWidth="40" imageHeight="30"'));
    // PAGE 2013 with a namespace prefix and the old <Point> form.
    writeFileSync(
      p2,
      [
        '<pc:PcGts xmlns:pc="http://schema.primaresearch.org/PAGE/gts/pagecontent/2013-07-15">',
        '<pc:Page imageFilename="img/black2.png"><pc:TextRegion><pc:TextLine id="old">',
        '<pc:Coords><pc:Point x="5" y="5"/><pc:Point x="14" y="5"/><pc:Point x="14" y="9"/><pc:Point x="5" y="9"/></pc:Coords>',
        '<pc:TextEquiv><pc:Unicode><![CDATA[a<b]]></pc:Unicode></pc:TextEquiv>',
        '</pc:TextLine></pc:TextRegion></pc:Page></pc:PcGts>',
      ].join('\n'),
    );
    writeFileSync(path.join(dir, 'notes.txt'), 'not xml, ignored');
  });

  it('reads every TextLine in file and document order with the line-level TextEquiv, entities decoded, NFC', async () => {
    const ds = await pageXmlDataset(dir, exact(10));
    const rows = Array.from({ length: ds.size }, (_, i) => [ds.id(i), ds.text(i)]);
    expect(rows).toEqual([
      ['p1_tri', 'Fish & chips <3 \u263a!'], // index 1 beats index 2; the Word's TextEquiv is not the line's
      ['p1_rect', 'caf\u00e9'],
      ['p2_old', 'a<b'],
    ]);
    expect((await openDataset(`page:${dir}`)).size).toBe(3);
  });

  it('crops the polygon: box size, ink inside, background outside', async () => {
    const ds = await pageXmlDataset(dir, exact(10));
    const tri = (await ds.load(0)).image; // triangle (0,0) (9,0) (0,9) on an all-black page
    expect([tri.width, tri.height]).toEqual([10, 10]);
    for (let y = 0; y < 10; y++) for (let x = 0; x < 10; x++) expect(tri.data[y * 10 + x]).toBe(x + y <= 9 ? 1 : 0);
    const rect = (await ds.load(1)).image; // x 10..29, y 10..19: 20x10, all ink
    expect([rect.width, rect.height, Math.min(...rect.data)]).toEqual([20, 10, 1]);
    const old = (await (await pageXmlDataset(dir, exact(5))).load(2)).image; // Points x 5..14, y 5..9: 10x5
    expect([old.width, old.height, Math.min(...old.data)]).toEqual([10, 5, 1]);
    // Loading lines of two pages in any order and at once gives the same images.
    const again = await Promise.all([2, 0, 1, 0].map((i) => ds.load(i)));
    expect(again[1]!.image.data).toEqual(tri.data);
  });

  it('finds the image beside a page/ folder (Transkribus export)', async () => {
    const t = mkdtempSync(path.join(tmpdir(), 'data-page-tk-'));
    await blackPage(path.join(t, '0001.png'));
    mkdirSync(path.join(t, 'page'));
    writeFileSync(path.join(t, 'page', '0001.xml'), pageXml('0001.png', textLine('l1', '0,0 5,0 5,5', 'x')));
    const ds = await pageXmlDataset(path.join(t, 'page'), exact(6));
    expect((await ds.load(0)).image.width).toBe(6);
  });

  it('names the XML file and line for each bad input', async () => {
    const bad = mkdtempSync(path.join(tmpdir(), 'data-page-bad-'));
    await blackPage(path.join(bad, 'black.png'));
    const file = path.join(bad, 'a.xml');
    // pageXml puts <Page> on line 4 and the body from line 7; textLine's Coords are on its first line.
    const cases: [string, string][] = [
      [
        pageXml('black.png', textLine('e', '0,0 5,0 5,5', '')),
        `${file}:7: TextLine 'e' has no text (no TextEquiv/Unicode, or an empty one)`,
      ],
      [
        pageXml('black.png', textLine('two', '0,0 5,5', 'x')),
        `${file}:7: TextLine 'two' has 2 Coords points, expected at least 3`,
      ],
      [
        pageXml('black.png', textLine('p', '0,0 5;0 5,5', 'x')),
        `${file}:7: bad Coords point '5;0' in TextLine 'p' (expected 'x1,y1 x2,y2 ...')`,
      ],
      [
        pageXml('nope.png', textLine('l', '0,0 5,0 5,5', 'x')),
        `${file}:4: image 'nope.png' not found (looked for ${path.join(bad, 'nope.png')})`,
      ],
      [
        pageXml('black.png', `${textLine('d', '0,0 5,0 5,5', 'x')}\n${textLine('d', '0,0 5,0 5,5', 'y')}`),
        `${file}:10: duplicate TextLine id 'd' (first on line 7)`,
      ],
      [
        pageXml('black.png', '      <TextLine id="x"><Coords points="0,0 1,0 1,1">\n      </TextLine>'),
        `${file}:8: column 17: unexpected close tag`,
      ],
      [
        pageXml('black.png', '      <TextLine id="x"><TextEquiv><Unicode>&nbsp;</Unicode></TextEquiv></TextLine>'),
        `${file}:7: column 49: undefined entity`,
      ],
      ['<?xml version="1.0"?>\n<mets/>', `${file}:2: root element is <mets>, expected <PcGts> (PAGE XML)`],
    ];
    for (const [xml, message] of cases) {
      writeFileSync(file, xml);
      await expect(pageXmlDataset(bad, exact(10))).rejects.toThrow(message);
    }
    // Hostile files: a DTD that declares entities, and TextLine text nested 20,000 elements deep (once a raw RangeError).
    const deep = `      <TextLine id="deep"><Coords points="0,0 5,0 5,5"/><TextEquiv><Unicode>${'<b>'.repeat(20_000)}x${'</b>'.repeat(20_000)}</Unicode></TextEquiv></TextLine>`;
    const hostile: [string, string][] = [
      [
        `<?xml version="1.0"?>\n<!DOCTYPE PcGts [<!ENTITY e "x">]>\n${pageXml('black.png', textLine('l', '0,0 5,0 5,5', '&e;'))}`,
        `${file}:2: DOCTYPE with an internal subset (entity declarations) is not supported`,
      ],
      [pageXml('black.png', deep), `${file}:7: <b> nests elements deeper than 256 levels`],
    ];
    for (const [xml, message] of hostile) {
      writeFileSync(file, xml);
      const err = await pageXmlDataset(bad, exact(10)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DataError);
      expect((err as Error).message).toBe(message);
    }
    writeFileSync(
      file,
      Buffer.concat([
        Buffer.from('<PcGts>\n<Page imageFilename="black.png">\n'),
        Buffer.from([0xe2, 0x82]),
        Buffer.from('\n</Page></PcGts>'),
      ]),
    );
    await expect(pageXmlDataset(bad, exact(10))).rejects.toThrow(`${file}:3: not valid UTF-8`);
  });

  it('names the Page line when the image does not match its declared size, and lines off the page', async () => {
    const bad = mkdtempSync(path.join(tmpdir(), 'data-page-size-'));
    await blackPage(path.join(bad, 'black.png'));
    const file = path.join(bad, 'a.xml');
    writeFileSync(file, pageXml('black.png', textLine('l', '0,0 5,0 5,5', 'x'), 'imageWidth="80" imageHeight="30"'));
    await expect((await pageXmlDataset(bad, exact(10))).load(0)).rejects.toThrow(
      `${file}:4: image '${path.join(bad, 'black.png')}' is 40x30, but the Page says 80x30`,
    );
    writeFileSync(file, pageXml('black.png', textLine('off', '50,0 60,0 60,5', 'x')));
    await expect((await pageXmlDataset(bad, exact(10))).load(0)).rejects.toThrow(
      `${file}:7: TextLine lies outside the 40x30 page image`,
    );
  });
});
