// Opening the store, notifications, and the one-session lock on PGlite.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import t from 'tap';
import { loadConfig } from '../../src/config/load.ts';
import { openStore } from '../../src/store/open-store.ts';
import { testDatabase } from '../helpers/database.ts';

const database = await testDatabase(t);
const { store } = database;

function waiter(): { readonly fn: (payload: string) => void; readonly next: () => Promise<string> } {
  const queue: string[] = [];
  const waiting: ((payload: string) => void)[] = [];
  return {
    fn: (payload) => {
      const w = waiting.shift();
      if (w) w(payload);
      else queue.push(payload);
    },
    next: () => {
      const ready = queue.shift();
      return ready !== undefined ? Promise.resolve(ready) : new Promise((resolve) => waiting.push(resolve));
    },
  };
}

t.test('ping answers', async (t) => {
  await t.resolves(store.ping());
});

t.test('notify reaches listeners of its channel only, until they unlisten', async (t) => {
  const a = waiter();
  const b = waiter();
  const offA = await store.listen('test_a', a.fn);
  const offB = await store.listen('test_b', b.fn);
  await store.notify('test_a', 'one');
  t.equal(await a.next(), 'one');
  await store.notify('test_b', 'two');
  t.equal(await b.next(), 'two');
  await offA();
  await store.notify('test_a', 'lost');
  await store.notify('test_b', 'three');
  t.equal(await b.next(), 'three');
  await offB();
  await t.rejects(store.listen('Robert"); DROP TABLE x; --', () => undefined), TypeError);
});

t.test('a notification inside a transaction arrives only if it commits', async (t) => {
  const w = waiter();
  const off = await store.listen('test_tx', w.fn);
  await t.rejects(
    store.db.transaction().execute(async (trx) => {
      await sql`select pg_notify('test_tx', 'rolled back')`.execute(trx);
      throw new Error('abort');
    }),
  );
  await store.db.transaction().execute(async (trx) => {
    await sql`select pg_notify('test_tx', 'committed')`.execute(trx);
  });
  t.equal(await w.next(), 'committed');
  await off();
});

t.test('concurrent transactions do not interleave (PGlite runs them one at a time)', async (t) => {
  await sql`CREATE TABLE IF NOT EXISTS tx_probe (n int)`.execute(store.db);
  const failing = store.db.transaction().execute(async (trx) => {
    await sql`INSERT INTO tx_probe VALUES (1)`.execute(trx);
    await new Promise((resolve) => setImmediate(resolve));
    throw new Error('roll me back');
  });
  const succeeding = store.db.transaction().execute(async (trx) => {
    await sql`INSERT INTO tx_probe VALUES (2)`.execute(trx);
  });
  await t.rejects(failing);
  await succeeding;
  const { rows } = await sql<{ n: number }>`SELECT n FROM tx_probe`.execute(store.db);
  t.same(
    rows.map((r) => r.n),
    [2],
    "one transaction's rollback does not undo the other",
  );
});

t.test('int8 columns read as numbers on both kinds', async (t) => {
  const { rows } = await sql<{ big: number }>`SELECT 9007199254740991::bigint AS big`.execute(store.db);
  t.equal(rows[0]?.big, Number.MAX_SAFE_INTEGER);
});

t.test('an unreachable Postgres is EDX_ERR_STORE_UNAVAILABLE', async (t) => {
  const loaded = loadConfig({ env: {}, files: [], overrides: { store: { databaseUrl: 'postgres://nobody@127.0.0.1:1/none' } } });
  if (!loaded.ok) throw new Error('config');
  await t.rejects(openStore(loaded.value), { code: 'EDX_ERR_STORE_UNAVAILABLE' });
});

t.test(
  'postgres: the listener reconnects after its connection is killed, and wakes everyone once',
  { skip: database.kind !== 'postgres' && 'Postgres only' },
  async (t) => {
    const w = waiter();
    const off = await store.listen('test_reconnect', w.fn);
    const admin = new pg.Client({ connectionString: database.databaseUrl });
    await admin.connect();
    t.teardown(() => admin.end());
    const killed = await admin.query<{ ok: boolean }>(
      `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = 'edxgate-listener' AND datname = current_database()`,
    );
    t.equal(killed.rows.length, 1, 'one listener connection');
    t.equal(await w.next(), '', 'the catch-up wake-up after reconnecting');
    await store.notify('test_reconnect', 'after');
    t.equal(await w.next(), 'after');
    await off();
  },
);

t.test('pglite: a second opener of the same folder is refused, not allowed to corrupt it', { skip: database.kind !== 'pglite' && 'PGlite only' }, async (t) => {
  await t.rejects(openStore(database.config), { code: 'EDX_ERR_STORE_UNAVAILABLE', message: /in use by process/ });
  await t.resolves(store.ping(), 'the first store is unaffected');
});

t.test('pglite: a pid file left by a dead process does not block the start', { skip: database.kind !== 'pglite' && 'PGlite only' }, async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'edxgate-stale-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const gone = spawnSync(process.execPath, ['-e', '']).pid; // has exited by now
  await writeFile(join(dataDir, 'edxgate.pid'), String(gone));
  const loaded = loadConfig({ env: {}, files: [], overrides: { store: { dataDir } } });
  if (!loaded.ok) throw new Error('config');
  const other = await openStore(loaded.value);
  await t.resolves(other.ping());
  await other.close();
});
