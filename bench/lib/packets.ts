// Distinct document packets of a given size, made fast enough for a load generator sharing the
// machine with the gateway: the packet is built once with src/edxml/build.ts around a placeholder
// number, and each packet is the template's bytes with its own number spliced in (a copy, no XML
// work). The attachment is random bytes — real PDFs and zips do not compress, and neither does this.
//
// Signed packets are each signed by the sender (src/trust/dsig, the same code a real sender using
// edxgate's tools would run): the DocumentId is inside what is signed, so every packet needs its own
// signature — an RSA private-key operation, 0.3–0.45 ms of CPU (docs/benchmarks.md, Signatures).
// At hundreds of packets a second that would load the generator sharing the machine with the
// gateway, so `prepare` signs a run's packets before the run, within a memory budget.

import { randomBytes } from 'node:crypto';
import { buildPacket } from '../../src/edxml/build.ts';
import type { Priority } from '../../src/edxml/codes.ts';
import type { DocumentPacket } from '../../src/edxml/model.ts';
import { signPacket } from '../../src/trust/dsig/index.ts';
import type { SigningKey } from '../../src/trust/types.ts';

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

function document(from: string, to: readonly string[], number: string, attachmentBase64: string, priority: Priority): DocumentPacket {
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
      ...(priority === 0 ? {} : { otherInfo: { priority, appendixes: [] } }),
    },
    traceHeaders: [{ organId: from, timestamp: '2025/03/05 09:15:00' }],
    business: { businessDocType: 0, paper: 0, replacements: [] },
    manifest: [{ contentId: 'cid:1', contentType: 'application/pdf', attachmentName: 'cong-van.pdf' }],
    attachments: [{ contentId: 'cid:1', contentType: 'application/pdf', attachmentName: 'cong-van.pdf', content: attachmentBase64 }],
  };
}

/** Options of packetFactory. */
export interface PacketOptions {
  /** edXML Priority (0 ordinary … 4 hỏa tốc hẹn giờ); default 0. */
  readonly priority?: Priority | undefined;
  /** Sign every packet with this key (the sender's); default unsigned. */
  readonly signWith?: SigningKey | undefined;
}

/**
 * A factory of packets from `from` to `to`, each about `sizeBytes` long before signing (at least the
 * envelope, ~1.5 KB). Packets of different factories with the same sender share one numbering, so
 * give each factory of a run its own range of indices.
 */
export function packetFactory(from: string, to: readonly string[], sizeBytes: number, options: PacketOptions = {}): PacketFactory {
  const unsigned = unsignedFactory(from, to, sizeBytes, options.priority ?? 0);
  const key = options.signWith;
  if (key === undefined) return unsigned;
  // A signature has a fixed length (one RSA block, one digest, the same certificates), so every
  // signed packet has the size of the first.
  const signedSize = signPacket(unsigned.packet(0), key).length;
  return { ...unsigned, sizeBytes: signedSize, packet: (i) => signPacket(unsigned.packet(i), key) };
}

function unsignedFactory(from: string, to: readonly string[], sizeBytes: number, priority: Priority): PacketFactory {
  const envelope = Buffer.byteLength(buildPacket(document(from, to, PLACEHOLDER, '', priority)), 'utf8');
  const places = buildPacket(document(from, to, PLACEHOLDER, '', priority)).split(PLACEHOLDER).length - 1;
  // base64 turns 3 bytes into 4 characters.
  const rawBytes = Math.max(0, Math.floor(((sizeBytes - envelope) * 3) / 4));
  let parts: string[];
  do {
    parts = buildPacket(document(from, to, PLACEHOLDER, randomBytes(rawBytes).toString('base64'), priority)).split(PLACEHOLDER);
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

/** Packets made ahead of a run, and the rest made when asked. */
export interface PreparedPackets {
  /** The bytes of packet `i`: made ahead if it was, else now. */
  packet(i: number): Buffer;
  /** How many were made ahead. */
  readonly prepared: number;
  /** Drops the packets made ahead. */
  release(): void;
}

/**
 * Makes packets `from` … `from + count - 1` ahead (as many as fit in `budgetBytes`), so that a
 * costly factory (a signing one) does not run in the generator during the measured window.
 */
export function preparePackets(factory: PacketFactory, ranges: readonly { readonly from: number; readonly count: number }[], budgetBytes: number): PreparedPackets {
  const made = new Map<number, Buffer>();
  let bytes = 0;
  outer: for (const range of ranges) {
    for (let i = range.from; i < range.from + range.count; i++) {
      if (bytes + factory.sizeBytes > budgetBytes) break outer;
      made.set(i, factory.packet(i));
      bytes += factory.sizeBytes;
    }
  }
  return {
    packet: (i) => made.get(i) ?? factory.packet(i),
    prepared: made.size,
    release: () => made.clear(),
  };
}
