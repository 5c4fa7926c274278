// What is overdue under the service-level rules (spec/edxml.md §9, docs/reports.md), as of `now`:
//
// - `unconfirmed`: a document delivered to a recipient whose receipt the recipient has not confirmed
//   (03) nor refused (02) by the end of the working day it arrived — after the end of a working day
//   or on a day off, by the end of the next one (QĐ 28 Điều 6; NĐ 30 Điều 21(2): "notify the sender
//   of receipt on the same day"). The calendar lives in TS (tracking/working-day.ts): it gives one
//   cut-off instant, the last working-day end before `now`, and a row is overdue when it was
//   delivered at or before it, so the SQL compares one column with one parameter.
// - `urgent_late`: an urgent document (priority 1–4) not delivered "immediately" (QĐ 28 Điều 6, NĐ 30
//   Điều 18), i.e. within the send/receive budget: still queued, in delivery or dead-lettered past
//   its deadline; or delivered late and not confirmed yet (once confirmed, nobody has anything left
//   to do about it; the agency report still counts it).
//
// Left out: copies withdrawn by a recall or revocation, rows the recipient cancelled after a recall
// (15), and revoked documents — nobody owes a confirmation of a document that no longer stands.
// A (document, recipient) pair can be in both lists, once per reason.
//
// Both parts start from small sets: the unconfirmed rows (partial index
// document_recipients_unconfirmed_idx) and the undelivered deliveries (partial deliveries_claim_idx),
// so the counts are cheap enough for every /metrics scrape.

import { sql } from 'kysely';
import type { Kysely, RawBuilder } from 'kysely';
import type { Database, DeliveryState, RecallState } from '../database.ts';
import { pageSize } from './common.ts';

/** Why an item is overdue. */
export const OVERDUE_REASONS = ['unconfirmed', 'urgent_late'] as const;
export type OverdueReason = (typeof OVERDUE_REASONS)[number];

/** How many items are overdue, by reason. */
export interface OverdueCounts {
  readonly unconfirmed: number;
  readonly urgentLate: number;
}

/**
 * The working-day rules the queries need (tracking/working-day.ts's WorkingCalendar has them); the
 * store takes them as an interface so that it depends on nothing above it.
 */
export interface OverdueCalendar {
  /** The last working-day end strictly before `now`. */
  cutoffAt(now: Date): Date;
  /** When receipt of a delivery at `deliveredAt` is due. */
  dueAt(deliveredAt: Date): Date;
}

/** Which overdue items. */
export interface OverdueQuery {
  /** The instant "overdue" is judged at. */
  readonly now: Date;
  readonly calendar: OverdueCalendar;
  /** Only items these agencies sent or receive; undefined = every agency. */
  readonly agencies?: readonly string[] | undefined;
}

/** One overdue (document, recipient) item. */
export interface OverdueItem {
  readonly reason: OverdueReason;
  readonly documentId: string;
  readonly sender: string;
  readonly recipient: string;
  readonly deliveryId: string;
  readonly packetId: string;
  readonly subject: string | null;
  readonly priority: number;
  readonly deliveryState: DeliveryState;
  /** When the sender's packet reached the gateway. */
  readonly sentAt: Date;
  readonly deliveredAt: Date | null;
  /** When it was due: the end of the working day of delivery (unconfirmed), or the delivery deadline (urgent_late). */
  readonly dueAt: Date;
  /** The recipient's furthest processing status (01, 03–06, 02), null before any. */
  readonly statusCode: string | null;
  readonly recallState: RecallState;
}

/** A page of overdue items with the full counts. */
export interface OverdueList {
  /** The last working-day end before `now`: unconfirmed receipts delivered at or before it are overdue. */
  readonly cutoff: Date;
  readonly counts: OverdueCounts;
  /** Oldest first (by when the document was sent). */
  readonly items: readonly OverdueItem[];
  /** More items exist than `limit` let through. */
  readonly truncated: boolean;
}

interface ItemRow {
  reason: OverdueReason;
  document_id: string;
  sender: string;
  recipient: string;
  delivery_id: string;
  packet_id: string;
  subject: string | null;
  priority: number;
  state: DeliveryState;
  sent_at: Date;
  delivered_at: Date | null;
  deadline_at: Date;
  status_code: string | null;
  recall_state: RecallState;
}

/** `AND (sender IN … OR recipient IN …)`, or nothing for every agency; an empty list matches nothing. */
function scope(agencies: readonly string[] | undefined, sender: RawBuilder<unknown>, recipient: RawBuilder<unknown>): RawBuilder<unknown> {
  if (agencies === undefined) return sql``;
  if (agencies.length === 0) return sql`AND false`;
  const list = sql.join(agencies.map((a) => sql`${a}`));
  return sql`AND (${sender} IN (${list}) OR ${recipient} IN (${list}))`;
}

// (a) Receipt not confirmed by the end of the working day of delivery.
function unconfirmedSql(q: OverdueQuery, cutoff: Date): RawBuilder<ItemRow> {
  return sql<ItemRow>`
    SELECT 'unconfirmed' AS reason, dr.document_id, dr.sender, dr.recipient, dr.delivery_id, d.packet_id,
           doc.subject, doc.priority, d.state, doc.received_at AS sent_at, d.delivered_at, d.deadline_at,
           dr.status_code, dr.recall_state
    FROM document_recipients AS dr
    JOIN documents AS doc ON doc.document_id = dr.document_id AND doc.sender = dr.sender
    JOIN deliveries AS d ON d.id = dr.delivery_id
    WHERE dr.confirmed_at IS NULL
      AND d.state = 'delivered' AND d.delivered_at <= ${cutoff}
      AND dr.recall_state <> 'recalled' AND doc.revoked_at IS NULL
      ${scope(q.agencies, sql`dr.sender`, sql`dr.recipient`)}`;
}

// (b1) Urgent documents not delivered by their deadline (the claim index serves state <> 'delivered').
function urgentUndeliveredSql(q: OverdueQuery): RawBuilder<ItemRow> {
  return sql<ItemRow>`
    SELECT 'urgent_late' AS reason, p.document_id, p.sender, d.recipient, d.id AS delivery_id, d.packet_id,
           p.subject, d.priority, d.state, p.received_at AS sent_at, d.delivered_at, d.deadline_at,
           dr.status_code, coalesce(dr.recall_state, 'none') AS recall_state
    FROM deliveries AS d
    JOIN packets AS p ON p.id = d.packet_id
    LEFT JOIN document_recipients AS dr ON dr.delivery_id = d.id
    LEFT JOIN documents AS doc ON doc.document_id = dr.document_id AND doc.sender = dr.sender
    WHERE d.state IN ('queued', 'delivering', 'dead') AND d.priority >= 1 AND p.kind = 'document'
      AND (d.late OR d.deadline_at < ${q.now})
      AND coalesce(dr.recall_state, 'none') <> 'recalled' AND doc.revoked_at IS NULL
      ${scope(q.agencies, sql`p.sender`, sql`d.recipient`)}`;
}

// (b2) Urgent documents delivered late whose receipt is still unconfirmed.
function urgentDeliveredLateSql(q: OverdueQuery): RawBuilder<ItemRow> {
  return sql<ItemRow>`
    SELECT 'urgent_late' AS reason, dr.document_id, dr.sender, dr.recipient, dr.delivery_id, d.packet_id,
           doc.subject, d.priority, d.state, doc.received_at AS sent_at, d.delivered_at, d.deadline_at,
           dr.status_code, dr.recall_state
    FROM document_recipients AS dr
    JOIN documents AS doc ON doc.document_id = dr.document_id AND doc.sender = dr.sender
    JOIN deliveries AS d ON d.id = dr.delivery_id
    WHERE dr.confirmed_at IS NULL
      AND d.state = 'delivered' AND d.late AND d.priority >= 1
      AND dr.recall_state <> 'recalled' AND doc.revoked_at IS NULL
      ${scope(q.agencies, sql`dr.sender`, sql`dr.recipient`)}`;
}

/** Counts the overdue items by reason, as of `q.now`. */
export async function countOverdue(db: Kysely<Database>, q: OverdueQuery): Promise<OverdueCounts> {
  const cutoff = q.calendar.cutoffAt(q.now);
  const { rows } = await sql<{ unconfirmed: number; urgent_late: number }>`
    SELECT (SELECT count(*) FROM (${unconfirmedSql(q, cutoff)}) AS a)::integer AS unconfirmed,
           (SELECT count(*) FROM (${urgentUndeliveredSql(q)} UNION ALL ${urgentDeliveredLateSql(q)}) AS b)::integer AS urgent_late`.execute(db);
  const row = rows[0];
  return { unconfirmed: row?.unconfirmed ?? 0, urgentLate: row?.urgent_late ?? 0 };
}

/** Lists overdue items (oldest first, at most `limit`, 1..500, default 100) with the full counts. */
export async function listOverdue(db: Kysely<Database>, q: OverdueQuery & { readonly limit?: number | undefined }): Promise<OverdueList> {
  const cutoff = q.calendar.cutoffAt(q.now);
  const limit = pageSize(q.limit, 100, 500);
  const counts = await countOverdue(db, q);
  const { rows } = await sql<ItemRow>`
    SELECT * FROM (
      ${unconfirmedSql(q, cutoff)}
      UNION ALL ${urgentUndeliveredSql(q)}
      UNION ALL ${urgentDeliveredLateSql(q)}
    ) AS overdue
    ORDER BY sent_at, document_id, recipient, reason
    LIMIT ${limit}`.execute(db);
  return {
    cutoff,
    counts,
    items: rows.map((r) => ({
      reason: r.reason,
      documentId: r.document_id,
      sender: r.sender,
      recipient: r.recipient,
      deliveryId: r.delivery_id,
      packetId: r.packet_id,
      subject: r.subject,
      priority: r.priority,
      deliveryState: r.state,
      sentAt: r.sent_at,
      deliveredAt: r.delivered_at,
      // An unconfirmed row is delivered, so delivered_at is set; the deadline stands in only to satisfy the type.
      dueAt: r.reason === 'unconfirmed' ? q.calendar.dueAt(r.delivered_at ?? r.deadline_at) : r.deadline_at,
      statusCode: r.status_code,
      recallState: r.recall_state,
    })),
    truncated: counts.unconfirmed + counts.urgentLate > rows.length,
  };
}
