// Authentication looks a client up by the sha256 of its bearer token; the token itself is never
// stored, so a leaked table does not leak credentials.

import type { Kysely } from 'kysely';
import type { Database } from '../database.ts';

/** An enabled client as authentication needs it. */
export interface ClientIdentity {
  readonly clientId: string;
  readonly name: string;
  /** The agency codes the client may act for. */
  readonly agencies: readonly string[];
}

/** The enabled client whose token hashes to `tokenHash` (lowercase hex sha256), if any. */
export async function findClientByTokenHash(db: Kysely<Database>, tokenHash: string): Promise<ClientIdentity | undefined> {
  if (!/^[0-9a-f]{64}$/.test(tokenHash)) return undefined;
  const row = await db
    .selectFrom('clients')
    .select(['id', 'name', 'agency_codes'])
    .where('token_hash', '=', tokenHash)
    .where('disabled_at', 'is', null)
    .executeTakeFirst();
  return row === undefined ? undefined : { clientId: row.id, name: row.name, agencies: [...row.agency_codes] };
}
