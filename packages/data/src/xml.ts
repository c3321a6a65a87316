import { SaxesParser } from 'saxes';

/**
 * XML read through saxes (a maintained, conformant streaming parser) into a small tree, enough for PAGE XML.
 * Element names keep their qualified form (`qname`) and are matched by local name (`name`: `pc:TextLine` ->
 * `TextLine`) so that callers need not depend on a namespace URI. Every element records where it lies in the
 * source (offsets into the string as given), so that a caller can rewrite one element and keep every other
 * byte (pageXmlWithText). Elements nest at most `maxDepth` deep (default MAX_XML_DEPTH); a DOCTYPE with an
 * internal subset (entity declarations: billion laughs, external files) is refused. Errors carry the 1-based line.
 */

export interface XmlElement {
  /** Local name: the qualified name without its prefix. */
  name: string;
  /** The name as written, prefix included. */
  qname: string;
  /**
   * Attributes by qualified name, entities decoded. An object without a prototype: `toString`,
   * `constructor` or `__proto__` are attributes like any other.
   */
  attrs: Record<string, string>;
  children: XmlNode[];
  /** Line of the element's `<`. */
  line: number;
  /** Offsets in the source: the `<` of the start tag, just after its `>`, the `<` of the end tag, just after its `>`. */
  start: number;
  contentStart: number;
  contentEnd: number;
  end: number;
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

/** The five entities XML predefines, by name (IAM's lines.txt writes them too). */
export const NAMED_ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** How deep elements may nest by default: PAGE XML needs under 10 levels; 20,000 is an attack or a broken file. */
export const MAX_XML_DEPTH = 256;

export interface ParseXmlOptions {
  /** Deepest element nesting allowed (the root is depth 1). Default MAX_XML_DEPTH. */
  maxDepth?: number;
}

/** Parses a whole document and returns its root element; the first error is thrown as an XmlError. */
export function parseXml(source: string, options: ParseXmlOptions = {}): XmlElement {
  const maxDepth = options.maxDepth ?? MAX_XML_DEPTH;
  const parser = new SaxesParser({ position: true });
  const fail = (message: string, line = parser.line): never => {
    throw new XmlError(message, line);
  };
  // saxes says "2:8: duplicate attribute: x."; the line goes to XmlError.line, the column stays in the message.
  parser.on('error', (err) => fail(err.message.replace(/^(\d+):(\d+): (.*?)\.?$/, 'column $2: $3')));
  parser.on('doctype', (doctype) => {
    if (doctype.includes('[')) fail('DOCTYPE with an internal subset (entity declarations) is not supported');
  });
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let start = 0,
    line = 1,
    counted = 0; // the line of `start`, newlines counted up to `counted`
  parser.on('opentagstart', (tag) => {
    // Reported once the character after the name is read (a newline there would be counted in parser.line).
    start = source.lastIndexOf('<', parser.position - tag.name.length - 1);
    for (let i = source.indexOf('\n', counted); i >= 0 && i < start; i = source.indexOf('\n', i + 1)) line++;
    counted = start;
    if (stack.length >= maxDepth) fail(`<${tag.name}> nests elements deeper than ${maxDepth} levels`);
  });
  parser.on('opentag', (tag) => {
    const attrs = Object.create(null) as Record<string, string>;
    for (const [k, v] of Object.entries(tag.attributes)) attrs[k] = typeof v === 'string' ? v : v.value;
    const el: XmlElement = {
      name: tag.name.slice(tag.name.indexOf(':') + 1),
      qname: tag.name,
      attrs,
      children: [],
      line,
      start,
      contentStart: parser.position,
      contentEnd: parser.position,
      end: parser.position,
    };
    const parent = stack.at(-1);
    if (parent) parent.children.push(el);
    else root = el;
    stack.push(el);
  });
  parser.on('closetag', () => {
    const el = stack.pop()!;
    el.end = parser.position;
    if (el.end !== el.contentStart) el.contentEnd = source.lastIndexOf('</', el.end - 2);
  });
  const addText = (text: string) => stack.at(-1)?.children.push(text);
  parser.on('text', addText);
  parser.on('cdata', addText);
  parser.write(source).close();
  return root ?? fail('no root element');
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

/** Text escaped for element content or a double-quoted attribute value. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}
