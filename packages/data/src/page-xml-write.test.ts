import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { pageXmlWithText, readPageForRecognition } from './page-xml-write.js';
import { childElements, parseXml, textContent, type XmlElement } from './xml.js';

const dir = mkdtempSync(path.join(tmpdir(), 'page-write-'));

// A Transkribus-like file: the pc: prefix, CRLF line ends, a comment, single quotes, an entity; line l1 has a
// line-level TextEquiv (and a Word with its own), l2 none but a TextStyle after its Coords, l3 two TextEquivs.
const SOURCE = [
  `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`,
  `<pc:PcGts xmlns:pc="http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15">`,
  `  <pc:Metadata><pc:Creator>hand &amp; eye</pc:Creator></pc:Metadata>`,
  `  <!-- kept as it is -->`,
  `  <pc:Page imageFilename='page.png' imageWidth="40" imageHeight="30">`,
  `    <pc:TextRegion id="r1"><pc:Coords points="0,0 39,0 39,29 0,29"/>`,
  `      <pc:TextLine id="l1" custom="readingOrder {index:0;}"><pc:Coords points="0,0 39,0 39,9 0,9"/>`,
  `        <pc:Word id="w1"><pc:Coords points="0,0 9,0 9,9"/><pc:TextEquiv><pc:Unicode>old word</pc:Unicode></pc:TextEquiv></pc:Word>`,
  `        <pc:TextEquiv conf="0.5"><pc:Unicode>old line</pc:Unicode></pc:TextEquiv>`,
  `      </pc:TextLine>`,
  `      <pc:TextLine id="l2"><pc:Coords points="0,10 39,10 39,19 0,19"/>`,
  `        <pc:TextStyle fontSize="10"/>`,
  `      </pc:TextLine>`,
  `      <pc:TextLine id="l3"><pc:Coords points="0,20 39,20 39,29 0,29"/><pc:TextEquiv index="1"><pc:Unicode>a</pc:Unicode></pc:TextEquiv><pc:TextEquiv index="2"><pc:Unicode>b</pc:Unicode></pc:TextEquiv></pc:TextLine>`,
  `    </pc:TextRegion>`,
  `  </pc:Page>`,
  `</pc:PcGts>`,
].join('\r\n');

beforeAll(async () => {
  // Ink in rows 2..6 of line 1 only: the crops are the Coords' boxes of this page.
  const px = Buffer.alloc(40 * 30, 255);
  for (let y = 2; y < 7; y++) for (let x = 5; x < 30; x++) px[y * 40 + x] = 0;
  await sharp(px, { raw: { width: 40, height: 30, channels: 1 } })
    .png()
    .toFile(path.join(dir, 'page.png'));
  writeFileSync(path.join(dir, 'page.xml'), SOURCE);
});

const lineLevel = (root: XmlElement) => {
  const out: Record<string, Array<[string, string | undefined]>> = {};
  const todo: XmlElement[] = [root];
  while (todo.length) {
    const el = todo.pop()!;
    if (el.name === 'TextLine')
      out[el.attrs['id']!] = childElements(el, 'TextEquiv').map((e) => [
        textContent(childElements(e, 'Unicode')[0]!),
        e.attrs['conf'],
      ]);
    for (const c of el.children) if (typeof c !== 'string') todo.push(c);
  }
  return out;
};

describe('PAGE XML out', () => {
  it('reads every TextLine, with or without text, cut by its Coords', async () => {
    const page = await readPageForRecognition(path.join(dir, 'page.xml'));
    expect(page.lines.map((l) => [l.id, l.image?.width, l.image?.height])).toEqual([
      ['l1', 40, 10],
      ['l2', 40, 10],
      ['l3', 40, 10],
    ]);
    // Ink (1) where the page is black: line 1 row 2, column 5.
    expect([
      page.lines[0]!.image!.data[2 * 40 + 5],
      page.lines[0]!.image!.data[0],
      Math.max(...page.lines[1]!.image!.data),
    ]).toEqual([1, 0, 0]);
  });

  it("replaces each TextLine's own TextEquiv (text escaped, conf), adds one where there is none, and keeps every other byte", async () => {
    const page = await readPageForRecognition(path.join(dir, 'page.xml'));
    const out = pageXmlWithText(page, [
      { text: 'new <&> "line"', conf: 0.91234 },
      { text: 'two' },
      { text: 'three', conf: 1.7 },
    ]);
    // The expected file, written out by hand from SOURCE.
    const expected = SOURCE.replace(
      '<pc:TextEquiv conf="0.5"><pc:Unicode>old line</pc:Unicode></pc:TextEquiv>',
      '<pc:TextEquiv conf="0.9123"><pc:Unicode>new &lt;&amp;&gt; &quot;line&quot;</pc:Unicode></pc:TextEquiv>',
    )
      .replace(
        '<pc:TextStyle fontSize="10"/>',
        '<pc:TextEquiv><pc:Unicode>two</pc:Unicode></pc:TextEquiv><pc:TextStyle fontSize="10"/>',
      )
      .replace(
        '<pc:TextEquiv index="1"><pc:Unicode>a</pc:Unicode></pc:TextEquiv><pc:TextEquiv index="2"><pc:Unicode>b</pc:Unicode></pc:TextEquiv>',
        '<pc:TextEquiv conf="1.0000"><pc:Unicode>three</pc:Unicode></pc:TextEquiv>',
      );
    expect(out).toBe(expected);
    expect(lineLevel(parseXml(out))).toEqual({
      l1: [['new <&> "line"', '0.9123']],
      l2: [['two', undefined]],
      l3: [['three', '1.0000']],
    });
    // A line without a result is left alone.
    expect(pageXmlWithText(page, [undefined, undefined, undefined])).toBe(SOURCE);
    // A byte order mark at the start of the file is kept.
    writeFileSync(path.join(dir, 'bom.xml'), `\uFEFF${SOURCE}`);
    const withBom = await readPageForRecognition(path.join(dir, 'bom.xml'));
    const two = SOURCE.replace(
      '<pc:TextStyle fontSize="10"/>',
      '<pc:TextEquiv><pc:Unicode>two</pc:Unicode></pc:TextEquiv><pc:TextStyle fontSize="10"/>',
    );
    expect(pageXmlWithText(withBom, [undefined, { text: 'two' }, undefined])).toBe(`\uFEFF${two}`);
  });

  it('refuses a file that declares an encoding other than UTF-8 (the text is written as UTF-8)', async () => {
    writeFileSync(path.join(dir, 'latin1.xml'), SOURCE.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"'));
    await expect(readPageForRecognition(path.join(dir, 'latin1.xml'))).rejects.toThrow(
      `${path.join(dir, 'latin1.xml')}:1: declares encoding 'ISO-8859-1'`,
    );
  });

  it('without a prefix, new elements have none', async () => {
    const plain = SOURCE.replaceAll('pc:', '').replace('xmlns:pc=', 'xmlns=');
    writeFileSync(path.join(dir, 'plain.xml'), plain);
    const page = await readPageForRecognition(path.join(dir, 'plain.xml'));
    expect(pageXmlWithText(page, [undefined, { text: 'x' }, undefined])).toBe(
      plain.replace('<TextStyle', '<TextEquiv><Unicode>x</Unicode></TextEquiv><TextStyle'),
    );
  });
});
