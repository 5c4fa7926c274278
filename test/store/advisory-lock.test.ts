// A lease keeps a pool connection between its queries. When Postgres ends that session while the
// lease is idle (a restart, pg_terminate_backend, a cut network), the connection's 'error' event
// must not crash the process: the lease finds the lock lost at its next check, and the pool goes on.
// Postgres only: on PGlite the lock is trivially held.

import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import t from 'tap';
import { advisoryKeys, tryAdvisoryLock } from '../../src/store/advisory-lock.ts';
import { postgresAvailable, testDatabase } from '../helpers/database.ts';

if (!postgresAvailable()) {
  t.comment('no DATABASE_URL: advisory locks are Postgres sessions; PGlite is one node');
} else {
  t.test('a session ended while the lease is idle loses the lock without crashing the process', async (t) => {
    const db = await testDatabase(t, { kind: 'postgres' });
    const other = await db.openAnother();
    const lease = await tryAdvisoryLock(db.store, 'edxgate:test-idle-kill');
    if (lease === undefined) throw new Error('the lock was not taken');
    const [k1, k2] = advisoryKeys('edxgate:test-idle-kill');
    const { rows } = await sql<{ pid: number }>`SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = ${k1 >>> 0}::bigint::oid AND objid = ${k2 >>> 0}::bigint::oid`.execute(other.db);
    t.equal(rows.length, 1, 'one session holds it');
    await sql`SELECT pg_terminate_backend(${rows[0]?.pid ?? 0})`.execute(other.db);
    // No query runs on the lease's connection meanwhile: the end of the session reaches it as an
    // 'error' event, which an unwatched client would throw as an uncaught exception (and tap report).
    await sleep(500);
    t.equal(await lease.stillHeld(), false, 'the lease knows it lost the lock');
    await lease.release();
    const taken = await tryAdvisoryLock(other, 'edxgate:test-idle-kill');
    t.ok(taken, 'another session takes it');
    await taken?.release();
    await t.resolves(sql`select 1`.execute(db.store.db), 'the pool of the lost session still serves queries');
  });
}
