// What crosses between the event loop and an offload thread. postMessage copies values with the
// structured-clone algorithm, which keeps plain data and typed arrays and drops the rest: a Buffer
// arrives as a plain Uint8Array, and an attachment's lazy `content` getter would be called, turning
// the whole payload into a string that intake never needs (src/edxml/attachment-content.ts). So an
// attachment whose payload is still bytes crosses as the byte range of that payload in the packet,
// and the receiving side rebuilds it over its own copy of the same bytes.

import { attachmentWithLongContent, longContentOf } from '../edxml/attachment-content.ts';
import type { Attachment, Packet } from '../edxml/model.ts';
import { LongText } from '../edxml/xml.ts';
import type { Result } from '../errors.ts';
import type { SignatureCheck } from '../trust/types.ts';
import type { Decoded } from './packet-work.ts';

/** An attachment as it crosses: its fields, and its payload as text or as a range of the packet bytes. */
export interface PortableAttachment {
  readonly fields: Omit<Attachment, 'content'>;
  readonly content?: string | undefined;
  readonly span?: { readonly from: number; readonly to: number } | undefined;
}

/** A packet model as it crosses. */
export type PortablePacket =
  | (Omit<Extract<Packet, { kind: 'document' }>, 'attachments'> & { readonly attachments: readonly PortableAttachment[] })
  | Extract<Packet, { kind: 'status' }>;

/** A parse result as it crosses. */
export type PortableParse =
  | { readonly ok: true; readonly value: PortablePacket; readonly warnings: Extract<Result<Packet>, { ok: true }>['warnings'] }
  | Extract<Result<Packet>, { ok: false }>;

/** decode's pass as it crosses. */
export interface PortableDecoded {
  readonly parsed: PortableParse;
  readonly payloadRef: string;
  readonly signature?: { readonly check: SignatureCheck; readonly ms: number } | undefined;
}

/** decode's pass, ready for postMessage. */
export function portableDecoded(decoded: Decoded): PortableDecoded {
  return { ...decoded, parsed: portableParse(decoded.parsed) };
}

/** decode's pass as the decoding thread had it, rebuilt over `bytes` (the bytes it decoded). */
export function decodedFromPortable(portable: PortableDecoded, bytes: Buffer): Decoded {
  const { signature } = portable;
  return {
    parsed: parseFromPortable(portable.parsed, bytes),
    payloadRef: portable.payloadRef,
    signature: signature === undefined ? undefined : { check: checkFromPortable(signature.check), ms: signature.ms },
  };
}

/** The parse result of `bytes`, ready for postMessage. */
export function portableParse(result: Result<Packet>): PortableParse {
  if (!result.ok) return result;
  const packet = result.value;
  if (packet.kind === 'status') return result as PortableParse;
  const attachments = packet.attachments.map((attachment): PortableAttachment => {
    // Field by field: spreading the attachment would call the lazy `content` getter.
    const fields = { contentId: attachment.contentId, attachmentName: attachment.attachmentName, description: attachment.description, contentType: attachment.contentType };
    const long = longContentOf(attachment);
    return long === undefined ? { fields, content: attachment.content } : { fields, span: long.span };
  });
  return { ok: true, value: { ...packet, attachments }, warnings: result.warnings };
}

/** The parse result as the parsing thread had it, rebuilt over `bytes` (the same bytes it parsed). */
export function parseFromPortable(portable: PortableParse, bytes: Buffer): Result<Packet> {
  if (!portable.ok) return portable;
  const packet = portable.value;
  if (packet.kind === 'status') return portable as Result<Packet>;
  const attachments = packet.attachments.map((a): Attachment =>
    a.span === undefined ? { ...a.fields, content: a.content ?? '' } : attachmentWithLongContent(a.fields, new LongText(bytes, a.span.from, a.span.to)),
  );
  return { ok: true, value: { ...packet, attachments }, warnings: portable.warnings };
}

/** A signature check as the verifying thread found it, with its certificates as Buffers again. */
export function checkFromPortable(check: SignatureCheck): SignatureCheck {
  if (check.status !== 'valid' && check.status !== 'invalid') return check;
  return { ...check, certificates: check.certificates.map(asBuffer) };
}

/** A Buffer over the same memory as `bytes` (what a Buffer becomes once it has crossed). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
