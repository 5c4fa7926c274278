// The axis-compatible API (issue 6): the systems that call it with the national axis SDK. A system
// is the SDK's `systemid` and `secret`; it acts for the agencies of one client, so everything it
// sends or reads is authorised exactly as that client's bearer token would be.

import { sql } from 'kysely';
import type { Kysely } from 'kysely';

const UP: readonly string[] = [
  // The secret is kept in clear: it is an HMAC key, which the gateway needs to recompute every
  // request's hash-header (a hash of it would be useless). The systemid's characters are those a
  // header value and the SDK's properties file carry without escaping.
  `CREATE TABLE axis_systems (
    systemid text PRIMARY KEY CHECK (systemid ~ '^[A-Za-z0-9._:-]{1,100}$'),
    secret text NOT NULL CHECK (length(secret) >= 16),
    client_id uuid NOT NULL REFERENCES clients (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    disabled_at timestamptz
  )`,
  `CREATE INDEX axis_systems_client_id_idx ON axis_systems (client_id)`,
  // getSentEdocList: a sender's packets, newest first. Without it the listing of a sender that
  // sends rarely would walk the whole received_at index back to its packets.
  `CREATE INDEX packets_sender_received_at_idx ON packets (sender, received_at)`,
];

const DOWN: readonly string[] = ['DROP INDEX packets_sender_received_at_idx', 'DROP TABLE axis_systems'];

/** Creates the axis systems table. */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of UP) await sql.raw(statement).execute(db);
}

/** Drops it again (development only). */
export async function down(db: Kysely<unknown>): Promise<void> {
  for (const statement of DOWN) await sql.raw(statement).execute(db);
}
