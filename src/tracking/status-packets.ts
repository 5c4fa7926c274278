// Status packets the gateway writes itself, on a recipient's behalf: 01 (đã đến) when a document
// reaches the recipient — QĐ 28 and NĐ 30 Điều 21 want receipt tracked automatically, so the
// recipient's system does not have to send it — and 15 when a recall withdraws a copy the recipient
// had not taken yet (it never saw the document, so the gateway answers that it is cancelled).
// They are ordinary edXML status packets, admitted and delivered like any other.

import { buildPacketBuffer } from '../edxml/build.ts';
import { formatTimestamp } from '../edxml/dates.ts';
import { parseDocumentId } from '../edxml/document-id.ts';
import type { Organization, StatusPacket } from '../edxml/model.ts';

/** The statuses the gateway sends on a recipient's behalf. */
export type AutomaticStatusCode = '01' | '15';

/** Description texts, in the wording of the official samples (spec §4.2), marked as the gateway's. */
export const AUTOMATIC_STATUS_DESCRIPTIONS: Readonly<Record<AutomaticStatusCode, string>> = {
  '01': 'Đã đến - văn bản đã được chuyển đến hệ thống của đơn vị nhận (trạng thái do cổng trục edxgate tự động gửi)',
  '15': 'Đồng ý lấy lại - văn bản được thu hồi trước khi đơn vị nhận tải về (trạng thái do cổng trục edxgate tự động gửi)',
};

/** What an automatic status says. */
export interface AutomaticStatusInput {
  readonly code: AutomaticStatusCode;
  /** The recipient on whose behalf the status is sent (its From). */
  readonly recipient: Organization;
  /** The document's sender: the counterpart in ResponseFor. */
  readonly documentSender: string;
  readonly documentId: string;
  readonly at: Date;
}

/** The status packet model. */
export function automaticStatusPacket(input: AutomaticStatusInput): StatusPacket {
  // ResponseFor carries the document's number and date as the samples do; both come from the QĐ 395
  // identifier when it has the standard form, and are left out otherwise (they are optional).
  const parts = parseDocumentId(input.documentId);
  return {
    kind: 'status',
    from: input.recipient,
    responseFor: {
      organId: input.documentSender,
      code: parts === undefined ? undefined : `${parts.number}/${parts.notation}`,
      promulgationDate: parts?.date,
      documentId: input.documentId,
    },
    statusCode: input.code,
    description: AUTOMATIC_STATUS_DESCRIPTIONS[input.code],
    timestamp: formatTimestamp(input.at),
  };
}

/** The packet bytes, as they are stored and delivered. */
export function automaticStatusBytes(input: AutomaticStatusInput): Buffer {
  return buildPacketBuffer(automaticStatusPacket(input));
}
