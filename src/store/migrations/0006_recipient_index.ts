// document_recipients_recipient_idx gets the rest of the primary key behind `recipient`.
//
// On (recipient) alone it competed with the primary key for lookups by (document_id, sender,
// recipient): on a new gateway's first connections, whose generic plans (plan_cache_mode =
// force_generic_plan) were made while the table was empty and are kept for the connection's life,
// the automatic 01's update found its row through it and read every row of that recipient — 5,000
// index entries per 01 after a minute of the small bench, so Postgres CPU per packet grew with the
// table. With all three columns, either index finds the one row. Queries by recipient alone (reports,
// the event stream) use it as before.

import { sql } from 'kysely';
import type { Kysely } from 'kysely';

const UP: readonly string[] = [
  'DROP INDEX document_recipients_recipient_idx',
  'CREATE INDEX document_recipients_recipient_idx ON document_recipients (recipient, document_id, sender)',
];

const DOWN: readonly string[] = [
  'DROP INDEX document_recipients_recipient_idx',
  'CREATE INDEX document_recipients_recipient_idx ON document_recipients (recipient)',
];

/** Widens the recipient index to the whole key. */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of UP) await sql.raw(statement).execute(db);
}

/** Narrows it again (development only). */
export async function down(db: Kysely<unknown>): Promise<void> {
  for (const statement of DOWN) await sql.raw(statement).execute(db);
}
