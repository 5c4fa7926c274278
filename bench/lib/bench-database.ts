// The database of one benchmark run: a fresh Postgres database (created next to the one DATABASE_URL
// names, dropped afterwards) or, without DATABASE_URL, a fresh embedded one in a temp folder. It is
// migrated and seeded with the demo directory, and one agency is routed to a webhook.

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { loadConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { seedDemoIfEmpty } from '../../src/gateway/demo-seed.ts';
import { migrateToLatest } from '../../src/store/migrate.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store, StoreDialect } from '../../src/store/open-store.ts';

/** A seeded database for a run. */
export interface BenchDatabase {
  readonly kind: StoreDialect;
  /** The environment that points a gateway at it (DATABASE_URL or DATA_DIR). */
  readonly env: Readonly<Record<string, string>>;
  /** The demo client token of `sender`. */
  readonly token: string;
  /** Postgres server version, or the PGlite note. */
  readonly serverVersion: string;
  /**
   * Pids of the Postgres processes working for this run: the client backends connected to its
   * database and the server's background processes (WAL writer, checkpointer, autovacuum…), whose
   * work this run's writes cause. Empty on PGlite (it runs inside the gateway process).
   */
  postgresPids(): Promise<number[]>;
  /** Opens the store (PGlite: only while no gateway holds it). */
  open(): Promise<Store>;
  /** Drops the database or removes the folder. */
  dispose(): Promise<void>;
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** Creates, migrates and seeds a database; `recipient` is routed to `webhookUrl` signed with `secret`. */
export async function createBenchDatabase(options: {
  readonly databaseUrl: string | undefined;
  readonly sender: string;
  readonly recipient: string;
  readonly webhookUrl: string;
  readonly secret: string;
  readonly keep?: boolean;
}): Promise<BenchDatabase> {
  let env: Record<string, string>;
  let dispose: () => Promise<void>;
  let postgresPids: () => Promise<number[]> = () => Promise.resolve([]);
  if (options.databaseUrl !== undefined) {
    const name = `edxgate_bench_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: options.databaseUrl });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE "${name}"`);
    } finally {
      await admin.end();
    }
    const url = withDatabase(options.databaseUrl, name);
    env = { DATABASE_URL: url };
    const maintenanceUrl = options.databaseUrl;
    postgresPids = async () => {
      const client = new pg.Client({ connectionString: maintenanceUrl });
      await client.connect();
      try {
        const { rows } = await client.query<{ pid: number }>(
          `SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND (datname = $1 OR backend_type <> 'client backend')`,
          [name],
        );
        return rows.map((r) => r.pid);
      } finally {
        await client.end();
      }
    };
    dispose = async () => {
      if (options.keep) return;
      const client = new pg.Client({ connectionString: options.databaseUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    };
  } else {
    const dataDir = await mkdtemp(join(tmpdir(), 'edxgate-bench-'));
    env = { DATA_DIR: dataDir };
    dispose = () => (options.keep ? Promise.resolve() : rm(dataDir, { recursive: true, force: true }));
  }

  const loaded = loadConfig({ env, files: [] });
  if (!loaded.ok) throw new Error(`bench config invalid: ${loaded.issues.map((i) => i.message).join('; ')}`);
  const config: Config = loaded.value;
  const open = (): Promise<Store> => openStore(config);

  const store = await open();
  let token: string | undefined;
  let serverVersion: string;
  try {
    await migrateToLatest(store.db);
    const seeded = await seedDemoIfEmpty(store.db);
    token = seeded?.find((c) => c.agency === options.sender)?.token;
    await store.db.insertInto('routes').values({ id: 'bench-webhook', kind: 'webhook', url: options.webhookUrl, secret: options.secret }).execute();
    await store.db.updateTable('agencies').set({ route_id: 'bench-webhook' }).where('code', '=', options.recipient).execute();
    const version = await sql<{ v: string }>`SELECT current_setting('server_version') AS v`.execute(store.db);
    serverVersion = `${store.dialect === 'pglite' ? 'PGlite (embedded), Postgres ' : 'Postgres '}${version.rows[0]?.v ?? '?'}`;
  } finally {
    await store.close();
  }
  if (token === undefined) throw new Error(`the demo seed has no client for ${options.sender}`);
  return { kind: store.dialect, env, token, serverVersion, postgresPids, open, dispose };
}
