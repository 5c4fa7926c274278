// The demo data of a fresh gateway (DESIGN, Demo data): on an EMPTY database — no agencies and no
// clients — the demo directory and one client per demo agency, so `npm start` on a bare machine can
// exchange packets at once. Each token is returned once, to be printed once; only its hash is stored.

import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { demoDirectory } from '../agency/demo.ts';
import type { Database } from '../store/database.ts';
import { tokenHash } from './client-auth.ts';

/** A client created by the seed, with its token in clear (shown once). */
export interface SeededClient {
  readonly agency: string;
  readonly agencyName: string;
  readonly clientId: string;
  readonly token: string;
}

/** The route id the demo gives Văn phòng Chính phủ ("reached upstream"). */
export const UPSTREAM_ROUTE_ID = 'upstream';
// Any fixed number works; it only has to be the same on every node that may seed at once.
const SEED_LOCK = 4_715_022;

/** A new random client token (`edx_` + 32 random bytes, base64url) and its stored hash. */
export function newClientToken(): { readonly token: string; readonly hash: string } {
  const token = `edx_${randomBytes(32).toString('base64url')}`;
  return { token, hash: tokenHash(token) };
}

/** Seeds the demo directory and clients when the database holds no agency and no client; undefined otherwise. */
export async function seedDemoIfEmpty(db: Kysely<Database>): Promise<readonly SeededClient[] | undefined> {
  return db.transaction().execute(async (trx) => {
    // Two nodes starting together on a fresh database: one seeds, the other then sees it is not empty.
    await sql`SELECT pg_advisory_xact_lock(${SEED_LOCK})`.execute(trx);
    const agencies = await trx.selectFrom('agencies').select(sql<number>`count(*)::integer`.as('n')).executeTakeFirstOrThrow();
    const clients = await trx.selectFrom('clients').select(sql<number>`count(*)::integer`.as('n')).executeTakeFirstOrThrow();
    if (agencies.n > 0 || clients.n > 0) return undefined;

    // The axis adapter is a later issue: until it exists, packets for VPCP wait in its inbox (its
    // demo client can pull them); pointing the route at the axis later needs no data migration.
    await trx.insertInto('routes').values({ id: UPSTREAM_ROUTE_ID, kind: 'inbox' }).execute();
    // Through the directory so the records get their implied parents and pass the directory rules.
    const records = demoDirectory().list();
    await trx
      .insertInto('agencies')
      .values(
        records.map((r) => ({
          code: r.code,
          name: r.name,
          parent_code: r.parent ?? null,
          state: r.state,
          successor_code: r.successor ?? null,
          route_id: r.route ?? null,
        })),
      )
      .execute();

    const seeded: SeededClient[] = records.map((r) => ({ agency: r.code, agencyName: r.name, clientId: randomUUID(), token: newClientToken().token }));
    await trx
      .insertInto('clients')
      .values(seeded.map((c) => ({ id: c.clientId, name: `Demo: ${c.agencyName}`, token_hash: tokenHash(c.token), agency_codes: [c.agency] })))
      .execute();
    return seeded;
  });
}
