// The `admit` stage of packets already admitted, added to their stage_timings afterwards. The stage
// includes the admitting COMMIT, so it cannot be written by the statement it times; and a second
// statement per request would put a round trip on the hot path for an observation. The recorder
// (src/pipeline/admit-timings.ts) batches them into this one statement instead.

import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Database } from '../database.ts';

/** One packet's admit duration. */
export interface AdmitTiming {
  readonly packetId: string;
  /** Milliseconds from the start of admission to its COMMIT. */
  readonly admitMs: number;
}

/** Sets `admit` in the stage timings of each packet (an id that names no packet is skipped). */
export async function recordAdmitTimings(db: Kysely<Database>, timings: readonly AdmitTiming[]): Promise<void> {
  if (timings.length === 0) return;
  // Two array parameters rather than a VALUES list: the statement text is the same for any batch
  // size, so it is prepared once (DATABASE_PREPARED_STATEMENTS) instead of once per size.
  // A packet id seen twice in a batch would make the UPDATE ambiguous about which value wins; the
  // recorder never sends one twice, and DISTINCT ON keeps the statement well-defined if it did.
  await sql`
    UPDATE packets AS p
    SET stage_timings = p.stage_timings || jsonb_build_object('admit', v.ms)
    FROM (SELECT DISTINCT ON (id) id, ms
          FROM unnest(${timings.map((t) => t.packetId)}::uuid[], ${timings.map((t) => t.admitMs)}::float8[]) AS u(id, ms)) AS v
    WHERE p.id = v.id`.execute(db);
}
