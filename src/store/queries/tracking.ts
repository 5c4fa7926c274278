// The tracking tables' statements. Every function takes the transaction it runs in: the tracker
// locks a document's recipient rows, decides with the state machine, and writes the outcome,
// the admitted packet and the events in that one transaction (src/tracking/tracker.ts).

import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Database, LinkRelation, RecallKind, RecallState } from '../database.ts';

/** A (document, recipient) row, locked, with its delivery. */
export interface LockedRecipient {
  readonly documentId: string;
  readonly sender: string;
  readonly recipient: string;
  readonly deliveryId: string;
  readonly deliveryState: string;
  readonly routeId: string;
  readonly statusCode: string | null;
  readonly recallState: RecallState;
  readonly recallKind: RecallKind | null;
}

interface LockedRow {
  document_id: string;
  sender: string;
  recipient: string;
  delivery_id: string;
  delivery_state: string;
  route_id: string;
  status_code: string | null;
  recall_state: RecallState;
  recall_kind: RecallKind | null;
}

/**
 * Locks the recipient rows of a document (all of them, or those of `recipients`), in recipient
 * order so that two transactions locking several rows of one document cannot deadlock. Returns
 * undefined when the document is not tracked at all.
 */
export async function lockDocumentRecipients(
  db: Kysely<Database>,
  key: { readonly documentId: string; readonly sender: string },
  recipients?: readonly string[],
): Promise<LockedRecipient[] | undefined> {
  const only = recipients === undefined ? sql`` : sql`AND dr.recipient = ANY(${[...recipients]}::text[])`;
  const { rows } = await sql<LockedRow & { tracked: boolean }>`
    WITH doc AS (SELECT 1 FROM documents WHERE document_id = ${key.documentId} AND sender = ${key.sender}),
    locked AS (
      SELECT dr.document_id, dr.sender, dr.recipient, dr.delivery_id, dr.status_code, dr.recall_state, dr.recall_kind
      FROM document_recipients AS dr
      WHERE dr.document_id = ${key.documentId} AND dr.sender = ${key.sender} ${only}
      ORDER BY dr.recipient
      FOR UPDATE
    )
    SELECT l.*, d.state AS delivery_state, d.route_id, true AS tracked
    FROM locked AS l JOIN deliveries AS d ON d.id = l.delivery_id
    UNION ALL
    SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, false
    WHERE NOT EXISTS (SELECT 1 FROM doc)`.execute(db);
  if (rows.some((r) => !r.tracked)) return undefined;
  return rows
    .map((r) => ({
      documentId: r.document_id,
      sender: r.sender,
      recipient: r.recipient,
      deliveryId: r.delivery_id,
      deliveryState: r.delivery_state,
      routeId: r.route_id,
      statusCode: r.status_code,
      recallState: r.recall_state,
      recallKind: r.recall_kind,
    }))
    .sort((a, b) => (a.recipient < b.recipient ? -1 : a.recipient > b.recipient ? 1 : 0));
}

/** The tracked document and parties of a delivery with no status yet (what an automatic 01 needs), or undefined. */
export async function pendingArrivalOf(
  db: Kysely<Database>,
  deliveryId: string,
): Promise<{ readonly documentId: string; readonly sender: string; readonly recipient: string } | undefined> {
  const row = await db
    .selectFrom('document_recipients')
    .select(['document_id', 'sender', 'recipient'])
    .where('delivery_id', '=', deliveryId)
    .where('status_code', 'is', null)
    .executeTakeFirst();
  return row === undefined ? undefined : { documentId: row.document_id, sender: row.sender, recipient: row.recipient };
}

/** A new state of one row, from the state machine. */
export interface RecipientUpdate {
  readonly documentId: string;
  readonly sender: string;
  readonly recipient: string;
  readonly statusCode: string | null;
  /** Set with a processing status change: the reason of 02. */
  readonly statusReason?: string | null | undefined;
  /** The processing status moved (status_at is stamped; confirmed_at on the first 02 or 03). */
  readonly statusChanged: boolean;
  readonly recallState: RecallState;
  readonly recallKind: RecallKind | null;
  /** The recall was opened (reason and time are stamped) or answered (answer time). */
  readonly recallChange?: 'requested' | 'answered' | undefined;
  readonly recallReason?: string | null | undefined;
}

/** Writes one row's new state. */
export async function updateRecipientState(db: Kysely<Database>, u: RecipientUpdate): Promise<void> {
  const confirms = u.statusChanged && (u.statusCode === '02' || u.statusCode === '03');
  await sql`
    UPDATE document_recipients SET
      status_code = ${u.statusCode},
      status_at = CASE WHEN ${u.statusChanged} THEN now() ELSE status_at END,
      status_reason = CASE WHEN ${u.statusChanged} THEN ${u.statusReason ?? null}::text ELSE status_reason END,
      confirmed_at = CASE WHEN ${confirms} THEN coalesce(confirmed_at, now()) ELSE confirmed_at END,
      recall_state = ${u.recallState},
      recall_kind = ${u.recallKind},
      recall_reason = CASE WHEN ${u.recallChange === 'requested'} THEN ${u.recallReason ?? null}::text ELSE recall_reason END,
      recall_requested_at = CASE WHEN ${u.recallChange === 'requested'} THEN now() ELSE recall_requested_at END,
      recall_answered_at = CASE WHEN ${u.recallChange === 'answered'} THEN now()
                                WHEN ${u.recallChange === 'requested'} THEN NULL ELSE recall_answered_at END,
      updated_at = now()
    WHERE document_id = ${u.documentId} AND sender = ${u.sender} AND recipient = ${u.recipient}`.execute(db);
}

/** One event row. */
export interface NewEvent {
  readonly type: 'status' | 'withdrawn' | 'linked';
  readonly packetId: string | null;
  readonly deliveryId?: string | null | undefined;
  readonly documentId: string;
  /** The agency that caused it. */
  readonly agency: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/** Appends events, in order. */
export async function insertEvents(db: Kysely<Database>, events: readonly NewEvent[]): Promise<void> {
  if (events.length === 0) return;
  await db
    .insertInto('events')
    .values(
      events.map((e) => ({
        type: e.type,
        packet_id: e.packetId,
        delivery_id: e.deliveryId ?? null,
        document_id: e.documentId,
        agency: e.agency,
        data: JSON.stringify(e.data),
      })),
    )
    .execute();
}

/**
 * Withdraws a delivery the recipient has not taken: still queued (or dead-lettered), or waiting
 * unacknowledged in an inbox. A delivery in flight, or already pushed or acknowledged, is not
 * withdrawn — the recipient has the document and must answer the recall itself. The row lock of
 * this UPDATE keeps a worker from claiming it (claims skip locked rows) and an ack from taking it.
 */
export async function withdrawUnpulledDelivery(db: Kysely<Database>, deliveryId: string): Promise<boolean> {
  const { rows } = await sql<{ id: string }>`
    UPDATE deliveries AS d SET state = 'withdrawn', lease_until = NULL
    WHERE d.id = ${deliveryId}
      AND (d.state IN ('queued', 'dead')
           OR (d.state = 'delivered' AND d.acked_at IS NULL
               AND (d.route_id = 'inbox' OR EXISTS (SELECT 1 FROM routes AS r WHERE r.id = d.route_id AND r.kind = 'inbox'))))
    RETURNING d.id`.execute(db);
  return rows.length > 0;
}

/** Whether a document is tracked under this id and sender. */
export async function documentExists(db: Kysely<Database>, documentId: string, sender: string): Promise<boolean> {
  const row = await db.selectFrom('documents').select('packet_id').where('document_id', '=', documentId).where('sender', '=', sender).executeTakeFirst();
  return row !== undefined;
}

/** Records that `byPacketId` (document `byDocumentId`) revoked, updated or replaced a document. */
export async function insertLink(
  db: Kysely<Database>,
  link: { readonly documentId: string; readonly sender: string; readonly relation: LinkRelation; readonly byDocumentId: string; readonly byPacketId: string },
): Promise<void> {
  await sql`
    INSERT INTO document_links (document_id, sender, relation, by_document_id, by_packet_id)
    VALUES (${link.documentId}, ${link.sender}, ${link.relation}, ${link.byDocumentId}, ${link.byPacketId})
    ON CONFLICT DO NOTHING`.execute(db);
  if (link.relation === 'revoked') {
    await sql`UPDATE documents SET revoked_at = coalesce(revoked_at, now()) WHERE document_id = ${link.documentId} AND sender = ${link.sender}`.execute(db);
  }
}

/** Deliveries of documents that reached their recipient but have no status yet (the automatic 01 is missing). */
export async function pendingArrivals(db: Kysely<Database>, options: { readonly olderThanMs: number; readonly limit: number }): Promise<string[]> {
  // Reached = pushed (any route but an inbox) or acknowledged (an inbox). Axis and peer routes are
  // excluded: their recipients are behind another gateway, which sends the 01 itself.
  const { rows } = await sql<{ delivery_id: string }>`
    SELECT dr.delivery_id
    FROM document_recipients AS dr
    JOIN deliveries AS d ON d.id = dr.delivery_id
    LEFT JOIN routes AS r ON r.id = d.route_id
    WHERE dr.status_code IS NULL AND dr.recall_state <> 'recalled' AND d.state = 'delivered'
      AND coalesce(r.kind, 'inbox') IN ('inbox', 'webhook')
      AND (d.acked_at IS NOT NULL OR r.kind = 'webhook')
      AND coalesce(d.acked_at, d.delivered_at) < now() - make_interval(secs => ${options.olderThanMs}::double precision / 1000)
    LIMIT ${options.limit}`.execute(db);
  return rows.map((r) => r.delivery_id);
}
