// A delivery attempt succeeded: the adapter acknowledged it (push) or the packet is in the inbox
// (pull). Records the end-to-end latency against the packet's arrival and whether it was late, and
// appends a `delivered` event, in one statement.

import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Database } from '../database.ts';

/** Which claim is being completed. */
export interface CompleteDeliveryInput {
  readonly deliveryId: string;
  /** The `attempt` the claim returned: a worker whose lease was taken over cannot complete. */
  readonly attempt: number;
  /** This attempt's stage durations in ms (due → claimed, the adapter's call), kept in the event. */
  readonly stageTimings?: { readonly waitToClaim: number; readonly deliver: number } | undefined;
  /** The recipient acknowledged it with its answer (another gateway): acked_at is stamped too. */
  readonly acknowledged?: boolean | undefined;
}

/** What completion recorded. */
export interface CompletedDelivery {
  readonly deliveryId: string;
  readonly packetId: string;
  readonly recipient: string;
  readonly deliveredAt: Date;
  /** From the sender's request arriving to now. */
  readonly latencyMs: number;
  readonly late: boolean;
  /** Late, and not flagged before (by markLateDeliveries): count one deadline miss. */
  readonly newlyLate: boolean;
}

interface Row {
  id: string;
  packet_id: string;
  recipient: string;
  delivered_at: Date;
  latency_ms: number;
  late: boolean;
  was_late: boolean;
}

/** Marks a claimed delivery delivered; undefined when the claim is no longer this worker's. */
export async function completeDelivery(db: Kysely<Database>, input: CompleteDeliveryInput): Promise<CompletedDelivery | undefined> {
  // `before` is the row as this statement's snapshot saw it, so RETURNING can tell whether this
  // completion is what made it late. A concurrent markLateDeliveries could make both count the
  // same miss; the counter may then read one high, never low.
  const { rows } = await sql<Row>`
    WITH u AS (
      UPDATE deliveries AS d
      SET state = 'delivered',
          delivered_at = now(),
          acked_at = CASE WHEN ${input.acknowledged === true} THEN now() ELSE d.acked_at END,
          lease_until = NULL,
          last_error = NULL,
          latency_ms = greatest(0, round(extract(epoch FROM now() - p.received_at) * 1000))::integer,
          late = d.late OR now() > d.deadline_at
      FROM packets AS p, deliveries AS before
      WHERE d.id = ${input.deliveryId} AND d.state = 'delivering' AND d.attempts = ${input.attempt}
        AND p.id = d.packet_id AND before.id = d.id
      RETURNING d.id, d.packet_id, d.recipient, d.delivered_at, d.latency_ms, d.late, before.late AS was_late,
                d.attempts, p.document_id
    ), e AS (
      INSERT INTO events (type, packet_id, delivery_id, document_id, agency, data)
      SELECT 'delivered', packet_id, id, document_id, recipient,
             jsonb_build_object('attempt', attempts, 'latencyMs', latency_ms, 'late', late)
               || ${JSON.stringify(input.stageTimings === undefined ? {} : { stageTimings: input.stageTimings })}::jsonb
      FROM u
    )
    SELECT id, packet_id, recipient, delivered_at, latency_ms, late, was_late FROM u`.execute(db);
  const row = rows[0];
  if (row === undefined) return undefined;
  return {
    deliveryId: row.id,
    packetId: row.packet_id,
    recipient: row.recipient,
    deliveredAt: row.delivered_at,
    latencyMs: row.latency_ms,
    late: row.late,
    newlyLate: row.late && !row.was_late,
  };
}
