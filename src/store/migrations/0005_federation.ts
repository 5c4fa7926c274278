// Federation (issue 6): this gateway's links to other gateways, and routing by code pattern.
//
// - An `axis` route is an upstream (the national axis, or another edxgate answering its API): the
//   gateway sends to it with sendEdoc under its own `systemid` and `secret` there, polls it, and
//   takes its callbacks. `client_id` names the client that packets arriving over the link are
//   admitted as (the upstream acts for the agencies the directory routes through it).
// - A `peer` route is a gateway that takes its packets from this one: pushed to its callback URL
//   (`url`), or, without a URL, left for it to fetch through the axis-compatible API with the axis
//   system bound to the route (`axis_systems.route_id`), whose systemid and secret also sign the
//   pushes — one credential per link, held once on each side.
// - `route_patterns` route the agencies that have no route of their own by code pattern
//   (`*.H47` local, `*` upstream); a NULL route_id means local (the inbox).

import { sql } from 'kysely';
import type { Kysely } from 'kysely';

const UP: readonly string[] = [
  `ALTER TABLE routes ADD COLUMN systemid text CHECK (systemid IS NULL OR systemid ~ '^[A-Za-z0-9._:-]{1,100}$')`,
  `ALTER TABLE routes ADD COLUMN client_id uuid REFERENCES clients (id)`,
  // A peer that pulls has no URL; every other kind but the inbox still needs one.
  `ALTER TABLE routes DROP CONSTRAINT routes_check`,
  `ALTER TABLE routes ADD CONSTRAINT routes_url_check CHECK (kind IN ('inbox', 'peer') OR url IS NOT NULL)`,
  `ALTER TABLE routes ADD CONSTRAINT routes_axis_check CHECK (kind <> 'axis' OR (systemid IS NOT NULL AND secret IS NOT NULL AND client_id IS NOT NULL))`,
  // The callback endpoint finds the upstream by the systemid it signs with.
  `CREATE UNIQUE INDEX routes_axis_systemid_idx ON routes (systemid) WHERE kind = 'axis'`,
  `ALTER TABLE axis_systems ADD COLUMN route_id text REFERENCES routes (id)`,
  `CREATE INDEX axis_systems_route_id_idx ON axis_systems (route_id) WHERE route_id IS NOT NULL`,
  `CREATE TABLE route_patterns (
    pattern text PRIMARY KEY CHECK (pattern ~ '^[A-Za-z0-9._*-]{1,100}$'),
    route_id text REFERENCES routes (id),
    created_at timestamptz NOT NULL DEFAULT now()
  )`,
  // What a peer that pulls has waiting: available, not yet taken, on its route. Partial, so the
  // index holds only what waits (an ever-growing history would make every poll slower); inbox
  // routes never enter it, their agencies' systems list by recipient (deliveries_inbox_idx).
  // acked_at in the predicate makes an acknowledgement a non-HOT update (it writes index entries),
  // the price of a poll that reads only waiting rows.
  `CREATE INDEX deliveries_route_waiting_idx ON deliveries (route_id, seq)
    WHERE state = 'delivered' AND acked_at IS NULL AND route_id <> 'inbox'`,
];

const DOWN: readonly string[] = [
  'DROP INDEX deliveries_route_waiting_idx',
  'DROP TABLE route_patterns',
  'DROP INDEX axis_systems_route_id_idx',
  'ALTER TABLE axis_systems DROP COLUMN route_id',
  'DROP INDEX routes_axis_systemid_idx',
  'ALTER TABLE routes DROP CONSTRAINT routes_axis_check',
  'ALTER TABLE routes DROP CONSTRAINT routes_url_check',
  `ALTER TABLE routes ADD CONSTRAINT routes_check CHECK (kind = 'inbox' OR url IS NOT NULL)`,
  'ALTER TABLE routes DROP COLUMN client_id',
  'ALTER TABLE routes DROP COLUMN systemid',
];

/** Adds the gateway links and the route patterns. */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of UP) await sql.raw(statement).execute(db);
}

/** Removes them again (development only). */
export async function down(db: Kysely<unknown>): Promise<void> {
  for (const statement of DOWN) await sql.raw(statement).execute(db);
}
