// A secure, strict XML reader: bytes → a light element tree, or catalogued issues. Never throws for
// bad input.
//
// Built on saxes with `xmlns: false` because the official sample edoc.edxml carries an unbound
// `xlink:` attribute prefix, which a namespace-aware parser refuses; namespaces are resolved here
// instead, strictly for element names and leniently for attributes.
//
// Hostile input is refused as early as possible: the size before decoding, DTDs before any entity
// could be used (saxes never expands custom entities; an undefined entity is a well-formedness
// error), nesting and node counts at the moment the limit is crossed, by aborting the parse.

import { isUtf8 } from 'node:buffer';
import { SaxesParser } from 'saxes';
import { issue, warning } from '../errors.ts';
import type { ErrorCode, Issue, Result } from '../errors.ts';

/** Limits the reader enforces; every one is configurable. */
export interface XmlLimits {
  /** Largest accepted input, in bytes (UTF-8). */
  readonly maxBytes: number;
  /** Deepest element nesting; the root is depth 1. */
  readonly maxDepth: number;
  /** Most elements in one document. */
  readonly maxElements: number;
  /** Most attributes (namespace declarations included) on one element. */
  readonly maxAttributesPerElement: number;
  /** Longest single text or CDATA node, in characters. */
  readonly maxTextLength: number;
}

const MIB = 1024 * 1024;

/** Defaults: generous for 50 MB attachments in base64, far below what would hurt the process. */
export const DEFAULT_XML_LIMITS: XmlLimits = Object.freeze({
  maxBytes: 80 * MIB,
  // edXML nests 8 levels at most (…/Signature/SignedInfo/Reference/Transforms/Transform).
  maxDepth: 32,
  maxElements: 100_000,
  maxAttributesPerElement: 64,
  maxTextLength: 100 * MIB,
});

/** One element of the tree, with its namespace resolved. */
export interface XmlElement {
  /** Qualified name as written, e.g. `edXML:MessageHeader`. */
  readonly name: string;
  readonly local: string;
  readonly prefix: string | undefined;
  /** Resolved namespace URI; undefined when the element is in no namespace. */
  readonly namespace: string | undefined;
  /** Attributes by qualified name, namespace declarations included. */
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: readonly XmlElement[];
  /** Direct text and CDATA children concatenated, then trimmed. */
  readonly text: string;
  /**
   * Set when the element's whole text is one long base64 run (see liftLongTexts), which stays bytes
   * of the input until `text` is first read (then kept): an attachment's payload, up to 67 MB, need
   * not exist as a string beside the bytes it came from (test/e2e/memory.test.ts).
   */
  readonly longText?: LongText | undefined;
  /** 1-based position of the start tag's "<" (best effort: derived from where saxes read the name). */
  readonly line: number;
  readonly column: number;
}

/** Options of `readXml`: limits, plus prefixes tolerated when a document forgets to declare them. */
export interface XmlReadOptions extends Partial<XmlLimits> {
  /**
   * Prefix → namespace assumed when an element uses the prefix outside any declaration of it. Each
   * such prefix is reported once as a warning. The official sample edoc.edxml writes
   * `edXML:AttachmentEncoded` outside the element that declares `xmlns:edXML`.
   */
  readonly implicitPrefixes?: Readonly<Record<string, string>>;
}

/** A parsed document: its root element. */
export interface XmlDocument {
  readonly root: XmlElement;
}

const XML_NAMESPACE = 'http://www.w3.org/XML/1998/namespace';
const XMLNS_NAMESPACE = 'http://www.w3.org/2000/xmlns/';
const UTF8_BOM = [0xef, 0xbb, 0xbf] as const;
// A chunked-transfer size line ("1212") leaked into the body of an official sample (edoc_new.edxml).
const JUNK_PREFIX_MAX = 16;
const JUNK_PREFIX = /^[0-9A-Fa-f\s]*$/;

type Scope = ReadonlyMap<string, string>;

interface OpenElement {
  readonly name: string;
  readonly local: string;
  readonly prefix: string | undefined;
  readonly namespace: string | undefined;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: XmlElement[];
  // Text pieces are kept apart and joined once at the close tag, so a big node is never copied
  // piece by piece; the common case is one piece, used as is.
  readonly text: (string | LongText)[];
  readonly scope: Scope;
  readonly line: number;
  readonly column: number;
}

interface PendingElement {
  readonly name: string;
  readonly attributes: Record<string, string>;
  count: number;
  readonly line: number;
  readonly column: number;
}

/** Thrown from inside saxes callbacks to stop the parse at once; never escapes this module. */
class Abort {
  constructor(readonly issue: Issue) {}
}

/** Reads `input` as one XML document within the limits; refuses with catalogued issues, never throws. */
export function readXml(input: Buffer | string, options: XmlReadOptions = {}): Result<XmlDocument> {
  const lim: XmlLimits = limitsOf(options);
  const implicitPrefixes = options.implicitPrefixes ?? {};
  const usedImplicit = new Set<string>();
  const decoded = decode(input, lim);
  if (!decoded.ok) return decoded;
  const warnings: Issue[] = [...decoded.warnings];
  const { text, lifted, lineOffset, columnOffset } = decoded.value;

  // Positions are reported against the original input, so account for a skipped junk prefix.
  const position = (line: number, column0: number): { line: number; column: number } => ({
    line: line + lineOffset,
    column: column0 + 1 + (line === 1 ? columnOffset : 0),
  });
  const at = (line: number, column0: number): string => {
    const p = position(line, column0);
    return `${p.line}:${p.column}`;
  };

  // Seven handlers at most: saxes stores each handler with a keyed store, and past seven V8 turns
  // the parser into a dictionary-mode object, which made a 20 MB packet parse ~10x slower (measured:
  // 55–130 ms with seven handlers, 540–1200 ms with nine). So there is no `opentag` or `xmldecl`
  // handler: a start tag is completed lazily by the next event (see `pending`), and the declared
  // encoding is read from `parser.xmlDecl` when the root starts.
  const parser = new SaxesParser({ xmlns: false, position: true });
  const here = (): string => at(parser.line, parser.column);
  const abort = (code: ErrorCode, detail: string, value?: string): never => {
    throw new Abort(issue(code, here(), detail, value));
  };

  const stack: OpenElement[] = [];
  // Only `xml` is predeclared: `xmlns` is an attribute prefix, never an element's.
  const rootScope: Scope = new Map([['xml', XML_NAMESPACE]]);
  let root: XmlElement | undefined;
  let elementCount = 0;
  // The element whose start tag is being read: its attributes arrive one event each, and the tag is
  // complete at the next text, cdata, opentagstart or closetag event.
  let pending: PendingElement | undefined;

  const completeStartTag = (): void => {
    const tag = pending;
    if (tag === undefined) return;
    pending = undefined;
    const tagAt = `${tag.line}:${tag.column}`;
    const abortAtTag = (code: ErrorCode, detail: string, value?: string): never => {
      throw new Abort(issue(code, tagAt, detail, value));
    };
    const parent = stack[stack.length - 1];
    if (parent === undefined) checkDeclaredEncoding(parser.xmlDecl.encoding, abortAtTag);
    const scope = bindNamespaces(parent?.scope ?? rootScope, tag.attributes, abortAtTag);
    const { prefix, local } = splitName(tag.name, abortAtTag);
    let namespace = scope.get(prefix ?? '');
    if (prefix !== undefined && namespace === undefined) {
      namespace = Object.hasOwn(implicitPrefixes, prefix) ? implicitPrefixes[prefix] : undefined;
      if (namespace === undefined) {
        abortAtTag(
          'EDX_ERR_XML_MALFORMED',
          `Element <${tag.name}> uses the undeclared namespace prefix "${prefix}".`,
          tag.name,
        );
      } else if (!usedImplicit.has(prefix)) {
        usedImplicit.add(prefix);
        warnings.push(
          warning(
            'EDX_ERR_XML_MALFORMED',
            tagAt,
            `Element <${tag.name}> uses the prefix "${prefix}" where it is not declared; read as ${namespace}, tolerated.`,
            tag.name,
          ),
        );
      }
    }
    stack.push({
      name: tag.name,
      local,
      prefix,
      namespace: namespace === '' ? undefined : namespace,
      attributes: tag.attributes,
      children: [],
      text: [],
      scope,
      line: tag.line,
      column: tag.column,
    });
  };

  parser.on('error', (err: Error) => {
    // saxes prefixes its messages with "line:column: "; the path carries the position instead.
    const detail = err.message.replace(/^\d+:\d+: /, '');
    // A DOCTYPE after the root (or a second one) is reported as misplaced, with no doctype event;
    // it is still a DTD.
    if (detail.startsWith('inappropriately located doctype')) {
      abort('EDX_ERR_XML_DTD_FORBIDDEN', 'The document contains a <!DOCTYPE> declaration.');
    }
    abort('EDX_ERR_XML_MALFORMED', `XML syntax error: ${detail.replace(/\.?$/, '.')}`);
  });
  parser.on('doctype', () => {
    abort('EDX_ERR_XML_DTD_FORBIDDEN', 'The document contains a <!DOCTYPE> declaration.');
  });
  parser.on('opentagstart', (tag) => {
    completeStartTag();
    elementCount += 1;
    // saxes is just past "<name" and one more character here; step back to the "<" (best effort,
    // for messages only).
    const start = position(parser.line, Math.max(0, parser.column - tag.name.length - 2));
    const tagAt = `${start.line}:${start.column}`;
    if (stack.length + 1 > lim.maxDepth) {
      throw new Abort(
        issue('EDX_ERR_XML_TOO_DEEP', tagAt, `Element <${tag.name}> nests deeper than ${lim.maxDepth} levels.`, tag.name),
      );
    }
    if (elementCount > lim.maxElements) {
      throw new Abort(
        issue('EDX_ERR_XML_TOO_MANY_NODES', tagAt, `The document has more than ${lim.maxElements} elements.`, tag.name),
      );
    }
    pending = { name: tag.name, attributes: Object.create(null) as Record<string, string>, count: 0, ...start };
  });
  parser.on('attribute', (attr) => {
    if (pending === undefined) return;
    pending.count += 1;
    if (pending.count > lim.maxAttributesPerElement) {
      abort('EDX_ERR_XML_TOO_MANY_NODES', `An element has more than ${lim.maxAttributesPerElement} attributes.`, attr.name);
    }
    pending.attributes[attr.name] = attr.value;
  });
  const onText = (read: string): void => {
    completeStartTag();
    const top = stack[stack.length - 1];
    // Text outside the root can only be whitespace (saxes reports anything else).
    if (top === undefined) return;
    const text = lifted.restore(read);
    if (text.length > lim.maxTextLength) {
      abort('EDX_ERR_XML_TOO_LARGE', `A text node of <${top.name}> is longer than ${lim.maxTextLength} characters.`);
    }
    top.text.push(text);
  };
  parser.on('text', onText);
  parser.on('cdata', onText);
  parser.on('closetag', () => {
    completeStartTag();
    const open = stack.pop();
    if (open === undefined) return;
    const only = open.text.length === 1 ? open.text[0] : undefined;
    const fields = {
      name: open.name,
      local: open.local,
      prefix: open.prefix,
      namespace: open.namespace,
      attributes: open.attributes,
      children: open.children,
    };
    const element: XmlElement =
      only instanceof LongText
        ? deferredTextElement(fields, only, open.line, open.column)
        : { ...fields, text: joinText(open.text), line: open.line, column: open.column };
    const parent = stack[stack.length - 1];
    if (parent === undefined) root = element;
    else parent.children.push(element);
  });

  try {
    parser.write(text).close();
  } catch (err) {
    if (err instanceof Abort) return { ok: false, issues: [...warnings, err.issue] };
    // Anything else escaping saxes is still a refusal of this input, not a crash of the caller.
    const detail = err instanceof Error ? err.message : String(err);
    const failure = issue('EDX_ERR_XML_MALFORMED', here(), `The XML could not be read: ${detail}`);
    return { ok: false, issues: [...warnings, failure] };
  }
  if (root === undefined) {
    const failure = issue('EDX_ERR_XML_MALFORMED', here(), 'The document has no root element.');
    return { ok: false, issues: [...warnings, failure] };
  }
  return { ok: true, value: { root }, warnings };
}

/** The limits in force for `options`: the defaults, overridden by any limit given. */
function limitsOf(options: Partial<XmlLimits>): XmlLimits {
  return {
    maxBytes: options.maxBytes ?? DEFAULT_XML_LIMITS.maxBytes,
    maxDepth: options.maxDepth ?? DEFAULT_XML_LIMITS.maxDepth,
    maxElements: options.maxElements ?? DEFAULT_XML_LIMITS.maxElements,
    maxAttributesPerElement: options.maxAttributesPerElement ?? DEFAULT_XML_LIMITS.maxAttributesPerElement,
    maxTextLength: options.maxTextLength ?? DEFAULT_XML_LIMITS.maxTextLength,
  };
}

interface Decoded {
  readonly text: string;
  /** Long base64 texts lifted out of `text` (see liftLongTexts); empty for most input. */
  readonly lifted: LiftedTexts;
  /** Lines and columns (on line 1) taken by a skipped junk prefix. */
  readonly lineOffset: number;
  readonly columnOffset: number;
}

/** Size, encoding, BOM and junk-prefix checks, before any parsing. */
function decode(input: Buffer | string, lim: XmlLimits): Result<Decoded> {
  let text: string;
  let runs: readonly LongText[] = [];
  if (typeof input === 'string') {
    // length ≤ UTF-8 byte length, so the cheap test settles most oversized strings without encoding.
    if (input.length > lim.maxBytes || Buffer.byteLength(input, 'utf8') > lim.maxBytes) {
      return tooLarge(Buffer.byteLength(input, 'utf8'), lim.maxBytes);
    }
    text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  } else {
    if (input.length > lim.maxBytes) return tooLarge(input.length, lim.maxBytes);
    if (!isUtf8(input)) {
      return {
        ok: false,
        issues: [issue('EDX_ERR_XML_ENCODING', '1:1', 'The body contains bytes that are not valid UTF-8.')],
      };
    }
    const bom = input[0] === UTF8_BOM[0] && input[1] === UTF8_BOM[1] && input[2] === UTF8_BOM[2];
    const lifted = liftLongTexts(input, bom ? 3 : 0);
    text = lifted.text;
    runs = lifted.runs;
  }

  const first = text.indexOf('<');
  if (first === -1) {
    return { ok: false, issues: [issue('EDX_ERR_XML_MALFORMED', '1:1', 'The body contains no XML markup.')] };
  }
  const lifted = new LiftedTexts(runs);
  if (first === 0) return { ok: true, value: { text, lifted, lineOffset: 0, columnOffset: 0 }, warnings: [] };
  const junk = text.slice(0, first);
  if (junk.length > JUNK_PREFIX_MAX || !JUNK_PREFIX.test(junk)) {
    return {
      ok: false,
      issues: [issue('EDX_ERR_XML_MALFORMED', '1:1', 'The body has unexpected content before the first "<".', junk)],
    };
  }
  const lines = junk.split('\n');
  const lastLine = lines[lines.length - 1] ?? '';
  return {
    ok: true,
    value: { text: text.slice(first), lifted, lineOffset: lines.length - 1, columnOffset: lastLine.length },
    warnings: [
      warning(
        'EDX_ERR_XML_MALFORMED',
        '1:1',
        `Skipped ${junk.length} characters before the XML (looks like an HTTP chunk-size line); tolerated.`,
        junk,
      ),
    ],
  };
}

// Long base64 texts are lifted out before saxes reads the document. saxes looks at every character
// of a text node one call at a time, and a packet is mostly its attachments' base64: for a 100 KB
// packet that was 1.3 ms of the 1.8 ms parse (bench/codec.ts; gateway CPU profile at 100/s: 17 %
// of the process). Worse, a document with one non-Latin-1 character (any Vietnamese subject)
// decodes to a two-byte string, so a 67 MB packet took 134 MB as text.
//
// A run of at least LIFT_MIN characters of the base64 alphabet and XML whitespace, between a '>'
// and a '<', contains no markup, no reference and no character saxes could refuse, so reading it
// cannot change the parse — except where it is. Between '>' and '<' it is element content, CDATA
// content, or inside a comment or a processing instruction (an attribute value cannot hold '<').
// It is replaced by a marker the text and cdata handlers swap back, in order, which gives the same
// tree in every one of those places: comments and PIs are dropped with their markers. The marker
// keeps the run's line breaks, so line numbers in messages stay right (columns on the run's last
// line are approximate). Input that already contains the marker's characters is read unchanged.
//
// The runs are found from each '>': a sticky match of the alphabet from there stops at the first
// character outside it, which is never past the next '>', so the scan reads every character once.
// (A search for LIFT_MIN alphabet characters anywhere re-read each shorter run from every position
// in it: the certificates of a signed packet, 1–2 kB each, made that 52 % of the gateway's CPU.)
// The match runs over the bytes a window at a time (alphabetEnd), so the document is never decoded
// whole, and a run stays bytes of the input (LongText) until its text is read: the element whose
// whole content it is — an attachment's payload — keeps it unread, so a 67 MB body is not also a
// 67 MB string while the packet is parsed, validated and admitted (test/e2e/memory.test.ts).
const LIFT_MIN = 4096;
const BASE64_CONTINUES = /[A-Za-z0-9+/=\t\n\r ]*/y;
const MARKER_OPEN = '\uE000';
const MARKER_CLOSE = '\uE001';
const MARKER_BYTES = [Buffer.from(MARKER_OPEN, 'utf8'), Buffer.from(MARKER_CLOSE, 'utf8')];
const MARKER = /\uE000(\d+)\uE001\n*/g;
const WHOLE_MARKER = /^\uE000(\d+)\uE001\n*$/;

/**
 * A long base64 text of the input (see liftLongTexts), kept as its byte range and read into a string
 * only when asked. It holds only characters of the base64 alphabet and XML whitespace, all ASCII, so
 * byte offsets are character offsets and latin1 decodes it.
 */
export class LongText {
  readonly #input: Buffer;
  readonly #from: number;
  readonly #to: number;
  #whitespace: number | undefined;

  constructor(input: Buffer, from: number, to: number) {
    this.#input = input;
    this.#from = from;
    this.#to = to;
  }

  /** Where the text lies in the input: an offload thread sends this, not the text (src/offload/portable.ts). */
  get span(): { readonly from: number; readonly to: number } {
    return { from: this.#from, to: this.#to };
  }

  /** Characters once XML has normalised line ends (CRLF → LF), before any trimming. */
  get length(): number {
    return this.#to - this.#from - this.#count(CRLF);
  }

  /** The text as XML reads it: line ends normalised, not trimmed. */
  read(): string {
    const text = this.#input.toString('latin1', this.#from, this.#to);
    return text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text;
  }

  /** The text without any whitespace (what an attachment's content is), as one string. */
  compact(): string {
    const text = this.#input.toString('latin1', this.#from, this.#to);
    return /\s/.test(text) ? text.replace(/\s+/g, '') : text;
  }

  /** compact() as bytes; a view of the input, not a copy, when the text holds no whitespace. */
  compactBytes(): Buffer {
    if (this.compactLength() === this.#to - this.#from) return this.#input.subarray(this.#from, this.#to);
    return Buffer.from(this.compact(), 'latin1');
  }

  /** compact().length, counted in the bytes. */
  compactLength(): number {
    this.#whitespace ??= WHITESPACE_BYTES.reduce((n, byte) => n + this.#count(byte), 0);
    return this.#to - this.#from - this.#whitespace;
  }

  /** The first `n` characters of compact(). */
  head(n: number): string {
    let out = '';
    for (let at = this.#from; at < this.#to && out.length < n; at += LOOK_BYTES) {
      out += this.#input.toString('latin1', at, Math.min(this.#to, at + LOOK_BYTES)).replace(/\s+/g, '');
    }
    return out.slice(0, n);
  }

  /** The last `n` characters of compact(). */
  tail(n: number): string {
    let out = '';
    for (let at = this.#to; at > this.#from && out.length < n; at -= LOOK_BYTES) {
      out = this.#input.toString('latin1', Math.max(this.#from, at - LOOK_BYTES), at).replace(/\s+/g, '') + out;
    }
    return out.slice(Math.max(0, out.length - n));
  }

  /** The position in compact() of the first `char` (one ASCII character), or -1. */
  compactIndexOf(char: string): number {
    const byte = this.#input.indexOf(char, this.#from, 'latin1');
    if (byte === -1 || byte >= this.#to) return -1;
    const before = new LongText(this.#input, this.#from, byte);
    return before.compactLength();
  }

  /** Occurrences of `needle` (bytes) in the range; indexOf runs at memchr speed. */
  #count(needle: number | Buffer): number {
    const step = typeof needle === 'number' ? 1 : needle.length;
    let n = 0;
    for (let i = this.#input.indexOf(needle, this.#from); i !== -1 && i + step <= this.#to; i = this.#input.indexOf(needle, i + step)) n++;
    return n;
  }
}

const CRLF = Buffer.from('\r\n', 'latin1');
const WHITESPACE_BYTES = [0x20, 0x09, 0x0a, 0x0d] as const;
/** How much of a long text head() and tail() decode at a time. */
const LOOK_BYTES = 256;

/** The element of a closing tag whose whole text is `long`: `text` is read from it on first use. */
function deferredTextElement(
  fields: Omit<XmlElement, 'text' | 'longText' | 'line' | 'column'>,
  long: LongText,
  line: number,
  column: number,
): XmlElement {
  let text: string | undefined;
  return {
    ...fields,
    get text(): string {
      text ??= long.read().trim();
      return text;
    },
    longText: long,
    line,
    column,
  };
}

/** The texts lifted out of one document, swapped back into the text the parser reads. */
class LiftedTexts {
  readonly #runs: readonly LongText[];

  constructor(runs: readonly LongText[]) {
    this.#runs = runs;
  }

  /**
   * `read` with its markers swapped back: a text that is one marker and nothing else (an element's
   * whole content, e.g. an attachment payload) comes back as its LongText, unread; anything else as a
   * string, with every marker replaced by its run (line ends normalised, as saxes would).
   */
  restore(read: string): string | LongText {
    if (this.#runs.length === 0 || !read.includes(MARKER_OPEN)) return read;
    const whole = WHOLE_MARKER.exec(read);
    const alone = whole?.[1] === undefined ? undefined : this.#runs[Number(whole[1])];
    if (alone !== undefined) return alone;
    return read.replace(MARKER, (_marker, index: string) => this.#runs[Number(index)]?.read() ?? '');
  }
}

/**
 * The document as text with its long base64 runs replaced by markers, and the runs. The input is
 * scanned as bytes (a window at a time through the alphabet), never decoded whole: a 67 MB packet is
 * not also a 67 MB string.
 */
function liftLongTexts(input: Buffer, start: number): { readonly text: string; readonly runs: readonly LongText[] } {
  const whole = (): { text: string; runs: readonly LongText[] } => ({ text: input.toString('utf8', start), runs: [] });
  if (input.length - start < LIFT_MIN || MARKER_BYTES.some((m) => input.includes(m))) return whole();
  const runs: LongText[] = [];
  const pieces: string[] = [];
  let copied = start;
  for (let gt = input.indexOf(0x3e /* > */, start); gt !== -1; ) {
    const from = gt + 1;
    const to = alphabetEnd(input, from);
    gt = input.indexOf(0x3e, to);
    if (to - from < LIFT_MIN || input[to] !== 0x3c /* < */) continue;
    const run = new LongText(input, from, to);
    pieces.push(input.toString('utf8', copied, from), `${MARKER_OPEN}${runs.length}${MARKER_CLOSE}${'\n'.repeat(newlinesIn(input, from, to))}`);
    runs.push(run);
    copied = to;
  }
  if (runs.length === 0) return whole();
  pieces.push(input.toString('utf8', copied));
  return { text: pieces.join(''), runs };
}

/** First window of alphabetEnd: most texts after a '>' are short (a code, a name). */
const ALPHABET_FIRST_WINDOW = 256;
/** Later windows: big enough for few calls, small enough to be garbage at once. */
const ALPHABET_WINDOW = 256 * 1024;

/** The end of the run of base64-alphabet and whitespace bytes that starts at `from`. */
function alphabetEnd(input: Buffer, from: number): number {
  let window = ALPHABET_FIRST_WINDOW;
  for (let at = from; ; at += window, window = ALPHABET_WINDOW) {
    const end = Math.min(input.length, at + window);
    // Latin-1 maps byte i to character i: the match length is a byte count.
    BASE64_CONTINUES.lastIndex = 0;
    BASE64_CONTINUES.exec(input.toString('latin1', at, end));
    const stop = at + BASE64_CONTINUES.lastIndex;
    if (stop < end || end === input.length) return stop;
  }
}

/** Line breaks as XML counts them (CRLF, CR and LF each end one line) in input[from, to); indexOf runs at memchr speed. */
function newlinesIn(input: Buffer, from: number, to: number): number {
  const count = (needle: string): number => {
    let n = 0;
    for (let i = input.indexOf(needle, from, 'latin1'); i !== -1 && i + needle.length <= to; i = input.indexOf(needle, i + needle.length, 'latin1')) n++;
    return n;
  };
  const lf = count('\n');
  const cr = count('\r');
  return cr === 0 ? lf : lf + cr - count('\r\n');
}

function tooLarge(bytes: number, max: number): Result<never> {
  return {
    ok: false,
    issues: [
      issue('EDX_ERR_XML_TOO_LARGE', '1:1', `The body is ${bytes} bytes; the limit is ${max} bytes.`, String(bytes)),
    ],
  };
}

function checkDeclaredEncoding(
  encoding: string | undefined,
  abort: (code: ErrorCode, detail: string, value?: string) => never,
): void {
  if (encoding !== undefined && !/^utf-?8$/i.test(encoding)) {
    abort('EDX_ERR_XML_ENCODING', `The XML declaration names encoding "${encoding}", not UTF-8.`, encoding);
  }
}

/** The scope for an element: its parent's, plus the xmlns declarations among its attributes. */
function bindNamespaces(
  parent: Scope,
  attributes: Readonly<Record<string, string>>,
  abort: (code: ErrorCode, detail: string, value?: string) => never,
): Scope {
  let scope: Map<string, string> | undefined;
  for (const [name, value] of Object.entries(attributes)) {
    let prefix: string;
    if (name === 'xmlns') prefix = '';
    else if (name.startsWith('xmlns:')) prefix = name.slice(6);
    else continue;
    const uri = value.trim();
    if (prefix === 'xml' || prefix === 'xmlns' || uri === XML_NAMESPACE || uri === XMLNS_NAMESPACE) {
      if (!(prefix === 'xml' && uri === XML_NAMESPACE)) {
        abort('EDX_ERR_XML_MALFORMED', `The namespace declaration ${name}="${uri}" is reserved by XML.`, name);
      }
    }
    if (prefix !== '' && uri === '') {
      abort('EDX_ERR_XML_MALFORMED', `The prefix "${prefix}" cannot be bound to an empty namespace.`, name);
    }
    scope ??= new Map(parent);
    // An empty default namespace declaration puts unprefixed elements back in no namespace.
    scope.set(prefix, uri);
  }
  return scope ?? parent;
}

function splitName(
  name: string,
  abort: (code: ErrorCode, detail: string, value?: string) => never,
): { prefix: string | undefined; local: string } {
  const colon = name.indexOf(':');
  if (colon === -1) return { prefix: undefined, local: name };
  const prefix = name.slice(0, colon);
  const local = name.slice(colon + 1);
  if (prefix === '' || local === '' || local.includes(':')) {
    abort('EDX_ERR_XML_MALFORMED', `The element name <${name}> is not a valid qualified name.`, name);
  }
  return { prefix, local };
}

function joinText(pieces: readonly (string | LongText)[]): string {
  const text = (piece: string | LongText | undefined): string => (piece instanceof LongText ? piece.read() : (piece ?? ''));
  if (pieces.length === 0) return '';
  if (pieces.length === 1) return text(pieces[0]).trim();
  return pieces.map(text).join('').trim();
}
