// The recipient acknowledges an inbox item: it has the packet and takes it from here. Only an
// agency the caller acts for can acknowledge its own deliveries; acking twice is not an error.

import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Database } from '../database.ts';
import { isUuid } from './common.ts';

/** `acked` now, `already_acked` before, or `not_found` (unknown, not delivered yet, or another agency's). */
export type AckOutcome = 'acked' | 'already_acked' | 'not_found';

/** Who acknowledges what. */
export interface AckDeliveryInput {
  readonly deliveryId: string;
  /** The agencies the caller may act for; the delivery's recipient must be one of them. */
  readonly agencies: readonly string[];
}

/** Acknowledges a delivered inbox item and appends an `acked` event. */
export async function ackDelivery(db: Kysely<Database>, input: AckDeliveryInput): Promise<AckOutcome> {
  if (!isUuid(input.deliveryId) || input.agencies.length === 0) return 'not_found';
  const agencies = sql.join(input.agencies.map((a) => sql`${a}`));
  const { rows } = await sql<{ id: string; acked_now: boolean }>`
    WITH target AS (
      SELECT id, acked_at FROM deliveries
      WHERE id = ${input.deliveryId} AND recipient IN (${agencies}) AND state = 'delivered'
    ), u AS (
      UPDATE deliveries AS d
      SET acked_at = now()
      FROM packets AS p
      WHERE d.id = ${input.deliveryId} AND d.recipient IN (${agencies}) AND d.state = 'delivered'
        AND d.acked_at IS NULL AND p.id = d.packet_id
      RETURNING d.id, d.packet_id, d.recipient, p.document_id
    ), e AS (
      INSERT INTO events (type, packet_id, delivery_id, document_id, agency, data)
      SELECT 'acked', packet_id, id, document_id, recipient, '{}'::jsonb FROM u
    )
    SELECT t.id, EXISTS (SELECT 1 FROM u) AS acked_now FROM target AS t`.execute(db);
  const row = rows[0];
  if (row === undefined) return 'not_found';
  return row.acked_now ? 'acked' : 'already_acked';
}
