// A delivery attempt did not succeed. Either it is retried later (back to `queued` with a due
// time the delivery module computed: backoff with jitter) or, after the last allowed attempt or on
// a permanent refusal, it goes to the dead letter (`dead`), where an admin can re-queue it.

import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Database } from '../database.ts';
import { clipError } from './common.ts';

/** A failed attempt of a claim. */
export interface FailDeliveryInput {
  readonly deliveryId: string;
  /** The `attempt` the claim returned (fences out a worker whose lease was taken over). */
  readonly attempt: number;
  /** Why, for operators: kept in `last_error` (clipped) and in the event. */
  readonly error: string;
  /** Delay before the next attempt. */
  readonly retryInMs: number;
  /** At this many attempts the delivery is dead-lettered instead of retried. */
  readonly maxAttempts: number;
}

/** Where the failed delivery went. */
export type FailOutcome =
  | { readonly outcome: 'retry'; readonly nextAttemptAt: Date; readonly attempts: number }
  | { readonly outcome: 'dead'; readonly attempts: number };

interface Row {
  state: 'queued' | 'dead';
  attempts: number;
  next_attempt_at: Date;
}

/** Schedules a retry, or dead-letters after `maxAttempts`; undefined when the claim is no longer this worker's. */
export async function failDelivery(db: Kysely<Database>, input: FailDeliveryInput): Promise<FailOutcome | undefined> {
  const error = clipError(input.error);
  const { rows } = await sql<Row>`
    WITH u AS (
      UPDATE deliveries AS d
      SET state = CASE WHEN d.attempts >= ${input.maxAttempts} THEN 'dead' ELSE 'queued' END,
          next_attempt_at = CASE WHEN d.attempts >= ${input.maxAttempts} THEN d.next_attempt_at
                                 ELSE now() + make_interval(secs => ${Math.max(0, input.retryInMs)}::double precision / 1000) END,
          lease_until = NULL,
          last_error = ${error}
      FROM packets AS p
      WHERE d.id = ${input.deliveryId} AND d.state = 'delivering' AND d.attempts = ${input.attempt} AND p.id = d.packet_id
      RETURNING d.id, d.packet_id, d.recipient, d.state, d.attempts, d.next_attempt_at, p.document_id
    ), e AS (
      INSERT INTO events (type, packet_id, delivery_id, document_id, agency, data)
      SELECT CASE WHEN state = 'dead' THEN 'dead_lettered' ELSE 'delivery_failed' END, packet_id, id, document_id, recipient,
             jsonb_build_object('attempt', attempts, 'error', ${error}::text,
                                'nextAttemptAt', CASE WHEN state = 'dead' THEN NULL ELSE next_attempt_at END)
      FROM u
    )
    SELECT state, attempts, next_attempt_at FROM u`.execute(db);
  const row = rows[0];
  if (row === undefined) return undefined;
  return row.state === 'dead'
    ? { outcome: 'dead', attempts: row.attempts }
    : { outcome: 'retry', nextAttemptAt: row.next_attempt_at, attempts: row.attempts };
}

/** A permanent refusal (the adapter said `rejected`): straight to the dead letter. */
export interface DeadLetterInput {
  readonly deliveryId: string;
  readonly attempt: number;
  readonly error: string;
}

/** Dead-letters a claimed delivery now; false when the claim is no longer this worker's. */
export async function deadLetterDelivery(db: Kysely<Database>, input: DeadLetterInput): Promise<boolean> {
  // maxAttempts 0: every attempt count is "the last one".
  const result = await failDelivery(db, { ...input, retryInMs: 0, maxAttempts: 0 });
  return result !== undefined;
}
