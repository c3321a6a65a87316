/**
 * A small, strict XML parser, enough for PAGE XML: elements, attributes (' or " quoted), self-closing tags,
 * text, the five predefined entities and character references, comments, CDATA, processing instructions and a
 * DOCTYPE without entity declarations. Namespace prefixes are dropped from element names (`pc:TextLine` ->
 * `TextLine`) so that callers need not depend on a namespace URI. Elements nest at most `maxDepth` deep
 * (default MAX_XML_DEPTH). Errors carry the 1-based line.
 */

export interface XmlElement {
  /** Local name: the qualified name without its prefix. */
  name: string;
  /**
   * Attributes by qualified name, entities decoded. An object without a prototype: `toString`,
   * `constructor` or `__proto__` are attributes like any other.
   */
  attrs: Record<string, string>;
  children: XmlNode[];
  /** Line of the element's `<`. */
  line: number;
}

export type XmlNode = XmlElement | string;

export class XmlError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

/** The five entities XML predefines, by name. */
export const NAMED_ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
/** How deep elements may nest by default: PAGE XML needs under 10 levels; 20,000 is an attack or a broken file. */
export const MAX_XML_DEPTH = 256;
const NAME = /[^\s<>/=!?"']+/y;
const SPACE = /\s*/y;

export interface ParseXmlOptions {
  /** Deepest element nesting allowed (the root is depth 1). Default MAX_XML_DEPTH. */
  maxDepth?: number;
}

/** Parses a whole document and returns its root element. Line ends are normalised to `\n`. */
export function parseXml(source: string, options: ParseXmlOptions = {}): XmlElement {
  const maxDepth = options.maxDepth ?? MAX_XML_DEPTH;
  const text = source.replace(/\r\n?/g, '\n');
  const lineStarts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  function lineAt(pos: number): number {
    let lo = 0, hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }
  function fail(message: string, pos: number): never {
    throw new XmlError(message, lineAt(pos));
  }
  const indexOrFail = (token: string, from: number, what: string, start: number): number => {
    const at = text.indexOf(token, from);
    return at >= 0 ? at : fail(`unterminated ${what} (no '${token}')`, start);
  };
  const decode = (raw: string, pos: number): string =>
    raw.includes('&') ? raw.replace(/&([^&;]*)(;?)/g, (m, ref: string, semi: string, offset: number) => decodeReference(ref, semi, pos + offset)) : raw;
  const decodeReference = (ref: string, semi: string, pos: number): string => {
    if (!semi) return fail(`'&' must start an entity reference like '&amp;'`, pos);
    if (/^#x[0-9a-fA-F]+$|^#[0-9]+$/.test(ref)) {
      const code = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      const valid = code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff));
      return valid ? String.fromCodePoint(code) : fail(`character reference '&${ref};' is not a valid XML character`, pos);
    }
    return NAMED_ENTITIES[ref] ?? fail(`unknown entity '&${ref};' (expected &amp; &lt; &gt; &quot; &apos; or &#N;)`, pos);
  };
  const readName = (pos: number, what: string): string => {
    NAME.lastIndex = pos;
    const m = NAME.exec(text);
    return m ? m[0] : fail(`expected ${what}`, pos);
  };
  const skipSpace = (pos: number): number => {
    SPACE.lastIndex = pos;
    SPACE.exec(text);
    return SPACE.lastIndex;
  };

  const stack: { el: XmlElement; qname: string }[] = [];
  let root: XmlElement | undefined;
  const addText = (value: string, pos: number): void => {
    const top = stack.at(-1);
    if (top) top.el.children.push(value);
    else if (value.trim() !== '') fail('text outside the root element', pos);
  };

  let pos = 0;
  while (pos < text.length) {
    const lt = text.indexOf('<', pos);
    const end = lt < 0 ? text.length : lt;
    if (end > pos) addText(decode(text.slice(pos, end), pos), pos);
    if (lt < 0) break;
    if (text.startsWith('<!--', lt)) {
      pos = indexOrFail('-->', lt + 4, 'comment', lt) + 3;
    } else if (text.startsWith('<![CDATA[', lt)) {
      const close = indexOrFail(']]>', lt + 9, 'CDATA section', lt);
      addText(text.slice(lt + 9, close), lt);
      pos = close + 3;
    } else if (text.startsWith('<?', lt)) {
      pos = indexOrFail('?>', lt + 2, 'processing instruction', lt) + 2;
    } else if (text.startsWith('<!DOCTYPE', lt)) {
      const gt = indexOrFail('>', lt, 'DOCTYPE', lt);
      const bracket = text.indexOf('[', lt);
      if (bracket >= 0 && bracket < gt) fail('DOCTYPE with an internal subset is not supported', lt);
      pos = gt + 1;
    } else if (text.startsWith('</', lt)) {
      const qname = readName(lt + 2, 'an element name after </');
      const gt = skipSpace(lt + 2 + qname.length);
      if (text[gt] !== '>') fail(`expected '>' to close </${qname}`, gt);
      const open = stack.pop();
      if (!open) fail(`</${qname}> without an open element`, lt);
      else if (open.qname !== qname) fail(`</${qname}> closes <${open.qname}> (opened on line ${open.el.line})`, lt);
      pos = gt + 1;
    } else {
      const qname = readName(lt + 1, 'an element name after <');
      if (stack.length >= maxDepth) fail(`<${qname}> nests elements deeper than ${maxDepth} levels`, lt);
      const attrs = Object.create(null) as Record<string, string>;
      const el: XmlElement = { name: qname.slice(qname.indexOf(':') + 1), attrs, children: [], line: lineAt(lt) };
      let p = lt + 1 + qname.length;
      for (;;) {
        const afterSpace = skipSpace(p);
        if (text.startsWith('/>', afterSpace) || text[afterSpace] === '>') {
          p = afterSpace;
          break;
        }
        if (afterSpace === p) fail(`expected whitespace, '>' or '/>' in <${qname}>`, p);
        const attr = readName(afterSpace, `an attribute name, '>' or '/>' in <${qname}>`);
        const eq = skipSpace(afterSpace + attr.length);
        if (text[eq] !== '=') fail(`expected '=' after attribute '${attr}' in <${qname}>`, eq);
        const q = skipSpace(eq + 1);
        const quote = text[q];
        if (quote !== '"' && quote !== "'") fail(`expected a quoted value for attribute '${attr}' in <${qname}>`, q);
        const close = indexOrFail(quote!, q + 1, `value of attribute '${attr}'`, q);
        const raw = text.slice(q + 1, close);
        if (raw.includes('<')) fail(`'<' in the value of attribute '${attr}'`, q);
        if (Object.hasOwn(attrs, attr)) fail(`duplicate attribute '${attr}' in <${qname}>`, afterSpace);
        attrs[attr] = decode(raw, q + 1);
        p = close + 1;
      }
      const parent = stack.at(-1);
      if (parent) parent.el.children.push(el);
      else if (root) fail(`second root element <${qname}>`, lt);
      else root = el;
      if (text[p] === '>') stack.push({ el, qname });
      pos = p + (text[p] === '>' ? 1 : 2);
    }
  }
  const open = stack.at(-1);
  if (open) fail(`<${open.qname}> is never closed`, lineStarts[open.el.line - 1]!);
  return root ?? fail('no root element', 0);
}

/** The direct child elements of `el` named `name` (local name). */
export function childElements(el: XmlElement, name: string): XmlElement[] {
  return el.children.filter((c): c is XmlElement => typeof c !== 'string' && c.name === name);
}

/** The concatenated text of `el` and its descendants, in document order (iterative: any depth). */
export function textContent(el: XmlElement): string {
  const parts: string[] = [];
  const todo: XmlNode[] = [el];
  while (todo.length) {
    const node = todo.pop()!;
    if (typeof node === 'string') parts.push(node);
    else for (let i = node.children.length - 1; i >= 0; i--) todo.push(node.children[i]!);
  }
  return parts.join('');
}
