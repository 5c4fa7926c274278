// verifySignature: what the packet's XML-DSig signature says, as a value (src/trust/types.ts).
//
// Order of the checks, and why:
// 1. Find every Signature in the XML-DSig namespace, anywhere. None: `unsigned`, or `placeholder`
//    when edXMLHeader carries the samples' namespace-less Signature (or .NET's DigitalSignature).
// 2. Anti-wrapping before reading anything: exactly one DSig Signature, a child of
//    /edXML/edXMLEnvelope/edXMLHeader, and no other Signature beside it there (src/edxml/parse.ts
//    records the first Signature child of edXMLHeader; it must be the one verified here).
// 3. The Signature against the profile (signature-element.ts): placeholders recognised, then one
//    Reference URI="", enveloped-signature + one c14n, accepted algorithms, certificates readable.
// 4. The digest of the document minus that Signature: byte ranges when the scan proved the bytes
//    canonical, the general canonicalizer otherwise. Mismatch → EDX_ERR_SIGNATURE_DIGEST_MISMATCH.
// 5. SignatureValue over canonical SignedInfo, with each KeyInfo certificate's key in turn: the one
//    that verifies is the signer and is returned first (senders put chains in either order).
//    None → EDX_ERR_SIGNATURE_INVALID.
// Hostile input never throws out of here: every failure is a verdict.

import { verify as verifyRsa } from 'node:crypto';
import type { ErrorCode } from '../../errors.ts';
import { EDXML_NAMESPACE } from '../../edxml/model.ts';
import type { DigestAlgorithm, SignatureCheck } from '../types.ts';
import { SIGNATURE_HASH_NAME } from './algorithms.ts';
import { canonicalSubtreeText, scopeOf, xmlAttributesOf } from './canonicalize.ts';
import { decodeCertificate } from './certificates.ts';
import type { DecodedCertificate } from './certificates.ts';
import { digestOfRanges, digestOfTree, viewPacket } from './packet-view.ts';
import type { PacketView } from './packet-view.ts';
import { readSignature } from './signature-element.ts';
import type { CanonicalizationSpec, Scope } from './canonicalize.ts';
import type { ElementNode, XmlAttribute } from './xml-tree.ts';

/** Checks the packet's enveloped XML-DSig signature; never throws. */
export function verifySignature(bytes: Buffer): SignatureCheck {
  try {
    return check(bytes);
  } catch (err) {
    // A bug, not a property of the packet; still a verdict, so that one packet cannot stop the pipeline.
    return invalid('EDX_ERR_SIGNATURE_MALFORMED', `the signature could not be checked: ${err instanceof Error ? err.message : String(err)}`);
  }
}

interface Located {
  readonly dsigCount: number;
  /** The first DSig Signature with what is in scope at its parent. */
  readonly first: { readonly element: ElementNode; readonly inHeader: boolean; readonly parentScope: Scope; readonly parentXmlAttributes: readonly XmlAttribute[] } | undefined;
  /** edXMLHeader's children: local name and namespace. */
  readonly headerChildren: readonly { readonly local: string; readonly namespace: string | undefined }[];
}

function locate(view: PacketView): Located {
  if (view.kind === 'canonical') {
    const { scan } = view;
    const first = scan.dsigSignatures[0];
    return {
      dsigCount: scan.dsigSignatures.length,
      first:
        first === undefined || scan.firstSignature === undefined
          ? undefined
          : { element: scan.firstSignature.element, inHeader: first.inHeader, parentScope: scan.firstSignature.parentScope, parentXmlAttributes: [] },
      headerChildren: scan.header?.children ?? [],
    };
  }
  const { layout } = view;
  const first = layout.dsigSignatures[0];
  return {
    dsigCount: layout.dsigSignatures.length,
    first:
      first === undefined
        ? undefined
        : { element: first.element, inHeader: first.inHeader, parentScope: first.parentScope, parentXmlAttributes: first.parentXmlAttributes },
    headerChildren: layout.header?.children ?? [],
  };
}

function check(bytes: Buffer): SignatureCheck {
  const viewed = viewPacket(bytes);
  if (!viewed.ok) return invalid('EDX_ERR_SIGNATURE_MALFORMED', `${viewed.reason}, so no signature can be checked`);
  const { view } = viewed;
  const { dsigCount, first, headerChildren } = locate(view);
  const headerSignatures = headerChildren.filter((c) => c.local === 'Signature');

  if (dsigCount === 0 || first === undefined) {
    const sample = headerSignatures[0];
    if (sample !== undefined) {
      const where = sample.namespace === EDXML_NAMESPACE ? 'it inherits the QCVN 102 namespace' : `its namespace is ${sample.namespace ?? 'none'}`;
      return { status: 'placeholder', reason: `the Signature in edXMLHeader is not in the XML-DSig namespace (${where}), as in the official samples` };
    }
    if (headerChildren.some((c) => c.local === 'DigitalSignature')) {
      return { status: 'placeholder', reason: "edXMLHeader carries a DigitalSignature element (the .NET SDK's stand-in), not an XML-DSig signature" };
    }
    return { status: 'unsigned' };
  }
  if (dsigCount > 1) {
    return invalid('EDX_ERR_SIGNATURE_REFERENCE', `the packet has ${dsigCount} Signature elements in the XML-DSig namespace; exactly one, in edXMLHeader, is allowed`);
  }
  if (!first.inHeader) return invalid('EDX_ERR_SIGNATURE_REFERENCE', 'the Signature element is not a child of /edXML/edXMLEnvelope/edXMLHeader');
  if (headerSignatures.length > 1) return invalid('EDX_ERR_SIGNATURE_REFERENCE', `edXMLHeader has ${headerSignatures.length} Signature elements; exactly one is allowed`);

  // Canonical XML 1.0 is defined for XML 1.0; an XML 1.1 declaration also changes how text is read
  // (NEL and U+2028 become line ends), and the declaration itself is not signed.
  if (view.kind === 'tree' && view.document.xmlVersion !== '1.0') {
    return invalid('EDX_ERR_SIGNATURE_UNSUPPORTED', `the packet declares XML ${view.document.xmlVersion}; signatures are checked on XML 1.0 packets only`);
  }
  const reading = readSignature(first.element, first.parentScope);
  if (reading.kind === 'placeholder') return { status: 'placeholder', reason: reading.reason };
  if (reading.kind === 'refused') return invalid(reading.code, reading.reason);
  const parts = reading.parts;

  const decoded: DecodedCertificate[] = [];
  for (const text of parts.certificateTexts) {
    const certificate = decodeCertificate(text);
    if (typeof certificate === 'string') return invalid('EDX_ERR_SIGNATURE_MALFORMED', certificate);
    decoded.push(certificate);
  }
  const inDocumentOrder = decoded.map((c) => Buffer.from(c.der));

  const digest = documentDigest(view, first.element, parts.referenceCanonicalization, parts.digestAlgorithm);
  if (!digest.ok) return invalid('EDX_ERR_SIGNATURE_MALFORMED', `the packet cannot be canonicalized: ${digest.reason}`, inDocumentOrder);
  if (!digest.digest.equals(parts.digestValue)) {
    return invalid('EDX_ERR_SIGNATURE_DIGEST_MISMATCH', `the ${parts.digestAlgorithm} digest of the packet does not match the signed DigestValue`, inDocumentOrder);
  }

  const signatureXml = xmlAttributesOf(first.element, first.parentXmlAttributes);
  const signatureScope = scopeOf(first.element, first.parentScope);
  if (!signatureScope.ok) return invalid('EDX_ERR_SIGNATURE_MALFORMED', signatureScope.reason, inDocumentOrder);
  const signedInfo = canonicalSubtreeText(parts.signedInfo, { scope: signatureScope.scope, xmlAttributes: signatureXml }, parts.signedInfoCanonicalization);
  if (!signedInfo.ok) return invalid('EDX_ERR_SIGNATURE_MALFORMED', `SignedInfo cannot be canonicalized: ${signedInfo.reason}`, inDocumentOrder);
  const signedBytes = Buffer.from(signedInfo.text, 'utf8');

  const hashName = SIGNATURE_HASH_NAME[parts.signatureAlgorithm];
  const unusable: string[] = [];
  for (let i = 0; i < decoded.length; i++) {
    const key = (decoded[i] as DecodedCertificate).key;
    if (!key.ok) {
      unusable.push(key.reason);
      continue;
    }
    let verified = false;
    try {
      verified = verifyRsa(hashName, signedBytes, key.publicKey, parts.signatureValue);
    } catch {
      verified = false;
    }
    if (verified) {
      const signer = inDocumentOrder[i] as Buffer;
      return {
        status: 'valid',
        signatureAlgorithm: parts.signatureAlgorithm,
        digestAlgorithm: parts.digestAlgorithm,
        canonicalization: parts.referenceCanonicalization.algorithm,
        certificates: [signer, ...inDocumentOrder.filter((_, j) => j !== i)],
      };
    }
  }
  if (unusable.length === decoded.length) return invalid('EDX_ERR_SIGNATURE_UNSUPPORTED', unusable.join('; '), inDocumentOrder);
  return invalid('EDX_ERR_SIGNATURE_INVALID', `the SignatureValue does not verify with the key of any of the ${decoded.length} KeyInfo certificate(s)`, inDocumentOrder);
}

/** The digest of the packet minus its Signature; on canonical bytes any c14n variant gives the same, proven by the scan. */
function documentDigest(view: PacketView, signature: ElementNode, spec: CanonicalizationSpec, algorithm: DigestAlgorithm): { ok: true; digest: Buffer } | { ok: false; reason: string } {
  if (view.kind === 'tree') return digestOfTree(view.document, new Set([signature]), spec, algorithm);
  const hole = view.scan.dsigSignatures[0]?.span;
  return { ok: true, digest: digestOfRanges(view.bytes, view.scan.root, hole === undefined ? [] : [hole], algorithm) };
}

function invalid(code: ErrorCode, reason: string, certificates: readonly Buffer[] = []): SignatureCheck {
  return { status: 'invalid', code, reason, certificates };
}
