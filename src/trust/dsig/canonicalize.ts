// Canonical XML 1.0 (https://www.w3.org/TR/2001/REC-xml-c14n-20010315) and Exclusive Canonical XML
// (https://www.w3.org/TR/2002/REC-xml-exc-c14n-20020718), both without comments, over the tree of
// xml-tree.ts — the general path, correct for any input the parser accepts. The fast path
// (canonical-scan.ts) hashes byte ranges instead, and only when it has proved the bytes already are
// what this module would write; the tests hold the two, xml-crypto and xmlsec1 to the same output.
//
// The two node-sets XML-DSig asks for here are both "whole subtrees":
// - the document minus the Signature element (Reference URI="" + enveloped-signature): every element
//   that is output has all its ancestors output, so the namespace rules reduce to "compared with the
//   nearest output ancestor" = "compared with the parent";
// - SignedInfo (what SignatureValue signs): a subtree whose ancestors are not output, so the apex
//   takes in the namespaces in scope from them (all of them under c14n, only those it uses under
//   exc-c14n), and under c14n also the xml:* attributes in scope (c14n 1.0 §2.4; exc-c14n does not).
// Both are handled by one walk that keeps, per element, the namespace bindings in scope and those
// already rendered by output ancestors.
//
// Failures (an unbound prefix, a duplicate expanded attribute name, a reserved prefix misused) are
// not canonicalizable documents: they are returned as values, never thrown at the caller.

import type { Hash } from 'node:crypto';
import type { Canonicalization } from '../types.ts';
import type { ContentNode, DocumentNode, ElementNode, XmlAttribute } from './xml-tree.ts';

export const XML_NAMESPACE = 'http://www.w3.org/XML/1998/namespace';
export const XMLNS_NAMESPACE = 'http://www.w3.org/2000/xmlns/';

/** Prefix → namespace URI in scope; '' is the default namespace, bound to '' when there is none. */
export type Scope = ReadonlyMap<string, string>;

export const EMPTY_SCOPE: Scope = new Map();

/** A canonicalization algorithm as a Transform or CanonicalizationMethod names it. */
export interface CanonicalizationSpec {
  readonly algorithm: Canonicalization;
  /** exc-c14n's InclusiveNamespaces PrefixList ('' stands for #default); empty for c14n. */
  readonly inclusivePrefixes: readonly string[];
}

export const C14N: CanonicalizationSpec = Object.freeze({ algorithm: 'c14n', inclusivePrefixes: [] });
export const EXC_C14N: CanonicalizationSpec = Object.freeze({ algorithm: 'exc-c14n', inclusivePrefixes: [] });

/** Where canonical text goes: a hash, or parts of a string. */
export interface Sink {
  write(text: string): void;
}

export type C14nOutcome = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** Feeds a hash, batching the many small strings of markup into few update calls. */
export class HashSink implements Sink {
  private parts: string[] = [];
  private pending = 0;

  constructor(private readonly hash: Hash) {}

  write(text: string): void {
    if (text.length >= 16_384) {
      this.flush();
      this.hash.update(text, 'utf8');
      return;
    }
    this.parts.push(text);
    this.pending += text.length;
    if (this.pending >= 65_536) this.flush();
  }

  /** Pushes what is batched into the hash; call before reading the digest. */
  flush(): void {
    if (this.parts.length === 0) return;
    this.hash.update(this.parts.length === 1 ? (this.parts[0] ?? '') : this.parts.join(''), 'utf8');
    this.parts = [];
    this.pending = 0;
  }
}

/** Collects the text, with optional marks to cut it at (the signer inserts the Signature at one). */
export class StringSink implements Sink {
  readonly parts: string[] = [];
  readonly marks: number[] = [];

  write(text: string): void {
    this.parts.push(text);
  }

  mark(): void {
    this.marks.push(this.parts.length);
  }

  text(): string {
    return this.parts.join('');
  }
}

/** Where, relative to an element, the document walk should call `onMark` (see canonicalizeDocument). */
export interface DocumentMark {
  readonly element: ElementNode;
  /** `instead`: where the (excluded) element would have been written. */
  readonly position: 'after-start-tag' | 'after-end-tag' | 'instead';
  readonly onMark: () => void;
}

export interface DocumentOptions {
  /** Elements left out with their subtree: the Signature under the enveloped-signature transform. */
  readonly exclude?: ReadonlySet<ElementNode> | undefined;
  readonly mark?: DocumentMark | undefined;
}

/**
 * The canonical form of a whole document (the node-set of URI="" minus comments), less `exclude`.
 * Processing instructions outside the root keep their place with the line breaks c14n puts around
 * them; the XML declaration and whitespace outside the root are not part of the output.
 */
export function canonicalizeDocument(document: DocumentNode, spec: CanonicalizationSpec, sink: Sink, options: DocumentOptions = {}): C14nOutcome {
  const walker = new Walker(spec, sink, options.exclude, options.mark);
  try {
    for (const pi of document.before) sink.write(`<?${pi.target}${pi.data === '' ? '' : ` ${pi.data}`}?>\n`);
    walker.element(document.root, EMPTY_SCOPE, INITIAL_RENDERED, undefined);
    for (const pi of document.after) sink.write(`\n<?${pi.target}${pi.data === '' ? '' : ` ${pi.data}`}?>`);
  } catch (err) {
    if (err instanceof C14nFailure) return { ok: false, reason: err.reason };
    throw err;
  }
  return { ok: true };
}

/** What an apex element inherits from ancestors that are not output. */
export interface SubtreeContext {
  /** The namespace bindings in scope at the apex's parent. */
  readonly scope: Scope;
  /** xml:* attributes in scope at the apex's parent, nearest first wins (c14n 1.0 only). */
  readonly xmlAttributes: readonly XmlAttribute[];
}

/** The canonical form of one element and its descendants (SignedInfo), given what its ancestors put in scope. */
export function canonicalizeSubtree(element: ElementNode, context: SubtreeContext, spec: CanonicalizationSpec, sink: Sink): C14nOutcome {
  const walker = new Walker(spec, sink, undefined, undefined);
  try {
    walker.element(element, context.scope, INITIAL_RENDERED, spec.algorithm === 'c14n' ? context.xmlAttributes : undefined);
  } catch (err) {
    if (err instanceof C14nFailure) return { ok: false, reason: err.reason };
    throw err;
  }
  return { ok: true };
}

/** Canonicalizes a subtree into a string (SignedInfo is a few hundred bytes). */
export function canonicalSubtreeText(element: ElementNode, context: SubtreeContext, spec: CanonicalizationSpec): { ok: true; text: string } | { ok: false; reason: string } {
  const sink = new StringSink();
  const outcome = canonicalizeSubtree(element, context, spec, sink);
  return outcome.ok ? { ok: true, text: sink.text() } : outcome;
}

/**
 * The scope inside `element`: `parent` plus the element's own namespace declarations. Refuses the
 * declarations Namespaces in XML 1.0 forbids (undeclaring a prefix, rebinding xml or xmlns).
 */
export function scopeOf(element: ElementNode, parent: Scope): { ok: true; scope: Scope } | { ok: false; reason: string } {
  try {
    return { ok: true, scope: declare(element, parent) };
  } catch (err) {
    if (err instanceof C14nFailure) return { ok: false, reason: err.reason };
    throw err;
  }
}

/** The xml:* attributes in scope inside `element`: its own override those inherited. */
export function xmlAttributesOf(element: ElementNode, inherited: readonly XmlAttribute[]): readonly XmlAttribute[] {
  const own = element.attributes.filter((a) => a.name.startsWith('xml:'));
  if (own.length === 0) return inherited;
  return [...own, ...inherited.filter((a) => !own.some((o) => o.name === a.name))];
}

/** Splits a qualified name; `prefix` is '' for an unprefixed name. */
export function splitQName(name: string): { prefix: string; local: string } {
  const colon = name.indexOf(':');
  return colon === -1 ? { prefix: '', local: name } : { prefix: name.slice(0, colon), local: name.slice(colon + 1) };
}

/** Text content as c14n writes it. */
export function escapeText(value: string): string {
  return TEXT_SPECIAL.test(value) ? value.replace(TEXT_SPECIAL_ALL, (c) => TEXT_ESCAPES[c] ?? c) : value;
}

/** An attribute value (or namespace URI) as c14n writes it. */
export function escapeAttribute(value: string): string {
  return ATTRIBUTE_SPECIAL.test(value) ? value.replace(ATTRIBUTE_SPECIAL_ALL, (c) => ATTRIBUTE_ESCAPES[c] ?? c) : value;
}

/** Orders strings by Unicode code point, as c14n sorts (JS `<` compares UTF-16 units, which differs past U+FFFF). */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // A surrogate (an astral code point) sorts after every BMP character, whatever its code unit.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

// --- the walk -----------------------------------------------------------------------------------

class C14nFailure {
  constructor(readonly reason: string) {}
}

/** Namespaces rendered by output ancestors; at the top nothing is, and the default is "none". */
const INITIAL_RENDERED: Scope = new Map([['', '']]);

interface ResolvedAttribute {
  readonly name: string;
  readonly namespace: string;
  readonly local: string;
  readonly value: string;
}

class Walker {
  private readonly exclusive: boolean;

  constructor(
    private readonly spec: CanonicalizationSpec,
    private readonly sink: Sink,
    private readonly exclude: ReadonlySet<ElementNode> | undefined,
    private readonly mark: DocumentMark | undefined,
  ) {
    this.exclusive = spec.algorithm === 'exc-c14n';
  }

  /** Writes `e`; `apexXmlAttributes` is set only for the apex of a c14n subtree. */
  element(e: ElementNode, parentScope: Scope, rendered: Scope, apexXmlAttributes: readonly XmlAttribute[] | undefined): void {
    const scope = declare(e, parentScope);
    const { prefix } = splitQName(e.name);
    if (prefix === 'xmlns') throw new C14nFailure(`the element <${e.name}> uses the reserved prefix xmlns`);
    if (prefix !== '' && prefix !== 'xml' && !scope.has(prefix)) throw new C14nFailure(`the element <${e.name}> uses the undeclared prefix "${prefix}"`);

    const attributes = this.attributes(e, scope, apexXmlAttributes);
    const declarations = this.exclusive ? this.exclusiveDeclarations(prefix, attributes, scope, rendered) : inclusiveDeclarations(scope, rendered);

    let out = `<${e.name}`;
    let childRendered = rendered;
    if (declarations.length > 0) {
      const next = new Map(rendered);
      for (const [p, uri] of declarations) {
        out += p === '' ? ` xmlns="${escapeAttribute(uri)}"` : ` xmlns:${p}="${escapeAttribute(uri)}"`;
        next.set(p, uri);
      }
      childRendered = next;
    }
    for (const a of attributes) out += ` ${a.name}="${escapeAttribute(a.value)}"`;
    out += '>';
    this.sink.write(out);
    if (this.mark !== undefined && this.mark.element === e && this.mark.position === 'after-start-tag') this.mark.onMark();

    for (const child of e.children) this.content(child, scope, childRendered);

    this.sink.write(`</${e.name}>`);
    if (this.mark !== undefined && this.mark.element === e && this.mark.position === 'after-end-tag') this.mark.onMark();
  }

  private content(node: ContentNode, scope: Scope, rendered: Scope): void {
    switch (node.kind) {
      case 'text':
        this.sink.write(escapeText(node.value));
        return;
      case 'pi':
        this.sink.write(`<?${node.target}${node.data === '' ? '' : ` ${node.data}`}?>`);
        return;
      case 'element':
        if (this.exclude?.has(node)) {
          if (this.mark !== undefined && this.mark.element === node && this.mark.position === 'instead') this.mark.onMark();
          return;
        }
        this.element(node, scope, rendered, undefined);
    }
  }

  /** The element's attributes other than namespace declarations, resolved and in c14n order. */
  private attributes(e: ElementNode, scope: Scope, apexXmlAttributes: readonly XmlAttribute[] | undefined): ResolvedAttribute[] {
    const out: ResolvedAttribute[] = [];
    const add = (a: XmlAttribute): void => {
      const { prefix, local } = splitQName(a.name);
      let namespace = '';
      if (prefix === 'xml') namespace = XML_NAMESPACE;
      else if (prefix !== '') {
        const bound = scope.get(prefix);
        if (bound === undefined) throw new C14nFailure(`the attribute ${a.name} of <${e.name}> uses the undeclared prefix "${prefix}"`);
        namespace = bound;
      }
      if (out.some((o) => o.namespace === namespace && o.local === local)) {
        throw new C14nFailure(`<${e.name}> has two attributes named {${namespace}}${local}`);
      }
      out.push({ name: a.name, namespace, local, value: a.value });
    };
    for (const a of e.attributes) {
      if (a.name === 'xmlns' || a.name.startsWith('xmlns:')) continue;
      add(a);
    }
    if (apexXmlAttributes !== undefined) {
      for (const a of apexXmlAttributes) {
        if (!e.attributes.some((own) => own.name === a.name)) add(a);
      }
    }
    if (out.length > 1) out.sort((a, b) => compareCodePoints(a.namespace, b.namespace) || compareCodePoints(a.local, b.local));
    return out;
  }

  /** exc-c14n: the namespaces the element visibly uses (plus the PrefixList's) that output ancestors did not render with that value. */
  private exclusiveDeclarations(elementPrefix: string, attributes: readonly ResolvedAttribute[], scope: Scope, rendered: Scope): [string, string][] {
    const wanted = new Set<string>([elementPrefix]);
    for (const a of attributes) {
      const { prefix } = splitQName(a.name);
      if (prefix !== '' && prefix !== 'xml') wanted.add(prefix);
    }
    for (const p of this.spec.inclusivePrefixes) if (p === '' || scope.has(p)) wanted.add(p);
    wanted.delete('xml');
    const out: [string, string][] = [];
    for (const p of wanted) {
      const uri = scope.get(p) ?? '';
      if (rendered.get(p) !== uri && !(p !== '' && uri === '')) out.push([p, uri]);
    }
    return out.sort((a, b) => compareCodePoints(a[0], b[0]));
  }
}

/** c14n: every namespace in scope that output ancestors did not render with the same value. */
function inclusiveDeclarations(scope: Scope, rendered: Scope): [string, string][] {
  const out: [string, string][] = [];
  const defaultUri = scope.get('') ?? '';
  if (rendered.get('') !== defaultUri) out.push(['', defaultUri]);
  for (const [p, uri] of scope) {
    if (p !== '' && rendered.get(p) !== uri) out.push([p, uri]);
  }
  return out.length > 1 ? out.sort((a, b) => compareCodePoints(a[0], b[0])) : out;
}

/** The element's scope: `parent` plus its declarations, with the checks Namespaces in XML 1.0 makes. */
function declare(e: ElementNode, parent: Scope): Scope {
  let scope: Map<string, string> | undefined;
  for (const a of e.attributes) {
    let prefix: string;
    if (a.name === 'xmlns') prefix = '';
    else if (a.name.startsWith('xmlns:')) prefix = a.name.slice(6);
    else continue;
    const uri = a.value;
    if (prefix === 'xml') {
      if (uri !== XML_NAMESPACE) throw new C14nFailure(`<${e.name}> binds the prefix xml to ${uri}`);
      // Legal and never rendered: the xml namespace is implicitly in scope everywhere.
      continue;
    }
    if (prefix === 'xmlns') throw new C14nFailure(`<${e.name}> declares the reserved prefix xmlns`);
    if (uri === XML_NAMESPACE || uri === XMLNS_NAMESPACE) throw new C14nFailure(`<${e.name}> binds a prefix to the reserved namespace ${uri}`);
    if (prefix !== '' && uri === '') throw new C14nFailure(`<${e.name}> undeclares the prefix "${prefix}", which XML 1.0 does not allow`);
    if (prefix.includes(':') || (prefix === '' && a.name !== 'xmlns')) throw new C14nFailure(`<${e.name}> has the malformed declaration ${a.name}`);
    scope ??= new Map(parent);
    scope.set(prefix, uri);
  }
  return scope ?? parent;
}

const TEXT_SPECIAL = /[&<>\r]/;
const TEXT_SPECIAL_ALL = /[&<>\r]/g;
const ATTRIBUTE_SPECIAL = /[&<"\t\n\r]/;
const ATTRIBUTE_SPECIAL_ALL = /[&<"\t\n\r]/g;
const TEXT_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#xD;' };
const ATTRIBUTE_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '"': '&quot;',
  '\t': '&#x9;',
  '\n': '&#xA;',
  '\r': '&#xD;',
};
