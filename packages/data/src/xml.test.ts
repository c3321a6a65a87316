import { describe, expect, it } from 'vitest';
import { childElements, MAX_XML_DEPTH, parseXml, textContent, XmlError } from './xml.js';

describe('parseXml', () => {
  it('reads elements, both quote styles, self-closing tags, entities, CDATA, comments, PIs and a DOCTYPE', () => {
    const root = parseXml(
      [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<!DOCTYPE doc>',
        '<!-- a comment with <tags> -->',
        "<p:doc xmlns:p='urn:x' a=\"1 &amp; 2\" b='say &quot;hi&quot;'>",
        '  <item n="&#65;&#x42;&lt;&gt;&apos;"/>',
        '  <text>x &lt; y<![CDATA[ & <raw> ]]>z<?pi inside?></text>',
        '</p:doc>',
      ].join('\r\n'),
    );
    expect([root.name, root.qname]).toEqual(['doc', 'p:doc']); // matched by local name, written with its prefix
    expect(root.attrs).toEqual({ 'xmlns:p': 'urn:x', a: '1 & 2', b: 'say "hi"' });
    expect(root.line).toBe(4);
    const [item] = childElements(root, 'item');
    expect(item).toMatchObject({ attrs: { n: "AB<>'" }, children: [], line: 5 });
    const [text] = childElements(root, 'text');
    expect(textContent(text!)).toBe('x < y & <raw> z');
  });

  // saxes's messages, with the column; the line goes to XmlError.line (and callers put it beside the file name).
  const errors: [string, string, number][] = [
    ['<a>\n<b>\n</a>', 'column 4: unexpected close tag', 3],
    ['<a>\n  <b>', 'column 5: unclosed tag: b', 2],
    ['<a x="1"\n x="2"/>', 'column 8: duplicate attribute: x', 2],
    ['<a>\n&nbsp;</a>', 'column 6: undefined entity', 2],
    ['<a>&#0;</a>', 'column 7: malformed character entity', 1],
    ['<a/>\n<b/>', 'column 3: documents may contain only one root', 2],
    ['text<a/>', 'column 5: text data outside of root node', 1],
    ['<a x=1/>', 'column 6: unquoted attribute value', 1],
    ['<a>\n<!-- open', 'column 9: unclosed tag: a', 2],
    ['<a b="1"c="2"/>', 'column 9: no whitespace between attributes', 1],
    ['', 'column 0: document must contain a root element', 1],
    // A DTD with an internal subset could declare entities (billion laughs, external files): refused.
    [
      '<?xml version="1.0"?>\n<!DOCTYPE a [\n<!ENTITY x "xx">\n]>\n<a>&x;</a>',
      'DOCTYPE with an internal subset (entity declarations) is not supported',
      4,
    ],
    ['<a __proto__="1" __proto__="2"/>', 'column 32: duplicate attribute: __proto__', 1],
    [`<r>\n${'<a>'.repeat(MAX_XML_DEPTH)}`, `<a> nests elements deeper than ${MAX_XML_DEPTH} levels`, 2],
  ];
  for (const [xml, message, line] of errors) {
    it(`fails with a line: ${message}`, () => {
      let caught: unknown;
      try {
        parseXml(xml);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(XmlError);
      expect([(caught as XmlError).message, (caught as XmlError).line]).toEqual([message, line]);
    });
  }

  it('records where each element lies in the source: start tag, content and end tag, CRLF and astral characters counted', () => {
    const src =
      '<?xml version="1.0"?>\r\n<pc:r xmlns:pc="u">\r\n \u{1D518}\u00e9<pc:b x="1"/>\r\n<c >t&amp;</c ></pc:r>';
    const root = parseXml(src);
    const [b] = childElements(root, 'b'),
      [c] = childElements(root, 'c');
    expect(src.slice(root.start, root.contentStart)).toBe('<pc:r xmlns:pc="u">');
    expect(src.slice(root.contentEnd, root.end)).toBe('</pc:r>');
    expect([src.slice(b!.start, b!.end), b!.contentStart, b!.contentEnd]).toEqual(['<pc:b x="1"/>', b!.end, b!.end]);
    expect([src.slice(c!.contentStart, c!.contentEnd), src.slice(c!.contentEnd, c!.end), textContent(c!)]).toEqual([
      't&amp;',
      '</c >',
      't&',
    ]);
    expect(root.end).toBe(src.length);
    // The line is the '<''s, also when a line end follows the name.
    expect(
      parseXml('<a>\r\n<TextLine\r\n id="x"/></a>')
        .children.filter((c) => typeof c !== 'string')
        .map((c) => (c as { line: number }).line),
    ).toEqual([2]);
  });

  it('stores toString, constructor, __proto__ and hasOwnProperty as ordinary attributes', () => {
    const el = parseXml('<a toString="1" constructor="2" __proto__="3" hasOwnProperty="4" valueOf="5"/>');
    expect(Object.getPrototypeOf(el.attrs)).toBeNull();
    expect(Object.entries(el.attrs)).toEqual([
      ['toString', '1'],
      ['constructor', '2'],
      ['__proto__', '3'],
      ['hasOwnProperty', '4'],
      ['valueOf', '5'],
    ]);
    expect(el.attrs['toString']).toBe('1');
    expect(({} as Record<string, unknown>).__proto__).toBe(Object.prototype); // nothing leaked into plain objects
  });

  it('allows MAX_XML_DEPTH levels, more with maxDepth, and collects the text of 20,000 levels without recursion', () => {
    const nested = (n: number) => `${'<a>'.repeat(n)}x${'</a>'.repeat(n)}`;
    expect(textContent(parseXml(nested(MAX_XML_DEPTH)))).toBe('x');
    expect(() => parseXml(nested(20_000))).toThrow(XmlError);
    // A caller that raises the limit gets a tree its own recursion could not walk; textContent walks it.
    expect(textContent(parseXml(nested(20_000), { maxDepth: 20_000 }))).toBe('x');
  });
});
