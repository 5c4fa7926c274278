// The inbox of an agency: deliveries addressed to it that are available (delivered), oldest first,
// by cursor. By default only those not yet acknowledged, so a client that acks what it processed
// sees exactly its backlog; a row that committed behind the cursor (commit order is not `seq`
// order) still shows up the next time the client starts from the beginning.

import type { Kysely } from 'kysely';
import type { Database, PacketKind } from '../database.ts';
import { decodeCursor, encodeCursor, pageSize } from './common.ts';

/** One packet waiting in an inbox. */
export interface InboxItem {
  readonly deliveryId: string;
  readonly packetId: string;
  readonly kind: PacketKind;
  readonly documentId: string;
  readonly sender: string;
  readonly recipient: string;
  readonly aliasOf: string | null;
  readonly subject: string | null;
  readonly priority: number;
  readonly businessType: number | null;
  readonly statusCode: string | null;
  readonly sha256: string;
  readonly sizeBytes: number;
  readonly receivedAt: Date;
  /** When the admitting transaction ran. */
  readonly admittedAt: Date;
  readonly deliveredAt: Date;
  readonly ackedAt: Date | null;
}

/** Which inbox page. */
export interface ListInboxInput {
  readonly agency: string;
  /** The `nextCursor` of the previous page; absent = from the beginning. */
  readonly cursor?: string | undefined;
  /** 1..500, default 50. */
  readonly limit?: number | undefined;
  /** Also list acknowledged items. */
  readonly includeAcked?: boolean | undefined;
}

/** A page of an inbox. */
export interface InboxPage {
  readonly items: readonly InboxItem[];
  /** Where to continue (equal to the input cursor when the page is empty, so polling can go on). */
  readonly nextCursor: string | null;
  readonly hasMore: boolean;
}

/** Lists an agency's inbox; EDX_ERR_CURSOR_INVALID for a cursor this listing did not issue. */
export async function listInbox(db: Kysely<Database>, input: ListInboxInput): Promise<InboxPage> {
  const after = input.cursor === undefined || input.cursor === '' ? undefined : decodeCursor(input.cursor);
  const limit = pageSize(input.limit, 50, 500);
  let query = db
    .selectFrom('deliveries as d')
    .innerJoin('packets as p', 'p.id', 'd.packet_id')
    .select([
      'd.id',
      'd.seq',
      'd.packet_id',
      'd.recipient',
      'd.alias_of',
      'd.delivered_at',
      'd.acked_at',
      'p.kind',
      'p.document_id',
      'p.sender',
      'p.subject',
      'p.priority',
      'p.business_type',
      'p.status_code',
      'p.sha256',
      'p.size_bytes',
      'p.received_at',
      'p.admitted_at',
    ])
    .where('d.recipient', '=', input.agency)
    .where('d.state', '=', 'delivered');
  if (!input.includeAcked) query = query.where('d.acked_at', 'is', null);
  if (after !== undefined) query = query.where('d.seq', '>', after);
  const rows = await query.orderBy('d.seq').limit(limit + 1).execute();

  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: page.map((r) => ({
      deliveryId: r.id,
      packetId: r.packet_id,
      kind: r.kind,
      documentId: r.document_id,
      sender: r.sender,
      recipient: r.recipient,
      aliasOf: r.alias_of,
      subject: r.subject,
      priority: r.priority,
      businessType: r.business_type,
      statusCode: r.status_code,
      sha256: r.sha256,
      sizeBytes: r.size_bytes,
      receivedAt: r.received_at,
      admittedAt: r.admitted_at,
      // state = 'delivered' guarantees it is set.
      deliveredAt: r.delivered_at ?? r.received_at,
      ackedAt: r.acked_at,
    })),
    nextCursor: last !== undefined ? encodeCursor(last.seq) : (input.cursor ?? null),
    hasMore: rows.length > limit,
  };
}
