// The directory as stored: every agency, every route, the route patterns and the systems bound to
// peer routes, read together so a snapshot built from them is consistent (a route an agency or a
// pattern names is in the same read). The gateway turns the rows into an AgencyDirectory snapshot;
// the store itself knows nothing of directory rules.

import type { Kysely } from 'kysely';
import type { AgencyRow, Database, RouteRow } from '../database.ts';

/** A pattern row. */
export interface RoutePatternRow {
  readonly pattern: string;
  readonly routeId: string | null;
}

/** The enabled axis system bound to a peer route: the link's credential and client. */
export interface PeerSystemRow {
  readonly routeId: string;
  readonly systemid: string;
  readonly secret: string;
  readonly clientId: string;
}

/** All agencies (in insertion order), all routes, the patterns and the peer systems. */
export interface DirectoryRows {
  readonly agencies: readonly AgencyRow[];
  readonly routes: readonly RouteRow[];
  readonly patterns: readonly RoutePatternRow[];
  /** At most one per route: the newest enabled system of an enabled client. */
  readonly peerSystems: readonly PeerSystemRow[];
}

/** Reads the whole directory in one repeatable-read transaction. */
export async function loadDirectory(db: Kysely<Database>): Promise<DirectoryRows> {
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute(async (trx) => {
      // created_at then code: a stable order, the order records were added in.
      const agencies = await trx.selectFrom('agencies').selectAll().orderBy('created_at').orderBy('code').execute();
      const routes = await trx.selectFrom('routes').selectAll().orderBy('id').execute();
      const patterns = await trx.selectFrom('route_patterns').select(['pattern', 'route_id']).orderBy('pattern').execute();
      const systems = await trx
        .selectFrom('axis_systems as s')
        .innerJoin('clients as c', 'c.id', 's.client_id')
        .select(['s.route_id', 's.systemid', 's.secret', 's.client_id'])
        .where('s.route_id', 'is not', null)
        .where('s.disabled_at', 'is', null)
        .where('c.disabled_at', 'is', null)
        .orderBy('s.created_at', 'desc')
        .orderBy('s.systemid')
        .execute();
      const peerSystems = new Map<string, PeerSystemRow>();
      for (const s of systems) {
        if (s.route_id !== null && !peerSystems.has(s.route_id)) peerSystems.set(s.route_id, { routeId: s.route_id, systemid: s.systemid, secret: s.secret, clientId: s.client_id });
      }
      return { agencies, routes, patterns: patterns.map((p) => ({ pattern: p.pattern, routeId: p.route_id })), peerSystems: [...peerSystems.values()] };
    });
}
