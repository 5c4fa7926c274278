// The queue as the metrics see it at scrape time. Only rows not yet delivered are counted: they are
// few and served by the partial claim index, whereas counting `delivered` would scan the whole
// history on every scrape (the delivered total is the latency histogram's _count).

import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Database } from '../database.ts';

/** Counts by state, queue depth and the age of the oldest undelivered delivery. */
export interface QueueStats {
  readonly byState: { readonly queued: number; readonly delivering: number; readonly dead: number };
  /** queued + delivering. */
  readonly depth: number;
  /** Seconds since the oldest queued or delivering delivery was admitted; 0 when there is none. */
  readonly oldestUndeliveredAgeSeconds: number;
  /**
   * Seconds the longest-waiting due delivery has waited for a worker (since admission or its retry
   * time); 0 when none is due. Retries still to come and deliveries in flight do not count: this is
   * how far the workers of all nodes are behind, not how slow a recipient is.
   */
  readonly oldestDueWaitSeconds: number;
}

/** Reads the queue statistics in one query. */
export async function queueStats(db: Kysely<Database>): Promise<QueueStats> {
  const { rows } = await sql<{ state: string; n: number; age: number | null; due_wait: number | null }>`
    SELECT state, count(*)::integer AS n,
           extract(epoch FROM now() - min(created_at))::double precision AS age,
           extract(epoch FROM now() - min(next_attempt_at) FILTER (WHERE next_attempt_at <= now()))::double precision AS due_wait
    FROM deliveries
    WHERE state <> 'delivered'
    GROUP BY state`.execute(db);
  const byState = { queued: 0, delivering: 0, dead: 0 };
  let oldest = 0;
  let dueWait = 0;
  for (const row of rows) {
    if (row.state === 'queued' || row.state === 'delivering') {
      byState[row.state] = row.n;
      oldest = Math.max(oldest, row.age ?? 0);
      if (row.state === 'queued') dueWait = Math.max(0, row.due_wait ?? 0);
    } else if (row.state === 'dead') byState.dead = row.n;
  }
  return { byState, depth: byState.queued + byState.delivering, oldestUndeliveredAgeSeconds: oldest, oldestDueWaitSeconds: dueWait };
}
