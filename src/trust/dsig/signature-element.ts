// Reading a Signature element against the profile (spec/edxml.md §5, issue 5): one SignedInfo with a
// CanonicalizationMethod, a SignatureMethod and exactly one Reference URI="" whose transforms are the
// enveloped-signature transform optionally followed by one c14n; then SignatureValue; then KeyInfo
// with X509Data/X509Certificate. Everything else is refused, because anything else lets the signature
// cover something other than "the whole packet as processed": a second Reference or an Object carries
// signed content the gateway does not read, a URI="#id" or an XPath transform covers a part.
//
// Before any rule, the recognisable non-signatures: the values the official SDK hard-codes and the
// samples carry (SignatureValue, DigestValues, the truncated certificate `MIIFqTCCBJG`), and an
// unfilled template (empty SignatureValue or DigestValue). Those are `placeholder`, not `invalid`:
// nobody attempted a signature. Anything else that is broken is an attempt that failed, and `invalid`.
// (Under a `verify-if-present` policy this tolerance gives an attacker nothing: removing the Signature
// altogether already gives `unsigned`.)

import type { ErrorCode } from '../../errors.ts';
import { XMLDSIG_NAMESPACE } from '../../edxml/model.ts';
import type { Canonicalization, DigestAlgorithm, SignatureAlgorithm } from '../types.ts';
import {
  ALGORITHM,
  CANONICALIZATION_BY_URI,
  DIGEST_ALGORITHM_BY_URI,
  DIGEST_LENGTH,
  EXC_C14N_NAMESPACE,
  SIGNATURE_ALGORITHM_BY_URI,
  WITH_COMMENTS_URIS,
} from './algorithms.ts';
import { C14N, scopeOf, splitQName } from './canonicalize.ts';
import type { CanonicalizationSpec, Scope } from './canonicalize.ts';
import { decodeBase64, MAX_CERTIFICATES } from './certificates.ts';
import type { ElementNode } from './xml-tree.ts';

/** The SignatureValue hard-coded in the VPCP SDK example builder, found in every official sample. */
export const SDK_PLACEHOLDER_SIGNATURE_VALUE =
  'GbVb8n9+qFxz466Ag0sbpVdLPs2R0+9JBekp12UyarAZjoG0W/kPZZJ1auRZDcNcrSwzgkQMpqrjwxcy3ejzbY/ON5USUPgoYNYM8p4wsgQpEAeQaZ+EWLkkEBxYjb+iWEiAjYuJI7gtJoOyENcOK4fO050SXp2ctOc32LJMA5eEI6Hw7sxhc2LAgcPiynJHdDW2Z+eut6QZiUsbIF9+S3T6u/tfLImw39dgSlCxupwLPHepxuiLOqyd08HeJGCZufg9WqRBVyLFM76uCIaPRP5wwAdx72GVjPcG2kh+2jjrt7fqtJOufJzCObtQgPgBqIvDiZCGoOM41OQMiqtF3w==';

/** The DigestValues of the official samples (edoc*.edxml): copied along with the SDK's SignatureValue. */
const SDK_PLACEHOLDER_DIGEST_VALUES: ReadonlySet<string> = new Set(['FwgIqsSYJshUS2+wlOM61L+q7Aw=', 'PrlYKdD8sksgnxFvUVtPIQ0pAqM=']);
/** The truncated certificate the SDK example hard-codes (spec/edxml.md §5). */
const SDK_PLACEHOLDER_CERTIFICATE = 'MIIFqTCCBJG';

/** A Signature that follows the profile, ready to be checked. */
export interface SignatureParts {
  readonly signedInfo: ElementNode;
  /** The scope inside the Signature element (SignedInfo's parent). */
  readonly signatureScope: Scope;
  readonly signedInfoCanonicalization: CanonicalizationSpec;
  readonly signatureAlgorithm: SignatureAlgorithm;
  /** The c14n of the Reference: its c14n transform, or c14n 1.0 when it has none (XML-DSig §4.3.3.2). */
  readonly referenceCanonicalization: CanonicalizationSpec;
  readonly digestAlgorithm: DigestAlgorithm;
  readonly digestValue: Buffer;
  readonly signatureValue: Buffer;
  /** X509Certificate texts in document order. */
  readonly certificateTexts: readonly string[];
}

export type SignatureReading =
  | { readonly kind: 'signature'; readonly parts: SignatureParts }
  | { readonly kind: 'placeholder'; readonly reason: string }
  | { readonly kind: 'refused'; readonly code: ErrorCode; readonly reason: string };

/** An element of the Signature subtree with its name resolved. */
interface Resolved {
  readonly node: ElementNode;
  readonly local: string;
  readonly namespace: string;
  readonly scope: Scope;
  readonly children: readonly Resolved[];
  /** Direct character data, concatenated. */
  readonly text: string;
  readonly hasProcessingInstruction: boolean;
}

class Refusal {
  constructor(
    readonly code: ErrorCode,
    readonly reason: string,
  ) {}
}

function refuse(code: ErrorCode, reason: string): never {
  throw new Refusal(code, reason);
}

/** Reads `signature` (in the XML-DSig namespace) whose parent has `parentScope` in scope. */
export function readSignature(signature: ElementNode, parentScope: Scope): SignatureReading {
  try {
    const root = resolve(signature, parentScope);
    const placeholder = placeholderReason(root);
    if (placeholder !== undefined) return { kind: 'placeholder', reason: placeholder };
    return { kind: 'signature', parts: parts(root) };
  } catch (err) {
    if (err instanceof Refusal) return { kind: 'refused', code: err.code, reason: err.reason };
    throw err;
  }
}

function resolve(node: ElementNode, parentScope: Scope): Resolved {
  const scoped = scopeOf(node, parentScope);
  if (!scoped.ok) refuse('EDX_ERR_SIGNATURE_MALFORMED', `inside the Signature, ${scoped.reason}`);
  const { prefix, local } = splitQName(node.name);
  const namespace = scoped.scope.get(prefix);
  if (prefix !== '' && namespace === undefined) refuse('EDX_ERR_SIGNATURE_MALFORMED', `inside the Signature, <${node.name}> uses an undeclared prefix`);
  const children: Resolved[] = [];
  let text = '';
  let hasProcessingInstruction = false;
  for (const child of node.children) {
    if (child.kind === 'element') children.push(resolve(child, scoped.scope));
    else if (child.kind === 'text') text += child.value;
    else hasProcessingInstruction = true;
  }
  return { node, local, namespace: namespace ?? '', scope: scoped.scope, children, text, hasProcessingInstruction };
}

// --- placeholders -----------------------------------------------------------------------------

function placeholderReason(signature: Resolved): string | undefined {
  const signatureValue = dsigChildren(signature, 'SignatureValue')[0];
  const signedInfo = dsigChildren(signature, 'SignedInfo')[0];
  const reference = signedInfo === undefined ? undefined : dsigChildren(signedInfo, 'Reference')[0];
  const digestValue = reference === undefined ? undefined : dsigChildren(reference, 'DigestValue')[0];
  const compactSignatureValue = signatureValue?.text.replace(/\s+/g, '');
  if (compactSignatureValue === SDK_PLACEHOLDER_SIGNATURE_VALUE) {
    return 'the SignatureValue is the placeholder hard-coded in the VPCP SDK example (as in the official samples)';
  }
  if (digestValue !== undefined && SDK_PLACEHOLDER_DIGEST_VALUES.has(digestValue.text.replace(/\s+/g, ''))) {
    return 'the DigestValue is one copied from the official samples';
  }
  const keyInfo = dsigChildren(signature, 'KeyInfo')[0];
  const certificates = keyInfo === undefined ? [] : dsigChildren(keyInfo, 'X509Data').flatMap((d) => dsigChildren(d, 'X509Certificate'));
  if (certificates.some((c) => c.text.trim() === SDK_PLACEHOLDER_CERTIFICATE)) {
    return 'the X509Certificate is the truncated placeholder of the VPCP SDK example';
  }
  if (signatureValue !== undefined && compactSignatureValue === '' && signatureValue.children.length === 0) {
    return 'the SignatureValue is empty: an unsigned template';
  }
  if (digestValue !== undefined && digestValue.text.trim() === '' && digestValue.children.length === 0) {
    return 'the DigestValue is empty: an unsigned template';
  }
  return undefined;
}

// --- the profile ------------------------------------------------------------------------------

function parts(signature: Resolved): SignatureParts {
  structural(signature);
  const [signedInfo, signatureValueElement, keyInfo, ...rest] = signature.children;
  if (signedInfo === undefined || !isDsig(signedInfo, 'SignedInfo')) refuse('EDX_ERR_SIGNATURE_MALFORMED', 'the Signature does not start with SignedInfo');
  if (signatureValueElement === undefined || !isDsig(signatureValueElement, 'SignatureValue')) refuse('EDX_ERR_SIGNATURE_MALFORMED', 'SignatureValue does not follow SignedInfo');
  if (keyInfo === undefined || !isDsig(keyInfo, 'KeyInfo')) refuse('EDX_ERR_SIGNATURE_MALFORMED', 'KeyInfo (with X509Data/X509Certificate) does not follow SignatureValue');
  const extra = rest[0];
  if (extra !== undefined) refuse('EDX_ERR_SIGNATURE_MALFORMED', `unexpected <${extra.node.name}> in the Signature (Object elements are not accepted)`);

  // SignedInfo: CanonicalizationMethod, SignatureMethod, one Reference.
  structural(signedInfo);
  const [canonicalizationMethod, signatureMethod, ...references] = signedInfo.children;
  if (canonicalizationMethod === undefined || !isDsig(canonicalizationMethod, 'CanonicalizationMethod')) refuse('EDX_ERR_SIGNATURE_MALFORMED', 'SignedInfo does not start with CanonicalizationMethod');
  if (signatureMethod === undefined || !isDsig(signatureMethod, 'SignatureMethod')) refuse('EDX_ERR_SIGNATURE_MALFORMED', 'SignatureMethod does not follow CanonicalizationMethod');
  for (const r of references) if (!isDsig(r, 'Reference')) refuse('EDX_ERR_SIGNATURE_MALFORMED', `unexpected <${r.node.name}> in SignedInfo`);
  if (references.length !== 1) refuse('EDX_ERR_SIGNATURE_REFERENCE', `SignedInfo has ${references.length} Reference elements; exactly one (URI="") is allowed`);
  const reference = references[0] as Resolved;

  const signedInfoCanonicalization = canonicalization(canonicalizationMethod, 'CanonicalizationMethod');
  const signatureAlgorithm = SIGNATURE_ALGORITHM_BY_URI.get(algorithmOf(signatureMethod));
  if (signatureAlgorithm === undefined) refuse('EDX_ERR_SIGNATURE_UNSUPPORTED', `the SignatureMethod ${algorithmOf(signatureMethod)} is not accepted (RSA-SHA256 or RSA-SHA1)`);
  if (signatureMethod.children.length > 0 || signatureMethod.text.trim() !== '') refuse('EDX_ERR_SIGNATURE_UNSUPPORTED', 'SignatureMethod has parameters; none are accepted');

  // Reference URI="": the whole document, minus the Signature (enveloped-signature), one c14n.
  const uri = attribute(reference.node, 'URI');
  if (uri !== '') refuse('EDX_ERR_SIGNATURE_REFERENCE', uri === undefined ? 'the Reference has no URI attribute; URI="" (the whole packet) is required' : `the Reference has URI="${uri}"; only URI="" (the whole packet) is accepted`);
  structural(reference);
  const [first, ...afterFirst] = reference.children;
  const transforms = first !== undefined && isDsig(first, 'Transforms') ? first : undefined;
  const [digestMethod, digestValueElement, ...afterDigest] = transforms === undefined ? reference.children : afterFirst;
  if (digestMethod === undefined || !isDsig(digestMethod, 'DigestMethod')) refuse('EDX_ERR_SIGNATURE_MALFORMED', 'the Reference has no DigestMethod where expected');
  if (digestValueElement === undefined || !isDsig(digestValueElement, 'DigestValue')) refuse('EDX_ERR_SIGNATURE_MALFORMED', 'DigestValue does not follow DigestMethod');
  const extraInReference = afterDigest[0];
  if (extraInReference !== undefined) refuse('EDX_ERR_SIGNATURE_MALFORMED', `unexpected <${extraInReference.node.name}> in the Reference`);
  const referenceCanonicalization = referenceTransforms(transforms);

  const digestAlgorithm = DIGEST_ALGORITHM_BY_URI.get(algorithmOf(digestMethod));
  if (digestAlgorithm === undefined) refuse('EDX_ERR_SIGNATURE_UNSUPPORTED', `the DigestMethod ${algorithmOf(digestMethod)} is not accepted (SHA-256 or SHA-1)`);
  if (digestMethod.children.length > 0) refuse('EDX_ERR_SIGNATURE_UNSUPPORTED', 'DigestMethod has parameters; none are accepted');
  const digestValue = leafBase64(digestValueElement, 'DigestValue');
  if (digestValue.length !== DIGEST_LENGTH[digestAlgorithm]) {
    refuse('EDX_ERR_SIGNATURE_MALFORMED', `the DigestValue has ${digestValue.length} bytes; ${digestAlgorithm} digests have ${DIGEST_LENGTH[digestAlgorithm]}`);
  }

  const signatureValue = leafBase64(signatureValueElement, 'SignatureValue');
  const certificateTexts = certificates(keyInfo);

  return {
    signedInfo: signedInfo.node,
    signatureScope: signature.scope,
    signedInfoCanonicalization,
    signatureAlgorithm,
    referenceCanonicalization,
    digestAlgorithm,
    digestValue,
    signatureValue,
    certificateTexts,
  };
}

/** The Reference's transforms: enveloped-signature, then at most one c14n; anything else is refused. */
function referenceTransforms(transforms: Resolved | undefined): CanonicalizationSpec {
  if (transforms === undefined) refuse('EDX_ERR_SIGNATURE_REFERENCE', 'the Reference has no Transforms; the enveloped-signature transform is required');
  structural(transforms);
  const list = transforms.children;
  for (const t of list) if (!isDsig(t, 'Transform')) refuse('EDX_ERR_SIGNATURE_MALFORMED', `unexpected <${t.node.name}> in Transforms`);
  // Unknown algorithms first, so that an XPath or XSLT transform is named as what it is.
  for (const t of list) {
    const algorithm = algorithmOf(t);
    if (algorithm !== ALGORITHM.envelopedSignature && !CANONICALIZATION_BY_URI.has(algorithm)) {
      refuse('EDX_ERR_SIGNATURE_UNSUPPORTED', `the transform ${algorithm} is not accepted (only enveloped-signature and one c14n)`);
    }
  }
  const [enveloped, c14n, ...more] = list;
  if (enveloped === undefined || algorithmOf(enveloped) !== ALGORITHM.envelopedSignature) {
    refuse('EDX_ERR_SIGNATURE_REFERENCE', 'the first transform is not enveloped-signature, so the Reference does not cover exactly the packet minus its Signature');
  }
  if (enveloped.children.length > 0 || enveloped.text.trim() !== '') refuse('EDX_ERR_SIGNATURE_UNSUPPORTED', 'the enveloped-signature transform has parameters');
  if (more.length > 0 || (c14n !== undefined && algorithmOf(c14n) === ALGORITHM.envelopedSignature)) {
    refuse('EDX_ERR_SIGNATURE_REFERENCE', `the Reference has ${list.length} transforms; only enveloped-signature and one c14n are accepted`);
  }
  return c14n === undefined ? C14N : canonicalization(c14n, 'Transform');
}

/** A CanonicalizationMethod or c14n Transform: c14n or exc-c14n, with exc-c14n's optional PrefixList. */
function canonicalization(element: Resolved, what: string): CanonicalizationSpec {
  const uri = algorithmOf(element);
  const algorithm: Canonicalization | undefined = CANONICALIZATION_BY_URI.get(uri);
  if (algorithm === undefined) {
    const why = WITH_COMMENTS_URIS.has(uri) ? ' (comments are not part of what the gateway processes)' : '';
    refuse('EDX_ERR_SIGNATURE_UNSUPPORTED', `the ${what} ${uri} is not accepted${why}; use c14n or exc-c14n without comments`);
  }
  if (element.hasProcessingInstruction || element.text.trim() !== '') refuse('EDX_ERR_SIGNATURE_MALFORMED', `the ${what} has text content`);
  const inclusivePrefixes: string[] = [];
  for (const child of element.children) {
    const isPrefixList = algorithm === 'exc-c14n' && child.local === 'InclusiveNamespaces' && child.namespace === EXC_C14N_NAMESPACE && child.children.length === 0;
    if (!isPrefixList) refuse('EDX_ERR_SIGNATURE_UNSUPPORTED', `the ${what} has an unexpected parameter <${child.node.name}>`);
    const list = attribute(child.node, 'PrefixList') ?? '';
    for (const token of list.split(/[ \t\r\n]+/)) {
      if (token === '') continue;
      inclusivePrefixes.push(token === '#default' ? '' : token);
    }
  }
  return { algorithm, inclusivePrefixes };
}

function certificates(keyInfo: Resolved): string[] {
  const texts: string[] = [];
  for (const data of keyInfo.children) {
    // KeyName, KeyValue and other KeyInfo content may accompany X509Data; the key comes from the certificate.
    if (!isDsig(data, 'X509Data')) continue;
    for (const item of data.children) {
      if (!isDsig(item, 'X509Certificate')) continue;
      if (item.children.length > 0) refuse('EDX_ERR_SIGNATURE_MALFORMED', 'an X509Certificate contains elements');
      texts.push(item.text);
    }
  }
  if (texts.length === 0) refuse('EDX_ERR_SIGNATURE_MALFORMED', 'KeyInfo has no X509Data/X509Certificate');
  if (texts.length > MAX_CERTIFICATES) refuse('EDX_ERR_SIGNATURE_MALFORMED', `KeyInfo has ${texts.length} certificates; at most ${MAX_CERTIFICATES} are read`);
  return texts;
}

// --- helpers ----------------------------------------------------------------------------------

function isDsig(element: Resolved, local: string): boolean {
  return element.local === local && element.namespace === XMLDSIG_NAMESPACE;
}

function dsigChildren(parent: Resolved, local: string): Resolved[] {
  return parent.children.filter((c) => isDsig(c, local));
}

/** Containers hold elements only (whitespace between them is fine). */
function structural(element: Resolved): void {
  if (element.text.trim() !== '' || element.hasProcessingInstruction) refuse('EDX_ERR_SIGNATURE_MALFORMED', `<${element.node.name}> has unexpected text or processing instructions`);
}

function attribute(node: ElementNode, name: string): string | undefined {
  return node.attributes.find((a) => a.name === name)?.value;
}

function algorithmOf(element: Resolved): string {
  const value = attribute(element.node, 'Algorithm');
  if (value === undefined) refuse('EDX_ERR_SIGNATURE_MALFORMED', `<${element.node.name}> has no Algorithm attribute`);
  return value;
}

function leafBase64(element: Resolved, what: string): Buffer {
  if (element.children.length > 0 || element.hasProcessingInstruction) refuse('EDX_ERR_SIGNATURE_MALFORMED', `${what} contains markup`);
  const bytes = decodeBase64(element.text);
  if (bytes === undefined || bytes.length === 0) refuse('EDX_ERR_SIGNATURE_MALFORMED', `${what} is not base64`);
  return bytes;
}
