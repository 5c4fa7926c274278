// The database of one benchmark run: a fresh Postgres database (created next to the one DATABASE_URL
// names, dropped afterwards) or, without DATABASE_URL, a fresh embedded one in a temp folder. It is
// migrated and seeded with the demo directory; the recipients (created under the sender when the
// demo lacks them) are each routed to their own webhook route, as separate receiving systems are.

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
  /**
   * Postgres: gathers the planner's statistics (ANALYZE) of the tables the warm-up filled. A database
   * in service has them; a fresh one is planned as empty until autovacuum gets round to it, which
   * happens mid-run (a /metrics scrape's overdue count took 348 ms instead of 7 ms on such plans).
   * PGlite: nothing (its database is the gateway's, held by the gateway process).
   */
  analyze(): Promise<void>;
  /** The gateway's own record of the packets received in [from, to]: request arrival → delivery recorded. */
  gatewayRecord(from: Date, to: Date): Promise<GatewayRecord | undefined>;
  /** Drops the database or removes the folder. */
  dispose(): Promise<void>;
}

/** Deliveries as the gateway recorded them (deliveries.latency_ms and late). */
export interface GatewayRecord {
  readonly delivered: number;
  readonly p50: number;
  readonly p99: number;
  readonly late: number;
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** Creates, migrates and seeds a database; each of `recipients` is routed to `webhookUrl` signed with `secret`. */
export async function createBenchDatabase(options: {
  readonly databaseUrl: string | undefined;
  readonly sender: string;
  readonly recipients: readonly string[];
  readonly webhookUrl: string;
  readonly secret: string;
  /** The sender's own signature policy (default: the gateway's default, verify-if-present). */
  readonly senderPolicy?: 'require' | 'verify-if-present' | 'off' | undefined;
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
    const known = new Set((await store.db.selectFrom('agencies').select('code').execute()).map((r) => r.code));
    const missing = options.recipients.filter((code) => !known.has(code));
    if (missing.length > 0) {
      await store.db
        .insertInto('agencies')
        .values(missing.map((code) => ({ code, name: `Đơn vị đo hiệu năng ${code}`, parent_code: options.sender, state: 'active' as const })))
        .execute();
    }
    await store.db
      .insertInto('routes')
      .values(options.recipients.map((code) => ({ id: `bench-webhook-${code}`, kind: 'webhook', url: options.webhookUrl, secret: options.secret })))
      .execute();
    for (const code of options.recipients) {
      await store.db.updateTable('agencies').set({ route_id: `bench-webhook-${code}` }).where('code', '=', code).execute();
    }
    if (options.senderPolicy !== undefined) {
      await store.db.updateTable('agencies').set({ signature_policy: options.senderPolicy }).where('code', '=', options.sender).execute();
    }
    const version = await sql<{ v: string }>`SELECT current_setting('server_version') AS v`.execute(store.db);
    serverVersion = `${store.dialect === 'pglite' ? 'PGlite (embedded), Postgres ' : 'Postgres '}${version.rows[0]?.v ?? '?'}`;
  } finally {
    await store.close();
  }
  if (token === undefined) throw new Error(`the demo seed has no client for ${options.sender}`);
  const gatewayRecord = async (from: Date, to: Date): Promise<GatewayRecord | undefined> => {
    const reader = await open();
    try {
      const { rows } = await sql<{ count: number | string; p50: number | null; p99: number | null; late: number | string | null }>`
        SELECT count(*) AS count,
               percentile_disc(0.5) WITHIN GROUP (ORDER BY d.latency_ms) AS p50,
               percentile_disc(0.99) WITHIN GROUP (ORDER BY d.latency_ms) AS p99,
               sum(CASE WHEN d.late THEN 1 ELSE 0 END) AS late
        FROM deliveries d JOIN packets p ON p.id = d.packet_id
        WHERE d.state = 'delivered' AND p.sender = ${options.sender} AND p.received_at >= ${from} AND p.received_at <= ${to}`.execute(reader.db);
      const r = rows[0];
      return r === undefined ? undefined : { delivered: Number(r.count), p50: Number(r.p50), p99: Number(r.p99), late: Number(r.late ?? 0) };
    } finally {
      await reader.close();
    }
  };
  const analyze = async (): Promise<void> => {
    if (store.dialect !== 'postgres') return;
    const session = await open();
    try {
      await sql`ANALYZE`.execute(session.db);
    } finally {
      await session.close();
    }
  };
  return { kind: store.dialect, env, token, serverVersion, postgresPids, open, analyze, gatewayRecord, dispose };
}
