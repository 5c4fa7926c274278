// kysely on PGlite. kysely-pglite's dialect hands every caller the one PGlite session with no lock,
// so two concurrent kysely transactions would interleave their statements in a single Postgres
// transaction (a ROLLBACK of one would undo the other). This wraps its driver so that a connection
// is held by one caller at a time — the single session behaves like a pool of size one — and adds
// what the wrapped driver lacks: transaction settings and savepoints.

import { CompiledQuery } from 'kysely';
import type { DatabaseConnection, Dialect, Driver, TransactionSettings } from 'kysely';
import { KyselyPGlite } from 'kysely-pglite';
import type { PGlite } from '@electric-sql/pglite';

/** A FIFO lock; `lock()` resolves with the function that releases it. */
export class Mutex {
  #tail: Promise<void> = Promise.resolve();

  /** Waits for the lock; call the returned function exactly once to release it. */
  lock(): Promise<() => void> {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const acquired = this.#tail.then(() => release);
    this.#tail = this.#tail.then(() => held);
    return acquired;
  }

  /** Runs `fn` while holding the lock. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const release = await this.lock();
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

class SerialDriver implements Driver {
  readonly #inner: Driver;
  readonly #mutex: Mutex;
  readonly #releases = new WeakMap<DatabaseConnection, () => void>();

  constructor(inner: Driver, mutex: Mutex) {
    this.#inner = inner;
    this.#mutex = mutex;
  }

  init(): Promise<void> {
    return this.#inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const release = await this.#mutex.lock();
    try {
      const connection = await this.#inner.acquireConnection();
      this.#releases.set(connection, release);
      return connection;
    } catch (error) {
      release();
      throw error;
    }
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const parts = ['BEGIN'];
    if (settings.isolationLevel) parts.push(`ISOLATION LEVEL ${settings.isolationLevel.toUpperCase()}`);
    if (settings.accessMode) parts.push(settings.accessMode.toUpperCase());
    await connection.executeQuery(CompiledQuery.raw(parts.join(' ')));
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#inner.commitTransaction(connection);
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#inner.rollbackTransaction(connection);
  }

  async savepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`SAVEPOINT "${name.replaceAll('"', '""')}"`));
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`ROLLBACK TO SAVEPOINT "${name.replaceAll('"', '""')}"`));
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`RELEASE SAVEPOINT "${name.replaceAll('"', '""')}"`));
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    try {
      await this.#inner.releaseConnection(connection);
    } finally {
      this.#releases.get(connection)?.();
      this.#releases.delete(connection);
    }
  }

  destroy(): Promise<void> {
    // Waits for the connection in use, so close() does not pull the database from under a query.
    return this.#mutex.run(() => this.#inner.destroy());
  }
}

/** A kysely dialect over one PGlite instance, plus the lock that other direct PGlite calls must take. */
export function pgliteDialect(pglite: PGlite): { readonly dialect: Dialect; readonly exclusive: <T>(fn: () => Promise<T>) => Promise<T> } {
  const inner = new KyselyPGlite(pglite).dialect;
  const mutex = new Mutex();
  const dialect: Dialect = {
    createAdapter: () => inner.createAdapter(),
    createDriver: () => new SerialDriver(inner.createDriver(), mutex),
    createIntrospector: (db) => inner.createIntrospector(db),
    createQueryCompiler: () => inner.createQueryCompiler(),
  };
  return { dialect, exclusive: (fn) => mutex.run(fn) };
}
