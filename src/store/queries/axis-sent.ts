// getSentEdocList: what an axis system's agencies sent, one row per packet × recipient, newest
// packets first, with the transport state of each delivery and the recipient's furthest status.

import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Database, DeliveryState, PacketKind, RouteKind } from '../database.ts';
import { isUuid } from './common.ts';
import { AXIS_LIST_LIMIT, TRANSPORT_FAILED_EVENT } from './axis-inbox.ts';

/** One delivery of a sent packet. */
export interface AxisSentItem {
  readonly packetId: string;
  readonly deliveryId: string;
  readonly kind: PacketKind;
  readonly documentId: string;
  readonly sender: string;
  readonly recipient: string;
  readonly subject: string | null;
  readonly receivedAt: Date;
  readonly state: DeliveryState;
  /** How the recipient is reached: `inbox` (it pulls) or a push route (webhook, axis, peer). */
  readonly routeKind: RouteKind;
  readonly deliveredAt: Date | null;
  readonly ackedAt: Date | null;
  readonly lastError: string | null;
  /** The recipient's furthest processing status of the document (01–06), documents only. */
  readonly statusCode: string | null;
  /** The recipient's system answered updateStatus(fail). */
  readonly transportFailed: boolean;
}

/** Which sent packets. */
export interface ListAxisSentInput {
  /** What the agencies sent (an office system), or what this client sent (a peer gateway's system). */
  readonly scope: { readonly agencies: readonly string[] } | { readonly clientId: string };
  readonly kind: PacketKind;
  /** Only this packet (the DocId sendEdoc answered). */
  readonly packetId?: string | undefined;
  /** Most rows (AXIS_LIST_LIMIT by default). */
  readonly limit?: number | undefined;
}

interface SentRow {
  readonly packet_id: string;
  readonly delivery_id: string;
  readonly kind: PacketKind;
  readonly document_id: string;
  readonly sender: string;
  readonly recipient: string;
  readonly subject: string | null;
  readonly received_at: Date | string;
  readonly state: DeliveryState;
  readonly route_kind: RouteKind;
  readonly delivered_at: Date | string | null;
  readonly acked_at: Date | string | null;
  readonly last_error: string | null;
  readonly status_code: string | null;
  readonly transport_failed: boolean;
}

function asDate(value: Date | string): Date {
  return value instanceof Date ? value : new Date(value);
}

/** The deliveries of the newest packets the agencies sent (or of one packet). */
export async function listAxisSent(db: Kysely<Database>, input: ListAxisSentInput): Promise<AxisSentItem[]> {
  const { scope } = input;
  if ('agencies' in scope && scope.agencies.length === 0) return [];
  if (input.packetId !== undefined && !isUuid(input.packetId)) return [];
  const limit = input.limit ?? AXIS_LIST_LIMIT;
  const onePacket = input.packetId === undefined ? sql`` : sql`AND p1.id = ${input.packetId}`;
  // A peer gateway sends for many agencies: its packets are the ones its client admitted (a rare
  // call — the gateway's own poller never makes it — so a filtered backward scan of packets is fine).
  const sent =
    'agencies' in scope
      ? sql`(VALUES ${sql.join(scope.agencies.map((a) => sql`(${a})`))}) AS s (code)
    CROSS JOIN LATERAL (
      SELECT * FROM packets AS p1
      WHERE p1.sender = s.code AND p1.kind = ${input.kind} ${onePacket}
      ORDER BY p1.received_at DESC
      LIMIT ${limit}
    ) AS p`
      : sql`(
      SELECT * FROM packets AS p1
      WHERE p1.client_id = ${scope.clientId} AND p1.kind = ${input.kind} ${onePacket}
      ORDER BY p1.received_at DESC
      LIMIT ${limit}
    ) AS p`;
  // Per sender, a backward scan of packets_sender_received_at_idx bounded by the limit; then the
  // deliveries of those packets, and per delivery its tracked status and whether it was failed.
  const { rows } = await sql<SentRow>`
    SELECT p.id AS packet_id, d.id AS delivery_id, p.kind, p.document_id, p.sender, d.recipient, p.subject,
           p.received_at, d.state, coalesce(r.kind, 'inbox') AS route_kind, d.delivered_at, d.acked_at, d.last_error, dr.status_code,
           EXISTS (
             SELECT 1 FROM events AS e
             WHERE e.packet_id = p.id AND e.delivery_id = d.id AND e.type = ${TRANSPORT_FAILED_EVENT}
           ) AS transport_failed
    FROM ${sent}
    JOIN deliveries AS d ON d.packet_id = p.id
    LEFT JOIN routes AS r ON r.id = d.route_id
    LEFT JOIN document_recipients AS dr
      ON dr.document_id = p.document_id AND dr.sender = p.sender AND dr.recipient = d.recipient AND dr.delivery_id = d.id
    ORDER BY p.received_at DESC, p.id, d.seq
    LIMIT ${limit}`.execute(db);
  return rows.map((r) => ({
    packetId: r.packet_id,
    deliveryId: r.delivery_id,
    kind: r.kind,
    documentId: r.document_id,
    sender: r.sender,
    recipient: r.recipient,
    subject: r.subject,
    receivedAt: asDate(r.received_at),
    state: r.state,
    routeKind: r.route_kind,
    deliveredAt: r.delivered_at === null ? null : asDate(r.delivered_at),
    ackedAt: r.acked_at === null ? null : asDate(r.acked_at),
    lastError: r.last_error,
    statusCode: r.status_code,
    transportFailed: r.transport_failed,
  }));
}
