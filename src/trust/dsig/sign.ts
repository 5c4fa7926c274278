// signPacket: an enveloped XML-DSig signature over the whole packet, in /edXML/edXMLEnvelope/edXMLHeader
// as its last child (after TraceHeaderList, spec/edxml.md §5), RSA-SHA256 over SHA-256, exc-c14n by
// default, the signer's certificate in KeyInfo/X509Data. A Signature already in edXMLHeader (a real
// one, or the samples' namespace-less placeholder) is replaced in place: that is re-signing.
//
// No second canonicalization when the input is already canonical (our builder's output, anything
// signed by us, or by a signer that left the packet's bytes alone): the scan proves it, the digest is a hash over the bytes around the insertion point,
// and the output is those same bytes with the Signature spliced in — glued to the end tag before it,
// as src/edxml/build.ts writes it, so that removing it gives back the input byte for byte. SignedInfo
// is written in canonical form too (the builder's layout), so what is signed is the tree's c14n and
// what is written re-canonicalizes to it.
//
// Other input (CRLF line ends, `<a/>`, comments, …) is canonicalized once with the chosen algorithm and
// the output is that canonical form: an equivalent document that the next hop verifies on the fast
// path. The XML declaration becomes ours; comments, which the signature could not cover, are dropped.

import { createHash, createPublicKey, sign as signRsa, X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { EdxError, issue } from '../../errors.ts';
import type { ErrorCode, Result } from '../../errors.ts';
import { XML_PROLOG } from '../../edxml/build.ts';
import { EDXML_NAMESPACE, XMLDSIG_NAMESPACE } from '../../edxml/model.ts';
import type { Canonicalization, SigningKey } from '../types.ts';
import { ALGORITHM, CANONICALIZATION_URI } from './algorithms.ts';
import type { ByteSpan } from './canonical-scan.ts';
import { canonicalizeDocument, canonicalSubtreeText, escapeAttribute, escapeText, StringSink } from './canonicalize.ts';
import type { CanonicalizationSpec, DocumentMark, Scope } from './canonicalize.ts';
import { MIN_RSA_BITS } from './certificates.ts';
import { digestOfRanges, viewPacket } from './packet-view.ts';
import type { CanonicalView, TreeView } from './packet-view.ts';
import type { ContentNode, ElementNode, XmlAttribute } from './xml-tree.ts';

export interface SignOptions {
  /** The c14n of the Reference and of SignedInfo; exc-c14n unless said otherwise. */
  readonly canonicalization?: Canonicalization | undefined;
}

/**
 * Signs `unsignedBytes` (an edXML packet, signed or not) with `key`. Throws an EdxError when the input
 * is not a packet that can be signed or the key cannot be used — as the builder throws on bad
 * models, these are bugs or misconfiguration upstream, not properties of received data. `trySignPacket`
 * returns the same refusals as values.
 */
export function signPacket(unsignedBytes: Buffer, key: SigningKey, options: SignOptions = {}): Buffer {
  const signed = trySignPacket(unsignedBytes, key, options);
  if (!signed.ok) throw EdxError.fromIssues(signed.issues);
  return signed.value;
}

/** signPacket, with refusals as catalogued issues. */
export function trySignPacket(unsignedBytes: Buffer, key: SigningKey, options: SignOptions = {}): Result<Buffer> {
  const prepared = prepareKey(key);
  if (typeof prepared === 'string') return refused('EDX_ERR_SIGNATURE_KEY_INVALID', 'SigningKey', prepared);
  const algorithm = options.canonicalization ?? 'exc-c14n';
  const viewed = viewPacket(unsignedBytes);
  if (!viewed.ok) return refused('EDX_ERR_XML_MALFORMED', '/', `The packet cannot be signed: ${viewed.reason}.`);
  const spec: CanonicalizationSpec = { algorithm, inclusivePrefixes: [] };
  return viewed.view.kind === 'canonical' ? signCanonical(viewed.view, prepared, spec) : signTree(viewed.view, prepared, spec);
}

// --- the two paths ----------------------------------------------------------------------------

/** Fast path: hash around the insertion point, splice the Signature into the original bytes. */
function signCanonical(view: CanonicalView, key: PreparedKey, spec: CanonicalizationSpec): Result<Buffer> {
  const { bytes, scan } = view;
  const header = scan.header;
  if (header === undefined) return refused('EDX_ERR_PACKET_STRUCTURE', 'edXMLHeader', 'The packet has no /edXML/edXMLEnvelope/edXMLHeader to put the Signature in.');
  if (scan.dsigSignatures.some((s) => !s.inHeader)) return strayRefusal();
  const holes: ByteSpan[] = header.children.filter(isReplaceableSignature).map((c) => c.span);
  const lastChild = header.children[header.children.length - 1];
  const insertAt = holes[0]?.start ?? lastChild?.span.end ?? header.startTagEnd;

  const digest = digestOfRanges(bytes, scan.root, holes, 'sha256');
  const signature = Buffer.from(signatureElement(digest, header.scope, [], spec, key), 'utf8');

  // Output: bytes up to the insertion point, the Signature, then the rest without the old Signature(s).
  const pieces: Buffer[] = [bytes.subarray(0, insertAt), signature];
  let from = insertAt;
  for (const hole of holes) {
    pieces.push(bytes.subarray(from, hole.start));
    from = hole.end;
  }
  pieces.push(bytes.subarray(from));
  return { ok: true, value: Buffer.concat(pieces), warnings: [] };
}

/** General path: canonicalize once (without the old Signature), cut at the insertion point, splice. */
function signTree(view: TreeView, key: PreparedKey, spec: CanonicalizationSpec): Result<Buffer> {
  const header = view.layout.header;
  if (header === undefined) return refused('EDX_ERR_PACKET_STRUCTURE', 'edXMLHeader', 'The packet has no /edXML/edXMLEnvelope/edXMLHeader to put the Signature in.');
  if (view.layout.dsigSignatures.some((s) => !s.inHeader)) return strayRefusal();
  const old = header.children.filter(isReplaceableSignature).map((c) => c.element);
  const elementChildren = header.element.children.filter((c): c is ElementNode => c.kind === 'element');
  const lastChild = elementChildren[elementChildren.length - 1];

  const sink = new StringSink();
  const onMark = (): void => sink.mark();
  const firstOld = old[0];
  const mark: DocumentMark =
    firstOld !== undefined
      ? { element: firstOld, position: 'instead', onMark }
      : lastChild !== undefined
        ? { element: lastChild, position: 'after-end-tag', onMark }
        : { element: header.element, position: 'after-start-tag', onMark };
  const outcome = canonicalizeDocument(view.document, spec, sink, { exclude: new Set(old), mark });
  if (!outcome.ok) return refused('EDX_ERR_XML_MALFORMED', '/', `The packet cannot be canonicalized: ${outcome.reason}.`);
  const cut = sink.marks[0] ?? sink.parts.length;
  const before = sink.parts.slice(0, cut).join('');
  const after = sink.parts.slice(cut).join('');

  const digest = createHash('sha256').update(before, 'utf8').update(after, 'utf8').digest();
  const signature = signatureElement(digest, header.scope, header.xmlAttributes, spec, key);
  const parts = [XML_PROLOG, before, signature, after];
  let size = 0;
  for (const part of parts) size += Buffer.byteLength(part, 'utf8');
  const output = Buffer.allocUnsafe(size);
  let offset = 0;
  for (const part of parts) offset += output.write(part, offset, 'utf8');
  return { ok: true, value: output, warnings: [] };
}

/** What re-signing replaces: a Signature child of edXMLHeader, standard or in the samples' namespace-less form. */
function isReplaceableSignature(child: { readonly local: string; readonly namespace: string | undefined }): boolean {
  return child.local === 'Signature' && (child.namespace === XMLDSIG_NAMESPACE || child.namespace === EDXML_NAMESPACE);
}

function strayRefusal(): Result<Buffer> {
  return refused(
    'EDX_ERR_SIGNATURE_REFERENCE',
    'Signature',
    'The packet has an XML-DSig Signature outside edXMLHeader; a packet signed over it would be refused by every verifier applying the anti-wrapping rule.',
  );
}

// --- the Signature element --------------------------------------------------------------------

// The builder's indentation (src/edxml/build.ts INDENT): edXMLHeader's children are at level 3.
const INDENT: readonly string[] = Array.from({ length: 8 }, (_, i) => `\n${'  '.repeat(i)}`);
const at = (level: number): string => INDENT[level] ?? '\n';

/**
 * The Signature element as written into the packet: the builder's layout (writeSignature in
 * src/edxml/build.ts), so that parsing a signed packet and building it again gives the same bytes.
 * `headerScope`/`headerXml` are what is in scope at edXMLHeader: SignedInfo's c14n takes them in.
 */
function signatureElement(digest: Buffer, headerScope: Scope, headerXml: readonly XmlAttribute[], spec: CanonicalizationSpec, key: PreparedKey): string {
  const c14nUri = CANONICALIZATION_URI[spec.algorithm];
  const signedInfo = element('SignedInfo', [], [
    text(at(5)),
    element('CanonicalizationMethod', [{ name: 'Algorithm', value: c14nUri }], []),
    text(at(5)),
    element('SignatureMethod', [{ name: 'Algorithm', value: ALGORITHM.rsaSha256 }], []),
    text(at(5)),
    element('Reference', [{ name: 'URI', value: '' }], [
      text(at(6)),
      element('Transforms', [], [
        text(at(7)),
        element('Transform', [{ name: 'Algorithm', value: ALGORITHM.envelopedSignature }], []),
        text(at(7)),
        element('Transform', [{ name: 'Algorithm', value: c14nUri }], []),
        text(at(6)),
      ]),
      text(at(6)),
      element('DigestMethod', [{ name: 'Algorithm', value: ALGORITHM.sha256 }], []),
      text(at(6)),
      element('DigestValue', [], [text(digest.toString('base64'))]),
      text(at(5)),
    ]),
    text(at(4)),
  ]);
  // Inside the Signature the default namespace is XML-DSig's (declared on it); the rest is inherited.
  const signatureScope = new Map(headerScope);
  signatureScope.set('', XMLDSIG_NAMESPACE);
  const canonical = canonicalSubtreeText(signedInfo, { scope: signatureScope, xmlAttributes: headerXml }, spec);
  // Our own tree, declaring nothing and using no prefix: it cannot fail to canonicalize.
  if (!canonical.ok) throw new Error(`SignedInfo could not be canonicalized: ${canonical.reason}`);
  const signatureValue = signRsa('sha256', Buffer.from(canonical.text, 'utf8'), key.privateKey).toString('base64');
  return (
    `<Signature xmlns="${XMLDSIG_NAMESPACE}">` +
    `${at(4)}${serialize(signedInfo)}` +
    `${at(4)}<SignatureValue>${signatureValue}</SignatureValue>` +
    `${at(4)}<KeyInfo>${at(5)}<X509Data>${key.certificatesBase64.map((c) => `${at(6)}<X509Certificate>${c}</X509Certificate>`).join('')}${at(5)}</X509Data>${at(4)}</KeyInfo>` +
    `${at(3)}</Signature>`
  );
}

function element(name: string, attributes: readonly XmlAttribute[], children: readonly ContentNode[]): ElementNode {
  return { kind: 'element', name, attributes, children };
}

function text(value: string): ContentNode {
  return { kind: 'text', value };
}

/** Writes our SignedInfo tree with c14n escaping and `<a></a>` empty elements (it declares no namespace). */
function serialize(node: ElementNode): string {
  let out = `<${node.name}`;
  for (const a of node.attributes) out += ` ${a.name}="${escapeAttribute(a.value)}"`;
  out += '>';
  for (const child of node.children) {
    if (child.kind === 'element') out += serialize(child);
    else if (child.kind === 'text') out += escapeText(child.value);
  }
  return `${out}</${node.name}>`;
}

// --- the key ----------------------------------------------------------------------------------

interface PreparedKey {
  readonly privateKey: KeyObject;
  /** The signer's certificate, then its intermediates: a receiver that lacks them can still build the chain. */
  readonly certificatesBase64: readonly string[];
}

// Checking that the certificate matches the key costs about half a signature (~0.2 ms: parsing the
// certificate, deriving the public key); do it once per private key and certificate. Keyed by the
// KeyObject, so that a caller wrapping the same key in a new SigningKey object still hits.
const preparedKeys = new WeakMap<KeyObject, { readonly certificate: Buffer; readonly prepared: PreparedKey }>();

function prepareKey(key: SigningKey): PreparedKey | string {
  const { privateKey } = key;
  const known = preparedKeys.get(privateKey);
  const first = key.certificates[0];
  if (known !== undefined && first !== undefined && known.certificate.equals(first)) return known.prepared;
  if (privateKey.type !== 'private') return 'The signing key is not a private key.';
  if (privateKey.asymmetricKeyType !== 'rsa') return `The signing key is ${privateKey.asymmetricKeyType ?? 'of an unknown type'}, not RSA.`;
  const bits = privateKey.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS) return `The signing key has ${bits} bits, fewer than ${MIN_RSA_BITS}.`;
  if (first === undefined) return 'The signing key has no certificate.';
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(first);
  } catch {
    return 'The first certificate of the signing key is not a DER-encoded X.509 certificate.';
  }
  const fromKey = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const fromCertificate = certificate.publicKey.export({ type: 'spki', format: 'der' });
  if (!fromKey.equals(fromCertificate)) return 'The first certificate of the signing key is not the certificate of its private key.';
  const prepared: PreparedKey = {
    privateKey,
    certificatesBase64: [certificate.raw.toString('base64'), ...key.certificates.slice(1).map((c) => Buffer.from(c).toString('base64'))],
  };
  preparedKeys.set(privateKey, { certificate: Buffer.from(first), prepared });
  return prepared;
}

function refused(code: ErrorCode, path: string, detail: string): Result<Buffer> {
  return { ok: false, issues: [issue(code, path, detail)] };
}
