// Puts a claimed delivery back without counting an attempt: the worker did not try it (the route's
// circuit is open, its route already has as many deliveries in flight on this node as allowed, or the
// adapter is not running because this node is shutting down). Counting such
// claims would dead-letter packets for reasons that have nothing to do with the recipient.

import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Database } from '../database.ts';
import { clipError } from './common.ts';

/** Which claim to release, and when it is due again. */
export interface DeferDeliveryInput {
  readonly deliveryId: string;
  /** The `attempt` the claim returned (fences out a worker whose lease was taken over). */
  readonly attempt: number;
  /**
   * Due again after this delay. Undefined keeps the due time it had: a delivery put back only
   * because its route is at its limit has been waiting all along, and the queue-wait budget
   * (src/gateway/backpressure.ts) must go on counting that wait — reset, it hid the backlog of a
   * busy route and the node admitted packets it then delivered late (medium at 200/s: 913 late).
   */
  readonly delayMs?: number | undefined;
  /** Why it was not attempted, kept in `last_error` for operators; undefined keeps the last attempt's error. */
  readonly reason?: string | undefined;
}

/** Returns the claim to the queue with its attempt count restored; false when the claim is no longer this worker's. */
export async function deferDelivery(db: Kysely<Database>, input: DeferDeliveryInput): Promise<boolean> {
  const delaySeconds = input.delayMs === undefined ? null : Math.max(0, input.delayMs) / 1000;
  const reason = input.reason === undefined ? null : clipError(input.reason);
  const { rows } = await sql<{ id: string }>`
    UPDATE deliveries
    SET state = 'queued',
        attempts = attempts - 1,
        next_attempt_at = CASE WHEN ${delaySeconds}::double precision IS NULL THEN next_attempt_at
                               ELSE now() + make_interval(secs => ${delaySeconds}::double precision) END,
        lease_until = NULL,
        last_error = COALESCE(${reason}::text, last_error)
    WHERE id = ${input.deliveryId} AND state = 'delivering' AND attempts = ${input.attempt}
    RETURNING id`.execute(db);
  return rows.length > 0;
}
