// Signature wrapping and profile attacks (issue 5: "what is verified is exactly what is processed").
// Each attack is made cryptographically sound where it can be — DigestValue and SignatureValue are
// recomputed with the test key over the attacker's document — so that a refusal here comes from the
// profile rules, not from a digest that happens not to match. For the moved Signature, xml-crypto
// (which has no placement rule) is shown to accept what we refuse.

import { sign } from 'node:crypto';
import t from 'tap';
import { DOMParser } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import { buildPacketBuffer } from '../../src/edxml/build.ts';
import { XMLDSIG_NAMESPACE } from '../../src/edxml/model.ts';
import type { DocumentPacket } from '../../src/edxml/model.ts';
import { signPacket, verifySignature } from '../../src/trust/dsig/index.ts';
import { canonicalSubtreeText, EXC_C14N, C14N, scopeOf } from '../../src/trust/dsig/canonicalize.ts';
import { digestOfTree } from '../../src/trust/dsig/packet-view.ts';
import { treeLayout } from '../../src/trust/dsig/tree-layout.ts';
import { parseDocumentTree } from '../../src/trust/dsig/xml-tree.ts';
import type { ElementNode } from '../../src/trust/dsig/xml-tree.ts';
import { documentPacket } from '../edxml/example-packets.ts';
import { testKey } from './helpers/keys.ts';

const ALG = {
  c14n: 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315',
  exc: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  excWithComments: 'http://www.w3.org/2001/10/xml-exc-c14n#WithComments',
  enveloped: 'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
  xpath: 'http://www.w3.org/TR/1999/REC-xpath-19991116',
  xpathFilter2: 'http://www.w3.org/2002/06/xmldsig-filter2',
  xslt: 'http://www.w3.org/TR/1999/REC-xslt-19991116',
  base64: 'http://www.w3.org/2000/09/xmldsig#base64',
  rsaSha256: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  rsaSha512: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
  hmacSha1: 'http://www.w3.org/2000/09/xmldsig#hmac-sha1',
  sha256: 'http://www.w3.org/2001/04/xmlenc#sha256',
  sha512: 'http://www.w3.org/2001/04/xmlenc#sha512',
};

const key = testKey();
const unsignedPacket: DocumentPacket = { ...documentPacket, signature: undefined };
const unsigned = buildPacketBuffer(unsignedPacket).toString('utf8');
const signed = signPacket(Buffer.from(unsigned, 'utf8'), key).toString('utf8');
const signatureStart = signed.indexOf('<Signature ');
const signatureEnd = signed.indexOf('</Signature>') + '</Signature>'.length;
const signatureXml = signed.slice(signatureStart, signatureEnd);
const withoutSignature = signed.slice(0, signatureStart) + signed.slice(signatureEnd);

function insertAfter(xml: string, anchor: string, insert: string): string {
  const at = xml.indexOf(anchor);
  if (at === -1) throw new Error(`test setup: ${anchor} not found`);
  return xml.slice(0, at + anchor.length) + insert + xml.slice(at + anchor.length);
}

function insertBefore(xml: string, anchor: string, insert: string): string {
  const at = xml.indexOf(anchor);
  if (at === -1) throw new Error(`test setup: ${anchor} not found`);
  return xml.slice(0, at) + insert + xml.slice(at);
}

function xmlCryptoAccepts(xml: string): boolean {
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  const signature = doc.getElementsByTagNameNS(XMLDSIG_NAMESPACE, 'Signature')[0];
  if (signature === undefined) return false;
  const verifier = new SignedXml({ publicCert: key.certificatePem });
  verifier.loadSignature(signature as unknown as Node);
  try {
    return verifier.checkSignature(xml);
  } catch {
    return false;
  }
}

// --- forging well-signed attack documents -----------------------------------------------------

const reference = (uri: string | undefined, transforms: readonly string[], digest = ALG.sha256): string =>
  `<Reference${uri === undefined ? '' : ` URI="${uri}"`}>` +
  (transforms.length === 0 ? '' : `<Transforms>${transforms.join('')}</Transforms>`) +
  `<DigestMethod Algorithm="${digest}"></DigestMethod><DigestValue></DigestValue></Reference>`;
const transform = (algorithm: string, inner = ''): string => `<Transform Algorithm="${algorithm}">${inner}</Transform>`;
const STANDARD_TRANSFORMS = [transform(ALG.enveloped), transform(ALG.exc)];

function signatureTemplate(references: string, options: { c14n?: string; method?: string; methodInner?: string; after?: string } = {}): string {
  const certificate = key.certificates[0]?.toString('base64') ?? '';
  return (
    `<Signature xmlns="${XMLDSIG_NAMESPACE}"><SignedInfo>` +
    `<CanonicalizationMethod Algorithm="${options.c14n ?? ALG.exc}"></CanonicalizationMethod>` +
    `<SignatureMethod Algorithm="${options.method ?? ALG.rsaSha256}">${options.methodInner ?? ''}</SignatureMethod>` +
    references +
    `</SignedInfo><SignatureValue></SignatureValue>` +
    `<KeyInfo><X509Data><X509Certificate>${certificate}</X509Certificate></X509Data></KeyInfo>${options.after ?? ''}</Signature>`
  );
}

/**
 * Fills every empty DigestValue with the digest of the document minus the first DSig Signature (what
 * an honest enveloped URI="" reference would carry) and SignatureValue with an RSA-SHA256 signature of
 * SignedInfo by the test key: the attack is then only stopped by a rule, not by arithmetic.
 */
function forge(xml: string): Buffer {
  const first = parseDocumentTree(Buffer.from(xml, 'utf8'));
  if (!first.ok) throw new Error(first.reason);
  const site = treeLayout(first.document).dsigSignatures[0];
  if (site === undefined) throw new Error('test setup: no DSig Signature');
  const digest = digestOfTree(first.document, new Set([site.element]), EXC_C14N, 'sha256');
  if (!digest.ok) throw new Error(digest.reason);
  const withDigest = xml.replaceAll('<DigestValue></DigestValue>', `<DigestValue>${digest.digest.toString('base64')}</DigestValue>`);

  const second = parseDocumentTree(Buffer.from(withDigest, 'utf8'));
  if (!second.ok) throw new Error(second.reason);
  const signature = treeLayout(second.document).dsigSignatures[0];
  if (signature === undefined) throw new Error('test setup: no DSig Signature');
  const signedInfo = signature.element.children.find((c): c is ElementNode => c.kind === 'element' && c.name.endsWith('SignedInfo'));
  if (signedInfo === undefined) throw new Error('test setup: no SignedInfo');
  const scope = scopeOf(signature.element, signature.parentScope);
  if (!scope.ok) throw new Error(scope.reason);
  const exclusive = !withDigest.includes(`<CanonicalizationMethod Algorithm="${ALG.c14n}"`);
  const canonical = canonicalSubtreeText(signedInfo, { scope: scope.scope, xmlAttributes: [] }, exclusive ? EXC_C14N : C14N);
  if (!canonical.ok) throw new Error(canonical.reason);
  const value = sign('sha256', Buffer.from(canonical.text, 'utf8'), key.privateKey).toString('base64');
  return Buffer.from(withDigest.replace('<SignatureValue></SignatureValue>', `<SignatureValue>${value}</SignatureValue>`), 'utf8');
}

const HEADER_END = '</edXML:TraceHeaderList>';

function forgedInHeader(references: string, options?: Parameters<typeof signatureTemplate>[1]): Buffer {
  return forge(insertAfter(unsigned, HEADER_END, signatureTemplate(references, options)));
}

t.test('the forging helper makes valid signatures when the profile is followed (so refusals below are the rules)', async (t) => {
  t.match(verifySignature(forgedInHeader(reference('', STANDARD_TRANSFORMS))), { status: 'valid' }, 'one Reference URI="", enveloped + exc-c14n');
  // Enveloped only means c14n 1.0; on our builder's output it gives the same bytes as exc-c14n.
  t.match(verifySignature(forgedInHeader(reference('', [transform(ALG.enveloped)]), { c14n: ALG.c14n })), { status: 'valid', canonicalization: 'c14n' }, 'enveloped-signature alone, c14n SignedInfo');
});

// --- placement --------------------------------------------------------------------------------

t.test('a Signature moved out of edXMLHeader is refused, although its digest and value still hold', async (t) => {
  const moves: [string, string][] = [
    ['into edXMLBody', insertAfter(withoutSignature, '<edXML:edXMLBody>', signatureXml)],
    ['to the root', insertBefore(withoutSignature, '\n</edXML>', signatureXml)],
    ['into edXMLEnvelope', insertAfter(withoutSignature, '</edXML:edXMLBody>', signatureXml)],
    ['into an Attachment', insertAfter(withoutSignature, '<ContentId>cid:1</ContentId>', signatureXml)],
    ['into TraceHeaderList', insertBefore(withoutSignature, HEADER_END, signatureXml)],
    ['into a fake edXMLHeader in the body', insertAfter(withoutSignature, '<edXML:edXMLBody>', `<edXML:edXMLHeader>${signatureXml}</edXML:edXMLHeader>`)],
  ];
  for (const [where, xml] of moves) {
    t.match(verifySignature(Buffer.from(xml, 'utf8')), { status: 'invalid', code: 'EDX_ERR_SIGNATURE_REFERENCE' }, where);
  }
  t.ok(xmlCryptoAccepts(moves[0]?.[1] ?? ''), 'xml-crypto alone accepts the Signature moved into edXMLBody: the placement rule is ours');
});

t.test('more than one Signature is refused', async (t) => {
  const other = signPacket(Buffer.from(unsigned, 'utf8'), testKey('another signer')).toString('utf8');
  const otherSignature = other.slice(other.indexOf('<Signature '), other.indexOf('</Signature>') + '</Signature>'.length);
  const cases: [string, string][] = [
    ['two in edXMLHeader', insertAfter(signed, '</Signature>', signatureXml)],
    ['another signer beside ours', insertAfter(signed, '</Signature>', otherSignature)],
    ['a copy in edXMLBody', insertAfter(signed, '<edXML:edXMLBody>', signatureXml)],
    ['a copy in an Attachment', insertAfter(signed, '<ContentId>cid:1</ContentId>', signatureXml)],
    ['one nested in the other', signed.replace('</KeyInfo>', `</KeyInfo>${otherSignature}`)],
    ['a samples-style Signature beside ours', insertBefore(signed, '<Signature ', '<Signature><SignedInfo></SignedInfo></Signature>')],
  ];
  for (const [what, xml] of cases) {
    t.match(verifySignature(Buffer.from(xml, 'utf8')), { status: 'invalid', code: 'EDX_ERR_SIGNATURE_REFERENCE' }, what);
  }
});

// --- references -------------------------------------------------------------------------------

t.test('references other than one URI="" are refused', async (t) => {
  const target = insertAfter(unsigned, '<edXML:edXMLBody>', '');
  const cases: [string, Buffer][] = [
    ['an extra Reference', forgedInHeader(reference('', STANDARD_TRANSFORMS) + reference('', STANDARD_TRANSFORMS))],
    ['an extra Reference to a part', forgedInHeader(reference('', STANDARD_TRANSFORMS) + reference('#body', [transform(ALG.exc)]))],
    ['URI="#x"', forgedInHeader(reference('#x', STANDARD_TRANSFORMS))],
    ['URI="#xpointer(/)"', forgedInHeader(reference('#xpointer(/)', STANDARD_TRANSFORMS))],
    ['URI to another document', forgedInHeader(reference('http://example.org/packet.xml', STANDARD_TRANSFORMS))],
    ['no URI attribute', forgedInHeader(reference(undefined, STANDARD_TRANSFORMS))],
    ['no Reference', forge(insertAfter(target, HEADER_END, signatureTemplate('')))],
  ];
  for (const [what, bytes] of cases) t.match(verifySignature(bytes), { status: 'invalid', code: 'EDX_ERR_SIGNATURE_REFERENCE' }, what);
});

t.test('transforms other than enveloped-signature + one c14n are refused', async (t) => {
  const refusedAs = (code: string, what: string, transforms: readonly string[]): void => {
    t.match(verifySignature(forgedInHeader(reference('', transforms))), { status: 'invalid', code }, what);
  };
  refusedAs('EDX_ERR_SIGNATURE_UNSUPPORTED', 'an XPath transform added', [transform(ALG.enveloped), transform(ALG.xpath, '<XPath>not(ancestor-or-self::*[local-name()="edXMLBody"])</XPath>'), transform(ALG.exc)]);
  refusedAs('EDX_ERR_SIGNATURE_UNSUPPORTED', 'XPath Filter 2.0 instead of enveloped', [transform(ALG.xpathFilter2, '<XPath xmlns="http://www.w3.org/2002/06/xmldsig-filter2" Filter="subtract">//*</XPath>'), transform(ALG.exc)]);
  refusedAs('EDX_ERR_SIGNATURE_UNSUPPORTED', 'an XSLT transform', [transform(ALG.enveloped), transform(ALG.xslt, '<xsl:stylesheet xmlns:xsl="http://www.w3.org/1999/XSL/Transform" version="1.0"></xsl:stylesheet>')]);
  refusedAs('EDX_ERR_SIGNATURE_UNSUPPORTED', 'a base64 transform', [transform(ALG.enveloped), transform(ALG.base64)]);
  refusedAs('EDX_ERR_SIGNATURE_UNSUPPORTED', 'c14n with comments', [transform(ALG.enveloped), transform(ALG.excWithComments)]);
  refusedAs('EDX_ERR_SIGNATURE_REFERENCE', 'no enveloped-signature transform', [transform(ALG.exc)]);
  refusedAs('EDX_ERR_SIGNATURE_REFERENCE', 'c14n before enveloped-signature', [transform(ALG.exc), transform(ALG.enveloped)]);
  refusedAs('EDX_ERR_SIGNATURE_REFERENCE', 'two c14n transforms', [transform(ALG.enveloped), transform(ALG.exc), transform(ALG.c14n)]);
  refusedAs('EDX_ERR_SIGNATURE_REFERENCE', 'enveloped-signature twice', [transform(ALG.enveloped), transform(ALG.enveloped)]);
  refusedAs('EDX_ERR_SIGNATURE_REFERENCE', 'no transforms at all', []);
  refusedAs('EDX_ERR_SIGNATURE_UNSUPPORTED', 'a parameter on the c14n transform other than InclusiveNamespaces', [transform(ALG.enveloped), transform(ALG.exc, '<Foo xmlns="urn:x"></Foo>')]);
  // The one parameter exc-c14n defines is accepted.
  t.match(
    verifySignature(forgedInHeader(reference('', [transform(ALG.enveloped), transform(ALG.exc, '<ec:InclusiveNamespaces xmlns:ec="http://www.w3.org/2001/10/xml-exc-c14n#" PrefixList="edXML #default"></ec:InclusiveNamespaces>')]))),
    { status: 'valid', canonicalization: 'exc-c14n' },
    'exc-c14n with an InclusiveNamespaces PrefixList',
  );
});

// --- algorithms and extra content -------------------------------------------------------------

t.test('algorithms outside the profile and extra Signature content are refused', async (t) => {
  const cases: [string, Buffer, string][] = [
    ['HMAC-SHA1 (a key-less forgery if the verifier were fooled)', forgedInHeader(reference('', STANDARD_TRANSFORMS), { method: ALG.hmacSha1, methodInner: '<HMACOutputLength>160</HMACOutputLength>' }), 'EDX_ERR_SIGNATURE_UNSUPPORTED'],
    ['HMAC-SHA1 without parameters', forgedInHeader(reference('', STANDARD_TRANSFORMS), { method: ALG.hmacSha1 }), 'EDX_ERR_SIGNATURE_UNSUPPORTED'],
    ['RSA-SHA512', forgedInHeader(reference('', STANDARD_TRANSFORMS), { method: ALG.rsaSha512 }), 'EDX_ERR_SIGNATURE_UNSUPPORTED'],
    ['SHA-512 digest', forgedInHeader(reference('', STANDARD_TRANSFORMS, ALG.sha512)), 'EDX_ERR_SIGNATURE_UNSUPPORTED'],
    ['SignedInfo c14n with comments', forgedInHeader(reference('', STANDARD_TRANSFORMS), { c14n: ALG.excWithComments }), 'EDX_ERR_SIGNATURE_UNSUPPORTED'],
    ['an Object after KeyInfo', forgedInHeader(reference('', STANDARD_TRANSFORMS), { after: '<Object><edXML:Subject xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016">x</edXML:Subject></Object>' }), 'EDX_ERR_SIGNATURE_MALFORMED'],
    ['a foreign element in SignedInfo', forge(insertAfter(unsigned, HEADER_END, signatureTemplate(`${reference('', STANDARD_TRANSFORMS)}<x:Extra xmlns:x="urn:x"></x:Extra>`))), 'EDX_ERR_SIGNATURE_MALFORMED'],
  ];
  for (const [what, bytes, code] of cases) t.match(verifySignature(bytes), { status: 'invalid', code }, what);

  const noKeyInfo = signed.replace(/<KeyInfo>[\s\S]*<\/KeyInfo>/, '');
  t.match(verifySignature(Buffer.from(noKeyInfo, 'utf8')), { status: 'invalid', code: 'EDX_ERR_SIGNATURE_MALFORMED' }, 'no KeyInfo');
  const swapped = signed.replace(/(<SignedInfo>[\s\S]*<\/SignedInfo>)([\s\S]*)(<SignatureValue>[^<]*<\/SignatureValue>)/, '$3$2$1');
  t.match(verifySignature(Buffer.from(swapped, 'utf8')), { status: 'invalid', code: 'EDX_ERR_SIGNATURE_MALFORMED' }, 'children out of order');
});

// --- namespaces are names, not spellings --------------------------------------------------------

t.test('a ds:-prefixed signature is the same signature; a look-alike in another namespace is not one', async (t) => {
  const signer = new SignedXml({ privateKey: key.privateKeyPem, publicCert: key.certificatePem, signatureAlgorithm: ALG.rsaSha256, canonicalizationAlgorithm: ALG.exc });
  signer.addReference({ xpath: '/*', uri: '', isEmptyUri: true, transforms: [ALG.enveloped, ALG.exc], digestAlgorithm: ALG.sha256 });
  signer.computeSignature(unsigned, { prefix: 'ds', location: { reference: "//*[local-name(.)='edXMLHeader']", action: 'append' } });
  const prefixed = signer.getSignedXml();
  t.ok(prefixed.includes('<ds:Signature'), 'xml-crypto wrote ds:Signature');
  t.match(verifySignature(Buffer.from(prefixed, 'utf8')), { status: 'valid' }, 'verified');

  // The same bytes with the DSig namespace URI altered: not a DSig Signature any more.
  const lookalike = signed.replace('xmlns="http://www.w3.org/2000/09/xmldsig#"', 'xmlns="http://www.w3.org/2000/09/xmldsig"');
  t.match(verifySignature(Buffer.from(lookalike, 'utf8')), { status: 'placeholder' }, 'a Signature in another namespace is not verified, only reported');
});
