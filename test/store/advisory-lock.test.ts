// Advisory-lock leases (src/store/advisory-lock.ts): one session holds a lock at a time, and the
// lock goes with its session. A lease keeps a pool connection between its queries, so Postgres can
// end that session while the lease is idle (a restart, pg_terminate_backend, a cut network): the
// connection's 'error' event must not crash the process, the lease must find the lock lost at its
// next check, and the pool must go on. Postgres only: on PGlite the lock is trivially held.

import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import t from 'tap';
import { advisoryKeys, tryAdvisoryLock } from '../../src/store/advisory-lock.ts';
import { postgresAvailable, testDatabase } from '../helpers/database.ts';

const LOCK = 'edxgate:test-lock';

if (!postgresAvailable()) {
  t.comment('no DATABASE_URL: advisory locks are Postgres sessions; PGlite is one node');
} else {
  t.test('a lock is held by one session at a time, and freed when that session dies, even idle', async (t) => {
    const db = await testDatabase(t, { kind: 'postgres' });
    const other = await db.openAnother();
    const lease = await tryAdvisoryLock(db.store, LOCK);
    if (lease === undefined) throw new Error('the first session did not take the lock');
    t.equal(await tryAdvisoryLock(other, LOCK), undefined, 'another session cannot while it is held');
    t.equal(await lease.stillHeld(), true);

    const [k1, k2] = advisoryKeys(LOCK);
    const { rows } = await sql<{ pid: number }>`SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = ${k1 >>> 0}::bigint::oid AND objid = ${k2 >>> 0}::bigint::oid`.execute(other.db);
    t.equal(rows.length, 1, 'one session holds it');
    await sql`SELECT pg_terminate_backend(${rows[0]?.pid ?? 0})`.execute(other.db);
    // No query runs on the lease's connection meanwhile: the end of the session reaches it as an
    // 'error' event, which an unwatched client throws as an uncaught exception (which tap reports).
    await sleep(500);
    t.equal(await lease.stillHeld(), false, 'the lease knows it lost the lock');
    const taken = await tryAdvisoryLock(other, LOCK);
    t.ok(taken, 'the other session takes it once the holder is gone');
    await taken?.release();
    await lease.release();
    const again = await tryAdvisoryLock(other, LOCK);
    t.ok(again, 'released means free');
    await again?.release();
    await t.resolves(sql`select 1`.execute(db.store.db), 'the pool of the lost session still serves queries');
  });
}
