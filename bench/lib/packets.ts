// Distinct document packets of a given size, made fast enough for a load generator sharing the
// machine with the gateway: the packet is built once with src/edxml/build.ts around a placeholder
// number, and each packet is the template's bytes with its own number spliced in (a copy, no XML
// work). The attachment is random bytes — real PDFs and zips do not compress, and neither does this.

import { randomBytes } from 'node:crypto';
import { buildPacket } from '../../src/edxml/build.ts';
import type { DocumentPacket } from '../../src/edxml/model.ts';

/** The number spliced into each packet: fixed width, so every packet of a run has the same size. */
const PLACEHOLDER = '99999999';
const FIRST_NUMBER = 10_000_000;

/** Makes packet `i` of a run. */
export interface PacketFactory {
  /** The bytes of packet `i` (distinct DocumentId and bytes per `i`). */
  packet(i: number): Buffer;
  /** The DocumentId of packet `i`. */
  documentId(i: number): string;
  /** The `i` of a DocumentId made here, or undefined. */
  indexOf(documentId: string): number | undefined;
  /** Size in bytes of every packet. */
  readonly sizeBytes: number;
}

function document(from: string, to: readonly string[], number: string, attachmentBase64: string): DocumentPacket {
  return {
    kind: 'document',
    header: {
      from: { organId: from, organName: 'Sở Lao động - Thương binh và Xã hội tỉnh Quảng Nam' },
      to: to.map((organId) => ({ organId })),
      documentId: `${from},2025/03/05,${number}/SLĐTBXH-VP`,
      code: { codeNumber: number, codeNotation: 'SLĐTBXH-VP' },
      promulgationInfo: { place: 'Quảng Nam', promulgationDate: '2025/03/05' },
      documentType: { type: 1, typeName: 'Công văn' },
      subject: 'V/v đo hiệu năng liên thông văn bản',
      responseFor: [],
      toPlaces: [],
    },
    traceHeaders: [{ organId: from, timestamp: '2025/03/05 09:15:00' }],
    business: { businessDocType: 0, paper: 0, replacements: [] },
    manifest: [{ contentId: 'cid:1', contentType: 'application/pdf', attachmentName: 'cong-van.pdf' }],
    attachments: [{ contentId: 'cid:1', contentType: 'application/pdf', attachmentName: 'cong-van.pdf', content: attachmentBase64 }],
  };
}

/** A factory of packets from `from` to `to`, each about `sizeBytes` long (at least the envelope, ~1.5 KB). */
export function packetFactory(from: string, to: readonly string[], sizeBytes: number): PacketFactory {
  const envelope = Buffer.byteLength(buildPacket(document(from, to, PLACEHOLDER, '')), 'utf8');
  const places = buildPacket(document(from, to, PLACEHOLDER, '')).split(PLACEHOLDER).length - 1;
  // base64 turns 3 bytes into 4 characters.
  const rawBytes = Math.max(0, Math.floor(((sizeBytes - envelope) * 3) / 4));
  let parts: string[];
  do {
    parts = buildPacket(document(from, to, PLACEHOLDER, randomBytes(rawBytes).toString('base64'))).split(PLACEHOLDER);
    // The placeholder could, once in billions, occur inside the random base64; draw again then.
  } while (parts.length - 1 !== places);
  const buffers = parts.map((p) => Buffer.from(p, 'utf8'));
  const sizeOfAll = buffers.reduce((n, b) => n + b.length, 0) + places * PLACEHOLDER.length;
  const numberOf = (i: number): string => String(FIRST_NUMBER + i);
  const pattern = new RegExp(`^${from.replaceAll('.', '\\.')},2025/03/05,(\\d{8})/`);

  return {
    sizeBytes: sizeOfAll,
    packet(i) {
      const number = Buffer.from(numberOf(i), 'ascii');
      const chunks: Buffer[] = [];
      buffers.forEach((b, k) => {
        if (k > 0) chunks.push(number);
        chunks.push(b);
      });
      return Buffer.concat(chunks, sizeOfAll);
    },
    documentId: (i) => `${from},2025/03/05,${numberOf(i)}/SLĐTBXH-VP`,
    indexOf(documentId) {
      const found = pattern.exec(documentId)?.[1];
      return found === undefined ? undefined : Number(found) - FIRST_NUMBER;
    },
  };
}
