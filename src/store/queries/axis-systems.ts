// The systems that call the axis-compatible API: looked up by systemid on every request (with their
// secret and their client's agencies), and managed by `edxgate axis-systems`.

import type { Kysely } from 'kysely';
import type { Database } from '../database.ts';

/** An enabled system of an enabled client, as authentication needs it. */
export interface AxisSystemIdentity {
  readonly systemid: string;
  /** The HMAC key of its requests. */
  readonly secret: string;
  readonly clientId: string;
  /** The agency codes it acts for (its client's). */
  readonly agencies: readonly string[];
  /**
   * A gateway's system (a peer): it acts for every agency the directory routes through this route,
   * and what waits for it are the deliveries on the route. Null for an office system.
   */
  readonly routeId: string | null;
}

/** The enabled system `systemid` whose client is enabled too, if any. */
export async function findAxisSystem(db: Kysely<Database>, systemid: string): Promise<AxisSystemIdentity | undefined> {
  const row = await db
    .selectFrom('axis_systems as s')
    .innerJoin('clients as c', 'c.id', 's.client_id')
    .select(['s.systemid', 's.secret', 's.client_id', 's.route_id', 'c.agency_codes'])
    .where('s.systemid', '=', systemid)
    .where('s.disabled_at', 'is', null)
    .where('c.disabled_at', 'is', null)
    .executeTakeFirst();
  return row === undefined ? undefined : { systemid: row.systemid, secret: row.secret, clientId: row.client_id, agencies: [...row.agency_codes], routeId: row.route_id };
}

/** One system as `axis-systems list` shows it (never its secret). */
export interface AxisSystemListing {
  readonly systemid: string;
  readonly clientId: string;
  readonly clientName: string;
  readonly agencies: readonly string[];
  readonly createdAt: Date;
  readonly disabledAt: Date | null;
  /** Whether its client is disabled (which disables the system too). */
  readonly clientDisabled: boolean;
  /** The peer route it is bound to (a gateway's system), or null. */
  readonly routeId: string | null;
}

/** Every system, oldest first. */
export async function listAxisSystems(db: Kysely<Database>): Promise<AxisSystemListing[]> {
  const rows = await db
    .selectFrom('axis_systems as s')
    .innerJoin('clients as c', 'c.id', 's.client_id')
    .select(['s.systemid', 's.client_id', 'c.name', 'c.agency_codes', 's.created_at', 's.disabled_at', 's.route_id', 'c.disabled_at as client_disabled_at'])
    .orderBy('s.created_at')
    .orderBy('s.systemid')
    .execute();
  return rows.map((r) => ({
    systemid: r.systemid,
    clientId: r.client_id,
    clientName: r.name,
    agencies: [...r.agency_codes],
    createdAt: r.created_at,
    disabledAt: r.disabled_at,
    clientDisabled: r.client_disabled_at !== null,
    routeId: r.route_id,
  }));
}

/** Adds a system; false when the systemid is taken (nothing written). */
export async function insertAxisSystem(
  db: Kysely<Database>,
  input: { readonly systemid: string; readonly secret: string; readonly clientId: string; readonly routeId?: string | undefined },
): Promise<boolean> {
  const inserted = await db
    .insertInto('axis_systems')
    .values({ systemid: input.systemid, secret: input.secret, client_id: input.clientId, route_id: input.routeId ?? null })
    .onConflict((oc) => oc.column('systemid').doNothing())
    .returning('systemid')
    .executeTakeFirst();
  return inserted !== undefined;
}

/** Disables a system: `disabled`, `already_disabled` (with when), or `not_found`. */
export async function disableAxisSystem(
  db: Kysely<Database>,
  systemid: string,
): Promise<{ readonly outcome: 'disabled' } | { readonly outcome: 'already_disabled'; readonly at: Date } | { readonly outcome: 'not_found' }> {
  const row = await db.selectFrom('axis_systems').select('disabled_at').where('systemid', '=', systemid).executeTakeFirst();
  if (row === undefined) return { outcome: 'not_found' };
  if (row.disabled_at !== null) return { outcome: 'already_disabled', at: row.disabled_at };
  await db.updateTable('axis_systems').set({ disabled_at: new Date() }).where('systemid', '=', systemid).where('disabled_at', 'is', null).execute();
  return { outcome: 'disabled' };
}
