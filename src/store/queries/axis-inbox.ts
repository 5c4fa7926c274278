// The axis-compatible API's view of an inbox (getReceivedEdocList, getEdoc, updateStatus). It is
// the same inbox as /v1/inbox — deliveries in state `delivered` to the caller's agencies — with the
// axis's transport acknowledgement: `done` is the /v1 ack (ack-delivery.ts), `fail` takes the item
// off the axis list without acknowledging it, recorded as a `transport_failed` event. No 01 is sent
// for a failed item: the arrival sweep only looks at acknowledged deliveries.

import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Database, PacketKind } from '../database.ts';
import { isUuid } from './common.ts';

/** The event type that records updateStatus(fail): free text in `events.type`. */
export const TRANSPORT_FAILED_EVENT = 'transport_failed';

/** Most items one getReceivedEdocList answers; the caller acknowledges them and asks again for more. */
export const AXIS_LIST_LIMIT = 500;

/** One item waiting for an axis system. */
export interface AxisInboxItem {
  readonly deliveryId: string;
  readonly packetId: string;
  readonly kind: PacketKind;
  readonly sender: string;
  readonly recipient: string;
  readonly admittedAt: Date;
  readonly deliveredAt: Date;
}

/**
 * The agencies' available deliveries of one kind that are neither acknowledged nor failed, oldest
 * first, at most `limit` (AXIS_LIST_LIMIT by default).
 */
export async function listAxisInbox(
  db: Kysely<Database>,
  input: { readonly agencies: readonly string[]; readonly kind: PacketKind; readonly limit?: number | undefined },
): Promise<AxisInboxItem[]> {
  if (input.agencies.length === 0) return [];
  // Served by deliveries_inbox_idx (recipient, seq WHERE state = 'delivered'); the failed check by
  // events_packet_id_idx.
  const rows = await db
    .selectFrom('deliveries as d')
    .innerJoin('packets as p', 'p.id', 'd.packet_id')
    .select(['d.id', 'd.packet_id', 'd.recipient', 'd.delivered_at', 'p.kind', 'p.sender', 'p.admitted_at', 'p.received_at'])
    .where('d.recipient', 'in', [...input.agencies])
    .where('d.state', '=', 'delivered')
    .where('d.acked_at', 'is', null)
    .where('p.kind', '=', input.kind)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('events as e')
            .select(sql`1`.as('one'))
            .whereRef('e.packet_id', '=', 'd.packet_id')
            .whereRef('e.delivery_id', '=', 'd.id')
            .where('e.type', '=', TRANSPORT_FAILED_EVENT),
        ),
      ),
    )
    .orderBy('d.seq')
    .limit(input.limit ?? AXIS_LIST_LIMIT)
    .execute();
  return rows.map((r) => ({
    deliveryId: r.id,
    packetId: r.packet_id,
    kind: r.kind,
    sender: r.sender,
    recipient: r.recipient,
    admittedAt: r.admitted_at,
    // state = 'delivered' guarantees it is set.
    deliveredAt: r.delivered_at ?? r.received_at,
  }));
}

/** A delivery an axis system may fetch: its packet's bytes reference. */
export interface AxisDeliveryPayload {
  readonly deliveryId: string;
  readonly packetId: string;
  readonly kind: PacketKind;
  readonly payloadRef: string;
  readonly sizeBytes: number;
}

/**
 * A delivery to one of the agencies that has reached its inbox (acknowledged or failed ones too: a
 * system may fetch again what it already took), or undefined — unknown, another agency's, not
 * delivered yet, or withdrawn by a recall.
 */
export async function getAxisDelivery(db: Kysely<Database>, input: { readonly deliveryId: string; readonly agencies: readonly string[] }): Promise<AxisDeliveryPayload | undefined> {
  if (!isUuid(input.deliveryId) || input.agencies.length === 0) return undefined;
  const row = await db
    .selectFrom('deliveries as d')
    .innerJoin('packets as p', 'p.id', 'd.packet_id')
    .select(['d.id', 'd.packet_id', 'p.kind', 'p.payload_ref', 'p.size_bytes'])
    .where('d.id', '=', input.deliveryId)
    .where('d.recipient', 'in', [...input.agencies])
    .where('d.state', '=', 'delivered')
    .executeTakeFirst();
  return row === undefined ? undefined : { deliveryId: row.id, packetId: row.packet_id, kind: row.kind, payloadRef: row.payload_ref, sizeBytes: row.size_bytes };
}

/** `failed` now, `already_failed` before, `already_acked` (nothing changed), or `not_found`. */
export type AxisFailOutcome = 'failed' | 'already_failed' | 'already_acked' | 'not_found';

/**
 * updateStatus(fail): records a `transport_failed` event for an available, unacknowledged delivery
 * of one of the agencies, which takes it off getReceivedEdocList. The delivery row is locked first,
 * so two concurrent calls record one event and an acknowledgement cannot slip in between.
 */
export async function failAxisDelivery(
  db: Kysely<Database>,
  input: { readonly deliveryId: string; readonly agencies: readonly string[]; readonly systemid: string },
): Promise<AxisFailOutcome> {
  if (!isUuid(input.deliveryId) || input.agencies.length === 0) return 'not_found';
  return db.transaction().execute(async (trx) => {
    const target = await trx
      .selectFrom('deliveries')
      .select(['id', 'packet_id', 'recipient', 'acked_at'])
      .where('id', '=', input.deliveryId)
      .where('recipient', 'in', [...input.agencies])
      .where('state', '=', 'delivered')
      .forUpdate()
      .executeTakeFirst();
    if (target === undefined) return 'not_found';
    if (target.acked_at !== null) return 'already_acked';
    // Read after the lock: under READ COMMITTED this statement sees a concurrent call's committed event.
    const before = await trx
      .selectFrom('events')
      .select('id')
      .where('packet_id', '=', target.packet_id)
      .where('delivery_id', '=', target.id)
      .where('type', '=', TRANSPORT_FAILED_EVENT)
      .executeTakeFirst();
    if (before !== undefined) return 'already_failed';
    await sql`
      INSERT INTO events (type, packet_id, delivery_id, document_id, agency, data)
      SELECT ${TRANSPORT_FAILED_EVENT}, p.id, ${target.id}, p.document_id, ${target.recipient},
             ${JSON.stringify({ via: 'axis', systemid: input.systemid })}::jsonb
      FROM packets AS p WHERE p.id = ${target.packet_id}`.execute(trx);
    return 'failed';
  });
}
