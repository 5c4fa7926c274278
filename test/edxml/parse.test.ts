// Tests of the edXML parser: every official sample is accepted with its quirks; the namespace and
// spelling variants real senders use are read alike; every parser-level fault is reported, all at
// once, with its code and path; hostile input is refused within a second, and a 20 MB attachment
// comes through whole.

import { readdirSync, readFileSync } from 'node:fs';
import t from 'tap';
import type { Test } from 'tap';
import { parsePacket } from '../../src/edxml/parse.ts';
import { EDXML_NAMESPACE, XMLDSIG_NAMESPACE } from '../../src/edxml/model.ts';
import type { DocumentPacket, Packet, StatusPacket } from '../../src/edxml/model.ts';
import type { Issue, Result } from '../../src/errors.ts';

const NS = EDXML_NAMESPACE;
const MIB = 1024 * 1024;
const SAMPLE_DIR = new URL('../../../shared/interop/vpcp-samples/', import.meta.url);

function sample(name: string): Buffer {
  return readFileSync(new URL(name, SAMPLE_DIR));
}

function ok(result: Result<Packet>): Packet {
  if (!result.ok) throw new Error(`expected a packet, got ${JSON.stringify(result.issues, null, 2)}`);
  return result.value;
}

function document(result: Result<Packet>): DocumentPacket {
  const packet = ok(result);
  if (packet.kind !== 'document') throw new Error(`expected a document packet, got ${packet.kind}`);
  return packet;
}

function status(result: Result<Packet>): StatusPacket {
  const packet = ok(result);
  if (packet.kind !== 'status') throw new Error(`expected a status packet, got ${packet.kind}`);
  return packet;
}

/** The refusal's errors (warnings left out); fails loudly if the input was accepted. */
function errors(result: Result<Packet>): Issue[] {
  if (result.ok) throw new Error('expected a refusal, got a packet');
  return result.issues.filter((i) => i.severity === 'error');
}

/** "CODE path" of each error, the shape most assertions compare. */
function faults(result: Result<Packet>): string[] {
  return errors(result).map((i) => `${i.code} ${i.path}`);
}

// A document packet with only the required fields, written as the samples write it.
const MINIMAL_DOCUMENT = `<?xml version="1.0" encoding="UTF-8"?>
<edXML xmlns="${NS}">
  <edXML:edXMLEnvelope xmlns:edXML="${NS}">
    <edXML:edXMLHeader>
      <edXML:MessageHeader>
        <edXML:From>
          <edXML:OrganId>000.00.15.H47</edXML:OrganId>
        </edXML:From>
        <edXML:To>
          <edXML:OrganId>000.00.00.G22</edXML:OrganId>
        </edXML:To>
        <edXML:DocumentId>000.00.15.H47,2025/03/05,123/STTTT-VP</edXML:DocumentId>
        <edXML:Code>
          <edXML:CodeNumber>123</edXML:CodeNumber>
          <edXML:CodeNotation>STTTT-VP</edXML:CodeNotation>
        </edXML:Code>
        <edXML:PromulgationInfo>
          <edXML:PromulgationDate>2025/03/05</edXML:PromulgationDate>
        </edXML:PromulgationInfo>
        <edXML:DocumentType>
          <edXML:Type>1</edXML:Type>
        </edXML:DocumentType>
        <edXML:Subject>V/v thử nghiệm</edXML:Subject>
      </edXML:MessageHeader>
    </edXML:edXMLHeader>
  </edXML:edXMLEnvelope>
</edXML>`;

const MINIMAL_STATUS = `<?xml version="1.0" encoding="UTF-8"?>
<edXML xmlns="${NS}">
  <edXML:edXMLEnvelope xmlns:edXML="${NS}">
    <edXML:edXMLHeader>
      <edXML:MessageHeader>
        <edXML:From>
          <edXML:OrganId>000.00.00.G22</edXML:OrganId>
        </edXML:From>
        <edXML:ResponseFor>
          <edXML:OrganId>000.00.15.H47</edXML:OrganId>
          <edXML:DocumentId>000.00.15.H47,2025/03/05,123/STTTT-VP</edXML:DocumentId>
        </edXML:ResponseFor>
        <edXML:StatusCode>03</edXML:StatusCode>
        <edXML:Timestamp>2025/03/05 10:02:41</edXML:Timestamp>
      </edXML:MessageHeader>
    </edXML:edXMLHeader>
  </edXML:edXMLEnvelope>
</edXML>`;

/** Adds `xml` at the end of the MessageHeader. */
function inHeader(packet: string, xml: string): string {
  return packet.replace('      </edXML:MessageHeader>', `${xml}\n      </edXML:MessageHeader>`);
}

/** Adds `xml` at the end of edXMLHeader (after MessageHeader). */
function inHeaderList(packet: string, xml: string): string {
  return packet.replace('    </edXML:edXMLHeader>', `${xml}\n    </edXML:edXMLHeader>`);
}

/** Adds `xml` after the envelope (where AttachmentEncoded goes). */
function afterEnvelope(packet: string, xml: string): string {
  return packet.replace('</edXML:edXMLEnvelope>', `</edXML:edXMLEnvelope>\n${xml}`);
}

/** Removes the first element with this qualified name, with its content. */
function without(packet: string, qname: string): string {
  const result = packet.replace(new RegExp(`\\s*<${qname}>[\\s\\S]*?</${qname}>`), '');
  if (result === packet) throw new Error(`no <${qname}> to remove`);
  return result;
}

/** Replaces the text of the first element with this qualified name. */
function withText(packet: string, qname: string, text: string): string {
  const result = packet.replace(new RegExp(`<${qname}>[^<]*</${qname}>`), `<${qname}>${text}</${qname}>`);
  if (result === packet && !packet.includes(`<${qname}>${text}</${qname}>`)) throw new Error(`no <${qname}> to change`);
  return result;
}

function body(references: string): string {
  return `    <edXML:edXMLBody>\n      <edXML:edXMLManifest version="1.0">\n${references}\n      </edXML:edXMLManifest>\n    </edXML:edXMLBody>`;
}

function withBody(packet: string, references: string): string {
  return packet.replace('    </edXML:edXMLHeader>', `    </edXML:edXMLHeader>\n${body(references)}`);
}

const REFERENCE = (contentId: string): string =>
  `<edXML:Reference><edXML:ContentId>${contentId}</edXML:ContentId><edXML:AttachmentName>a.pdf</edXML:AttachmentName></edXML:Reference>`;
const ATTACHMENT = (contentId: string, payload = 'JVBERi0xLjcK'): string =>
  `<Attachment><ContentId>${contentId}</ContentId><ContentType>application/pdf</ContentType>` +
  `<edXML:ContentTransferEncoded xmlns:edXML="${NS}">${payload}</edXML:ContentTransferEncoded></Attachment>`;

// --- the official samples -------------------------------------------------------------------------

t.test('every official sample parses', async (t) => {
  const files = readdirSync(SAMPLE_DIR).filter((f) => f.endsWith('.edxml')).sort();
  t.equal(files.length, 15, 'all 15 samples are there');
  for (const file of files) {
    const result = parsePacket(sample(file));
    t.ok(result.ok, `${file} parses${result.ok ? '' : `: ${JSON.stringify(result.issues)}`}`);
    if (!result.ok) continue;
    const statusInName = /_(\d{2})\.edxml$/.exec(file)?.[1];
    if (file.startsWith('status')) {
      t.equal(result.value.kind, 'status', `${file} is a status packet`);
      if (result.value.kind === 'status') t.equal(result.value.statusCode, statusInName ?? '01', `${file} status code`);
    } else {
      t.equal(result.value.kind, 'document', `${file} is a document packet`);
    }
  }
});

t.test('edoc_new.edxml: junk prefix, odd agency codes, impossible embedded date, zipped payload', async (t) => {
  const result = parsePacket(sample('edoc_new.edxml'));
  const packet = document(result);
  t.equal(packet.header.from.organId, '002.00.20.H13');
  t.same(packet.header.to.map((o) => o.organId), ['28.22.H17']);
  t.equal(packet.header.documentType.type, 1);
  t.equal(packet.header.documentType.typeDetail, 0);
  t.equal(packet.header.otherInfo?.direction, false);
  t.same(packet.header.toPlaces, ['Cac bo va co quan ngang bo', 'Uy ban nhan dan cac tinh, TP']);
  t.equal(packet.business?.businessDocType, 0);
  t.equal(packet.business?.documentId, '000.00.00.G22,2014/02/30,7806/VPCP-TTĐT', 'kept as written');
  t.equal(packet.attachments.length, 1);
  t.equal(packet.manifest.length, 1);
  const attachment = packet.attachments[0];
  t.equal(attachment?.contentId, 'cid:209');
  t.ok(attachment?.content.startsWith('UEsDB'), 'a zip, base64');
  t.notMatch(attachment?.content ?? ' ', /\s/, 'whitespace removed from the payload');
  t.equal(packet.signature?.namespace, EDXML_NAMESPACE, 'unbound Signature inherits the QCVN namespace');
  t.equal(packet.signature?.x509SubjectName, 'CN=user05');
  t.same(packet.signature?.transforms, [
    'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
    'http://www.w3.org/TR/xml-exc-c14n#',
  ]);
  t.same(result.ok ? result.warnings.map((w) => `${w.code} ${w.path} ${w.value}`) : [], [
    'EDX_ERR_XML_MALFORMED 1:1 1212',
  ]);
});

t.test('edoc.edxml: UUID id, empty ResponseFor, xlink, prefixed AttachmentEncoded, DSig Signature', async (t) => {
  const result = parsePacket(sample('edoc.edxml'));
  const packet = document(result);
  t.equal(packet.header.documentId, '9fbfbad2-f1f8-4256-a2eb-50fb1061cddb');
  t.same(packet.header.responseFor, [], 'the all-empty ResponseFor reads as absent');
  t.equal(packet.header.steeringType, 1);
  t.equal(packet.header.otherInfo?.priority, 0);
  t.equal(packet.header.otherInfo?.promulgationAmount, 10);
  t.same(packet.header.otherInfo?.appendixes, ['Phụ lục']);
  t.equal(packet.manifest[0]?.contentType, undefined, 'a commented-out ContentType is absent');
  t.equal(packet.attachments[0]?.content, '${__StringFromFile(test.txt,,,)}', 'a non-base64 payload is kept for the validator');
  t.equal(packet.attachments[0]?.contentId, packet.manifest[0]?.contentId);
  const signature = packet.signature;
  t.equal(signature?.namespace, XMLDSIG_NAMESPACE);
  t.equal(signature?.canonicalizationMethod, 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315');
  t.equal(signature?.signatureMethod, 'http://www.w3.org/2000/09/xmldsig#rsa-sha1');
  t.same(signature?.referenceUris, ['']);
  t.equal(signature?.digestMethod, 'http://www.w3.org/2000/09/xmldsig#sha1');
  t.equal(signature?.digestValue, 'PrlYKdD8sksgnxFvUVtPIQ0pAqM=');
  t.ok(signature?.signatureValue?.startsWith('GbVb8n9+'));
  t.equal(signature?.x509SubjectName, undefined, 'an empty X509SubjectName is absent');
  t.ok(signature?.x509Certificate?.startsWith('MIIGADCCA+igAwIBAgIQ'));
  const warnings = result.ok ? result.warnings : [];
  t.same(warnings.map((w) => w.path), ['125:3', 'MessageHeader/ResponseFor[1]'], 'both quirks are recorded as warnings');
  t.ok(warnings.every((w) => w.severity === 'warning'));
});

t.test('edoc_update, edoc_replacement and edoc_revocation carry their business extras', async (t) => {
  const update = document(parsePacket(sample('edoc_update.edxml')));
  t.equal(update.business?.businessDocType, 2);
  t.equal(update.business?.documentInfo?.documentInfo, 1);
  t.same(update.business?.documentInfo?.receivers, [
    { organId: '000.00.00.H41', receiverType: 0 },
    { organId: '000.00.00.H14', receiverType: 1 },
  ]);
  t.equal(update.header.to.length, 3);

  const replacement = document(parsePacket(sample('edoc_replacement.edxml')));
  t.equal(replacement.business?.businessDocType, 3);
  t.equal(replacement.business?.replacements.length, 2);
  t.same(replacement.business?.replacements[0]?.organIds, ['000.00.00.H41', '000.00.00.H14']);

  const revocation = document(parsePacket(sample('edoc_revocation.edxml')));
  t.equal(revocation.business?.businessDocType, 1);
  t.same(revocation.header.responseFor, [
    {
      organId: '000.00.00.H14',
      code: '267/VPCP-TTĐT',
      promulgationDate: '2018/09/28',
      documentId: '000.00.04.G14,2012/08/06,267/VPCP-TTĐT',
    },
  ]);
});

t.test('status samples carry sender, reference, staff and timestamp', async (t) => {
  const packet = status(parsePacket(sample('status_rejection_02.edxml')));
  t.equal(packet.statusCode, '02');
  t.equal(packet.from.organId, '000.00.00.H41');
  t.equal(packet.responseFor.organId, '000.00.00.G22');
  t.equal(packet.responseFor.documentId, '000.00.00.G22,2015/09/30,7816/VPCP-TTĐT');
  t.match(packet.timestamp, /^\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2}$/);
  t.ok(packet.description);
  t.equal(packet.signature, undefined);
  const cancellation = status(parsePacket(sample('status_cancellation_13.edxml')));
  t.equal(cancellation.statusCode, '13');
});

// --- variants real senders use --------------------------------------------------------------------

t.test('the minimal document and status read as expected, absent optionals undefined', async (t) => {
  const packet = document(parsePacket(MINIMAL_DOCUMENT));
  t.equal(packet.header.subject, 'V/v thử nghiệm');
  t.equal(packet.header.content, undefined);
  t.equal(packet.header.signerInfo, undefined);
  t.equal(packet.header.otherInfo, undefined);
  t.equal(packet.header.steeringType, undefined);
  t.same(packet.header.responseFor, []);
  t.same(packet.header.toPlaces, []);
  t.same(packet.traceHeaders, []);
  t.equal(packet.business, undefined);
  t.equal(packet.signature, undefined);
  t.same(packet.manifest, []);
  t.same(packet.attachments, []);

  const s = status(parsePacket(MINIMAL_STATUS));
  t.equal(s.statusCode, '03');
  t.equal(s.responseFor.code, undefined);
  t.equal(s.staffInfo, undefined);
  t.equal(s.description, undefined);
});

t.test('the QCVN namespace is matched by URI, whatever the prefix', async (t) => {
  const reference = document(parsePacket(MINIMAL_DOCUMENT));

  const unprefixed = MINIMAL_DOCUMENT.replaceAll('edXML:', '').replace(` xmlns:edXML="${NS}"`, '');
  t.notMatch(unprefixed, /edXML:/);
  t.same(document(parsePacket(unprefixed)), reference, 'default namespace everywhere');

  const otherPrefix = MINIMAL_DOCUMENT.replaceAll('edXML:', 'q:').replace('xmlns:edXML=', 'xmlns:q=');
  t.match(otherPrefix, /<q:edXMLEnvelope xmlns:q=/);
  t.same(document(parsePacket(otherPrefix)), reference, 'another prefix bound to the QCVN namespace');

  const prefixedRoot = otherPrefix
    .replace(`<q:edXMLEnvelope xmlns:q="${NS}">`, '<q:edXMLEnvelope>')
    .replace(`<edXML xmlns="${NS}">`, `<q:edXML xmlns:q="${NS}">`)
    .replace('</edXML>', '</q:edXML>');
  t.match(prefixedRoot, /<q:edXML xmlns:q=.*>\n  <q:edXMLEnvelope>/);
  t.notMatch(prefixedRoot, /xmlns="/, 'no default namespace at all');
  t.same(document(parsePacket(prefixedRoot)), reference, 'a prefixed root declaring the only binding');
});

t.test('Business* spellings, a Status header element and any element order are read alike', async (t) => {
  const bussiness = inHeaderList(
    MINIMAL_DOCUMENT,
    `<edXML:TraceHeaderList><edXML:TraceHeader><edXML:OrganId>000.00.15.H47</edXML:OrganId><edXML:Timestamp>2025/03/05 09:00:00</edXML:Timestamp></edXML:TraceHeader>
     <edXML:Bussiness><edXML:BussinessDocType>2</edXML:BussinessDocType><edXML:BussinessDocReason>Cập nhật</edXML:BussinessDocReason>
     <edXML:BussinessDocumentInfo><edXML:DocumentInfo>1</edXML:DocumentInfo></edXML:BussinessDocumentInfo></edXML:Bussiness></edXML:TraceHeaderList>`,
  );
  const business = bussiness.replaceAll('Bussiness', 'Business');
  t.not(business, bussiness);
  const a = document(parsePacket(bussiness));
  t.same(a.business, {
    documentId: undefined,
    businessDocType: 2,
    businessDocReason: 'Cập nhật',
    paper: undefined,
    documentInfo: { documentInfo: 1, documentReceiver: undefined, receivers: [] },
    replacements: [],
    staffInfo: undefined,
  });
  t.same(document(parsePacket(business)), a, 'Business* reads as Bussiness*');

  const statusElement = MINIMAL_STATUS.replaceAll('edXML:MessageHeader>', 'edXML:Status>');
  t.same(status(parsePacket(statusElement)), status(parsePacket(MINIMAL_STATUS)), 'Status as the header element');

  const header = /<edXML:MessageHeader>([\s\S]*)<\/edXML:MessageHeader>/.exec(MINIMAL_DOCUMENT)?.[1] ?? '';
  const children = header.match(/<edXML:(\w+)>[\s\S]*?<\/edXML:\1>/g) ?? [];
  t.equal(children.length, 7);
  const reversed = MINIMAL_DOCUMENT.replace(header, `\n${[...children].reverse().join('\n')}\n`);
  t.same(document(parsePacket(reversed)), document(parsePacket(MINIMAL_DOCUMENT)), 'reversed element order');
});

t.test('unknown elements and an empty DigitalSignature are ignored', async (t) => {
  const extended = inHeaderList(
    inHeader(
      MINIMAL_DOCUMENT,
      `<edXML:ApplicationType>1</edXML:ApplicationType><x:Note xmlns:x="urn:vendor">ghi chú</x:Note>
       <edXML:ResponseForTask><edXML:TaskCode>T1</edXML:TaskCode></edXML:ResponseForTask>`,
    ),
    '<edXML:DigitalSignature/>',
  );
  const packet = document(parsePacket(extended));
  t.same(packet, document(parsePacket(MINIMAL_DOCUMENT)));
});

t.test('a prefixed XML-DSig Signature is read like the samples', async (t) => {
  const signature = `<ds:Signature xmlns:ds="${XMLDSIG_NAMESPACE}"><ds:SignedInfo>
    <ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>
    <ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>
    <ds:Reference URI=""><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/></ds:Transforms>
    <ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>AAAA
    BBBB</ds:DigestValue></ds:Reference>
    <ds:Reference URI="cid:1"><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>CCCC</ds:DigestValue></ds:Reference>
    </ds:SignedInfo><ds:SignatureValue>
    QUJD
    REVG
    </ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509SubjectName>CN=Sở TT&amp;TT</ds:X509SubjectName><ds:X509Certificate>MIIB
    AAAA</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>`;
  const packet = document(parsePacket(inHeaderList(MINIMAL_DOCUMENT, signature)));
  t.same(packet.signature, {
    namespace: XMLDSIG_NAMESPACE,
    canonicalizationMethod: 'http://www.w3.org/2001/10/xml-exc-c14n#',
    signatureMethod: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    referenceUris: ['', 'cid:1'],
    transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature'],
    digestMethod: 'http://www.w3.org/2001/04/xmlenc#sha256',
    digestValue: 'AAAABBBB',
    signatureValue: 'QUJDREVG',
    x509SubjectName: 'CN=Sở TT&TT',
    x509Certificate: 'MIIBAAAA',
  });
  const foreign = inHeaderList(MINIMAL_DOCUMENT, '<Signature xmlns="urn:other"><SignedInfo/></Signature>');
  t.same(faults(parsePacket(foreign)), ['EDX_ERR_PACKET_NAMESPACE Signature']);
});

t.test('ContentIds are kept as written, bare or cid:', async (t) => {
  const packet = document(
    parsePacket(afterEnvelope(withBody(MINIMAL_DOCUMENT, REFERENCE('cid:6f1c2a4e')), `<AttachmentEncoded>${ATTACHMENT('6f1c2a4e')}</AttachmentEncoded>`)),
  );
  t.equal(packet.manifest[0]?.contentId, 'cid:6f1c2a4e');
  t.equal(packet.attachments[0]?.contentId, '6f1c2a4e');
  t.equal(packet.attachments[0]?.content, 'JVBERi0xLjcK');
  t.equal(packet.attachments[0]?.contentType, 'application/pdf');
});

t.test('dd/MM/yyyy dates become yyyy/MM/dd; other shapes are kept as written', async (t) => {
  const packet = document(
    parsePacket(
      inHeader(
        withText(MINIMAL_DOCUMENT, 'edXML:PromulgationDate', '30/10/2020'),
        `<edXML:DueDate>05/01/2021</edXML:DueDate>
         <edXML:ResponseFor><edXML:OrganId>000.00.00.G22</edXML:OrganId><edXML:PromulgationDate>2020-10-30</edXML:PromulgationDate><edXML:DocumentId>x</edXML:DocumentId></edXML:ResponseFor>`,
      ),
    ),
  );
  t.equal(packet.header.promulgationInfo.promulgationDate, '2020/10/30');
  t.equal(packet.header.dueDate, '2021/01/05');
  t.equal(packet.header.responseFor[0]?.promulgationDate, '2020-10-30', 'kept for the validator to judge');
});

t.test('text is trimmed and empty optional elements are absent', async (t) => {
  const packet = document(
    parsePacket(
      inHeader(
        withText(MINIMAL_DOCUMENT, 'edXML:Subject', '\n   V/v   giữa  \t\n'),
        `<edXML:Content>   </edXML:Content><edXML:DueDate/><edXML:SignerInfo><edXML:FullName/></edXML:SignerInfo>
         <edXML:OtherInfo><edXML:Priority></edXML:Priority><edXML:Appendixes><edXML:Appendix/></edXML:Appendixes></edXML:OtherInfo>
         <edXML:ToPlaces><edXML:Place> Nơi nhận </edXML:Place><edXML:Place/></edXML:ToPlaces>`,
      ),
    ),
  );
  t.equal(packet.header.subject, 'V/v   giữa');
  t.equal(packet.header.content, undefined);
  t.equal(packet.header.dueDate, undefined);
  t.equal(packet.header.signerInfo, undefined);
  t.equal(packet.header.otherInfo, undefined);
  t.same(packet.header.toPlaces, ['Nơi nhận']);
});

// --- refusals -------------------------------------------------------------------------------------

t.test('not an edXML packet: structure and namespace', async (t) => {
  t.same(faults(parsePacket(`<Packet xmlns="${NS}"/>`)), ['EDX_ERR_PACKET_STRUCTURE edXML']);
  const noNamespace = faults(parsePacket(MINIMAL_DOCUMENT.replace(`<edXML xmlns="${NS}">`, '<edXML>')));
  t.same(noNamespace, ['EDX_ERR_PACKET_NAMESPACE edXML']);
  const legacy = errors(parsePacket(MINIMAL_DOCUMENT.replace(`<edXML xmlns="${NS}">`, '<edXML xmlns="http://www.e-doc.vn/Schema/">')));
  t.same(legacy.map((i) => i.code), ['EDX_ERR_PACKET_NAMESPACE']);
  t.equal(legacy[0]?.value, 'http://www.e-doc.vn/Schema/');

  const noEnvelope = `<edXML xmlns="${NS}"><AttachmentEncoded/></edXML>`;
  t.same(faults(parsePacket(noEnvelope)), ['EDX_ERR_PACKET_STRUCTURE edXMLEnvelope']);
  const noHeader = `<edXML xmlns="${NS}"><edXMLEnvelope><edXMLBody/></edXMLEnvelope></edXML>`;
  t.same(faults(parsePacket(noHeader)), ['EDX_ERR_PACKET_STRUCTURE edXMLEnvelope/edXMLHeader']);
  const noMessageHeader = `<edXML xmlns="${NS}"><edXMLEnvelope><edXMLHeader><TraceHeaderList/></edXMLHeader></edXMLEnvelope></edXML>`;
  t.same(faults(parsePacket(noMessageHeader)), ['EDX_ERR_PACKET_STRUCTURE edXMLEnvelope/edXMLHeader/MessageHeader']);

  const foreignHeader = MINIMAL_DOCUMENT.replaceAll('edXML:MessageHeader>', 'x:MessageHeader>').replace(
    '<x:MessageHeader>',
    '<x:MessageHeader xmlns:x="urn:other">',
  );
  t.same(faults(parsePacket(foreignHeader)), ['EDX_ERR_PACKET_NAMESPACE edXMLEnvelope/edXMLHeader/MessageHeader']);

  const foreignSubject = withText(MINIMAL_DOCUMENT, 'edXML:Subject', 'x').replace(
    '<edXML:Subject>x</edXML:Subject>',
    '<Subject xmlns="urn:other">x</Subject>',
  );
  const subject = errors(parsePacket(foreignSubject));
  t.same(subject.map((i) => `${i.code} ${i.path}`), ['EDX_ERR_PACKET_NAMESPACE MessageHeader/Subject'], 'reported once, not also as missing');
  t.equal(subject[0]?.value, 'urn:other');
});

t.test('XML-level refusals come through parsePacket unchanged', async (t) => {
  const error = errors(parsePacket('<edXML>\n</edXM>'))[0];
  t.equal(error?.code, 'EDX_ERR_XML_MALFORMED');
  t.match(error?.path ?? '', /^2:\d+$/);
});

t.test('every missing required document field is reported, all at once', async (t) => {
  const empty = `<?xml version="1.0" encoding="UTF-8"?>
<edXML xmlns="${NS}"><edXML:edXMLEnvelope xmlns:edXML="${NS}"><edXML:edXMLHeader>
  <edXML:MessageHeader><edXML:From><edXML:OrganName>Sở</edXML:OrganName></edXML:From></edXML:MessageHeader>
  <edXML:TraceHeaderList><edXML:TraceHeader/><edXML:TraceHeader><edXML:OrganId>000.00.15.H47</edXML:OrganId></edXML:TraceHeader>
    <edXML:Bussiness><edXML:BussinessDocReason>x</edXML:BussinessDocReason></edXML:Bussiness></edXML:TraceHeaderList>
</edXML:edXMLHeader>
<edXML:edXMLBody><edXML:edXMLManifest><edXML:Reference><edXML:ContentType>application/pdf</edXML:ContentType></edXML:Reference></edXML:edXMLManifest></edXML:edXMLBody>
</edXML:edXMLEnvelope>
<AttachmentEncoded><Attachment><ContentId>cid:1</ContentId></Attachment><Attachment><ContentId> </ContentId></Attachment></AttachmentEncoded>
</edXML>`;
  const result = parsePacket(empty);
  t.same(faults(result), [
    'EDX_ERR_FIELD_REQUIRED MessageHeader/From/OrganId',
    'EDX_ERR_FIELD_REQUIRED MessageHeader/To',
    'EDX_ERR_FIELD_REQUIRED MessageHeader/DocumentId',
    'EDX_ERR_FIELD_REQUIRED MessageHeader/Code/CodeNumber',
    'EDX_ERR_FIELD_REQUIRED MessageHeader/Code/CodeNotation',
    'EDX_ERR_FIELD_REQUIRED MessageHeader/PromulgationInfo/PromulgationDate',
    'EDX_ERR_FIELD_REQUIRED MessageHeader/DocumentType/Type',
    'EDX_ERR_FIELD_REQUIRED MessageHeader/Subject',
    'EDX_ERR_FIELD_REQUIRED TraceHeaderList/TraceHeader[1]/OrganId',
    'EDX_ERR_FIELD_REQUIRED TraceHeaderList/TraceHeader[1]/Timestamp',
    'EDX_ERR_FIELD_REQUIRED TraceHeaderList/TraceHeader[2]/Timestamp',
    'EDX_ERR_FIELD_REQUIRED TraceHeaderList/Bussiness/BussinessDocType',
    'EDX_ERR_FIELD_REQUIRED edXMLManifest/Reference[1]/ContentId',
    'EDX_ERR_FIELD_REQUIRED AttachmentEncoded/Attachment[2]/ContentId',
  ]);
  for (const i of errors(result)) t.ok(i.message.length > 40, `${i.path} has a specific message`);
  t.match(errors(result)[7]?.message ?? '', /subject/i);
});

t.test('From and To: a missing From, and a To without OrganId, name the field', async (t) => {
  t.same(faults(parsePacket(without(MINIMAL_DOCUMENT, 'edXML:From'))), ['EDX_ERR_FIELD_REQUIRED MessageHeader/From/OrganId']);
  const secondTo = inHeader(MINIMAL_DOCUMENT, '<edXML:To><edXML:OrganName>Bộ</edXML:OrganName><edXML:OrganId> </edXML:OrganId></edXML:To>');
  t.same(faults(parsePacket(secondTo)), ['EDX_ERR_FIELD_REQUIRED MessageHeader/To[2]/OrganId']);
});

t.test('a partially filled ResponseFor needs OrganId and DocumentId', async (t) => {
  const partial = inHeader(
    MINIMAL_DOCUMENT,
    `<edXML:ResponseFor><edXML:OrganId>000.00.00.G22</edXML:OrganId><edXML:DocumentId>d</edXML:DocumentId></edXML:ResponseFor>
     <edXML:ResponseFor><edXML:OrganId/><edXML:Code>12/VPCP</edXML:Code><edXML:DocumentId/></edXML:ResponseFor>`,
  );
  t.same(faults(parsePacket(partial)), [
    'EDX_ERR_FIELD_REQUIRED MessageHeader/ResponseFor[2]/OrganId',
    'EDX_ERR_FIELD_REQUIRED MessageHeader/ResponseFor[2]/DocumentId',
  ]);
});

t.test('closed sets and integers are checked, with the offending value', async (t) => {
  const bad = inHeaderList(
    inHeader(
      withText(MINIMAL_DOCUMENT, 'edXML:Type', 'một'),
      `<edXML:OtherInfo><edXML:Priority>5</edXML:Priority><edXML:PromulgationAmount>-1</edXML:PromulgationAmount>
         <edXML:PageAmount>2.5</edXML:PageAmount><edXML:Direction>yes</edXML:Direction></edXML:OtherInfo>
       <edXML:SteeringType>3</edXML:SteeringType>`,
    ).replace('<edXML:Type>một</edXML:Type>', '<edXML:Type>một</edXML:Type><edXML:TypeDetail>x</edXML:TypeDetail>'),
    `<edXML:TraceHeaderList><edXML:Bussiness><edXML:BussinessDocType>4</edXML:BussinessDocType><edXML:Paper>có</edXML:Paper>
       <edXML:BussinessDocumentInfo><edXML:DocumentInfo>a</edXML:DocumentInfo><edXML:DocumentReceiver>b</edXML:DocumentReceiver>
         <edXML:ReceiverList><edXML:Receiver><edXML:OrganId>000.00.00.H41</edXML:OrganId><edXML:ReceiverType>c</edXML:ReceiverType></edXML:Receiver></edXML:ReceiverList>
       </edXML:BussinessDocumentInfo></edXML:Bussiness></edXML:TraceHeaderList>`,
  );
  const result = errors(parsePacket(bad));
  t.same(
    result.map((i) => `${i.code} ${i.path} ${i.value}`),
    [
      'EDX_ERR_FIELD_INVALID MessageHeader/DocumentType/Type một',
      'EDX_ERR_FIELD_INVALID MessageHeader/DocumentType/TypeDetail x',
      'EDX_ERR_PRIORITY_INVALID MessageHeader/OtherInfo/Priority 5',
      'EDX_ERR_FIELD_INVALID MessageHeader/OtherInfo/PromulgationAmount -1',
      'EDX_ERR_FIELD_INVALID MessageHeader/OtherInfo/PageAmount 2.5',
      'EDX_ERR_FIELD_INVALID MessageHeader/OtherInfo/Direction yes',
      'EDX_ERR_STEERING_TYPE_INVALID MessageHeader/SteeringType 3',
      'EDX_ERR_BUSINESS_TYPE_INVALID TraceHeaderList/Bussiness/BussinessDocType 4',
      'EDX_ERR_FIELD_INVALID TraceHeaderList/Bussiness/Paper có',
      'EDX_ERR_FIELD_INVALID TraceHeaderList/Bussiness/BussinessDocumentInfo/ReceiverList/Receiver[1]/ReceiverType c',
      'EDX_ERR_FIELD_INVALID TraceHeaderList/Bussiness/BussinessDocumentInfo/DocumentInfo a',
      'EDX_ERR_FIELD_INVALID TraceHeaderList/Bussiness/BussinessDocumentInfo/DocumentReceiver b',
    ],
  );
  t.match(result[2]?.message ?? '', /"5" is not 0–4/);

  const fine = inHeader(
    MINIMAL_DOCUMENT,
    '<edXML:OtherInfo><edXML:Priority>04</edXML:Priority><edXML:Direction>True</edXML:Direction></edXML:OtherInfo><edXML:SteeringType>2</edXML:SteeringType>',
  );
  const packet = document(parsePacket(fine));
  t.equal(packet.header.otherInfo?.priority, 4);
  t.equal(packet.header.otherInfo?.direction, true, '.NET writes True');
  t.equal(packet.header.steeringType, 2);
});

t.test('status packets: required fields and the two-digit status codes', async (t) => {
  t.same(faults(parsePacket(withText(MINIMAL_STATUS, 'edXML:StatusCode', ' '))), ['EDX_ERR_FIELD_REQUIRED MessageHeader/StatusCode']);
  for (const code of ['3', '003', '07', '14', 'xx', '3.0']) {
    const result = errors(parsePacket(withText(MINIMAL_STATUS, 'edXML:StatusCode', code)));
    t.same(result.map((i) => `${i.code} ${i.path} ${i.value}`), [`EDX_ERR_STATUS_CODE_INVALID MessageHeader/StatusCode ${code}`], code);
  }
  for (const code of ['01', '02', '03', '04', '05', '06', '13', '15', '16']) {
    t.equal(status(parsePacket(withText(MINIMAL_STATUS, 'edXML:StatusCode', code))).statusCode, code);
  }

  const bare = `<edXML xmlns="${NS}"><edXMLEnvelope><edXMLHeader><MessageHeader><StatusCode>03</StatusCode></MessageHeader></edXMLHeader></edXMLEnvelope></edXML>`;
  t.same(faults(parsePacket(bare)), [
    'EDX_ERR_FIELD_REQUIRED MessageHeader/From/OrganId',
    'EDX_ERR_FIELD_REQUIRED MessageHeader/ResponseFor',
    'EDX_ERR_FIELD_REQUIRED MessageHeader/Timestamp',
  ]);
  const emptyReference = MINIMAL_STATUS.replace(/<edXML:ResponseFor>[\s\S]*<\/edXML:ResponseFor>/, '<edXML:ResponseFor><edXML:OrganId/><edXML:DocumentId/></edXML:ResponseFor>');
  t.same(faults(parsePacket(emptyReference)), [
    'EDX_ERR_FIELD_REQUIRED MessageHeader/ResponseFor/OrganId',
    'EDX_ERR_FIELD_REQUIRED MessageHeader/ResponseFor/DocumentId',
  ], 'an empty ResponseFor is not skipped in a status packet');
});

t.test('count limits on recipients and attachments', async (t) => {
  const threeRecipients = inHeader(
    MINIMAL_DOCUMENT,
    '<edXML:To><edXML:OrganId>000.00.00.H41</edXML:OrganId></edXML:To><edXML:To><edXML:OrganId>000.00.00.H14</edXML:OrganId></edXML:To>',
  );
  t.equal(document(parsePacket(threeRecipients, { maxRecipients: 3 })).header.to.length, 3);
  const tooMany = errors(parsePacket(threeRecipients, { maxRecipients: 2 }));
  t.same(tooMany.map((i) => `${i.code} ${i.path} ${i.value}`), ['EDX_ERR_XML_TOO_MANY_NODES MessageHeader/To 3']);

  const twoAttachments = afterEnvelope(
    withBody(MINIMAL_DOCUMENT, `${REFERENCE('cid:1')}${REFERENCE('cid:2')}`),
    `<AttachmentEncoded>${ATTACHMENT('cid:1')}${ATTACHMENT('cid:2')}</AttachmentEncoded>`,
  );
  t.equal(document(parsePacket(twoAttachments, { maxAttachments: 2 })).attachments.length, 2);
  t.same(faults(parsePacket(twoAttachments, { maxAttachments: 1 })), [
    'EDX_ERR_XML_TOO_MANY_NODES edXMLManifest/Reference',
    'EDX_ERR_XML_TOO_MANY_NODES AttachmentEncoded/Attachment',
  ]);

  const defaults = inHeader(MINIMAL_DOCUMENT, '<edXML:To><edXML:OrganId>000.00.00.H41</edXML:OrganId></edXML:To>'.repeat(1000));
  t.same(faults(parsePacket(defaults)), ['EDX_ERR_XML_TOO_MANY_NODES MessageHeader/To'], '1001 recipients by default');
});

// --- hostile input --------------------------------------------------------------------------------

function refusedQuickly(t: Test, input: Buffer | string, code: Issue['code']): void {
  const start = performance.now();
  let result: Result<Packet> | undefined;
  t.doesNotThrow(() => {
    result = parsePacket(input);
  });
  const elapsed = performance.now() - start;
  t.ok(elapsed < 1000, `refused within 1 s (took ${elapsed.toFixed(0)} ms)`);
  if (result === undefined) return;
  t.equal(errors(result)[0]?.code, code);
}

t.test('hostile input is refused with the right code within 1 s, never a throw', async (t) => {
  const laughs = Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`).join('');
  refusedQuickly(
    t,
    `<?xml version="1.0"?><!DOCTYPE edXML [<!ENTITY lol "lol">${laughs}]><edXML xmlns="${NS}">&lol9;</edXML>`,
    'EDX_ERR_XML_DTD_FORBIDDEN',
  );
  refusedQuickly(
    t,
    `<?xml version="1.0"?><!DOCTYPE edXML [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><edXML xmlns="${NS}">&xxe;</edXML>`,
    'EDX_ERR_XML_DTD_FORBIDDEN',
  );
  refusedQuickly(t, `<edXML xmlns="${NS}">${'<a>'.repeat(10_000)}${'</a>'.repeat(10_000)}</edXML>`, 'EDX_ERR_XML_TOO_DEEP');
  refusedQuickly(t, Buffer.alloc(100 * MIB, '<'), 'EDX_ERR_XML_TOO_LARGE');
  refusedQuickly(t, Buffer.alloc(100 * MIB, ' '), 'EDX_ERR_XML_TOO_LARGE');
});

t.test('a packet with a 20 MB attachment parses whole', async (t) => {
  const original = sample('edoc_new.edxml').toString('utf8');
  const open = original.indexOf('>', original.indexOf('<edXML:ContentTransferEncoded')) + 1;
  const close = original.indexOf('</edXML:ContentTransferEncoded>');
  t.ok(open > 0 && close > open);
  const bytes = Buffer.alloc(15 * MIB);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919) & 0xff;
  const base64 = bytes.toString('base64');
  const wrapped = base64.replace(/.{76}/g, '$&\r\n');
  const xml = Buffer.from(original.slice(0, open) + wrapped + original.slice(close));
  t.ok(xml.length > 20 * MIB, `the packet is ${xml.length} bytes`);
  const packet = document(parsePacket(xml));
  t.equal(packet.attachments[0]?.content.length, base64.length);
  t.equal(packet.attachments[0]?.content, base64, 'the payload, unwrapped');
  t.same(Buffer.from(packet.attachments[0]?.content ?? '', 'base64').subarray(0, 16), bytes.subarray(0, 16));
});
