// The store ceiling: the rows the gateway writes to admit a packet — the packet, its payload bytes,
// one delivery per recipient and the `admitted` event — written by ONE statement per packet with no
// gateway around it, at the run's rate, from a pool the size of the gateway's. The tables are copies
// of the gateway's (`LIKE … INCLUDING ALL`: the same columns, defaults, checks, identities and
// indexes; no foreign keys, no tracking rows, no NOTIFY) in a schema of their own, in the run's
// database, dropped afterwards. What it costs is what this machine's database needs, at least, to
// make one packet durable.
//
// On Postgres the statements go through a bare `pg` pool. On the embedded database they go to a
// separate PGlite (the gateway's own is not open yet) through kysely's raw query, and the payload
// is a file written, fsynced, renamed and its folder fsynced before the statement — what the
// gateway's folder payload store does there (src/store/payloads.ts) — instead of a bytea column.

import { createHash, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, open, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompiledQuery } from 'kysely';
import pg from 'pg';
import { loadConfig } from '../../src/config/load.ts';
import { migrateToLatest } from '../../src/store/migrate.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store, StoreDialect } from '../../src/store/open-store.ts';

const SCHEMA = 'bench_ceiling';
const TABLES = ['packets', 'payloads', 'deliveries', 'events'] as const;
/** The gateway's default pool (DATABASE_POOL_SIZE). */
export const GATEWAY_POOL_SIZE = 10;

/** What one packet's rows are made of. */
export interface CeilingRow {
  readonly index: number;
  readonly body: Buffer;
  readonly sender: string;
  readonly recipients: readonly string[];
}

/** An open store ceiling. */
export interface StoreCeiling {
  readonly dialect: StoreDialect;
  /** Writes one packet's rows; resolves when they are committed. */
  write(row: CeilingRow): Promise<void>;
  close(): Promise<void>;
}

function statement(withPayloadRow: boolean): string {
  // Parameters: 1 id, 2 idempotency key, 3 document id, 4 sender, 5 subject, 6 sha256, 7 size,
  // 8 received_at, 9 deadline_at, 10 stage timings, 11 delivery ids, 12 recipients, 13 route ids,
  // 14 event data, 15 payload bytes (Postgres only).
  return `WITH p AS (
      INSERT INTO ${SCHEMA}.packets (id, kind, idempotency_key, document_id, sender, business_type, priority, subject, sha256, size_bytes,
                                     payload_ref, received_at, deadline_at, signature_verdict, stage_timings)
      VALUES ($1, 'document', $2, $3, $4, 0, 0, $5, $6, $7, $6, $8, $9, 'valid', $10::jsonb)
      RETURNING id
    ),${withPayloadRow ? `
    b AS (INSERT INTO ${SCHEMA}.payloads (sha256, bytes, size_bytes) SELECT $6, $15, $7 FROM p),` : ''}
    d AS (
      INSERT INTO ${SCHEMA}.deliveries (id, packet_id, recipient, route_id, deadline_at)
      SELECT r.id, p.id, r.recipient, r.route_id, $9 FROM p, unnest($11::uuid[], $12::text[], $13::text[]) AS r (id, recipient, route_id)
    ),
    e AS (INSERT INTO ${SCHEMA}.events (type, packet_id, document_id, agency, data) SELECT 'admitted', p.id, $3, $4, $14::jsonb FROM p)
    SELECT id FROM p`;
}

function parameters(row: CeilingRow): { readonly sha256: string; readonly values: unknown[] } {
  // Distinct rows even when the bodies repeat (a ceiling cycles through a few): the index goes into
  // the hash, which costs what hashing the body alone would.
  const sha256 = createHash('sha256').update(row.body).update(String(row.index)).digest('hex');
  const now = new Date();
  const documentId = `${row.sender},2025/03/05,${row.index}/CEILING`;
  const values: unknown[] = [
    randomUUID(),
    `document:${row.sender}:${documentId}`,
    documentId,
    row.sender,
    'V/v đo hiệu năng liên thông văn bản',
    sha256,
    row.body.length,
    now,
    new Date(now.getTime() + 5000),
    JSON.stringify({ decode: 0.9, validate: 0.3, verify: 0.6 }),
    row.recipients.map(() => randomUUID()),
    row.recipients,
    row.recipients.map((code) => `bench-webhook-${code}`),
    JSON.stringify({ kind: 'document', recipients: row.recipients.length, sizeBytes: row.body.length }),
  ];
  return { sha256, values };
}

async function createTables(run: (text: string) => Promise<unknown>): Promise<void> {
  await run(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await run(`CREATE SCHEMA ${SCHEMA}`);
  for (const table of TABLES) await run(`CREATE TABLE ${SCHEMA}.${table} (LIKE public.${table} INCLUDING ALL)`);
}

async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Opens the ceiling next to the run's database: on Postgres (`databaseUrl`, migrated already) its
 * tables in the bench_ceiling schema; without one, a fresh migrated PGlite in a temp folder.
 */
export async function openStoreCeiling(databaseUrl: string | undefined): Promise<StoreCeiling> {
  if (databaseUrl !== undefined) {
    const pool = new pg.Pool({ connectionString: databaseUrl, max: GATEWAY_POOL_SIZE });
    // An idle connection the server ends ("terminating connection due to administrator command",
    // seen twice in a day of runs, cause not found) is dropped by the pool and replaced; without a
    // listener pg emits it as an unhandled 'error' and the whole report is lost.
    pool.on('error', () => undefined);
    await createTables((text) => pool.query(text));
    const text = statement(true);
    return {
      dialect: 'postgres',
      async write(row) {
        const { values } = parameters(row);
        await pool.query(text, [...values, row.body]);
      },
      async close() {
        await pool.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`).catch(() => undefined);
        await pool.end();
      },
    };
  }

  const dataDir = await mkdtemp(join(tmpdir(), 'edxgate-bench-ceiling-'));
  const loaded = loadConfig({ env: { DATA_DIR: dataDir }, files: [] });
  if (!loaded.ok) throw new Error(`ceiling config invalid: ${loaded.issues.map((i) => i.message).join('; ')}`);
  const store: Store = await openStore(loaded.value);
  await migrateToLatest(store.db);
  await createTables((text) => store.db.executeQuery(CompiledQuery.raw(text)));
  const payloadDir = join(dataDir, 'payloads');
  await mkdir(payloadDir, { recursive: true });
  const text = statement(false);
  return {
    dialect: 'pglite',
    async write(row) {
      const { sha256, values } = parameters(row);
      const temp = join(payloadDir, `.tmp-${randomUUID()}`);
      const handle = await open(temp, 'wx');
      try {
        await handle.writeFile(row.body);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, join(payloadDir, sha256));
      await fsyncPath(payloadDir);
      await store.db.executeQuery(CompiledQuery.raw(text, values));
    },
    async close() {
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
