// Flags deliveries that passed their deadline while still waiting or in progress. A late delivery
// is flagged, counted and alerted, never dropped: it keeps its state and its retry policy
// (DESIGN, The 5-second budget). Safe to run on every node: each row is flagged once.

import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Database } from '../database.ts';

/** A delivery flagged late by this call. */
export interface LateDelivery {
  readonly deliveryId: string;
  readonly packetId: string;
  readonly recipient: string;
  readonly deadlineAt: Date;
}

/** Flags (late = true) every queued or delivering delivery past its deadline; returns those newly flagged. */
export async function markLateDeliveries(db: Kysely<Database>): Promise<LateDelivery[]> {
  const { rows } = await sql<{ id: string; packet_id: string; recipient: string; deadline_at: Date }>`
    WITH u AS (
      UPDATE deliveries AS d
      SET late = true
      FROM packets AS p
      WHERE d.state IN ('queued', 'delivering') AND NOT d.late AND d.deadline_at < now() AND p.id = d.packet_id
      RETURNING d.id, d.packet_id, d.recipient, d.deadline_at, d.state, d.attempts, p.document_id
    ), e AS (
      INSERT INTO events (type, packet_id, delivery_id, document_id, agency, data)
      SELECT 'deadline_missed', packet_id, id, document_id, recipient,
             jsonb_build_object('deadlineAt', deadline_at, 'state', state, 'attempts', attempts)
      FROM u
    )
    SELECT id, packet_id, recipient, deadline_at FROM u`.execute(db);
  return rows.map((r) => ({ deliveryId: r.id, packetId: r.packet_id, recipient: r.recipient, deadlineAt: r.deadline_at }));
}
