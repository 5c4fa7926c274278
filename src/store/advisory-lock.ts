// Singletons across nodes (DESIGN, Scale beyond one machine: "advisory locks guard singletons"): a
// session-level Postgres advisory lock, held on a connection reserved from the pool for as long as
// the holder runs. When the node dies its session ends and the lock is free for another node.
// Session-level rather than per-transaction: the holder works for long stretches (an upstream
// poller), and an open transaction around HTTP calls would sit "idle in transaction".
//
// PGlite is one process on one folder — one node — so the lock is trivially held there.

import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { Store } from './open-store.ts';

/** A held lock. */
export interface AdvisoryLease {
  /** Whether the session holding it is still alive (a lost connection has lost the lock). */
  stillHeld(): Promise<boolean>;
  /** Unlocks and gives the connection back to the pool. Idempotent. */
  release(): Promise<void>;
}

/** The two int4 keys of a named lock (pg_try_advisory_lock(int, int)); stable across nodes and versions. */
export function advisoryKeys(name: string): readonly [number, number] {
  const digest = createHash('sha256').update(name, 'utf8').digest();
  return [digest.readInt32BE(0), digest.readInt32BE(4)];
}

/**
 * Takes the named lock if no other session holds it; undefined if one does. The lease keeps one
 * pool connection until released.
 */
export async function tryAdvisoryLock(store: Pick<Store, 'db' | 'dialect'>, name: string): Promise<AdvisoryLease | undefined> {
  if (store.dialect === 'pglite') {
    // kysely's connection() would reserve PGlite's only session and stall every other query.
    return { stillHeld: async () => true, release: async () => undefined };
  }
  const [k1, k2] = advisoryKeys(name);
  let settle: (lease: AdvisoryLease | undefined) => void = () => undefined;
  let fail: (error: unknown) => void = () => undefined;
  const acquired = new Promise<AdvisoryLease | undefined>((resolve, reject) => {
    settle = resolve;
    fail = reject;
  });
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let granted = false;
  const session = store.db
    .connection()
    .execute(async (conn) => {
      const { rows } = await sql<{ ok: boolean }>`SELECT pg_try_advisory_lock(${k1}::int, ${k2}::int) AS ok`.execute(conn);
      if (rows[0]?.ok !== true) {
        settle(undefined);
        return;
      }
      granted = true;
      let alive = true;
      settle({
        async stillHeld() {
          if (!alive) return false;
          try {
            // Our own lock, seen from this session: gone only if the session is.
            const check = await sql<{ held: boolean }>`
              SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()
                             AND classid = ${k1 >>> 0}::bigint::oid AND objid = ${k2 >>> 0}::bigint::oid) AS held`.execute(conn);
            alive = check.rows[0]?.held === true;
          } catch {
            alive = false;
          }
          return alive;
        },
        async release() {
          release();
          await session.catch(() => undefined);
        },
      });
      await released;
      // A dead connection releases the lock by itself; the unlock is only for a live one.
      if (alive) await sql`SELECT pg_advisory_unlock(${k1}::int, ${k2}::int)`.execute(conn).catch(() => undefined);
    })
    .catch((error: unknown) => {
      if (!granted) fail(error);
    });
  return acquired;
}
