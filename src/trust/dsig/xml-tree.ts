// The document model the XML-DSig layer canonicalizes: the XPath data model reduced to what Canonical
// XML without comments can see — elements with their attributes as written (namespace declarations
// included, values already normalised by the parser), text, and processing instructions. Comments
// are dropped at parse time, since neither c14n variant we accept outputs them.
//
// src/edxml/xml.ts is not reused: its tree trims text, joins mixed content and drops processing
// instructions, which is right for reading fields and wrong for hashing. The parser and its defences
// are the same, though — saxes, no DTD, the same size/depth/count limits, the same tolerance for the
// chunk-size junk before the first "<" of one official sample — so that what the signature covers is
// what the rest of the gateway reads.

import { isUtf8 } from 'node:buffer';
import { SaxesParser } from 'saxes';
import { DEFAULT_XML_LIMITS } from '../../edxml/xml.ts';
import type { XmlLimits } from '../../edxml/xml.ts';

export interface XmlAttribute {
  /** Qualified name as written, e.g. `Algorithm`, `xmlns:edXML`, `xml:lang`. */
  readonly name: string;
  /** The value after attribute-value normalisation (entities expanded, TAB/LF/CR → space). */
  readonly value: string;
}

export interface ElementNode {
  readonly kind: 'element';
  /** Qualified name as written. */
  readonly name: string;
  /** In document order, namespace declarations included. */
  readonly attributes: readonly XmlAttribute[];
  readonly children: readonly ContentNode[];
}

export interface TextNode {
  readonly kind: 'text';
  /** Character data after line-end normalisation; CDATA sections arrive here as plain text. */
  readonly value: string;
}

export interface ProcessingInstructionNode {
  readonly kind: 'pi';
  readonly target: string;
  readonly data: string;
}

export type ContentNode = ElementNode | TextNode | ProcessingInstructionNode;

export interface DocumentNode {
  /** From the XML declaration; '1.0' when there is none. */
  readonly xmlVersion: string;
  /** Processing instructions before the root element (the XML declaration is not one). */
  readonly before: readonly ProcessingInstructionNode[];
  readonly root: ElementNode;
  readonly after: readonly ProcessingInstructionNode[];
}

export type TreeOutcome = { readonly ok: true; readonly document: DocumentNode } | { readonly ok: false; readonly reason: string };

interface MutableElement {
  readonly kind: 'element';
  readonly name: string;
  readonly attributes: XmlAttribute[];
  readonly children: ContentNode[];
}

/** Thrown inside saxes callbacks to stop at once; caught in parseDocumentTree. */
class Stop {
  constructor(readonly reason: string) {}
}

const UTF8_BOM = [0xef, 0xbb, 0xbf] as const;
// Same tolerance as src/edxml/xml.ts: an HTTP chunk-size line ("1212") leaked into edoc_new.edxml.
const JUNK_PREFIX_MAX = 16;
const JUNK_PREFIX = /^[0-9A-Fa-f\s]*$/;

export interface TreeOptions {
  /**
   * Require the root element to end exactly at the end of the input: nothing after it, not even
   * whitespace or a comment. Used to confirm where an element found inside a larger document ends.
   */
  readonly rootEndsInput?: boolean;
}

/** Parses `input` into the c14n model within `limits`; refuses (never throws) on anything else. */
export function parseDocumentTree(input: Buffer, limits: XmlLimits = DEFAULT_XML_LIMITS, options: TreeOptions = {}): TreeOutcome {
  if (input.length > limits.maxBytes) return { ok: false, reason: `the packet is ${input.length} bytes, above the ${limits.maxBytes}-byte limit` };
  if (!isUtf8(input)) return { ok: false, reason: 'the packet is not valid UTF-8' };
  const bom = input[0] === UTF8_BOM[0] && input[1] === UTF8_BOM[1] && input[2] === UTF8_BOM[2];
  let text = input.toString('utf8', bom ? 3 : 0);
  const first = text.indexOf('<');
  if (first === -1) return { ok: false, reason: 'the packet contains no XML markup' };
  if (first > 0) {
    const junk = text.slice(0, first);
    if (junk.length > JUNK_PREFIX_MAX || !JUNK_PREFIX.test(junk)) return { ok: false, reason: 'the packet has content before the first "<"' };
    text = text.slice(first);
  }

  const before: ProcessingInstructionNode[] = [];
  const after: ProcessingInstructionNode[] = [];
  const stack: MutableElement[] = [];
  let root: MutableElement | undefined;
  let elements = 0;
  // Read when the root starts: saxes resets its declaration record when the parse is closed.
  let xmlVersion = '1.0';

  // Seven handlers at most, as in src/edxml/xml.ts: more turn saxes's handler store into a
  // dictionary-mode object and the parse gets several times slower.
  const parser = new SaxesParser({ xmlns: false, position: true });
  parser.on('error', (err: Error) => {
    throw new Stop(`the packet is not well-formed XML: ${err.message}`);
  });
  parser.on('doctype', () => {
    throw new Stop('the packet contains a <!DOCTYPE> declaration');
  });
  parser.on('opentag', (tag) => {
    if (stack.length === 0) {
      if (root !== undefined) throw new Stop('the packet has more than one root element');
      xmlVersion = parser.xmlDecl.version ?? '1.0';
      const encoding = parser.xmlDecl.encoding;
      if (encoding !== undefined && !/^utf-?8$/i.test(encoding)) throw new Stop(`the XML declaration names encoding "${encoding}", not UTF-8`);
    }
    elements += 1;
    if (elements > limits.maxElements) throw new Stop(`the packet has more than ${limits.maxElements} elements`);
    if (stack.length + 1 > limits.maxDepth) throw new Stop(`elements nest deeper than ${limits.maxDepth} levels`);
    const attributes: XmlAttribute[] = [];
    // With `xmlns: false` saxes gives plain name → value strings, in document order.
    for (const [name, value] of Object.entries(tag.attributes)) attributes.push({ name, value });
    if (attributes.length > limits.maxAttributesPerElement) throw new Stop(`an element has more than ${limits.maxAttributesPerElement} attributes`);
    const element: MutableElement = { kind: 'element', name: tag.name, attributes, children: [] };
    const parent = stack[stack.length - 1];
    if (parent === undefined) root = element;
    else parent.children.push(element);
    // saxes follows the opentag of `<a/>` with a closetag, so every element is pushed.
    stack.push(element);
  });
  const onText = (value: string): void => {
    const top = stack[stack.length - 1];
    // Outside the root saxes lets only whitespace through, and c14n drops it.
    if (top === undefined) return;
    if (value.length > limits.maxTextLength) throw new Stop(`a text node is longer than ${limits.maxTextLength} characters`);
    top.children.push({ kind: 'text', value });
  };
  parser.on('text', onText);
  parser.on('cdata', onText);
  let rootEnd = -1;
  parser.on('closetag', () => {
    stack.pop();
    // saxes's position is an index into the string, just past the ">" here.
    if (stack.length === 0) rootEnd = parser.position;
  });
  parser.on('processinginstruction', (pi) => {
    const node: ProcessingInstructionNode = { kind: 'pi', target: pi.target, data: pi.body };
    const top = stack[stack.length - 1];
    if (top !== undefined) top.children.push(node);
    else if (root === undefined) before.push(node);
    else after.push(node);
  });

  try {
    parser.write(text).close();
  } catch (err) {
    if (err instanceof Stop) return { ok: false, reason: err.reason };
    return { ok: false, reason: `the packet could not be read: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (root === undefined) return { ok: false, reason: 'the packet has no root element' };
  if (options.rootEndsInput === true && (first !== 0 || rootEnd !== text.length)) return { ok: false, reason: 'something follows the root element' };
  return { ok: true, document: { xmlVersion, before, root, after } };
}
