// A fresh, migrated database for one test: real Postgres when DATABASE_URL is set (CI), otherwise a
// fresh PGlite in a temp folder. On Postgres each call creates its own database through a
// maintenance connection and drops it at teardown, so test files never see each other's rows.

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { loadConfig } from '../../src/config/load.ts';
import type { Config, ConfigInput } from '../../src/config/schema.ts';
import { migrateToLatest } from '../../src/store/migrate.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store, StoreDialect } from '../../src/store/open-store.ts';

/** The part of a tap test the helper needs (structural, so any tap version fits). */
export interface Teardown {
  teardown(fn: () => unknown): void;
}

/** Options of `testDatabase`. */
export interface TestDatabaseOptions {
  /** Force a kind; `postgres` without DATABASE_URL throws (check `postgresAvailable()` first). */
  readonly kind?: StoreDialect;
  /** Apply the migrations (default true). */
  readonly migrate?: boolean;
  /** Part of the database name (default: the test file's name). */
  readonly name?: string;
  /** Config overrides (store.databaseUrl and store.dataDir are set by the helper). */
  readonly config?: ConfigInput;
}

/** A database for one test, closed and removed at teardown. */
export interface TestDatabase {
  readonly store: Store;
  readonly kind: StoreDialect;
  readonly config: Config;
  /** The temp folder used as DATA_DIR (payload files, and PGlite's data). */
  readonly dataDir: string;
  /** The Postgres connection URL of the test database (postgres kind only). */
  readonly databaseUrl: string | undefined;
  /** Opens another store on the same database, e.g. a second "node" (Postgres only); closed at teardown too. */
  openAnother(): Promise<Store>;
  /** Empties every table (identities restart), so subtests can share one database: a fresh PGlite costs seconds. */
  truncate(): Promise<void>;
}

/** The kind tests run on by default: postgres when DATABASE_URL is set. */
export function selectedKind(): StoreDialect {
  return process.env.DATABASE_URL ? 'postgres' : 'pglite';
}

/** True when DATABASE_URL is set, i.e. Postgres-only tests can run. */
export function postgresAvailable(): boolean {
  return Boolean(process.env.DATABASE_URL);
}

function slug(text: string): string {
  return text.toLowerCase().replace(/\.test\.[cm]?[jt]s$/, '').replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '').slice(0, 30) || 'test';
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** Creates a fresh database of the selected (or forced) kind for this test. */
export async function testDatabase(t: Teardown, options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const kind = options.kind ?? selectedKind();
  const dataDir = await mkdtemp(join(tmpdir(), 'edxgate-test-'));
  const stores: Store[] = [];
  let databaseUrl: string | undefined;
  let dropDatabase: (() => Promise<void>) | undefined;

  if (kind === 'postgres') {
    const base = process.env.DATABASE_URL;
    if (!base) throw new Error('testDatabase({ kind: "postgres" }) needs DATABASE_URL');
    const name = `edxgate_test_${slug(options.name ?? basename(process.argv[1] ?? 'test'))}_${randomBytes(4).toString('hex')}`;
    const maintenance = new pg.Client({ connectionString: withDatabase(base, 'postgres') });
    await maintenance.connect();
    try {
      await maintenance.query(`CREATE DATABASE "${name}"`);
    } finally {
      await maintenance.end();
    }
    databaseUrl = withDatabase(base, name);
    dropDatabase = async () => {
      const client = new pg.Client({ connectionString: withDatabase(base, 'postgres') });
      await client.connect();
      try {
        // FORCE (Postgres 13+): a connection a failed test left open must not keep the database.
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    };
  }

  const loaded = loadConfig({
    env: {},
    files: [],
    overrides: {
      ...options.config,
      store: { ...options.config?.store, dataDir, databaseUrl: databaseUrl ?? null },
    },
  });
  if (!loaded.ok) throw new Error(`test config invalid: ${loaded.issues.map((i) => i.message).join('; ')}`);
  const config = loaded.value;

  t.teardown(async () => {
    for (const s of stores.reverse()) await s.close().catch(() => undefined);
    await dropDatabase?.();
    await rm(dataDir, { recursive: true, force: true });
  });

  const open = async (): Promise<Store> => {
    // PGlite is single-process: a second instance on the same folder would corrupt it.
    if (kind === 'pglite' && stores.length > 0) throw new Error('openAnother() needs Postgres: PGlite allows one instance per folder');
    const store = await openStore(config);
    stores.push(store);
    return store;
  };
  const store = await open();
  if (options.migrate ?? true) await migrateToLatest(store.db);
  const truncate = async (): Promise<void> => {
    const { rows } = await sql<{ tablename: string }>`
      SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename NOT LIKE 'edxgate_migration%'`.execute(store.db);
    if (rows.length === 0) return;
    const tables = rows.map((r) => `"${r.tablename}"`).join(', ');
    await sql.raw(`TRUNCATE ${tables} RESTART IDENTITY CASCADE`).execute(store.db);
  };
  return { store, kind, config, dataDir, databaseUrl, openAnother: open, truncate };
}
