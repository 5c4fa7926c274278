// The directory as stored: every agency and every route, read together so a snapshot built from
// them is consistent (a route an agency names is in the same read). The gateway turns the rows into
// an AgencyDirectory snapshot; the store itself knows nothing of directory rules.

import type { Kysely } from 'kysely';
import type { AgencyRow, Database, RouteRow } from '../database.ts';

/** All agencies (in insertion order) and all routes. */
export interface DirectoryRows {
  readonly agencies: readonly AgencyRow[];
  readonly routes: readonly RouteRow[];
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
      return { agencies, routes };
    });
}
