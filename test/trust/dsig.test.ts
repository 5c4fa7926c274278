// The XML-DSig layer (src/trust/dsig/): signPacket → verifySignature round trips (small packet, 1 MB
// attachment, both c14n variants), what signing writes, tampering, the official samples, interop with
// xml-crypto in both directions (RSA-SHA1, inclusive c14n), certificate order, hostile input, and the
// property the fast path rests on: whenever the scan calls bytes canonical, they are byte for byte
// what the general canonicalizer (and xml-crypto) writes — checked on every fixture, every sample and
// a few hundred random mutations of them.
//
// Wrapping attacks have their own file (dsig-wrapping.test.ts); xmlsec1 interop too.

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import type { Test } from 'tap';
import { DOMParser } from '@xmldom/xmldom';
import { C14nCanonicalization, ExclusiveCanonicalization, SignedXml } from 'xml-crypto';
import { buildPacket, buildPacketBuffer } from '../../src/edxml/build.ts';
import { XMLDSIG_NAMESPACE } from '../../src/edxml/model.ts';
import type { DocumentPacket, Packet } from '../../src/edxml/model.ts';
import { parsePacket } from '../../src/edxml/parse.ts';
import { EdxError } from '../../src/errors.ts';
import { signPacket, trySignPacket, verifySignature } from '../../src/trust/dsig/index.ts';
import { scanCanonical } from '../../src/trust/dsig/canonical-scan.ts';
import { canonicalizeDocument, StringSink } from '../../src/trust/dsig/canonicalize.ts';
import type { CanonicalizationSpec } from '../../src/trust/dsig/canonicalize.ts';
import { treeLayout } from '../../src/trust/dsig/tree-layout.ts';
import { parseDocumentTree } from '../../src/trust/dsig/xml-tree.ts';
import type { Canonicalization, SignatureCheck } from '../../src/trust/types.ts';
import { documentPacket, minimalDocument, statusPacket } from '../edxml/example-packets.ts';
import { testKey } from './helpers/keys.ts';

const SAMPLES = fileURLToPath(new URL('../../../shared/interop/vpcp-samples/', import.meta.url));
const VALID_FIXTURES = fileURLToPath(new URL('../../fixtures/packets/valid/', import.meta.url));
const files = (dir: string): string[] =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.edxml'))
    .sort()
    .map((f) => `${dir}${f}`);
const SAMPLE_FILES = files(SAMPLES);
const FIXTURE_FILES = files(VALID_FIXTURES);

const ALGORITHMS = {
  c14n: 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315',
  exc: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  enveloped: 'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
  rsaSha1: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
  rsaSha256: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  sha1: 'http://www.w3.org/2000/09/xmldsig#sha1',
  sha256: 'http://www.w3.org/2001/04/xmlenc#sha256',
};

const key = testKey();
const otherKey = testKey('another signer');

/** Deterministic incompressible bytes (a real PDF does not compress either). */
function pseudoRandomBytes(size: number, seed: number): Buffer {
  const bytes = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  return bytes;
}

const unsignedDocument: DocumentPacket = { ...documentPacket, signature: undefined };
const small = buildPacketBuffer(unsignedDocument);
const status = buildPacketBuffer(statusPacket);
const withMegabyte: DocumentPacket = {
  ...minimalDocument,
  manifest: [{ contentId: 'cid:1', contentType: 'application/pdf', attachmentName: 'big.pdf' }],
  attachments: [{ contentId: 'cid:1', contentType: 'application/pdf', attachmentName: 'big.pdf', content: pseudoRandomBytes(768 * 1024, 7).toString('base64') }],
};
const large = buildPacketBuffer(withMegabyte);

function expectValid(t: Test, check: SignatureCheck, message: string): void {
  if (check.status !== 'valid') {
    t.fail(`${message}: ${JSON.stringify({ ...check, certificates: undefined })}`);
    return;
  }
  t.pass(message);
}

function expectInvalid(t: Test, check: SignatureCheck, code: string, message: string): void {
  t.match(check, { status: 'invalid', code }, message);
}

/** Replaces the first occurrence of `from`, failing loudly when it is absent (a broken test, not a pass). */
function replaceOnce(bytes: Buffer, from: string, to: string): Buffer {
  const text = bytes.toString('utf8');
  const at = text.indexOf(from);
  if (at === -1) throw new Error(`test setup: ${JSON.stringify(from)} not found`);
  return Buffer.from(text.slice(0, at) + to + text.slice(at + from.length), 'utf8');
}

/** The Signature element's text (our signer writes exactly one, unprefixed). */
function signatureText(signed: Buffer): string {
  const text = signed.toString('utf8');
  const start = text.indexOf('<Signature ');
  const end = text.indexOf('</Signature>') + '</Signature>'.length;
  return text.slice(start, end);
}

/** Canonical text of a whole document by our general path; without its first DSig Signature if asked (the digest input). */
function treeCanonical(bytes: Buffer, algorithm: Canonicalization, withoutSignature = false): string {
  const parsed = parseDocumentTree(bytes);
  if (!parsed.ok) throw new Error(parsed.reason);
  const sink = new StringSink();
  const spec: CanonicalizationSpec = { algorithm, inclusivePrefixes: [] };
  const signature = withoutSignature ? treeLayout(parsed.document).dsigSignatures[0]?.element : undefined;
  const excluded = signature === undefined ? undefined : new Set([signature]);
  const outcome = canonicalizeDocument(parsed.document, spec, sink, { exclude: excluded });
  if (!outcome.ok) throw new Error(outcome.reason);
  return sink.text();
}

/** Canonical text of the root element by xml-crypto over an @xmldom/xmldom tree. */
function xmlCryptoCanonical(bytes: Buffer | string, algorithm: Canonicalization): string {
  const doc = new DOMParser().parseFromString(bytes.toString(), 'text/xml');
  const root = doc.documentElement as unknown as Element;
  return String(algorithm === 'c14n' ? new C14nCanonicalization().process(root, {}) : new ExclusiveCanonicalization().process(root, {}));
}

function xmlCryptoVerifies(signed: Buffer | string, certificatePem: string): boolean | string {
  const xml = signed.toString();
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  const signature = doc.getElementsByTagNameNS(XMLDSIG_NAMESPACE, 'Signature')[0];
  if (signature === undefined) return 'no signature';
  const verifier = new SignedXml({ publicCert: certificatePem });
  verifier.loadSignature(signature as unknown as Node);
  try {
    return verifier.checkSignature(xml);
  } catch (err) {
    return String(err);
  }
}

interface XmlCryptoSigning {
  readonly signatureAlgorithm: string;
  readonly canonicalizationAlgorithm: string;
  readonly transforms: readonly string[];
  readonly digestAlgorithm: string;
}

/** Signs with xml-crypto, Signature appended to edXMLHeader, its KeyInfo carrying the certificate. */
function xmlCryptoSign(unsigned: Buffer, options: XmlCryptoSigning): string {
  const signer = new SignedXml({
    privateKey: key.privateKeyPem,
    publicCert: key.certificatePem,
    signatureAlgorithm: options.signatureAlgorithm,
    canonicalizationAlgorithm: options.canonicalizationAlgorithm,
  });
  signer.addReference({ xpath: '/*', uri: '', isEmptyUri: true, transforms: [...options.transforms], digestAlgorithm: options.digestAlgorithm });
  signer.computeSignature(unsigned.toString('utf8'), { location: { reference: "//*[local-name(.)='edXMLHeader']", action: 'append' } });
  return signer.getSignedXml();
}

// --- round trips ------------------------------------------------------------------------------

t.test('signPacket → verifySignature: small packet, status packet and a 1 MB attachment, both c14n variants', async (t) => {
  for (const [name, unsigned] of [
    ['document', small],
    ['status', status],
    ['1 MB attachment', large],
  ] as const) {
    for (const canonicalization of ['exc-c14n', 'c14n'] as const) {
      const signed = signPacket(unsigned, key, { canonicalization });
      const check = verifySignature(signed);
      t.match(check, { status: 'valid', signatureAlgorithm: 'rsa-sha256', digestAlgorithm: 'sha256', canonicalization }, `${name}, ${canonicalization}`);
      if (check.status === 'valid') t.same(check.certificates, [key.certificates[0]], 'the signer certificate comes back first');
      t.ok(scanCanonical(signed).canonical, `${name}, ${canonicalization}: the signed packet is still canonical (next hop takes the fast path)`);
    }
  }
  t.ok(large.length > 1_000_000, 'the large packet is over 1 MB');
});

t.test('what signing writes: the builder layout, last child of edXMLHeader, glued, removable byte for byte', async (t) => {
  const signed = signPacket(small, key);
  const text = signed.toString('utf8');
  t.ok(text.includes('</edXML:TraceHeaderList><Signature xmlns="http://www.w3.org/2000/09/xmldsig#">'), 'glued to the end tag of TraceHeaderList');
  t.ok(text.includes('</Signature>\n    </edXML:edXMLHeader>'), 'the last child of edXMLHeader');
  t.equal(text.split(/<Signature[ >]/).length - 1, 1, 'one Signature');
  const withoutSignature = Buffer.from(text.replace(signatureText(signed), ''), 'utf8');
  t.same(withoutSignature, small, 'removing the Signature gives the input back byte for byte');
  for (const fragment of [
    '<CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"></CanonicalizationMethod>',
    '<SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"></SignatureMethod>',
    '<Reference URI="">',
    '<Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"></Transform>',
    '<DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"></DigestMethod>',
    `<X509Certificate>${key.certificates[0]?.toString('base64')}</X509Certificate>`,
  ]) {
    t.ok(text.includes(fragment), fragment);
  }

  // The model carries the signature, and the builder writes the very same bytes from it.
  const parsed = parsePacket(signed);
  t.ok(parsed.ok, 'the signed packet parses');
  if (parsed.ok) {
    t.equal(parsed.value.signature?.namespace, XMLDSIG_NAMESPACE);
    t.equal(buildPacket(parsed.value as Packet), text, 'parse → build reproduces the signed bytes');
  }
  const parsedStatus = parsePacket(signPacket(status, key, { canonicalization: 'c14n' }));
  t.ok(parsedStatus.ok && buildPacket(parsedStatus.value) === signPacket(status, key, { canonicalization: 'c14n' }).toString('utf8'), 'same for a status packet');
});

t.test('re-signing replaces the Signature in place', async (t) => {
  const signed = signPacket(small, key);
  t.same(signPacket(signed, key), signed, 'signing a signed packet again gives the same bytes (RSA PKCS#1 v1.5 is deterministic)');
  const byOther = signPacket(signed, otherKey);
  t.match(verifySignature(byOther), { status: 'valid' }, 're-signed by another key');
  t.equal(byOther.toString('utf8').split(/<Signature[ >]/).length - 1, 1, 'still one Signature');
  const check = verifySignature(byOther);
  if (check.status === 'valid') t.same(check.certificates[0], otherKey.certificates[0], 'the new signer');

  // The example model's DSig Signature carries the SDK's truncated certificate: a placeholder, replaced.
  const placeholder = buildPacketBuffer(documentPacket);
  t.match(verifySignature(placeholder), { status: 'placeholder' }, 'the example model signature is a placeholder');
  t.same(signPacket(placeholder, key), signed, 'replacing it gives what signing the unsigned packet gives');

  // The samples' namespace-less Signature is replaced too (general path: the samples use CRLF).
  for (const file of SAMPLE_FILES.filter((f) => /edoc_/.test(f))) {
    const resigned = signPacket(readFileSync(file), key);
    t.match(verifySignature(resigned), { status: 'valid' }, `${file.split('/').pop()} re-signed`);
    t.equal(resigned.toString('utf8').split(/<Signature[ >]/).length - 1, 1, 'one Signature');
  }
  // edoc.edxml uses prefixes it never declares: no canonical form exists, so it cannot be signed.
  t.throws(() => signPacket(readFileSync(`${SAMPLES}edoc.edxml`), key), { code: 'EDX_ERR_XML_MALFORMED' }, 'edoc.edxml (undeclared prefixes) is refused');
});

// --- tampering --------------------------------------------------------------------------------

t.test('any changed byte is caught: header fields, attachment, DigestValue → DIGEST_MISMATCH; SignedInfo, SignatureValue → INVALID', async (t) => {
  for (const canonicalization of ['exc-c14n', 'c14n'] as const) {
    const signed = signPacket(small, key, { canonicalization });
    const cases: [string, Buffer, string][] = [
      ['Subject', replaceOnce(signed, 'V/v', 'V/V'), 'EDX_ERR_SIGNATURE_DIGEST_MISMATCH'],
      ['OrganId of a recipient', replaceOnce(signed, '<edXML:OrganId>000.01.15.H47', '<edXML:OrganId>000.01.15.H48'), 'EDX_ERR_SIGNATURE_DIGEST_MISMATCH'],
      ['BussinessDocType', replaceOnce(signed, '<edXML:BussinessDocType>2', '<edXML:BussinessDocType>3'), 'EDX_ERR_SIGNATURE_DIGEST_MISMATCH'],
      ['attachment payload', replaceOnce(signed, 'JVBERi0xLjcK', 'JVBERi0xLjdK'), 'EDX_ERR_SIGNATURE_DIGEST_MISMATCH'],
      ['manifest attribute', replaceOnce(signed, '<edXML:edXMLManifest version="1.0">', '<edXML:edXMLManifest version="1.1">'), 'EDX_ERR_SIGNATURE_DIGEST_MISMATCH'],
      ['a space added in a text node', replaceOnce(signed, '<edXML:Subject>', '<edXML:Subject> '), 'EDX_ERR_SIGNATURE_DIGEST_MISMATCH'],
      ['DigestValue lengthened', replaceOnce(signed, '<DigestValue>', '<DigestValue>AAAA'), 'EDX_ERR_SIGNATURE_MALFORMED'],
      ['SignatureValue', replaceOnce(signed, '<SignatureValue>', '<SignatureValue>AAAA'), 'EDX_ERR_SIGNATURE_INVALID'],
      ['whitespace inside SignedInfo', replaceOnce(signed, '<SignedInfo>', '<SignedInfo> '), 'EDX_ERR_SIGNATURE_INVALID'],
    ];
    for (const [what, tampered, code] of cases) expectInvalid(t, verifySignature(tampered), code, `${canonicalization}: ${what}`);
  }

  // A DigestValue of the right length but another value: the digest check names it.
  const signed = signPacket(small, key);
  const digest = /<DigestValue>([^<]+)<\/DigestValue>/.exec(signed.toString('utf8'))?.[1] ?? '';
  const forged = replaceOnce(signed, digest, createHash('sha256').update('x').digest('base64'));
  expectInvalid(t, verifySignature(forged), 'EDX_ERR_SIGNATURE_DIGEST_MISMATCH', 'another 32-byte DigestValue');

  // One byte in the middle of the 1 MB attachment.
  const big = signPacket(large, key);
  const text = big.toString('latin1');
  const middle = text.indexOf('<edXML:ContentTransferEncoded') + 500_000;
  const flipped = Buffer.from(big);
  flipped[middle] = flipped[middle] === 0x41 ? 0x42 : 0x41;
  const check = verifySignature(flipped);
  expectInvalid(t, check, 'EDX_ERR_SIGNATURE_DIGEST_MISMATCH', 'one byte in a 1 MB attachment');
  if (check.status === 'invalid') t.same(check.certificates, [key.certificates[0]], 'the certificates are reported with the refusal');

  // The same on the general path (CRLF line ends are not canonical but carry the same document).
  const crlf = Buffer.from(signPacket(small, key).toString('utf8').replaceAll('\n', '\r\n'), 'utf8');
  t.notOk(scanCanonical(crlf).canonical, 'CRLF takes the general path');
  expectValid(t, verifySignature(crlf), 'CRLF line ends: same document, still valid');
  expectInvalid(t, verifySignature(replaceOnce(crlf, 'V/v', 'V/V')), 'EDX_ERR_SIGNATURE_DIGEST_MISMATCH', 'general path: a header field');
  expectInvalid(t, verifySignature(replaceOnce(crlf, '<SignatureValue>', '<SignatureValue>AAAA')), 'EDX_ERR_SIGNATURE_INVALID', 'general path: SignatureValue');
});

t.test('equivalent serialisations verify on the general path; c14n and exc-c14n differ where they should', async (t) => {
  for (const canonicalization of ['exc-c14n', 'c14n'] as const) {
    const signed = signPacket(small, key, { canonicalization });
    const variants: [string, Buffer][] = [
      ['comment in the body', replaceOnce(signed, '<edXML:edXMLBody>', '<edXML:edXMLBody><!-- not signed, not processed -->')],
      ['character reference', replaceOnce(signed, '<edXML:TypeName>C', '<edXML:TypeName>&#67;')],
      ['CDATA section', replaceOnce(signed, '<edXML:CodeNumber>123</edXML:CodeNumber>', '<edXML:CodeNumber><![CDATA[123]]></edXML:CodeNumber>')],
      ['single quotes and spaces in a tag', replaceOnce(signed, '<edXML:edXMLManifest version="1.0">', "<edXML:edXMLManifest  version = '1.0' >")],
      ['XML declaration with single quotes', replaceOnce(signed, '<?xml version="1.0" encoding="UTF-8"?>', "<?xml version='1.0' encoding='utf-8' standalone='yes'?>")],
    ];
    for (const [what, variant] of variants) {
      t.notOk(scanCanonical(variant).canonical, `${what}: not canonical bytes`);
      expectValid(t, verifySignature(variant), `${canonicalization}: ${what}`);
    }
    // Inside the Signature nothing is digested, so other signers' formatting there keeps the fast path.
    const otherFormatting = replaceOnce(replaceOnce(signed, '"></DigestMethod>', '"/>'), '<KeyInfo>', '<KeyInfo ><!-- </Signature> -->');
    t.ok(scanCanonical(otherFormatting).canonical, 'self-closing element and a comment inside the Signature: still the fast path');
    expectValid(t, verifySignature(otherFormatting), `${canonicalization}: self-closing element and a comment inside the Signature`);
    // The XML declaration is not signed (c14n does not output it), so a packet without one is the same.
    const noDeclaration = Buffer.from(signed.toString('utf8').replace(/^<\?xml[^>]*>\n/, ''), 'utf8');
    t.ok(scanCanonical(noDeclaration).canonical, 'no XML declaration: still canonical');
    expectValid(t, verifySignature(noDeclaration), `${canonicalization}: no XML declaration`);
    // Declaring XML 1.1 would change how the parser reads the text; c14n 1.0 is for XML 1.0 only.
    const xml11 = replaceOnce(signed, '<?xml version="1.0"', '<?xml version="1.1"');
    expectInvalid(t, verifySignature(xml11), 'EDX_ERR_SIGNATURE_UNSUPPORTED', `${canonicalization}: an XML 1.1 declaration`);
    // A namespace declaration nobody uses: kept by c14n (so covered), dropped by exc-c14n.
    const unused = replaceOnce(signed, '<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016">', '<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">');
    if (canonicalization === 'exc-c14n') expectValid(t, verifySignature(unused), 'exc-c14n: an unused declaration added');
    else expectInvalid(t, verifySignature(unused), 'EDX_ERR_SIGNATURE_DIGEST_MISMATCH', 'c14n: an unused declaration added');
  }
  // Signing non-canonical input writes its canonical form, which verifies on the fast path.
  const crlfUnsigned = Buffer.from(small.toString('utf8').replaceAll('\n', '\r\n').replace('<edXML:edXMLBody>', '<edXML:edXMLBody><!-- c -->'), 'utf8');
  const signed = signPacket(crlfUnsigned, key);
  t.ok(scanCanonical(signed).canonical, 'the output of signing non-canonical input is canonical');
  expectValid(t, verifySignature(signed), 'and verifies');
  t.same(signed, signPacket(small, key), 'and is what signing the canonical packet gives');
});

// --- samples and fixtures ---------------------------------------------------------------------

t.test('official samples are placeholder or unsigned, never invalid; fixtures are unsigned', async (t) => {
  t.ok(SAMPLE_FILES.length >= 15, 'samples found');
  for (const file of SAMPLE_FILES) {
    const check = verifySignature(readFileSync(file));
    const name = file.split('/').pop() ?? file;
    const expected = name.startsWith('edoc') ? 'placeholder' : 'unsigned';
    t.equal(check.status, expected, `${name}: ${expected}${check.status === 'placeholder' ? ` (${check.reason})` : ''}`);
  }
  for (const file of FIXTURE_FILES) t.equal(verifySignature(readFileSync(file)).status, 'unsigned', file.split('/').pop() ?? file);
});

t.test('fast path == general path == xml-crypto on every fixture and sample', async (t) => {
  for (const file of [...FIXTURE_FILES, ...SAMPLE_FILES]) {
    const bytes = readFileSync(file);
    const name = file.split('/').pop() ?? file;
    const scan = scanCanonical(bytes);
    const isFixture = file.startsWith(VALID_FIXTURES);
    if (isFixture) t.ok(scan.canonical, `${name}: builder output is proven canonical`);
    if (name === 'edoc.edxml') {
      // Its `edXML:AttachmentEncoded` uses an undeclared prefix: not namespace-well-formed, no c14n exists.
      t.throws(() => treeCanonical(bytes, 'exc-c14n'), /undeclared prefix/, `${name}: refused by the canonicalizer`);
      continue;
    }
    for (const algorithm of ['exc-c14n', 'c14n'] as const) {
      const ours = treeCanonical(bytes, algorithm);
      t.equal(ours, xmlCryptoCanonical(bytes, algorithm), `${name}, ${algorithm}: general path == xml-crypto`);
      if (scan.canonical) t.equal(bytes.toString('utf8', scan.scan.root.start, scan.scan.root.end), ours, `${name}, ${algorithm}: root bytes == canonical form`);
    }
  }
  // And on signed packets minus their Signature (what the digest covers).
  for (const canonicalization of ['exc-c14n', 'c14n'] as const) {
    const signed = signPacket(small, key, { canonicalization });
    const unsignedText = signed.toString('utf8').replace(signatureText(signed), '');
    t.equal(xmlCryptoCanonical(unsignedText, canonicalization), small.toString('utf8').replace(/^<\?xml[^>]*>\n/, ''), `${canonicalization}: xml-crypto's digest input is our byte range`);
  }
});

// --- the safety property of the fast path -----------------------------------------------------

/** Small deterministic PRNG for reproducible mutations. */
function prng(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return x / 0x80000000;
  };
}

type Mutation = (text: string, random: () => number) => string;

/** Applies `edit` at a random match of `pattern` (global regex); unchanged if none. */
function atRandomMatch(text: string, pattern: RegExp, random: () => number, edit: (match: RegExpExecArray) => string): string {
  const matches = [...text.matchAll(pattern)];
  if (matches.length === 0) return text;
  const match = matches[Math.floor(random() * matches.length)] as RegExpExecArray;
  return text.slice(0, match.index) + edit(match) + text.slice(match.index + match[0].length);
}

// Each mutation either keeps the document canonical or makes it non-canonical in one way the scan
// must notice; the test does not say which — it checks the scan's claim against the canonicalizer.
const MUTATIONS: readonly [string, Mutation, boolean][] = [
  ['empty element as <a/>', (s, r) => atRandomMatch(s, /<([\w:]+)([^<>]*)><\/\1>/g, r, (m) => `<${m[1]}${m[2]}/>`), true],
  ['space before >', (s, r) => atRandomMatch(s, /<([\w:]+)>/g, r, (m) => `<${m[1]} >`), true],
  ['comment', (s, r) => atRandomMatch(s, /<\/[\w:]+>/g, r, (m) => `${m[0]}<!--c-->`), true],
  ['processing instruction', (s, r) => atRandomMatch(s, /<\/[\w:]+>/g, r, (m) => `${m[0]}<?pi data?>`), false],
  ['character reference', (s, r) => atRandomMatch(s, />([A-Za-z])/g, r, (m) => `>&#${(m[1] ?? 'a').charCodeAt(0)};`), true],
  ['&gt; escape (canonical)', (s, r) => atRandomMatch(s, />([A-Za-z])/g, r, (m) => `>&gt;${m[1]}`), true],
  ['raw > in text', (s, r) => atRandomMatch(s, />([A-Za-z])/g, r, (m) => `>>${m[1]}`), true],
  ['&apos; in text', (s, r) => atRandomMatch(s, />([A-Za-z])/g, r, (m) => `>&apos;${m[1]}`), true],
  ['CDATA', (s, r) => atRandomMatch(s, />([A-Za-z0-9]+)</g, r, (m) => `><![CDATA[${m[1]}]]><`), true],
  ['unused xmlns:xsi on the root', (s) => s.replace('<edXML xmlns=', '<edXML xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns='), true],
  ['redundant xmlns:edXML', (s, r) => atRandomMatch(s, /<edXML:(\w+)>/g, r, (m) => `<edXML:${m[1]} xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016">`), true],
  ['other prefix for the same namespace, used', (s, r) => atRandomMatch(s, /<edXML:(\w+)>([^<]*)<\/edXML:\1>/g, r, (m) => `<q:${m[1]} xmlns:q="http://www.mic.gov.vn/TBT/QCVN_102_2016">${m[2]}</q:${m[1]}>`), true],
  ['declared and used by an attribute', (s, r) => atRandomMatch(s, /<edXML:(\w+)>/g, r, (m) => `<edXML:${m[1]} xmlns:p="urn:p" p:a="1">`), true],
  ['attributes in order', (s, r) => atRandomMatch(s, /<edXML:(\w+)>/g, r, (m) => `<edXML:${m[1]} a="1" b="&amp;&lt;&quot;&#x9;&#xA;&#xD;>'">`), true],
  ['attributes out of order', (s, r) => atRandomMatch(s, /<edXML:(\w+)>/g, r, (m) => `<edXML:${m[1]} b="1" a="2">`), true],
  ['single-quoted attribute', (s) => s.replace('version="1.0">', "version='1.0'>"), true],
  ['raw TAB in an attribute', (s) => s.replace('version="1.0">', 'version="1.\t0">'), true],
  ['xml:lang', (s, r) => atRandomMatch(s, /<edXML:(\w+)>/g, r, (m) => `<edXML:${m[1]} xml:lang="vi">`), true],
  ['xmlns="" on a prefixed element', (s, r) => atRandomMatch(s, /<edXML:(\w+)>/g, r, (m) => `<edXML:${m[1]} xmlns="">`), true],
  ['CRLF', (s, r) => atRandomMatch(s, /\n/g, r, () => '\r\n'), true],
  ['TAB indentation', (s, r) => atRandomMatch(s, /\n {2}/g, r, () => '\n\t'), true],
  ['escaped CR in text', (s, r) => atRandomMatch(s, />([A-Za-z])/g, r, (m) => `>&#xD;${m[1]}`), true],
  ['numeric CR reference', (s, r) => atRandomMatch(s, />([A-Za-z])/g, r, (m) => `>&#13;${m[1]}`), true],
  ['non-ASCII element name', (s) => s.replace('<edXML:Subject>', '<edXML:Subject><Tiêu_đề>x</Tiêu_đề>'), true],
  ['whitespace after the root', (s) => `${s}\n\n`, true],
  // Inside the Signature: nothing is digested there, but the element must still be delimited exactly.
  ['<a/> in the Signature', (s, r) => atRandomMatch(s, /<(Transform|DigestMethod|SignatureMethod|CanonicalizationMethod)( [^<>]*)><\/\1>/g, r, (m) => `<${m[1]}${m[2]} />`), true],
  ['comment hiding an end tag in the Signature', (s) => s.replace('<KeyInfo>', '<KeyInfo><!-- </Signature></edXML:edXMLHeader> -->'), true],
  ['CDATA hiding an end tag in the Signature', (s) => s.replace('<KeyInfo>', '<KeyInfo><KeyName><![CDATA[</Signature>]]></KeyName>'), true],
  ['quoted > and end tag in a Signature attribute', (s) => s.replace('<KeyInfo>', `<KeyInfo Id='x"></Signature>'>`), true],
  ['PI in the Signature', (s) => s.replace('<KeyInfo>', '<KeyInfo><?pi </Signature>?>'), false],
  ['unbalanced Signature content', (s) => s.replace('<KeyInfo>', '<KeyInfo><X509Data>'), true],
  ['Signature closed early', (s) => s.replace('<KeyInfo>', '</Signature><KeyInfo>'), true],
  ['a second Signature inside the first', (s) => s.replace('</KeyInfo>', '</KeyInfo><Object><Signature xmlns="http://www.w3.org/2000/09/xmldsig#"></Signature></Object>'), true],
  ['ds: prefix declared on the Signature', (s) => s.replace('<Signature xmlns="http://www.w3.org/2000/09/xmldsig#">', '<Signature xmlns="http://www.w3.org/2000/09/xmldsig#" xmlns:ds="http://www.w3.org/2000/09/xmldsig#">'), true],
];

t.test('fast-path safety: whenever the scan says canonical, the bytes are the c14n and exc-c14n form (random mutations)', async (t) => {
  const bases = [small, status, buildPacketBuffer(minimalDocument), signPacket(small, key), signPacket(status, key, { canonicalization: 'c14n' }), readFileSync(FIXTURE_FILES[0] as string)];
  const random = prng(20_250_305);
  let canonical = 0;
  let notCanonical = 0;
  let compared = 0;
  let valid = 0;
  for (let round = 0; round < 600; round++) {
    const base = (bases[round % bases.length] as Buffer).toString('utf8');
    let text = base;
    const applied: string[] = [];
    const count = 1 + Math.floor(random() * 3);
    let xmlCryptoComparable = true;
    for (let k = 0; k < count; k++) {
      const [name, mutate, comparable] = MUTATIONS[Math.floor(random() * MUTATIONS.length)] as [string, Mutation, boolean];
      text = mutate(text, random);
      applied.push(name);
      xmlCryptoComparable &&= comparable;
    }
    const bytes = Buffer.from(text, 'utf8');
    const parsed = parseDocumentTree(bytes);
    if (!parsed.ok) continue;
    const scan = scanCanonical(bytes);
    const hasSignature = treeLayout(parsed.document).dsigSignatures.length > 0;
    for (const algorithm of ['exc-c14n', 'c14n'] as const) {
      let ours: string;
      try {
        ours = treeCanonical(bytes, algorithm, true);
      } catch {
        t.notOk(scan.canonical, `round ${round} (${applied.join(', ')}): not canonicalizable, and not called canonical`);
        continue;
      }
      if (scan.canonical) {
        // What the fast path digests: the root's bytes less the first DSig Signature's.
        const { root } = scan.scan;
        const hole = scan.scan.dsigSignatures[0]?.span ?? { start: root.end, end: root.end };
        const digested = bytes.toString('utf8', root.start, hole.start) + bytes.toString('utf8', hole.end, root.end);
        if (digested !== ours) t.fail(`round ${round} (${applied.join(', ')}), ${algorithm}: scan said canonical but c14n differs`);
      }
      // xml-crypto as a second opinion where it is reliable (it mishandles PIs, xml:* inheritance,
      // and xmldom does not normalise attribute whitespace or CR).
      if (xmlCryptoComparable && !hasSignature && !/\r|\t0|xml:lang/.test(text)) {
        compared++;
        const theirs = xmlCryptoCanonical(bytes, algorithm);
        if (theirs !== ours) t.fail(`round ${round} (${applied.join(', ')}), ${algorithm}: general path differs from xml-crypto`);
      }
    }
    if (scan.canonical) canonical++;
    else notCanonical++;
    // Whatever path the bytes take, the verdict is the one the general path gives: a comment after
    // the root changes nothing c14n sees and always sends the packet down the general path.
    const fast = verifySignature(bytes);
    const general = verifySignature(Buffer.concat([bytes, Buffer.from('<!--x-->')]));
    const verdict = (c: SignatureCheck): string => (c.status === 'invalid' ? `invalid ${c.code}` : c.status);
    if (verdict(fast) !== verdict(general)) t.fail(`round ${round} (${applied.join(', ')}): ${verdict(fast)} by the scan, ${verdict(general)} by the general path`);
    if (fast.status === 'valid') valid++;
  }
  t.ok(valid >= 50, `${valid} mutated packets still verified (mutations inside the Signature or equivalent ones)`);
  t.ok(canonical >= 40, `the scan accepted ${canonical} mutated documents (the property is not vacuous)`);
  t.ok(notCanonical >= 100, `and sent ${notCanonical} to the general path`);
  t.ok(compared >= 200, `${compared} comparisons with xml-crypto`);
});

t.test('processing instructions and the document level, as the c14n spec writes them', async (t) => {
  const xml = '<?xml version="1.0"?>\n<?before a  b?>\n<!-- gone -->\n<r xmlns="urn:r"><?inside?><a  z="1"   y="2"/>\r\n<![CDATA[<&>]]></r>\n<?after?>\n';
  const expected = '<?before a  b?>\n<r xmlns="urn:r"><?inside?><a y="2" z="1"></a>\n&lt;&amp;&gt;</r>\n<?after?>';
  t.equal(treeCanonical(Buffer.from(xml), 'c14n'), expected, 'c14n');
  t.equal(treeCanonical(Buffer.from(xml), 'exc-c14n'), expected, 'exc-c14n');
  t.notOk(scanCanonical(Buffer.from(xml)).canonical);
});

// --- interop with xml-crypto ------------------------------------------------------------------

t.test('xml-crypto verifies what we sign', async (t) => {
  for (const [name, unsigned] of [
    ['document', small],
    ['status', status],
    ['1 MB attachment', large],
  ] as const) {
    for (const canonicalization of ['exc-c14n', 'c14n'] as const) {
      t.equal(xmlCryptoVerifies(signPacket(unsigned, key, { canonicalization }), key.certificatePem), true, `${name}, ${canonicalization}`);
    }
  }
});

t.test('we verify what xml-crypto signs: RSA-SHA256/SHA-256, RSA-SHA1/SHA-1, exc-c14n, c14n, enveloped only', async (t) => {
  const profiles: [string, XmlCryptoSigning, Partial<SignatureCheck>][] = [
    ['rsa-sha256, exc-c14n', { signatureAlgorithm: ALGORITHMS.rsaSha256, canonicalizationAlgorithm: ALGORITHMS.exc, transforms: [ALGORITHMS.enveloped, ALGORITHMS.exc], digestAlgorithm: ALGORITHMS.sha256 }, { status: 'valid', signatureAlgorithm: 'rsa-sha256', digestAlgorithm: 'sha256', canonicalization: 'exc-c14n' }],
    ['rsa-sha1, sha1, c14n', { signatureAlgorithm: ALGORITHMS.rsaSha1, canonicalizationAlgorithm: ALGORITHMS.c14n, transforms: [ALGORITHMS.enveloped, ALGORITHMS.c14n], digestAlgorithm: ALGORITHMS.sha1 }, { status: 'valid', signatureAlgorithm: 'rsa-sha1', digestAlgorithm: 'sha1', canonicalization: 'c14n' }],
    ['rsa-sha1, enveloped only (c14n by default), as the VNPT sample', { signatureAlgorithm: ALGORITHMS.rsaSha1, canonicalizationAlgorithm: ALGORITHMS.c14n, transforms: [ALGORITHMS.enveloped], digestAlgorithm: ALGORITHMS.sha1 }, { status: 'valid', signatureAlgorithm: 'rsa-sha1', canonicalization: 'c14n' }],
    ['rsa-sha256, c14n SignedInfo, exc-c14n reference', { signatureAlgorithm: ALGORITHMS.rsaSha256, canonicalizationAlgorithm: ALGORITHMS.c14n, transforms: [ALGORITHMS.enveloped, ALGORITHMS.exc], digestAlgorithm: ALGORITHMS.sha256 }, { status: 'valid', canonicalization: 'exc-c14n' }],
  ];
  for (const [name, options, expected] of profiles) {
    for (const [packetName, unsigned] of [
      ['document', small],
      ['status', status],
      ['sample edoc_new (CRLF, namespace-less placeholder removed)', Buffer.from(readFileSync(`${SAMPLES}edoc_new.edxml`, 'utf8').replace(/<Signature>[\s\S]*<\/Signature>/, '').replace(/^1212/, ''), 'utf8')],
    ] as const) {
      const signed = xmlCryptoSign(unsigned, options);
      t.match(verifySignature(Buffer.from(signed, 'utf8')), expected, `${name}: ${packetName}`);
    }
  }
});

// --- certificates -----------------------------------------------------------------------------

t.test('several certificates: the one whose key verifies is the signer and comes first', async (t) => {
  const signed = signPacket(small, key).toString('utf8');
  const own = key.certificates[0]?.toString('base64') ?? '';
  const other = otherKey.certificates[0]?.toString('base64') ?? '';
  const signerSecond = signed.replace(`<X509Certificate>${own}</X509Certificate>`, `<X509Certificate>${other}</X509Certificate><X509Certificate>${own}</X509Certificate>`);
  const check = verifySignature(Buffer.from(signerSecond, 'utf8'));
  t.match(check, { status: 'valid' }, 'chain in CA-first order');
  if (check.status === 'valid') t.same(check.certificates, [key.certificates[0], otherKey.certificates[0]], 'signer first, then the rest in document order');

  const wrongOnly = signed.replace(own, other);
  const wrong = verifySignature(Buffer.from(wrongOnly, 'utf8'));
  t.match(wrong, { status: 'invalid', code: 'EDX_ERR_SIGNATURE_INVALID' }, 'a certificate that did not sign');
  if (wrong.status === 'invalid') t.same(wrong.certificates, [otherKey.certificates[0]], 'reported');

  const broken = signed.replace(own, `${own.slice(0, 100)}${own.slice(104)}`);
  t.match(verifySignature(Buffer.from(broken, 'utf8')), { status: 'invalid', code: 'EDX_ERR_SIGNATURE_MALFORMED' }, 'a certificate that is not DER');
  const noCertificate = signed.replace(/<KeyInfo>[\s\S]*<\/KeyInfo>/, '<KeyInfo><KeyName>x</KeyName></KeyInfo>');
  t.match(verifySignature(Buffer.from(noCertificate, 'utf8')), { status: 'invalid', code: 'EDX_ERR_SIGNATURE_MALFORMED' }, 'no X509Certificate');

  const weak = testKey('weak key', 512);
  t.match(verifySignature(Buffer.from(signed.replace(own, weak.certificates[0]?.toString('base64') ?? ''), 'utf8')), { status: 'invalid', code: 'EDX_ERR_SIGNATURE_UNSUPPORTED' }, 'a 512-bit RSA key is refused');
});

// --- hostile input ----------------------------------------------------------------------------

/**
 * Whether `changed` differs from `signed` only where nothing is signed: inside the Signature but
 * outside SignedInfo — whitespace between its children, or a byte of the certificate that leaves its
 * key intact (KeyInfo is not signed; judging the certificate is the certificate layer's job).
 */
function harmless(signed: Buffer, changed: Buffer): boolean {
  if (changed.length !== signed.length) return false;
  const text = signed.toString('latin1');
  const signatureStart = text.indexOf('<Signature ');
  const signedInfoStart = text.indexOf('<SignedInfo>');
  const signedInfoEnd = text.indexOf('</SignedInfo>') + '</SignedInfo>'.length;
  const signatureEnd = text.indexOf('</Signature>');
  for (let i = 0; i < signed.length; i++) {
    if (signed[i] === changed[i]) continue;
    if (!(i > signatureStart && i < signatureEnd && (i < signedInfoStart || i >= signedInfoEnd))) return false;
  }
  return true;
}

t.test('hostile input gives a verdict, never an exception', async (t) => {
  const signed = signPacket(small, key);
  const random = prng(7);
  const inputs: [string, Buffer][] = [
    ['empty', Buffer.alloc(0)],
    ['random bytes', pseudoRandomBytes(4096, 3)],
    ['not UTF-8', Buffer.concat([signed.subarray(0, 100), Buffer.from([0xff, 0xfe]), signed.subarray(100)])],
    ['DOCTYPE with an entity', Buffer.from(`<?xml version="1.0"?><!DOCTYPE edXML [<!ENTITY x "y">]>${signed.toString('utf8').replace(/^<\?xml[^>]*>/, '')}`)],
    ['deep nesting', Buffer.from(`${'<a>'.repeat(5000)}${'</a>'.repeat(5000)}`)],
    ['a NUL byte', replaceOnce(signed, 'V/v', 'V\u0000v')],
    ['U+FFFF', replaceOnce(signed, 'V/v', 'V\uFFFFv')],
  ];
  for (let i = 0; i < 60; i++) {
    const at = Math.floor(random() * signed.length);
    inputs.push([`truncated at ${at}`, signed.subarray(0, at)]);
    const copy = Buffer.from(signed);
    copy[at] = Math.floor(random() * 256);
    inputs.push([`byte ${at} replaced`, copy]);
  }
  for (const [name, input] of inputs) {
    let check: SignatureCheck | undefined;
    t.doesNotThrow(() => {
      check = verifySignature(input);
    }, name);
    if (check?.status === 'valid' && !harmless(signed, input)) t.fail(`${name}: still valid`);
  }
  t.match(verifySignature(inputs[3]?.[1] ?? Buffer.alloc(0)), { status: 'invalid', code: 'EDX_ERR_SIGNATURE_MALFORMED', reason: /DOCTYPE/ }, 'DOCTYPE refused');
  t.match(verifySignature(Buffer.alloc(0)), { status: 'invalid', code: 'EDX_ERR_SIGNATURE_MALFORMED' }, 'empty input refused');
});

// --- signing refusals -------------------------------------------------------------------------

t.test('signPacket refuses what it cannot sign, with catalogued codes', async (t) => {
  const mismatched = { privateKey: key.privateKey, certificates: otherKey.certificates };
  t.throws(() => signPacket(small, mismatched), { code: 'EDX_ERR_SIGNATURE_KEY_INVALID' }, 'a certificate of another key');
  t.throws(() => signPacket(small, { privateKey: key.publicKey, certificates: key.certificates }), { code: 'EDX_ERR_SIGNATURE_KEY_INVALID' }, 'a public key');
  t.throws(() => signPacket(small, { privateKey: key.privateKey, certificates: [] }), { code: 'EDX_ERR_SIGNATURE_KEY_INVALID' }, 'no certificate');
  const weak = testKey('weak key', 512);
  t.throws(() => signPacket(small, weak), { code: 'EDX_ERR_SIGNATURE_KEY_INVALID' }, 'a 512-bit key');
  t.throws(() => signPacket(Buffer.from('<a>'), key), { code: 'EDX_ERR_XML_MALFORMED' }, 'not XML');
  t.throws(() => signPacket(Buffer.from('<a xmlns="urn:a"><b></b></a>'), key), { code: 'EDX_ERR_PACKET_STRUCTURE' }, 'not an edXML packet');
  const stray = replaceOnce(signPacket(small, key), '<edXML:edXMLBody>', `<edXML:edXMLBody>${signatureText(signPacket(small, otherKey))}`);
  t.throws(() => signPacket(stray, key), { code: 'EDX_ERR_SIGNATURE_REFERENCE' }, 'a DSig Signature outside edXMLHeader');
  const result = trySignPacket(small, mismatched);
  t.match(result, { ok: false, issues: [{ code: 'EDX_ERR_SIGNATURE_KEY_INVALID', severity: 'error' }] }, 'trySignPacket returns the refusal');
  t.ok(EdxError.fromIssues(result.ok ? [] : result.issues) instanceof EdxError);
});
