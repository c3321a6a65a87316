import { describe, expect, it } from 'vitest';
import { childElements, parseXml, textContent, XmlError } from './xml.js';

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
});
