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

/**
 * Whose deliveries an axis system sees: those to its agencies (an office system), or those on its
 * route (a peer gateway's system: it takes everything the directory routes through it).
 */
export type AxisScope = { readonly agencies: readonly string[] } | { readonly routeId: string };

function isEmpty(scope: AxisScope): boolean {
  return 'agencies' in scope && scope.agencies.length === 0;
}

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
  input: { readonly scope: AxisScope; readonly kind: PacketKind; readonly limit?: number | undefined },
): Promise<AxisInboxItem[]> {
  const { scope } = input;
  if (isEmpty(scope)) return [];
  // Served by deliveries_inbox_idx (recipient, seq WHERE state = 'delivered') for agencies, by
  // deliveries_route_waiting_idx for a route; the failed check by events_packet_id_idx.
  const rows = await db
    .selectFrom('deliveries as d')
    .innerJoin('packets as p', 'p.id', 'd.packet_id')
    .select(['d.id', 'd.packet_id', 'd.recipient', 'd.delivered_at', 'p.kind', 'p.sender', 'p.admitted_at', 'p.received_at'])
    .$if('agencies' in scope, (qb) => qb.where('d.recipient', 'in', 'agencies' in scope ? [...scope.agencies] : []))
    .$if('routeId' in scope, (qb) => qb.where('d.route_id', '=', 'routeId' in scope ? scope.routeId : '').where('d.route_id', '<>', 'inbox'))
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
export async function getAxisDelivery(db: Kysely<Database>, input: { readonly deliveryId: string; readonly scope: AxisScope }): Promise<AxisDeliveryPayload | undefined> {
  const { scope } = input;
  if (!isUuid(input.deliveryId) || isEmpty(scope)) return undefined;
  const row = await db
    .selectFrom('deliveries as d')
    .innerJoin('packets as p', 'p.id', 'd.packet_id')
    .select(['d.id', 'd.packet_id', 'p.kind', 'p.payload_ref', 'p.size_bytes'])
    .where('d.id', '=', input.deliveryId)
    .$if('agencies' in scope, (qb) => qb.where('d.recipient', 'in', 'agencies' in scope ? [...scope.agencies] : []))
    .$if('routeId' in scope, (qb) => qb.where('d.route_id', '=', 'routeId' in scope ? scope.routeId : ''))
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
  input: { readonly deliveryId: string; readonly scope: AxisScope; readonly systemid: string },
): Promise<AxisFailOutcome> {
  const { scope } = input;
  if (!isUuid(input.deliveryId) || isEmpty(scope)) return 'not_found';
  return db.transaction().execute(async (trx) => {
    const target = await trx
      .selectFrom('deliveries')
      .select(['id', 'packet_id', 'recipient', 'acked_at'])
      .where('id', '=', input.deliveryId)
      .$if('agencies' in scope, (qb) => qb.where('recipient', 'in', 'agencies' in scope ? [...scope.agencies] : []))
      .$if('routeId' in scope, (qb) => qb.where('route_id', '=', 'routeId' in scope ? scope.routeId : ''))
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

/**
 * updateStatus(done) of a peer gateway's system: the delivery on its route is acknowledged (event
 * `acked` with `{via: 'peer', systemid}`). Unlike an office system's ack (ack-delivery.ts) no
 * automatic 01 follows: the recipient is behind that gateway, which reports the arrival itself.
 */
export async function ackRouteDelivery(
  db: Kysely<Database>,
  input: { readonly deliveryId: string; readonly routeId: string; readonly systemid: string },
): Promise<'acked' | 'already_acked' | 'not_found'> {
  if (!isUuid(input.deliveryId)) return 'not_found';
  const data = JSON.stringify({ via: 'peer', systemid: input.systemid });
  const { rows } = await sql<{ id: string; acked_now: boolean }>`
    WITH target AS (
      SELECT id FROM deliveries WHERE id = ${input.deliveryId} AND route_id = ${input.routeId} AND state = 'delivered'
    ), u AS (
      UPDATE deliveries AS d SET acked_at = now()
      FROM packets AS p
      WHERE d.id = ${input.deliveryId} AND d.route_id = ${input.routeId} AND d.state = 'delivered'
        AND d.acked_at IS NULL AND p.id = d.packet_id
      RETURNING d.id, d.packet_id, d.recipient, p.document_id
    ), e AS (
      INSERT INTO events (type, packet_id, delivery_id, document_id, agency, data)
      SELECT 'acked', packet_id, id, document_id, recipient, ${data}::jsonb FROM u
    )
    SELECT t.id, EXISTS (SELECT 1 FROM u) AS acked_now FROM target AS t`.execute(db);
  const row = rows[0];
  if (row === undefined) return 'not_found';
  return row.acked_now ? 'acked' : 'already_acked';
}
