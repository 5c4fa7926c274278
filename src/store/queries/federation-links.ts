// The links to other gateways and the route patterns, as stored (migration 0005_federation): what
// `edxgate routes` writes and lists, and what the federation harness sets up. The directory cache
// reads them back with load-directory.ts; nothing here knows directory rules beyond the schema's.

import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../database.ts';
import { insertAxisSystem } from './axis-systems.ts';

/** An upstream link: this gateway's credential at the upstream. */
export interface UpstreamInput {
  readonly id: string;
  /** The upstream's axis endpoint (its AXIS_PREFIX URL, or the national axis's service.endpoint). */
  readonly url: string;
  readonly systemid: string;
  readonly secret: string;
  /** The client what arrives over the link is admitted as (one is created when absent). */
  readonly clientId?: string | undefined;
}

/** A peer link: a gateway that takes its packets from this one. */
export interface PeerInput {
  readonly id: string;
  /** The peer's callback endpoint (…/v1/callbacks/axis): push; absent: the peer polls. */
  readonly url?: string | undefined;
  readonly systemid: string;
  readonly secret: string;
}

/** A client for a link: it carries no agencies of its own (a link acts for what the directory routes through it) and no usable token. */
async function linkClient(db: Kysely<Database>, name: string, tokenHash: string): Promise<string> {
  const id = randomUUID();
  await db.insertInto('clients').values({ id, name, token_hash: tokenHash, agency_codes: [] }).execute();
  return id;
}

/**
 * Adds an upstream route (kind axis), or with `replace` turns an existing route into it (the demo's
 * `upstream` inbox route, say). Returns false when the id is taken and `replace` is not set.
 */
export async function putUpstreamRoute(db: Kysely<Database>, input: UpstreamInput & { readonly replace?: boolean | undefined; readonly tokenHash: string }): Promise<boolean> {
  const existing = await db.selectFrom('routes').select(['id', 'client_id']).where('id', '=', input.id).executeTakeFirst();
  if (existing !== undefined && input.replace !== true) return false;
  const clientId = input.clientId ?? existing?.client_id ?? (await linkClient(db, `Upstream ${input.id}`, input.tokenHash));
  const row = { kind: 'axis' as const, url: input.url, systemid: input.systemid, secret: input.secret, client_id: clientId };
  if (existing === undefined) await db.insertInto('routes').values({ id: input.id, ...row }).execute();
  else await db.updateTable('routes').set(row).where('id', '=', input.id).execute();
  return true;
}

/**
 * Adds a peer route and the axis system bound to it (its systemid and secret: what the peer calls
 * this gateway with, and what pushes to it are signed with). False when the route id or the
 * systemid is taken (nothing written).
 */
export async function insertPeerRoute(db: Kysely<Database>, input: PeerInput & { readonly tokenHash: string }): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const taken = await trx.selectFrom('routes').select('id').where('id', '=', input.id).executeTakeFirst();
    if (taken !== undefined) return false;
    await trx.insertInto('routes').values({ id: input.id, kind: 'peer', url: input.url ?? null }).execute();
    const clientId = await linkClient(trx, `Peer ${input.id}`, input.tokenHash);
    if (!(await insertAxisSystem(trx, { systemid: input.systemid, secret: input.secret, clientId, routeId: input.id }))) {
      // Undo the route: a taken systemid leaves nothing behind.
      throw new SystemidTaken();
    }
    return true;
  }).catch((error: unknown) => {
    if (error instanceof SystemidTaken) return false;
    throw error;
  });
}

class SystemidTaken extends Error {}

/** Sets the route of a code pattern (null: local); replaces the pattern's earlier route. */
export async function putRoutePattern(db: Kysely<Database>, input: { readonly pattern: string; readonly routeId: string | null }): Promise<void> {
  await db
    .insertInto('route_patterns')
    .values({ pattern: input.pattern, route_id: input.routeId })
    .onConflict((oc) => oc.column('pattern').doUpdateSet({ route_id: input.routeId }))
    .execute();
}

/** Removes a pattern; false when there was none. */
export async function deleteRoutePattern(db: Kysely<Database>, pattern: string): Promise<boolean> {
  const deleted = await db.deleteFrom('route_patterns').where('pattern', '=', pattern).returning('pattern').executeTakeFirst();
  return deleted !== undefined;
}

/** One route as `routes list` shows it (never its secret). */
export interface RouteListing {
  readonly id: string;
  readonly kind: string;
  readonly url: string | null;
  /** axis: this gateway's systemid there; peer: the systemid of the peer's bound system. */
  readonly systemid: string | null;
  readonly hasSecret: boolean;
  /** How many agencies name it as their own route. */
  readonly agencies: number;
}

/** Every route, and every pattern (most recently added last). */
export async function listLinks(db: Kysely<Database>): Promise<{ readonly routes: readonly RouteListing[]; readonly patterns: readonly { readonly pattern: string; readonly routeId: string | null }[] }> {
  const routes = await db.selectFrom('routes').select(['id', 'kind', 'url', 'systemid', 'secret']).orderBy('id').execute();
  const systems = await db.selectFrom('axis_systems').select(['route_id', 'systemid']).where('route_id', 'is not', null).where('disabled_at', 'is', null).orderBy('created_at').execute();
  const counts = await db.selectFrom('agencies').select(['route_id', db.fn.countAll<number>().as('n')]).where('route_id', 'is not', null).groupBy('route_id').execute();
  const patterns = await db.selectFrom('route_patterns').select(['pattern', 'route_id']).orderBy('created_at').orderBy('pattern').execute();
  const systemOf = new Map(systems.map((s) => [s.route_id, s.systemid]));
  const countOf = new Map(counts.map((c) => [c.route_id, Number(c.n)]));
  return {
    routes: routes.map((r) => ({
      id: r.id,
      kind: r.kind,
      url: r.url,
      systemid: r.kind === 'peer' ? (systemOf.get(r.id) ?? null) : r.systemid,
      hasSecret: r.kind === 'peer' ? systemOf.has(r.id) : r.secret !== null && r.secret !== '',
      agencies: countOf.get(r.id) ?? 0,
    })),
    patterns: patterns.map((p) => ({ pattern: p.pattern, routeId: p.route_id })),
  };
}
