// Long attachment payloads stay bytes of the input after parsing (src/edxml/attachment-content.ts):
// the validator judges them from the bytes. Whatever the payload, it must judge exactly as it does
// the same attachment holding its content as a plain string, and `content` must read the same text.

import t from 'tap';
import { longContentOf } from '../../src/edxml/attachment-content.ts';
import { buildPacket, buildPacketBuffer } from '../../src/edxml/build.ts';
import type { DocumentPacket, Packet } from '../../src/edxml/model.ts';
import { parsePacket } from '../../src/edxml/parse.ts';
import { validatePacket } from '../../src/edxml/validate.ts';
import type { ValidateOptions } from '../../src/edxml/validate.ts';

const NOW = new Date('2025-03-06T03:00:00Z');
const PLACEHOLDER = 'UExBQ0VIT0xERVI=';
const BODY = 'QUJD'.repeat(3000); // 12,000 characters, well over the 4,096 a run needs to be lifted

/** A document whose one attachment carries `payload` exactly as written on the wire. */
function packetXml(payload: string, attachment: { readonly name?: string; readonly contentType?: string } = { name: 'ho-so.pdf' }): string {
  const packet: DocumentPacket = {
    kind: 'document',
    header: {
      from: { organId: '000.00.15.H47', organName: 'Sở Lao động - Thương binh và Xã hội tỉnh Quảng Nam' },
      to: [{ organId: '000.02.15.H47' }],
      documentId: '000.00.15.H47,2025/03/05,7/SLĐTBXH-VP',
      code: { codeNumber: '7', codeNotation: 'SLĐTBXH-VP' },
      promulgationInfo: { place: 'Quảng Nam', promulgationDate: '2025/03/05' },
      documentType: { type: 1, typeName: 'Công văn' },
      subject: 'V/v hồ sơ kèm theo',
      responseFor: [],
      toPlaces: [],
    },
    traceHeaders: [{ organId: '000.00.15.H47', timestamp: '2025/03/05 09:15:00' }],
    manifest: [{ contentId: 'cid:1', attachmentName: attachment.name, contentType: attachment.contentType }],
    attachments: [{ contentId: 'cid:1', attachmentName: attachment.name, contentType: attachment.contentType, content: PLACEHOLDER }],
  };
  const xml = buildPacket(packet);
  if (!xml.includes(`>${PLACEHOLDER}<`)) throw new Error('the placeholder is not in the built packet');
  return xml.replace(`>${PLACEHOLDER}<`, () => `>${payload}<`);
}

function parsed(xml: string): DocumentPacket {
  const result = parsePacket(Buffer.from(xml, 'utf8'));
  if (!result.ok || result.value.kind !== 'document') throw new Error(`does not parse: ${JSON.stringify(result.ok ? result.value.kind : result.issues)}`);
  return result.value;
}

/** The same packet with every attachment's content read into a plain string. */
function plain(packet: DocumentPacket): Packet {
  return { ...packet, attachments: packet.attachments.map((a) => ({ ...a })) };
}

const cases: readonly { readonly name: string; readonly payload: string; readonly attachment?: { readonly name?: string; readonly contentType?: string }; readonly options?: Partial<ValidateOptions> }[] = [
  { name: 'base64, one line', payload: BODY },
  { name: 'base64 with padding', payload: `${BODY}QUI=` },
  { name: 'base64 with two padding characters', payload: `${BODY}QQ==` },
  { name: 'wrapped at 76 with CRLF, indented', payload: `\r\n      ${BODY.match(/.{1,76}/g)?.join('\r\n      ') ?? ''}\r\n    ` },
  { name: 'wrapped with a padded last line', payload: `${BODY.match(/.{1,76}/g)?.join('\n') ?? ''}\nQQ==\n` },
  { name: 'a length not a multiple of 4', payload: `${BODY}QU` },
  { name: "'=' inside", payload: `${BODY.slice(0, 6000)}=${BODY.slice(6001)}` },
  { name: "three '=' at the end", payload: `${BODY.slice(0, -4)}Q===` },
  { name: "'=' then a character", payload: `${BODY.slice(0, -4)}QQ=Q` },
  { name: 'too large', payload: BODY, options: { maxAttachmentBytes: 8000 } },
  { name: 'just small enough', payload: `${BODY}QQ==`, options: { maxAttachmentBytes: 9001 } },
  { name: 'a zip told by its bytes only', payload: `UEsDBBQACAgI${BODY}`, attachment: {} },
  { name: 'no name, no type, not a zip', payload: BODY, attachment: {} },
  { name: 'not base64, strictly', payload: `${BODY}Q`, options: { strictBase64: true } },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    const packet = parsed(packetXml(c.payload, c.attachment));
    const attachment = packet.attachments[0];
    if (attachment === undefined) throw new Error('no attachment');
    t.ok(longContentOf(attachment), 'the payload was left unread');
    const options = { ...c.options, now: NOW };
    const copy = plain(packet);
    t.same(validatePacket(packet, options), validatePacket(copy, options), 'judged as the same content in a string');
    t.equal(attachment.content, c.payload.replace(/\s+/g, ''), 'content reads the payload without its whitespace');
    t.equal(attachment.content, attachment.content, 'and reads the same each time');
    // The builder writes an unread payload from the input's bytes; the text must not change.
    t.equal(buildPacket(packet), buildPacket(copy), 'builds to the same text as the content in a string');
    t.ok(buildPacketBuffer(packet).equals(buildPacketBuffer(copy)), 'and to the same bytes');
  });
}

t.test('a short payload is a plain string, as before', async (t) => {
  const packet = parsed(packetXml('QUJD'));
  const attachment = packet.attachments[0];
  if (attachment === undefined) throw new Error('no attachment');
  t.equal(longContentOf(attachment), undefined);
  t.equal(attachment.content, 'QUJD');
});
