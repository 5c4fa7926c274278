// Tests of the edXML builder: textual conventions of the official samples (prefixes, namespace
// declarations, element order, no empty elements for absent fields), escaping, forbidden
// characters, and that the output after the XML declaration is already Canonical XML.

import t from 'tap';
import type { Test } from 'tap';
import { DOMParser } from '@xmldom/xmldom';
import { C14nCanonicalization, ExclusiveCanonicalization } from 'xml-crypto';
import { buildPacket, buildPacketBuffer, XML_PROLOG } from '../../src/edxml/build.ts';
import { EDXML_NAMESPACE, XMLDSIG_NAMESPACE } from '../../src/edxml/model.ts';
import type { DocumentPacket } from '../../src/edxml/model.ts';
import { documentPacket, minimalDocument, statusPacket } from './example-packets.ts';

const NS = EDXML_NAMESPACE;

/** The qualified names of the direct children of the first element named `parent`, in order. */
function childNames(xml: string, parent: string): string[] {
  const doc = parseXml(xml);
  const element = doc.getElementsByTagName(parent).item(0);
  if (!element) return [];
  const names: string[] = [];
  for (let node = element.firstChild; node; node = node.nextSibling) {
    if (node.nodeType === node.ELEMENT_NODE) names.push(node.nodeName);
  }
  return names;
}

function parseXml(xml: string): Document {
  const errors: string[] = [];
  const doc = new DOMParser({
    errorHandler: (level: string, message: unknown) => {
      if (level !== 'warning') errors.push(String(message));
    },
  }).parseFromString(xml, 'text/xml');
  if (errors.length > 0) throw new Error(`not well-formed: ${errors.join('; ')}`);
  return doc;
}

/** Every start tag (qualified name) in a stretch of text. */
function startTags(text: string): string[] {
  return [...text.matchAll(/<([A-Za-z][\w.:-]*)[\s>]/g)].map((m) => m[1] ?? '');
}

t.test('declaration, root and envelope are written as in the official samples', async (t) => {
  const xml = buildPacket(documentPacket);
  t.ok(xml.startsWith(`<?xml version="1.0" encoding="UTF-8"?>\n<edXML xmlns="${NS}">\n  <edXML:edXMLEnvelope xmlns:edXML="${NS}">\n    <edXML:edXMLHeader>\n      <edXML:MessageHeader>\n        <edXML:From>\n          <edXML:OrganId>`));
  t.ok(xml.endsWith('\n  </AttachmentEncoded>\n</edXML>'), 'nothing after the root end tag');
  t.equal(XML_PROLOG, '<?xml version="1.0" encoding="UTF-8"?>\n');
  t.notMatch(xml, /\r/, 'LF line ends only');
  t.notMatch(xml, /\/>/, 'no self-closing tags');
  const lines = buildPacket(minimalDocument).split('\n').slice(1);
  t.same(lines.filter((line) => !/^(?: {2})*</.test(line)), [], 'two-space indentation, one element per line');
  t.ok(lines.includes('          <edXML:OrganId>000.00.15.H47</edXML:OrganId>'), 'From/OrganId at level 5');
});

t.test('envelope descendants carry the edXML: prefix, except the Signature subtree', async (t) => {
  const xml = buildPacket(documentPacket);
  const envelope = xml.slice(xml.indexOf('<edXML:edXMLEnvelope'), xml.indexOf('</edXML:edXMLEnvelope>'));
  const signatureStart = envelope.indexOf('<Signature');
  const signatureEnd = envelope.indexOf('</Signature>');
  t.ok(signatureStart > 0 && signatureEnd > signatureStart, 'the signature is inside the envelope');
  const outside = envelope.slice(0, signatureStart) + envelope.slice(signatureEnd);
  const unprefixed = startTags(outside).filter((name) => !name.startsWith('edXML:'));
  t.same(unprefixed, [], 'every envelope element outside Signature is prefixed');
  const inside = startTags(envelope.slice(signatureStart, signatureEnd));
  t.ok(inside.length > 10, 'the signature has its subtree');
  t.same(inside.filter((name) => name.includes(':')), [], 'the Signature subtree is unprefixed');
  t.ok(
    envelope.includes(`</edXML:TraceHeaderList><Signature xmlns="${XMLDSIG_NAMESPACE}">`),
    'Signature follows TraceHeaderList directly and declares the XML-DSig namespace',
  );
  t.same(childNames(xml, 'edXML:edXMLHeader'), ['edXML:MessageHeader', 'edXML:TraceHeaderList', 'Signature']);
});

t.test('AttachmentEncoded is unprefixed, ContentTransferEncoded prefixed with its own declaration', async (t) => {
  const xml = buildPacket(documentPacket);
  const attachments = xml.slice(xml.indexOf('</edXML:edXMLEnvelope>'));
  t.same(startTags(attachments), [
    'AttachmentEncoded',
    ...Array.from({ length: 2 }, () => ['Attachment', 'ContentId', 'AttachmentName', 'Description', 'ContentType', 'edXML:ContentTransferEncoded']).flat(),
  ]);
  t.ok(attachments.includes(`\n      <edXML:ContentTransferEncoded xmlns:edXML="${NS}">JVBERi0xLjcK</edXML:ContentTransferEncoded>\n`));
  t.same(childNames(xml, 'edXML'), ['edXML:edXMLEnvelope', 'AttachmentEncoded']);
});

t.test('MessageHeader children follow the samples order (ResponseFor after OtherInfo)', async (t) => {
  const xml = buildPacket(documentPacket);
  t.same(childNames(xml, 'edXML:MessageHeader'), [
    'edXML:From',
    'edXML:To',
    'edXML:To',
    'edXML:To',
    'edXML:DocumentId',
    'edXML:Code',
    'edXML:PromulgationInfo',
    'edXML:DocumentType',
    'edXML:Subject',
    'edXML:Content',
    'edXML:SignerInfo',
    'edXML:DueDate',
    'edXML:OtherInfo',
    'edXML:ResponseFor',
    'edXML:SteeringType',
    'edXML:ToPlaces',
  ]);
  // The same order read off index positions in the raw text, independent of any parser.
  const positions = ['<edXML:From>', '<edXML:To>', '<edXML:DocumentId>', '<edXML:Code>', '<edXML:PromulgationInfo>', '<edXML:DocumentType>', '<edXML:Subject>', '<edXML:Content>', '<edXML:SignerInfo>', '<edXML:DueDate>', '<edXML:OtherInfo>', '<edXML:ResponseFor>', '<edXML:SteeringType>', '<edXML:ToPlaces>'].map((tag) => xml.indexOf(tag));
  t.notOk(positions.includes(-1), 'every child is written');
  t.same(positions, [...positions].sort((a, b) => a - b), 'in ascending positions');
});

t.test('nested children follow propOrder and the samples order', async (t) => {
  const xml = buildPacket(documentPacket);
  t.same(childNames(xml, 'edXML:From'), ['OrganId', 'OrganizationInCharge', 'OrganName', 'OrganAdd', 'Email', 'Telephone', 'Fax', 'Website'].map((n) => `edXML:${n}`));
  t.same(childNames(xml, 'edXML:OtherInfo'), ['Priority', 'SphereOfPromulgation', 'TyperNotation', 'PromulgationAmount', 'PageAmount', 'Direction', 'Appendixes'].map((n) => `edXML:${n}`));
  t.same(childNames(xml, 'edXML:ResponseFor'), ['OrganId', 'Code', 'PromulgationDate', 'DocumentId'].map((n) => `edXML:${n}`));
  t.same(childNames(xml, 'edXML:TraceHeaderList'), ['edXML:TraceHeader', 'edXML:TraceHeader', 'edXML:Bussiness']);
  t.same(childNames(xml, 'edXML:Bussiness'), ['DocumentId', 'BussinessDocType', 'BussinessDocReason', 'Paper', 'BussinessDocumentInfo', 'ReplacementInfoList', 'StaffInfo'].map((n) => `edXML:${n}`));
  t.same(childNames(xml, 'edXML:BussinessDocumentInfo'), ['edXML:DocumentInfo', 'edXML:DocumentReceiver', 'edXML:ReceiverList']);
  t.same(childNames(xml, 'edXML:Receiver'), ['edXML:OrganId', 'edXML:ReceiverType']);
  t.same(childNames(xml, 'edXML:ReplacementInfo'), ['edXML:DocumentId', 'edXML:OrganIdList']);
  t.same(childNames(xml, 'edXML:StaffInfo'), ['Department', 'DepartmentId', 'Staff', 'StaffId', 'Email', 'Mobile'].map((n) => `edXML:${n}`));
  t.same(childNames(xml, 'Signature'), ['SignedInfo', 'SignatureValue', 'KeyInfo']);
  t.same(childNames(xml, 'SignedInfo'), ['CanonicalizationMethod', 'SignatureMethod', 'Reference']);
  t.same(childNames(xml, 'Reference'), ['Transforms', 'DigestMethod', 'DigestValue']);
  t.same(childNames(xml, 'X509Data'), ['X509SubjectName', 'X509Certificate']);
  t.same(childNames(xml, 'edXML:Reference'), ['ContentId', 'ContentType', 'Description', 'AttachmentName'].map((n) => `edXML:${n}`));
  t.ok(xml.includes('<edXML:edXMLManifest version="1.0">'));
  t.ok(xml.includes('<Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"></Transform>'), 'empty elements as start+end tag pairs');
  t.notMatch(xml, /Business/, 'the standard spelling Bussiness is emitted');
});

t.test('numbers, booleans and dates are written plainly', async (t) => {
  const xml = buildPacket(documentPacket);
  for (const fragment of ['<edXML:Type>1</edXML:Type>', '<edXML:TypeDetail>0</edXML:TypeDetail>', '<edXML:Priority>2</edXML:Priority>', '<edXML:PageAmount>12</edXML:PageAmount>', '<edXML:Direction>true</edXML:Direction>', '<edXML:SteeringType>1</edXML:SteeringType>', '<edXML:BussinessDocType>2</edXML:BussinessDocType>', '<edXML:Paper>0</edXML:Paper>', '<edXML:DueDate>2025/03/15</edXML:DueDate>', '<edXML:Timestamp>2025/03/05 09:15:00</edXML:Timestamp>']) {
    t.ok(xml.includes(fragment), fragment);
  }
  const withFalse = buildPacket({ ...documentPacket, header: { ...documentPacket.header, otherInfo: { appendixes: [], direction: false } } });
  t.ok(withFalse.includes('<edXML:OtherInfo>\n          <edXML:Direction>false</edXML:Direction>\n        </edXML:OtherInfo>'));
});

t.test('absent optional fields are omitted, structural containers are kept', async (t) => {
  const xml = buildPacket(minimalDocument);
  for (const name of ['OrganizationInCharge', 'OrganName', 'Place', 'TypeDetail', 'TypeName', 'Content', 'SignerInfo', 'DueDate', 'OtherInfo', 'ResponseFor', 'SteeringType', 'ToPlaces', 'Bussiness']) {
    t.notOk(xml.includes(`<edXML:${name}>`), `no ${name}`);
  }
  t.notOk(xml.includes('Signature'), 'no Signature');
  t.notOk(xml.includes('AttachmentEncoded'), 'no AttachmentEncoded without attachments');
  t.ok(xml.includes('\n      <edXML:edXMLManifest version="1.0"></edXML:edXMLManifest>\n'), 'the empty manifest is still written');
  const empties = [...xml.matchAll(/<([\w:]+)[^>]*><\/\1>/g)].map((m) => m[1]);
  t.same(empties, ['edXML:edXMLManifest'], 'no other empty element');

  const noTrace = buildPacket({ ...minimalDocument, traceHeaders: [] });
  t.ok(noTrace.includes('\n      <edXML:TraceHeaderList></edXML:TraceHeaderList>\n'), 'TraceHeaderList is structural');

  // Containers whose every field is absent, and empty strings, are omitted like absent fields.
  const hollow = buildPacket({
    ...minimalDocument,
    header: {
      ...minimalDocument.header,
      from: { organId: '000.00.15.H47', organName: '', email: undefined },
      content: '',
      signerInfo: {},
      otherInfo: { appendixes: [] },
    },
    business: { businessDocType: 0, replacements: [], staffInfo: {}, documentInfo: { receivers: [] } },
  });
  t.same(childNames(hollow, 'edXML:From'), ['edXML:OrganId']);
  t.same(childNames(hollow, 'edXML:Bussiness'), ['edXML:BussinessDocType']);
  t.notOk(/<edXML:(?:Content|SignerInfo|OtherInfo|StaffInfo|BussinessDocumentInfo)>/.test(hollow));
});

t.test('status packet: MessageHeader children, no body, no trace list', async (t) => {
  const xml = buildPacket(statusPacket);
  t.same(childNames(xml, 'edXML:MessageHeader'), ['From', 'ResponseFor', 'StaffInfo', 'StatusCode', 'Description', 'Timestamp'].map((n) => `edXML:${n}`));
  t.same(childNames(xml, 'edXML:edXMLEnvelope'), ['edXML:edXMLHeader']);
  t.same(childNames(xml, 'edXML:edXMLHeader'), ['edXML:MessageHeader']);
  t.same(childNames(xml, 'edXML'), ['edXML:edXMLEnvelope']);
  t.ok(xml.includes('<edXML:StatusCode>02</edXML:StatusCode>'));
  t.ok(xml.endsWith('\n    </edXML:edXMLHeader>\n  </edXML:edXMLEnvelope>\n</edXML>'));

  const bare = buildPacket({ ...statusPacket, staffInfo: undefined, description: undefined });
  t.same(childNames(bare, 'edXML:MessageHeader'), ['edXML:From', 'edXML:ResponseFor', 'edXML:StatusCode', 'edXML:Timestamp']);

  const signed = buildPacket({
    ...statusPacket,
    signature: { namespace: XMLDSIG_NAMESPACE, referenceUris: [''], transforms: [], signatureValue: 'c2ln' },
  });
  t.same(childNames(signed, 'edXML:edXMLHeader'), ['edXML:MessageHeader', 'Signature']);
  t.ok(signed.includes(`</edXML:MessageHeader><Signature xmlns="${XMLDSIG_NAMESPACE}">`));
});

t.test('a Signature in the inherited QCVN namespace (as in the samples) gets no xmlns', async (t) => {
  const xml = buildPacket({
    ...minimalDocument,
    signature: { namespace: NS, referenceUris: [], transforms: [], x509SubjectName: 'CN=user05' },
  });
  t.ok(xml.includes('</edXML:TraceHeaderList><Signature>\n        <SignedInfo></SignedInfo>\n        <KeyInfo>'));
  t.same(childNames(xml, 'X509Data'), ['X509SubjectName']);
  const doc = parseXml(xml);
  t.equal(doc.getElementsByTagName('Signature').item(0)?.namespaceURI, NS);
});

t.test('escaping: text and values survive a standard XML parser unchanged', async (t) => {
  const xml = buildPacket(documentPacket);
  t.ok(xml.includes('<edXML:Subject>V/v "AT&amp;T" &lt;khẩn&gt; ]]&gt; &amp; báo cáo\ttình hình</edXML:Subject>'));
  t.ok(xml.includes('<edXML:Content>Dòng 1&#xD;\nDòng 2 &gt; 1</edXML:Content>'), 'CR as a character reference');
  const doc = parseXml(xml);
  t.equal(doc.getElementsByTagName('edXML:Subject').item(0)?.textContent, documentPacket.header.subject);
  t.equal(doc.getElementsByTagName('edXML:Content').item(0)?.textContent, documentPacket.header.content);
  t.equal(doc.getElementsByTagName('edXML:Description').item(1)?.textContent, 'Phụ lục & số liệu');

  const attributes = buildPacket({
    ...minimalDocument,
    signature: { namespace: XMLDSIG_NAMESPACE, referenceUris: ['#a&b<"c"\t\n\r>'], transforms: [], digestValue: 'x' },
  });
  t.ok(attributes.includes('<Reference URI="#a&amp;b&lt;&quot;c&quot;&#x9;&#xA;&#xD;>">'), 'attribute escapes as c14n writes them');
  t.equal(parseXml(attributes).getElementsByTagName('Reference').item(0)?.getAttribute('URI'), '#a&b<"c"\t\n\r>');

  const astral = buildPacket({ ...minimalDocument, header: { ...minimalDocument.header, subject: 'Ký hiệu 𠀀 và 😀' } });
  t.ok(astral.includes('<edXML:Subject>Ký hiệu 𠀀 và 😀</edXML:Subject>'), 'characters outside the BMP are written as is');
});

t.test('characters XML 1.0 forbids are refused with a TypeError naming the field', async (t) => {
  const header = minimalDocument.header;
  t.throws(() => buildPacket({ ...minimalDocument, header: { ...header, subject: 'a\u0001b' } }), {
    name: 'TypeError',
    message: /header\.subject contains U\+0001 at index 1/,
  });
  t.throws(() => buildPacket({ ...minimalDocument, header: { ...header, to: [header.to[0]!, { organId: '1', organName: 'x\uD800y' }] } }), {
    name: 'TypeError',
    message: /header\.to\[1\]\.organName contains U\+D800/,
  });
  t.throws(() => buildPacket({ ...statusPacket, description: 'bad \uFFFF' }), { name: 'TypeError', message: /description contains U\+FFFF/ });
  t.throws(
    () => buildPacket({ ...minimalDocument, attachments: [{ contentId: 'cid:1', content: 'QUJD\u0000' }] }),
    { name: 'TypeError', message: /attachments\[0\]\.content contains U\+0000/ },
  );
  t.throws(
    () => buildPacket({ ...minimalDocument, signature: { namespace: NS, referenceUris: ['\u001F'], transforms: [] } }),
    { name: 'TypeError', message: /signature\.referenceUris\[0\]/ },
  );
  t.throws(
    () => buildPacket({ ...minimalDocument, header: { ...header, documentType: { type: 1.5 } } }),
    { name: 'TypeError', message: /header\.documentType\.type must be an integer/ },
  );
  t.throws(() => buildPacket({ ...minimalDocument, business: { businessDocType: Number.NaN as 0, replacements: [] } }), {
    name: 'TypeError',
    message: /business\.businessDocType must be an integer/,
  });
});

t.test('the output after the XML declaration is already Canonical XML (c14n and exc-c14n)', async (t) => {
  const qcvnSigned: DocumentPacket = { ...documentPacket, signature: { ...documentPacket.signature!, namespace: NS } };
  for (const [name, packet] of [
    ['document', documentPacket],
    ['document, sample-style signature', qcvnSigned],
    ['minimal document', minimalDocument],
    ['status', statusPacket],
  ] as const) {
    const xml = buildPacket(packet);
    const root = parseXml(xml).documentElement;
    const text = xml.slice(XML_PROLOG.length);
    t.equal(new C14nCanonicalization().process(root, {}), text, `${name}: c14n`);
    t.equal(new ExclusiveCanonicalization().process(root, {}), text, `${name}: exc-c14n`);
  }
});

t.test('removing the Signature (enveloped-signature transform) gives the unsigned packet byte for byte', async (t) => {
  for (const packet of [documentPacket, { ...statusPacket, signature: documentPacket.signature }] as const) {
    const signed = buildPacket(packet);
    const unsigned = buildPacket({ ...packet, signature: undefined });
    const doc = parseXml(signed);
    const signature = doc.getElementsByTagName('Signature').item(0);
    t.ok(signature, 'signed output has a Signature');
    signature?.parentNode?.removeChild(signature);
    t.equal(new ExclusiveCanonicalization().process(doc.documentElement, {}), unsigned.slice(XML_PROLOG.length), packet.kind);
  }
});

t.test('buildPacketBuffer is the UTF-8 encoding of buildPacket', async (t) => {
  for (const packet of [documentPacket, statusPacket, minimalDocument]) {
    t.same(buildPacketBuffer(packet), Buffer.from(buildPacket(packet), 'utf8'));
  }
});

t.test('a 20 MB attachment is written intact as one run of base64', async (t) => {
  const content = Buffer.alloc(15 * 1024 * 1024, 'Quảng Nam ').toString('base64');
  const packet: DocumentPacket = {
    ...documentPacket,
    attachments: [{ contentId: 'cid:big', contentType: 'application/pdf', content }],
  };
  const xml = buildPacket(packet);
  const open = `<edXML:ContentTransferEncoded xmlns:edXML="${NS}">`;
  const start = at(t, xml, open) + open.length;
  t.equal(xml.slice(start, start + content.length), content);
  t.ok(xml.startsWith('</edXML:ContentTransferEncoded>', start + content.length));
  const buffer = buildPacketBuffer(packet);
  t.equal(buffer.length, Buffer.byteLength(xml, 'utf8'));
  t.equal(buffer.subarray(buffer.length - 200).toString('utf8'), Buffer.from(xml, 'utf8').subarray(buffer.length - 200).toString('utf8'));
});

/** Index of a substring that must occur; fails the test (instead of returning -1) when it does not. */
function at(t: Test, text: string, needle: string): number {
  const i = text.indexOf(needle);
  t.not(i, -1, `output contains ${needle.slice(0, 60)}`);
  return i;
}
