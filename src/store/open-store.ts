// Opens the gateway database: Postgres through a `pg` pool when DATABASE_URL is set, otherwise the
// embedded PGlite in `${DATA_DIR}/pglite`. Both speak the same SQL, run the same migrations and
// queries; they differ in the payload store and in how a wake-up reaches the workers.

import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { Config } from '../config/schema.ts';
import { EdxError } from '../errors.ts';
import type { Database } from './database.ts';
import { createDbPayloadStore, createFsPayloadStore } from './payloads.ts';
import type { PayloadStore } from './payloads.ts';
import { pgliteDialect } from './pglite-dialect.ts';
import { PreparingPool } from './prepared-statements.ts';

/** Which engine a store runs on. */
export type StoreDialect = 'postgres' | 'pglite';

/** A listener's handle: call it to stop listening. */
export type Unlisten = () => Promise<void>;

/** The open database and what comes with it. */
export interface Store {
  readonly db: Kysely<Database>;
  readonly dialect: StoreDialect;
  readonly payloads: PayloadStore;
  /** Sends a notification (delivered to listeners of every node after the current transaction commits). */
  notify(channel: string, payload?: string): Promise<void>;
  /**
   * Calls `fn` for each notification on `channel`. A wake-up only: after a lost listener connection
   * is restored, every listener is called once with '' since notifications may have been missed.
   */
  listen(channel: string, fn: (payload: string) => void): Promise<Unlisten>;
  /** Resolves when the database answers a trivial query; throws EDX_ERR_STORE_UNAVAILABLE otherwise. */
  ping(): Promise<void>;
  /** Stops listening and closes the pool or the embedded database. */
  close(): Promise<void>;
}

/** Where the store reports trouble it recovers from (lost listener, idle client errors). */
export interface StoreLog {
  warn(object: Record<string, unknown>, message: string): void;
}

/** Options of `openStore`. */
export interface OpenStoreOptions {
  readonly log?: StoreLog;
}

const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;

function checkChannel(channel: string): void {
  // Channels are identifiers in LISTEN; a fixed shape keeps them from being SQL.
  if (!CHANNEL.test(channel)) throw new TypeError(`"${channel}" is not a valid channel name (lowercase letters, digits, _).`);
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// pg returns int8 as a string to be safe beyond 2^53; PGlite returns a number. Counts, sizes and
// event ids never come near 2^53, so both return numbers — and a value that did would throw, not
// silently round.
function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new RangeError(`int8 value ${text} is beyond Number.MAX_SAFE_INTEGER`);
  return value;
}

const PG_TYPES: pg.CustomTypesConfig = {
  getTypeParser: (id: number, format?: 'text' | 'binary') =>
    id === pg.types.builtins.INT8 && format !== 'binary' ? parseInt8 : pg.types.getTypeParser(id, format),
};

/** Opens the store the config selects. Throws EDX_ERR_STORE_UNAVAILABLE when it cannot be reached. */
export async function openStore(config: Pick<Config, 'store'>, options: OpenStoreOptions = {}): Promise<Store> {
  const url = config.store.databaseUrl;
  return url !== undefined
    ? openPostgres(url, config.store, options)
    : openPGlite(config.store.dataDir, config.store.payloadCacheBytes);
}

async function openPostgres(
  url: string,
  settings: Pick<Config['store'], 'poolSize' | 'preparedStatements' | 'planCacheMode' | 'payloadCacheBytes'>,
  options: OpenStoreOptions,
): Promise<Store> {
  const { poolSize, preparedStatements: prepared, planCacheMode } = settings;
  // plan_cache_mode: under `auto`, Postgres kept a custom plan for the admitting statements (their
  // recipients go in as arrays, whose length a generic plan has to guess), so every admission was
  // planned anew — 0.9 ms of a 1.8 ms execution. bench small at 150/s on the 2-core machine: Postgres
  // CPU per packet 4.40 → 3.10 ms, end-to-end p99 81 → 40 ms with force_generic_plan.
  const connection = {
    connectionString: url,
    application_name: 'edxgate',
    types: PG_TYPES,
    options: `-c TimeZone=UTC -c plan_cache_mode=${planCacheMode}`,
  };
  // Named apart so operators (and the reconnect test) can tell the LISTEN connection from the pool.
  const listener = new PgListener({ ...connection, application_name: 'edxgate-listener' }, options.log);
  const pool = new pg.Pool({ ...connection, max: poolSize });
  // A client that loses its server emits 'error', which crashes the process unless someone listens.
  // The pool listens only while a client is idle; a checked-out one is its holder's to watch, and a
  // lease that keeps one for long (the advisory lock of src/store/advisory-lock.ts) sees its session
  // end between queries when Postgres restarts or terminates it. So every client gets a listener of
  // its own, which logs the loss: the client's next query fails, and the pool discards it on release
  // as it does any client that is no longer queryable. The pool re-emits an idle client's error,
  // already logged by that listener; its handler is only there to keep the process up.
  pool.on('connect', (client) => {
    client.on('error', (error) => options.log?.warn({ err: error }, 'postgres connection lost'));
  });
  pool.on('error', () => undefined);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: prepared ? new PreparingPool(pool) : pool }) });

  const ping = async (): Promise<void> => {
    try {
      await sql`select 1`.execute(db);
    } catch (error) {
      throw new EdxError('EDX_ERR_STORE_UNAVAILABLE', `postgres: ${reasonOf(error)}`);
    }
  };
  try {
    await ping();
  } catch (error) {
    await db.destroy();
    throw error;
  }

  return {
    db,
    dialect: 'postgres',
    payloads: createDbPayloadStore(db, { cacheBytes: settings.payloadCacheBytes }),
    async notify(channel, payload = '') {
      checkChannel(channel);
      await sql`select pg_notify(${channel}, ${payload})`.execute(db);
    },
    async listen(channel, fn) {
      checkChannel(channel);
      return listener.listen(channel, fn);
    },
    ping,
    async close() {
      await listener.close();
      await db.destroy();
    },
  };
}

// Folders this process holds open, so a pid file naming our own pid can be told apart from a stale
// one left by an earlier process that had the same pid (pid 1 in every container run).
const heldDataDirs = new Set<string>();

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return typeof error === 'object' && error !== null && 'code' in error && error.code === 'EPERM';
  }
}

/**
 * PGlite has no lock of its own: two processes (a running gateway and an `edxgate` admin command,
 * say) opening one folder would corrupt it. A pid file makes the second one fail clearly instead.
 */
async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  const pidFile = join(dir, 'edxgate.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(pidFile, String(process.pid), { flag: 'wx' });
      heldDataDirs.add(dir);
      return async () => {
        heldDataDirs.delete(dir);
        await rm(pidFile, { force: true });
      };
    } catch (error) {
      if (!(typeof error === 'object' && error !== null && 'code' in error && error.code === 'EEXIST')) throw error;
      const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
      const ours = pid === process.pid;
      if ((ours && heldDataDirs.has(dir)) || (!ours && pid > 0 && isAlive(pid)))
        throw new EdxError(
          'EDX_ERR_STORE_UNAVAILABLE',
          `the embedded database in ${dir} is in use by process ${pid}; stop it, or set DATABASE_URL to share a Postgres database`,
        );
      await rm(pidFile, { force: true }); // stale: its process is gone
    }
  }
  throw new EdxError('EDX_ERR_STORE_UNAVAILABLE', `could not lock the embedded database in ${dir}`);
}

async function openPGlite(dataDir: string, payloadCacheBytes: number): Promise<Store> {
  const dir = join(dataDir, 'pglite');
  let pglite: PGlite;
  let unlock: () => Promise<void> = () => Promise.resolve();
  try {
    await mkdir(dir, { recursive: true });
    unlock = await lockDataDir(dataDir);
    pglite = await PGlite.create({ dataDir: dir });
  } catch (error) {
    await unlock();
    if (error instanceof EdxError) throw error;
    throw new EdxError('EDX_ERR_STORE_UNAVAILABLE', `embedded database in ${dir}: ${reasonOf(error)}`);
  }
  const { dialect, exclusive } = pgliteDialect(pglite);
  const db = new Kysely<Database>({ dialect });
  const payloads = createFsPayloadStore(join(dataDir, 'payloads'), { cacheBytes: payloadCacheBytes });

  return {
    db,
    dialect: 'pglite',
    payloads,
    // PGlite is one in-process session: NOTIFY reaches its own LISTENers after COMMIT, which is the
    // in-process signal the design asks for, with the same SQL as on Postgres.
    async notify(channel, payload = '') {
      checkChannel(channel);
      await sql`select pg_notify(${channel}, ${payload})`.execute(db);
    },
    async listen(channel, fn) {
      checkChannel(channel);
      // LISTEN is a statement: it takes the session lock, or it could land inside another caller's
      // transaction and vanish with its rollback.
      const unlisten = await exclusive(() => pglite.listen(channel, fn));
      return () => (pglite.closed ? Promise.resolve() : exclusive(() => unlisten()));
    },
    async ping() {
      try {
        await sql`select 1`.execute(db);
      } catch (error) {
        throw new EdxError('EDX_ERR_STORE_UNAVAILABLE', `embedded database: ${reasonOf(error)}`);
      }
    },
    async close() {
      // kysely's destroy closes PGlite once the query in flight (if any) has finished.
      await db.destroy();
      await unlock();
    },
  };
}

/**
 * One dedicated Postgres connection holding the LISTENs of a node (a pooled connection would lose
 * them when returned). Reconnects with backoff when the connection drops.
 */
class PgListener {
  readonly #connection: pg.ClientConfig;
  readonly #log: StoreLog | undefined;
  readonly #channels = new Map<string, Set<(payload: string) => void>>();
  readonly #ready = new Map<string, Promise<void>>();
  #client: pg.Client | undefined;
  #connecting: Promise<pg.Client> | undefined;
  #closed = false;
  #retryTimer: NodeJS.Timeout | undefined;
  #retryDelayMs = 100;

  constructor(connection: pg.ClientConfig, log: StoreLog | undefined) {
    this.#connection = connection;
    this.#log = log;
  }

  async listen(channel: string, fn: (payload: string) => void): Promise<Unlisten> {
    if (this.#closed) throw new EdxError('EDX_ERR_STORE_UNAVAILABLE', 'the store is closed');
    let listeners = this.#channels.get(channel);
    if (listeners === undefined) {
      listeners = new Set();
      this.#channels.set(channel, listeners);
    }
    listeners.add(fn);
    // Every caller waits for the LISTEN of its channel, so a notification sent after listen()
    // resolved is received.
    let ready = this.#ready.get(channel);
    if (ready === undefined) {
      ready = this.#connect()
        .then((client) => client.query(`LISTEN ${channel}`))
        .then(
          () => undefined,
          (error: unknown) => {
            // A listener is a wake-up only: keep it registered, the reconnect will LISTEN again.
            this.#ready.delete(channel);
            this.#log?.warn({ err: error, channel }, 'postgres LISTEN failed; retrying in the background');
            this.#scheduleReconnect();
          },
        );
      this.#ready.set(channel, ready);
    }
    await ready;
    return async () => {
      const set = this.#channels.get(channel);
      if (set === undefined || !set.delete(fn) || set.size > 0) return;
      this.#channels.delete(channel);
      this.#ready.delete(channel);
      if (this.#client !== undefined && !this.#closed) await this.#client.query(`UNLISTEN ${channel}`).catch(() => undefined);
    };
  }

  #connect(): Promise<pg.Client> {
    if (this.#client !== undefined) return Promise.resolve(this.#client);
    this.#connecting ??= (async () => {
      const client = new pg.Client(this.#connection);
      client.on('notification', (message) => {
        for (const fn of this.#channels.get(message.channel) ?? []) fn(message.payload ?? '');
      });
      client.on('error', (error) => this.#lost(client, error));
      client.on('end', () => this.#lost(client, undefined));
      try {
        await client.connect();
      } catch (error) {
        client.removeAllListeners();
        throw error;
      }
      this.#client = client;
      return client;
    })().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  #lost(client: pg.Client, error: Error | undefined): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    this.#ready.clear();
    client.removeAllListeners('notification');
    void client.end().catch(() => undefined);
    if (this.#closed) return;
    this.#log?.warn({ err: error }, 'postgres listener connection lost; reconnecting');
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#retryTimer !== undefined) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      void this.#reconnect();
    }, this.#retryDelayMs);
    this.#retryTimer.unref();
    this.#retryDelayMs = Math.min(this.#retryDelayMs * 2, 5000);
  }

  async #reconnect(): Promise<void> {
    if (this.#closed || this.#channels.size === 0) return;
    try {
      const client = await this.#connect();
      for (const channel of this.#channels.keys()) {
        const listened = client.query(`LISTEN ${channel}`).then(() => undefined);
        this.#ready.set(channel, listened);
        await listened;
      }
      this.#retryDelayMs = 100;
      // Notifications sent while we were away are lost: wake everyone once.
      for (const listeners of this.#channels.values()) for (const fn of listeners) fn('');
    } catch (error) {
      this.#ready.clear();
      this.#log?.warn({ err: error }, 'postgres listener reconnect failed');
      this.#scheduleReconnect();
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    const client = this.#client ?? (await this.#connecting?.catch(() => undefined));
    this.#client = undefined;
    this.#channels.clear();
    this.#ready.clear();
    if (client !== undefined) {
      client.removeAllListeners();
      client.on('error', () => undefined);
      await client.end().catch(() => undefined);
    }
  }
}
