// Applies and reports the numbered migrations; the same list runs on Postgres and on PGlite.
// Used at start (app), by `edxgate migrate` and by /health (migrations current?).

import { Migrator } from 'kysely';
import type { Kysely } from 'kysely';
import { EdxError } from '../errors.ts';
import { MIGRATIONS } from './migrations/index.ts';

// Fixed forever: kysely finds applied migrations by these table names.
const MIGRATION_TABLE = 'edxgate_migration';
const MIGRATION_LOCK_TABLE = 'edxgate_migration_lock';

function migrator<DB>(db: Kysely<DB>): Migrator {
  return new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve({ ...MIGRATIONS }) },
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
  });
}

/** Where the database stands against the migrations this build carries. */
export interface MigrationStatus {
  /** The last applied migration, or null on an empty database. */
  readonly current: string | null;
  /** Migrations this build carries that the database has not applied, in order. */
  readonly pending: readonly string[];
  /** Every migration this build carries, with when it was applied. */
  readonly migrations: readonly { readonly name: string; readonly appliedAt: Date | null }[];
}

/** Reports applied and pending migrations without changing anything. */
export async function migrationStatus<DB>(db: Kysely<DB>): Promise<MigrationStatus> {
  const infos = await migrator(db).getMigrations();
  const migrations = infos.map((m) => ({ name: m.name, appliedAt: m.executedAt ?? null }));
  const applied = migrations.filter((m) => m.appliedAt !== null);
  return {
    current: applied.length > 0 ? (applied[applied.length - 1]?.name ?? null) : null,
    pending: migrations.filter((m) => m.appliedAt === null).map((m) => m.name),
    migrations,
  };
}

/**
 * Applies every pending migration, in order, in one transaction (kysely takes an advisory lock, so
 * several nodes starting together apply them once). Returns the names applied; throws
 * EDX_ERR_STORE_MIGRATION_FAILED naming the migration that failed.
 */
export async function migrateToLatest<DB>(db: Kysely<DB>): Promise<readonly string[]> {
  const { error, results } = await migrator(db).migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    const reason = error instanceof Error ? error.message : String(error);
    const wrapped = new EdxError('EDX_ERR_STORE_MIGRATION_FAILED', `${failed ?? 'before any migration ran'}: ${reason}`);
    wrapped.cause = error;
    throw wrapped;
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
