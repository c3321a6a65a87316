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
    expect(root.name).toBe('doc'); // prefix dropped
    expect(root.attrs).toEqual({ 'xmlns:p': 'urn:x', a: '1 & 2', b: 'say "hi"' });
    expect(root.line).toBe(4);
    const [item] = childElements(root, 'item');
    expect(item).toMatchObject({ attrs: { n: "AB<>'" }, children: [], line: 5 });
    const [text] = childElements(root, 'text');
    expect(textContent(text!)).toBe('x < y & <raw> z');
  });

  const errors: [string, string, number][] = [
    ['<a>\n<b>\n</a>', '</a> closes <b> (opened on line 2)', 3],
    ['<a>\n  <b>', '<b> is never closed', 2],
    ['<a x="1"\n x="2"/>', "duplicate attribute 'x' in <a>", 2],
    ['<a>\n&nbsp;</a>', "unknown entity '&nbsp;' (expected &amp; &lt; &gt; &quot; &apos; or &#N;)", 2],
    ['<a>\n\nfish & chips</a>', "'&' must start an entity reference like '&amp;'", 3],
    ['<a>&#0;</a>', "character reference '&#0;' is not a valid XML character", 1],
    ['<a/>\n<b/>', 'second root element <b>', 2],
    ['text<a/>', 'text outside the root element', 1],
    ['<a x=1/>', "expected a quoted value for attribute 'x' in <a>", 1],
    ['<a>\n<!-- open', "unterminated comment (no '-->')", 2],
    ['<a b="1"c="2"/>', "expected whitespace, '>' or '/>' in <a>", 1],
    ['', 'no root element', 1],
    // A DTD with an internal subset could declare entities (billion laughs, external files): refused.
    ['<?xml version="1.0"?>\n<!DOCTYPE a [\n<!ENTITY x "xx">\n]>\n<a>&x;</a>', 'DOCTYPE with an internal subset is not supported', 2],
    ['<a __proto__="1" __proto__="2"/>', "duplicate attribute '__proto__' in <a>", 1],
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

  it('stores toString, constructor, __proto__ and hasOwnProperty as ordinary attributes', () => {
    const el = parseXml('<a toString="1" constructor="2" __proto__="3" hasOwnProperty="4" valueOf="5"/>');
    expect(Object.getPrototypeOf(el.attrs)).toBeNull();
    expect(Object.entries(el.attrs)).toEqual([['toString', '1'], ['constructor', '2'], ['__proto__', '3'], ['hasOwnProperty', '4'], ['valueOf', '5']]);
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
