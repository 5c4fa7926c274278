// The admin way out of the dead letter: a dead delivery goes back to the queue with a fresh attempt
// budget, due now, and the workers are woken.

import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { DELIVERIES_CHANNEL } from '../channels.ts';
import type { Database } from '../database.ts';
import { isUuid } from './common.ts';

/** `requeued`, or why not: no such delivery, or it is not dead. */
export type RequeueOutcome = 'requeued' | 'not_found' | 'not_dead';

/** Re-queues a dead delivery (attempts reset to 0); `by` names who asked, for the event. */
export async function requeueDelivery(db: Kysely<Database>, input: { readonly deliveryId: string; readonly by?: string }): Promise<RequeueOutcome> {
  if (!isUuid(input.deliveryId)) return 'not_found';
  return db.transaction().execute(async (trx) => {
    const { rows } = await sql<{ id: string }>`
      WITH before AS (
        SELECT id, attempts FROM deliveries WHERE id = ${input.deliveryId} AND state = 'dead' FOR UPDATE
      ), u AS (
        UPDATE deliveries AS d
        SET state = 'queued', attempts = 0, next_attempt_at = now(), lease_until = NULL
        FROM before, packets AS p
        WHERE d.id = before.id AND p.id = d.packet_id
        RETURNING d.id, d.packet_id, d.recipient, p.document_id, before.attempts AS previous_attempts
      ), e AS (
        INSERT INTO events (type, packet_id, delivery_id, document_id, agency, data)
        SELECT 'requeued', packet_id, id, document_id, recipient,
               jsonb_build_object('previousAttempts', previous_attempts, 'by', ${input.by ?? null}::text)
        FROM u
      )
      SELECT id FROM u`.execute(trx);
    if (rows.length === 0) {
      const exists = await trx.selectFrom('deliveries').select('id').where('id', '=', input.deliveryId).executeTakeFirst();
      return exists === undefined ? 'not_found' : 'not_dead';
    }
    await sql`select pg_notify(${DELIVERIES_CHANNEL}, '')`.execute(trx);
    return 'requeued';
  });
}
