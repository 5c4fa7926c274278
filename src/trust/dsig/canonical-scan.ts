// The fast path: prove with one cheap scan that a packet's bytes already are their own canonical form,
// so that the digest of "the document minus its Signature" is a hash over two byte ranges — no tree,
// no string building, no second copy. src/edxml/build.ts writes exactly this form, so our own packets
// (and anything re-signed by us) take this path; anything else falls back to the general path
// (xml-tree.ts + canonicalize.ts). The scan never refuses a packet: "not canonical" only means "slow".
//
// What the scan accepts, and why each rule makes bytes == c14n(bytes) == exc-c14n(bytes) for the
// root element (c14n of a document outputs only the root when nothing but an XML declaration and
// whitespace surrounds it, and the enveloped-signature transform removes one element and its
// subtree, which is a byte range cut out of the root):
// - UTF-8 (checked), no byte order mark, no CR anywhere (a parser turns CR and CRLF into LF, so a raw
//   CR can never be canonical), none of the control characters XML 1.0 forbids, no U+FFFE/U+FFFF;
// - an optional XML declaration written `<?xml version="1.0"[ encoding="UTF-8"][ standalone="…"]?>`,
//   then only spaces, TABs and LFs before the root and after it (c14n drops them);
// - no comment, CDATA section, processing instruction or DOCTYPE anywhere (`<!` or `<?` after the
//   declaration): c14n would drop, rewrite or refuse them;
// - tags written exactly `<name( attr="value")*>` and `</name>`: one space before each attribute,
//   double quotes, no other whitespace, no `<a/>` (c14n writes `<a></a>`); names ASCII only
//   (everything the standard uses; non-ASCII names are legal and take the general path);
// - in text, `&` only in `&amp;` `&lt;` `&gt;` `&#xD;` and no raw `>`; in attribute values, `&` only
//   in `&amp;` `&lt;` `&quot;` `&#x9;` `&#xA;` `&#xD;`, no raw `<`, TAB or LF (the parser would turn
//   them into spaces) — exactly c14n's escaping, so the parsed value re-escapes to the same bytes;
// - namespace declarations before attributes, in prefix order (default first), attributes after them
//   in (namespace URI, local name) order, no duplicates, no xml:* attribute (c14n 1.0 copies those
//   into a subtree apex; they take the general path), every prefix bound;
// - every namespace declaration is used by its own element (the element's prefix, or an attribute's)
//   and changes the binding in scope. By induction every declaration is then rendered by both c14n
//   (which renders what differs from the parent) and exc-c14n (which renders what is used and not yet
//   rendered), and neither renders anything else: an inherited binding was rendered where it was
//   declared. This is the rule that makes one scan valid for both algorithms; an unused declaration
//   (say xmlns:xsi on the root) is kept by c14n and dropped by exc-c14n, so it takes the general path.
//
// One exception: the XML-DSig Signature child of edXMLHeader, whose bytes the digest leaves out, may be
// written any way (xmlsec1, xml-crypto and .NET write `<Transform …/>` into an otherwise untouched
// packet). When the strict scan fails inside it, the packet is scanned again with that element
// delimited by a tolerant tokenizer and confirmed by the parser (see `parsedSignature`).
//
// While scanning it also finds what the verifier and the signer need: the root's byte range, every
// Signature element in the XML-DSig namespace (with its byte range, and whether it is the child of
// /edXML/edXMLEnvelope/edXMLHeader), the children of that edXMLHeader, and the first Signature's
// subtree as a tree (it is small; SignedInfo is canonicalized from it by canonicalize.ts).

import { isUtf8 } from 'node:buffer';
import { EDXML_NAMESPACE, XMLDSIG_NAMESPACE } from '../../edxml/model.ts';
import { DEFAULT_XML_LIMITS } from '../../edxml/xml.ts';
import type { XmlLimits } from '../../edxml/xml.ts';
import { compareCodePoints, EMPTY_SCOPE, scopeOf, splitQName, XML_NAMESPACE, XMLNS_NAMESPACE } from './canonicalize.ts';
import type { Scope } from './canonicalize.ts';
import { dsigSignaturesWithin } from './tree-layout.ts';
import { parseDocumentTree } from './xml-tree.ts';
import type { ContentNode, ElementNode, XmlAttribute } from './xml-tree.ts';

/** A half-open byte range [start, end). */
export interface ByteSpan {
  readonly start: number;
  readonly end: number;
}

export interface ScannedChild {
  readonly local: string;
  readonly namespace: string | undefined;
  readonly span: ByteSpan;
}

export interface ScannedSignature {
  readonly span: ByteSpan;
  /** True when it is a child of /edXML/edXMLEnvelope/edXMLHeader (QCVN namespace). */
  readonly inHeader: boolean;
}

export interface ScannedHeader {
  /** The namespaces in scope inside edXMLHeader. */
  readonly scope: Scope;
  /** Just after the `>` of its start tag. */
  readonly startTagEnd: number;
  readonly children: readonly ScannedChild[];
}

export interface CanonicalScan {
  /** The root element, from its `<` to just after its end tag's `>`. */
  readonly root: ByteSpan;
  /** Every Signature element in the XML-DSig namespace, in document order. */
  readonly dsigSignatures: readonly ScannedSignature[];
  /** The first of them as a tree, and the scope at its parent, for reading and canonicalizing SignedInfo. */
  readonly firstSignature: { readonly element: ElementNode; readonly parentScope: Scope } | undefined;
  /** The first /edXML/edXMLEnvelope/edXMLHeader. */
  readonly header: ScannedHeader | undefined;
}

export type ScanOutcome = { readonly canonical: true; readonly scan: CanonicalScan } | { readonly canonical: false; readonly reason: string };

const LT = 0x3c;
const GT = 0x3e;
const AMP = 0x26;
const QUOT = 0x22;
const SLASH = 0x2f;
const APOS = 0x27;
const EQUALS = 0x3d;
const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;

// 1: may start a name; 2: may continue one. ASCII only, see the header comment.
const NAME_CLASS = new Uint8Array(256);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z_]/.test(ch)) NAME_CLASS[c] = 1;
  else if (/[0-9.\-:]/.test(ch)) NAME_CLASS[c] = 2;
}

// Control characters XML 1.0 forbids (TAB and LF are allowed; CR is refused before, as never
// canonical). One native memchr pass per byte value is about 3× faster than a regular expression
// over the latin1 view of the bytes (0.65 vs 2.0 ms per MB, measured), and a JS byte loop is slower
// still (2.2 ms per MB).
const FORBIDDEN_CONTROLS: readonly number[] = Array.from({ length: 32 }, (_, c) => c).filter((c) => c !== TAB && c !== LF && c !== CR);
// U+FFFE and U+FFFF in UTF-8: EF BF BE and EF BF BF.
const NONCHARACTER_LEAD = Buffer.from([0xef, 0xbf]);

function hasForbiddenCharacters(bytes: Buffer): boolean {
  for (const c of FORBIDDEN_CONTROLS) if (bytes.indexOf(c) !== -1) return true;
  for (let at = bytes.indexOf(NONCHARACTER_LEAD); at !== -1; at = bytes.indexOf(NONCHARACTER_LEAD, at + 1)) {
    const third = bytes[at + 2];
    if (third === 0xbe || third === 0xbf) return true;
  }
  return false;
}
const XML_DECLARATION = /^<\?xml version="1\.0"(?: encoding="(?:UTF|utf)-8")?(?: standalone="(?:yes|no)")?\?>$/;
const XML_DECLARATION_MAX = 100;

interface Escape {
  readonly bytes: Buffer;
  readonly char: string;
}

const escape = (text: string, char: string): Escape => ({ bytes: Buffer.from(text, 'latin1'), char });
const TEXT_ESCAPES: readonly Escape[] = [escape('&amp;', '&'), escape('&lt;', '<'), escape('&gt;', '>'), escape('&#xD;', '\r')];
const ATTRIBUTE_ESCAPES: readonly Escape[] = [
  escape('&amp;', '&'),
  escape('&lt;', '<'),
  escape('&quot;', '"'),
  escape('&#x9;', '\t'),
  escape('&#xA;', '\n'),
  escape('&#xD;', '\r'),
];

/** The length of the allowed escape starting at `at` (an `&`), or 0. */
function escapeLengthAt(bytes: Buffer, at: number, escapes: readonly Escape[]): number {
  for (const e of escapes) {
    if (bytes.length - at >= e.bytes.length && bytes.compare(e.bytes, 0, e.bytes.length, at, at + e.bytes.length) === 0) return e.bytes.length;
  }
  return 0;
}

function decode(raw: string, escapes: readonly Escape[]): string {
  if (!raw.includes('&')) return raw;
  let out = raw;
  for (const e of escapes) out = out.split(e.bytes.toString('latin1')).join(e.char);
  return out;
}

/** Where the name starting at `at` ends; -1 when no valid ASCII (prefix:)local name starts there. */
function nameEnd(bytes: Buffer, at: number): number {
  if (at >= bytes.length || NAME_CLASS[bytes[at] ?? 0] !== 1) return -1;
  let i = at + 1;
  let colon = -1;
  while (i < bytes.length) {
    const c = bytes[i] ?? 0;
    if (NAME_CLASS[c] === 0) break;
    if (c === COLON) {
      if (colon !== -1) return -1;
      colon = i;
    }
    i++;
  }
  // A colon must separate two non-empty parts, and the part after it must start like a name.
  if (colon !== -1 && (colon === i - 1 || NAME_CLASS[bytes[colon + 1] ?? 0] !== 1)) return -1;
  return i;
}

interface RawAttribute {
  readonly name: string;
  readonly valueStart: number;
  readonly valueEnd: number;
}

type Role = 'root' | 'envelope' | 'header' | 'other';

interface CapturedElement {
  readonly kind: 'element';
  readonly name: string;
  readonly attributes: XmlAttribute[];
  readonly children: ContentNode[];
}

interface Frame {
  readonly name: string;
  readonly scope: Scope;
  readonly role: Role;
  /** Inside the first DSig Signature (and on it): the tree node being built. */
  readonly captured: CapturedElement | undefined;
  /** Index in `dsigSignatures` when this element is a DSig Signature, else -1. */
  readonly dsigSignatureIndex: number;
  /** A child of edXMLHeader named Signature (any namespace). */
  readonly isHeaderSignature: boolean;
}

interface MutableHeader {
  readonly scope: Scope;
  readonly startTagEnd: number;
  readonly children: { local: string; namespace: string | undefined; start: number; end: number }[];
  done: boolean;
}

class NotCanonical {
  constructor(readonly reason: string) {}
}

function fail(reason: string): never {
  throw new NotCanonical(reason);
}

/** Scans `bytes`; `canonical: true` guarantees the root's bytes are its c14n and exc-c14n form. */
export function scanCanonical(bytes: Buffer, limits: XmlLimits = DEFAULT_XML_LIMITS): ScanOutcome {
  const strict = new Scanner(bytes, limits, -1);
  try {
    return { canonical: true, scan: strict.run() };
  } catch (err) {
    if (!(err instanceof NotCanonical)) throw err;
    // The Signature's own bytes are not digested, so they need not be canonical: other signers
    // (xmlsec1, xml-crypto, .NET) write `<Transform …/>` into an otherwise untouched packet. Scan
    // again with that one element read by the parser instead.
    if (strict.headerSignatureStart === -1) return { canonical: false, reason: err.reason };
    try {
      return { canonical: true, scan: new Scanner(bytes, limits, strict.headerSignatureStart).run() };
    } catch (again) {
      if (again instanceof NotCanonical) return { canonical: false, reason: `${err.reason} (in the Signature); then ${again.reason}` };
      throw again;
    }
  }
}

/**
 * Where the element starting at `lt` ends (just past its end tag's `>`), by a tokenizer that knows
 * comments, CDATA sections, processing instructions, quoted attribute values and `<a/>`; -1 if it
 * cannot tell. Only a candidate: the caller has the parser confirm it.
 */
function elementEnd(bytes: Buffer, lt: number): number {
  let depth = 0;
  let i = lt;
  while (i !== -1 && i < bytes.length) {
    if (bytes[i] !== LT) {
      i = bytes.indexOf(LT, i);
      continue;
    }
    const next = bytes[i + 1];
    let close: number;
    if (next === 0x21 /* ! */) {
      if (bytes.toString('latin1', i, i + 4) === '<!--') close = bytes.indexOf('-->', i + 4, 'latin1') + 3;
      else if (bytes.toString('latin1', i, i + 9) === '<![CDATA[') close = bytes.indexOf(']]>', i + 9, 'latin1') + 3;
      else return -1;
      if (close === 2) return -1;
      i = close;
      continue;
    }
    if (next === 0x3f /* ? */) {
      close = bytes.indexOf('?>', i + 2, 'latin1');
      if (close === -1) return -1;
      i = close + 2;
      continue;
    }
    // A start or end tag: find its ">" outside quoted values.
    let k = i + 1;
    let quote = 0;
    for (; k < bytes.length; k++) {
      const c = bytes[k];
      if (quote !== 0) {
        if (c === quote) quote = 0;
      } else if (c === QUOT || c === APOS) quote = c;
      else if (c === GT) break;
    }
    if (k >= bytes.length) return -1;
    if (next === SLASH) depth -= 1;
    else if (bytes[k - 1] !== SLASH) depth += 1;
    i = k + 1;
    if (depth === 0) return i;
    if (depth < 0) return -1;
  }
  return -1;
}

// A class rather than closures: the scan runs per packet on the hot path, and per-element closures
// (or the name-keeping helpers a transpiler wraps them in) showed up as a third of its time.
class Scanner {
  private readonly stack: Frame[] = [];
  private readonly dsigSignatures: { start: number; end: number; inHeader: boolean }[] = [];
  private firstSignature: { element: ElementNode; parentScope: Scope } | undefined;
  private header: MutableHeader | undefined;
  private elements = 0;
  /** Where the Signature child of edXMLHeader being read starts, while it is open; else -1. */
  headerSignatureStart = -1;

  /**
   * `lenientAt`: the offset of a Signature child of edXMLHeader to read with the parser (-1: none);
   * set on a second scan, which skips the whole-buffer checks the first one passed.
   */
  constructor(
    private readonly bytes: Buffer,
    private readonly limits: XmlLimits,
    private readonly lenientAt: number,
  ) {}

  run(): CanonicalScan {
    const { bytes, stack } = this;
    if (this.lenientAt === -1) {
      if (bytes.length > this.limits.maxBytes) fail('larger than the XML size limit');
      if (bytes.indexOf(CR) !== -1) fail('contains CR');
      if (!isUtf8(bytes)) fail('not UTF-8');
      if (hasForbiddenCharacters(bytes)) fail('contains characters XML 1.0 forbids');
    }

    let pos = 0;
    if (bytes.length >= 5 && bytes.toString('latin1', 0, 5) === '<?xml') {
      const close = bytes.indexOf('?>', 0, 'latin1');
      if (close === -1 || close > XML_DECLARATION_MAX) fail('unusual XML declaration');
      if (!XML_DECLARATION.test(bytes.toString('latin1', 0, close + 2))) fail('unusual XML declaration');
      pos = close + 2;
    }
    pos = skipWhitespace(bytes, pos);
    if (bytes[pos] !== LT || NAME_CLASS[bytes[pos + 1] ?? 0] !== 1) fail('something other than the root element after the prolog');
    const rootStart = pos;

    // Position of the next "&" not yet checked; kept across text nodes so that finding them all
    // costs one pass over the document, not one search per text node.
    let amp = bytes.indexOf(AMP, pos);
    let rootEnd = -1;
    for (;;) {
      // Here bytes[pos] is the "<" of a tag.
      if (bytes[pos + 1] === SLASH) {
        pos = this.endTag(pos);
        if (stack.length === 0) {
          rootEnd = pos;
          break;
        }
      } else {
        const next = bytes[pos + 1];
        if (next === 0x21 /* ! */ || next === 0x3f /* ? */) fail('comment, CDATA section, processing instruction or DOCTYPE');
        pos = pos === this.lenientAt ? this.parsedSignature(pos) : this.startTag(pos);
      }

      // The text up to the next tag.
      const lt = bytes.indexOf(LT, pos);
      if (lt === -1) fail('the root element is not closed');
      if (lt > pos) {
        const gt = bytes.indexOf(GT, pos);
        if (gt !== -1 && gt < lt) fail('">" in text');
        if (amp !== -1 && amp < pos) amp = bytes.indexOf(AMP, pos);
        while (amp !== -1 && amp < lt) {
          if (escapeLengthAt(bytes, amp, TEXT_ESCAPES) === 0) fail('a reference c14n would not write');
          amp = bytes.indexOf(AMP, amp + 1);
        }
        const captured = stack[stack.length - 1]?.captured;
        if (captured !== undefined) captured.children.push({ kind: 'text', value: decode(bytes.toString('utf8', pos, lt), TEXT_ESCAPES) });
      }
      pos = lt;
    }
    if (skipWhitespace(bytes, rootEnd) !== bytes.length) fail('something other than whitespace after the root element');

    const header = this.header;
    return {
      root: { start: rootStart, end: rootEnd },
      dsigSignatures: this.dsigSignatures.map((s) => ({ span: { start: s.start, end: s.end }, inHeader: s.inHeader })),
      firstSignature: this.firstSignature,
      header:
        header === undefined
          ? undefined
          : {
              scope: header.scope,
              startTagEnd: header.startTagEnd,
              children: header.children.map((c) => ({ local: c.local, namespace: c.namespace, span: { start: c.start, end: c.end } })),
            },
    };
  }

  /** Reads the end tag at `lt`, pops its frame; returns the position after its `>`. */
  private endTag(lt: number): number {
    const { bytes, stack } = this;
    const end = nameEnd(bytes, lt + 2);
    if (end === -1 || bytes[end] !== GT) fail('unusual end tag');
    const closed = stack.pop();
    if (closed === undefined || closed.name.length !== end - lt - 2 || bytes.toString('latin1', lt + 2, end) !== closed.name) fail('mismatched end tag');
    const after = end + 1;
    if (closed.isHeaderSignature) this.headerSignatureStart = -1;
    if (closed.dsigSignatureIndex !== -1) {
      const found = this.dsigSignatures[closed.dsigSignatureIndex];
      if (found !== undefined) found.end = after;
    }
    const header = this.header;
    if (header !== undefined && !header.done) {
      if (closed.role === 'header') header.done = true;
      else if (stack[stack.length - 1]?.role === 'header') {
        const child = header.children[header.children.length - 1];
        if (child !== undefined) child.end = after;
      }
    }
    return after;
  }

  /** Reads the start tag at `lt`, pushes its frame; returns the position after its `>`. */
  private startTag(lt: number): number {
    const { bytes, stack, limits } = this;
    const nameStop = nameEnd(bytes, lt + 1);
    if (nameStop === -1) fail('unusual element name');
    const name = bytes.toString('latin1', lt + 1, nameStop);
    const parent = stack[stack.length - 1];
    const isHeaderSignature = parent?.role === 'header' && (name === 'Signature' || name.endsWith(':Signature'));
    if (isHeaderSignature) this.headerSignatureStart = lt;
    this.elements += 1;
    if (this.elements > limits.maxElements) fail('too many elements');
    if (stack.length + 1 > limits.maxDepth) fail('nested too deep');

    let attributes: RawAttribute[] | undefined;
    let i = nameStop;
    for (;;) {
      const c = bytes[i];
      if (c === GT) {
        i += 1;
        break;
      }
      if (c !== SPACE) fail('unusual start tag');
      const attributeStop = nameEnd(bytes, i + 1);
      if (attributeStop === -1 || bytes[attributeStop] !== EQUALS || bytes[attributeStop + 1] !== QUOT) fail('unusual attribute');
      const valueStart = attributeStop + 2;
      let v = valueStart;
      for (;;) {
        const b = bytes[v];
        if (b === QUOT) break;
        if (b === undefined || b === LT || b === TAB || b === LF) fail('attribute value c14n would write differently');
        if (b === AMP) {
          const length = escapeLengthAt(bytes, v, ATTRIBUTE_ESCAPES);
          if (length === 0) fail('a reference c14n would not write');
          v += length;
        } else {
          v += 1;
        }
      }
      attributes ??= [];
      attributes.push({ name: bytes.toString('latin1', i + 1, attributeStop), valueStart, valueEnd: v });
      if (attributes.length > limits.maxAttributesPerElement) fail('too many attributes');
      i = v + 1;
    }

    const parentScope = parent?.scope ?? EMPTY_SCOPE;
    const scope = attributes === undefined ? parentScope : this.checkAttributes(name, attributes, parentScope);

    const colon = name.indexOf(':');
    const local = colon === -1 ? name : name.slice(colon + 1);
    const prefix = colon === -1 ? '' : name.slice(0, colon);
    const bound = scope.get(prefix);
    if (prefix !== '' && bound === undefined) fail('undeclared element prefix');
    const namespace = bound === '' ? undefined : bound;

    // Where the element stands.
    let role: Role = 'other';
    if (parent === undefined) role = local === 'edXML' && namespace === EDXML_NAMESPACE ? 'root' : 'other';
    else if (parent.role === 'root' && local === 'edXMLEnvelope' && namespace === EDXML_NAMESPACE) role = 'envelope';
    else if (parent.role === 'envelope' && local === 'edXMLHeader' && namespace === EDXML_NAMESPACE && this.header === undefined) role = 'header';
    if (role === 'header') this.header = { scope, startTagEnd: i, children: [], done: false };
    else if (parent?.role === 'header' && this.header !== undefined && !this.header.done) this.header.children.push({ local, namespace, start: lt, end: -1 });

    let captured: CapturedElement | undefined;
    if (parent?.captured !== undefined) {
      captured = this.node(name, attributes);
      parent.captured.children.push(captured);
    }
    let dsigSignatureIndex = -1;
    if (local === 'Signature' && namespace === XMLDSIG_NAMESPACE) {
      dsigSignatureIndex = this.dsigSignatures.length;
      this.dsigSignatures.push({ start: lt, end: -1, inHeader: parent?.role === 'header' });
      if (this.firstSignature === undefined) {
        captured = this.node(name, attributes);
        this.firstSignature = { element: captured, parentScope };
      }
    }
    stack.push({ name, scope, role, captured, dsigSignatureIndex, isHeaderSignature });
    return i;
  }

  /**
   * The Signature child of edXMLHeader at `lt`, read by the parser: its bytes are cut out of the
   * digest, so they need not be canonical, only exactly delimited. The candidate end comes from
   * elementEnd; the parser must then read [lt, end) as one element ending exactly at `end`. An element
   * is parsed the same wherever it starts (there is no DTD to change that), and `lt` is a tag start in
   * the real document because everything before it was read strictly — so this is where the real
   * parse puts the element too.
   */
  private parsedSignature(lt: number): number {
    const parent = this.stack[this.stack.length - 1];
    const header = this.header;
    if (parent?.role !== 'header' || header === undefined) fail('misplaced lenient read');
    const end = elementEnd(this.bytes, lt);
    if (end === -1) fail('the Signature element cannot be delimited');
    const parsed = parseDocumentTree(this.bytes.subarray(lt, end), this.limits, { rootEndsInput: true });
    if (!parsed.ok) fail(`the Signature element does not parse on its own: ${parsed.reason}`);
    const element = parsed.document.root;
    const scoped = scopeOf(element, parent.scope);
    if (!scoped.ok) fail(scoped.reason);
    const { prefix, local } = splitQName(element.name);
    const namespace = scoped.scope.get(prefix);
    // A Signature in another namespace (the samples' form) is part of what is digested: strict rules.
    if (local !== 'Signature' || namespace !== XMLDSIG_NAMESPACE) fail('a Signature outside the XML-DSig namespace that is not canonical');
    this.dsigSignatures.push({ start: lt, end, inHeader: true });
    // Signatures nested inside count too, for the rule "exactly one": none may hide in here.
    for (let n = dsigSignaturesWithin(element, scoped.scope); n > 0; n--) this.dsigSignatures.push({ start: lt, end, inHeader: false });
    this.firstSignature ??= { element, parentScope: parent.scope };
    header.children.push({ local, namespace, start: lt, end });
    return end;
  }

  /**
   * The canonical-form rules on an element's attributes (see the header comment); returns the scope
   * inside the element.
   */
  private checkAttributes(name: string, attributes: readonly RawAttribute[], parentScope: Scope): Scope {
    let scope = parentScope;
    let declared: string[] | undefined;
    let k = 0;
    // Namespace declarations: first, in prefix order, each changing the binding in scope.
    for (; k < attributes.length; k++) {
      const a = attributes[k] as RawAttribute;
      let prefix: string;
      if (a.name === 'xmlns') prefix = '';
      else if (a.name.startsWith('xmlns:')) prefix = a.name.slice(6);
      else break;
      if (prefix === 'xml' || prefix === 'xmlns') fail('declaration of a reserved prefix');
      const previous = declared?.[declared.length - 1];
      if (previous !== undefined && !(prefix > previous)) fail('namespace declarations out of order');
      const uri = this.value(a);
      if (prefix !== '' && uri === '') fail('undeclared prefix');
      if (uri === XML_NAMESPACE || uri === XMLNS_NAMESPACE) fail('reserved namespace');
      if ((scope.get(prefix) ?? '') === uri) fail('redundant namespace declaration');
      const copy = new Map(scope);
      copy.set(prefix, uri);
      scope = copy;
      declared ??= [];
      declared.push(prefix);
    }

    // Attributes: after the declarations, in (namespace URI, local name) order, no xml:*.
    let previousNamespace = '';
    let previousLocal: string | undefined;
    const firstAttribute = k;
    for (; k < attributes.length; k++) {
      const a = attributes[k] as RawAttribute;
      if (a.name === 'xmlns' || a.name.startsWith('xmlns:')) fail('namespace declaration after an attribute');
      const c = a.name.indexOf(':');
      const prefix = c === -1 ? '' : a.name.slice(0, c);
      const local = c === -1 ? a.name : a.name.slice(c + 1);
      if (prefix === 'xml') fail('xml:* attribute');
      const namespace = prefix === '' ? '' : scope.get(prefix);
      if (namespace === undefined) fail('undeclared attribute prefix');
      if (previousLocal !== undefined && (compareCodePoints(previousNamespace, namespace) || compareCodePoints(previousLocal, local)) >= 0) {
        fail('attributes out of order or duplicated');
      }
      previousNamespace = namespace;
      previousLocal = local;
    }

    // Each declaration used by the element itself: its prefix, or an attribute's.
    if (declared !== undefined) {
      const colon = name.indexOf(':');
      const elementPrefix = colon === -1 ? '' : name.slice(0, colon);
      for (const p of declared) {
        if (p === elementPrefix) continue;
        let used = false;
        for (let j = firstAttribute; j < attributes.length && !used; j++) used = (attributes[j] as RawAttribute).name.startsWith(`${p}:`) && p !== '';
        if (!used) fail('namespace declaration its element does not use');
      }
    }
    return scope;
  }

  private value(a: RawAttribute): string {
    return decode(this.bytes.toString('utf8', a.valueStart, a.valueEnd), ATTRIBUTE_ESCAPES);
  }

  private node(name: string, attributes: readonly RawAttribute[] | undefined): CapturedElement {
    const decoded: XmlAttribute[] = [];
    if (attributes !== undefined) for (const a of attributes) decoded.push({ name: a.name, value: this.value(a) });
    return { kind: 'element', name, attributes: decoded, children: [] };
  }
}

function skipWhitespace(bytes: Buffer, from: number): number {
  let i = from;
  while (i < bytes.length) {
    const c = bytes[i];
    if (c !== SPACE && c !== TAB && c !== LF) break;
    i++;
  }
  return i;
}
