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
  readonly delayMs: number;
  /** Why it was not attempted, kept in `last_error` for operators. */
  readonly reason: string;
}

/** Returns the claim to the queue with its attempt count restored; false when the claim is no longer this worker's. */
export async function deferDelivery(db: Kysely<Database>, input: DeferDeliveryInput): Promise<boolean> {
  const { rows } = await sql<{ id: string }>`
    UPDATE deliveries
    SET state = 'queued',
        attempts = attempts - 1,
        next_attempt_at = now() + make_interval(secs => ${Math.max(0, input.delayMs)}::double precision / 1000),
        lease_until = NULL,
        last_error = ${clipError(input.reason)}
    WHERE id = ${input.deliveryId} AND state = 'delivering' AND attempts = ${input.attempt}
    RETURNING id`.execute(db);
  return rows.length > 0;
}
