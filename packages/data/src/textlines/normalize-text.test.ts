import { describe, expect, it } from 'vitest';
import { normalizeText } from './normalize-text.js';

describe('normalizeText', () => {
  it('decodes entities and writes typographic punctuation as ASCII', () => {
    expect(normalizeText('&quot;act&quot; &amp; money&mdash;a sum &#8220;x&#x201D;')).toBe('"act" & money--a sum "x"');
    expect(normalizeText("it\u2019s \u2018so\u2019 \u201cthen\u201d 1990\u20131991 wait\u2026 `x'")).toBe(
      "it's 'so' \"then\" 1990-1991 wait... 'x'",
    );
  });

  it('composes to NFC and collapses white space, non-breaking spaces included', () => {
    expect(normalizeText('  Jose\u0301\u00a0 and\n\tthe   rest ')).toBe('Jos\u00e9 and the rest');
  });
});
