// Directory sync (docs/federation.md): agencies read from a file or from an upstream's
// getAgenciesList, merged into the stored directory by src/agency/import.ts's rules (add and
// update, never delete; aliases kept for closed and merged codes; the route stays this gateway's
// decision) and written in one transaction, under the same lock as `edxgate agencies`.

import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { AxisClient } from '../adapters/axis/axis-client.ts';
import type { RouteConfig } from '../adapters/contract.ts';
import type { AgencyRecord } from '../agency/directory.ts';
import { planImport, readAgencyItems } from '../agency/import.ts';
import type { ImportPlan, ImportedAgency } from '../agency/import.ts';
import { EdxError, issue } from '../errors.ts';
import type { Database } from '../store/database.ts';

/** Serialises directory writes with `edxgate agencies` (the same number as its DIRECTORY_LOCK). */
export const DIRECTORY_LOCK = 4_715_023;

/** What an import did (or, with dryRun, would do). */
export type ImportSummary = Omit<ImportPlan, 'records'>;

function recordOf(row: { code: string; name: string; parent_code: string | null; state: AgencyRecord['state']; successor_code: string | null; route_id: string | null }): AgencyRecord {
  return {
    code: row.code,
    name: row.name,
    state: row.state,
    ...(row.parent_code === null ? {} : { parent: row.parent_code }),
    ...(row.successor_code === null ? {} : { successor: row.successor_code }),
    ...(row.route_id === null ? {} : { route: row.route_id }),
  };
}

/**
 * Merges `imported` into the stored directory in one transaction; throws EdxError when the merged
 * directory would break a directory rule (nothing is written then).
 */
export async function importAgencies(db: Kysely<Database>, imported: readonly ImportedAgency[], options: { readonly dryRun?: boolean | undefined } = {}): Promise<ImportSummary> {
  return db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(${DIRECTORY_LOCK})`.execute(trx);
    const rows = await trx.selectFrom('agencies').selectAll().orderBy('created_at').orderBy('code').execute();
    const planned = planImport(rows.map(recordOf), imported);
    if (!planned.ok) throw EdxError.fromIssues(planned.issues);
    const { records, ...summary } = planned.value;
    const changed = new Set([...summary.added, ...summary.updated, ...summary.aliased]);
    const writes = records.filter((r) => changed.has(r.code));
    if (options.dryRun !== true && writes.length > 0) {
      const now = new Date();
      // One statement in directory order (new codes get created_at in that order); successors are a
      // deferred foreign key, so a record may name one written later in the same statement.
      await trx
        .insertInto('agencies')
        .values(
          writes.map((r) => ({
            code: r.code,
            name: r.name,
            parent_code: r.parent ?? null,
            state: r.state,
            successor_code: r.successor ?? null,
            route_id: r.route ?? null,
          })),
        )
        .onConflict((oc) =>
          oc.column('code').doUpdateSet((eb) => ({
            name: eb.ref('excluded.name'),
            parent_code: eb.ref('excluded.parent_code'),
            state: eb.ref('excluded.state'),
            successor_code: eb.ref('excluded.successor_code'),
            updated_at: now,
          })),
        )
        .execute();
    }
    return summary;
  });
}

/**
 * Reads an upstream's getAgenciesList (the route's own credential) and imports it. Throws
 * EDX_ERR_UPSTREAM_UNAVAILABLE when no usable answer came, EDX_ERR_UPSTREAM_REFUSED when the
 * upstream said FAIL, EDX_ERR_AGENCY_IMPORT_INVALID when its list does not read.
 */
export async function syncAgenciesFromUpstream(
  db: Kysely<Database>,
  route: RouteConfig,
  options: { readonly timeoutMs: number; readonly clock?: (() => Date) | undefined; readonly dryRun?: boolean | undefined },
): Promise<ImportSummary> {
  if (route.kind !== 'axis' || route.url === undefined || route.systemid === undefined || route.secret === undefined) {
    throw new EdxError('EDX_ERR_ROUTE_UNKNOWN', `route ${route.id} is not an upstream (an axis route with URL, systemid and secret).`, [
      issue('EDX_ERR_ROUTE_UNKNOWN', 'ROUTE', `Route ${route.id} is a ${route.kind} route; agencies are synced from an upstream.`, route.id),
    ]);
  }
  const client = new AxisClient({ endpoint: route.url, systemid: route.systemid, secret: route.secret, clock: options.clock ?? (() => new Date()) });
  try {
    const answer = await client.agencies(options.timeoutMs);
    if (!answer.ok) {
      throw new EdxError('EDX_ERR_UPSTREAM_UNAVAILABLE', `getAgenciesList at ${route.url}: ${answer.reason}.`, [
        issue('EDX_ERR_UPSTREAM_UNAVAILABLE', 'ROUTE', `The upstream ${route.id} gave no axis reply (${answer.failure}): ${answer.reason}.`, route.id),
      ]);
    }
    if (answer.reply.status !== 'OK') {
      throw new EdxError('EDX_ERR_UPSTREAM_REFUSED', `getAgenciesList at ${route.url}: ${answer.reply.errorCode} ${answer.reply.errorDesc}`, [
        issue('EDX_ERR_UPSTREAM_REFUSED', 'ROUTE', `The upstream ${route.id} answered ${answer.reply.errorCode}: ${answer.reply.errorDesc}`, route.id),
      ]);
    }
    const data = answer.reply.fields['data'];
    const read = readAgencyItems(Array.isArray(data) ? data : [], 'data');
    if (!read.ok) throw EdxError.fromIssues(read.issues);
    return await importAgencies(db, read.value, { dryRun: options.dryRun });
  } finally {
    client.close();
  }
}
