// Named prepared statements for the Postgres pool. kysely sends every query through `pg` as an
// unnamed statement, so Postgres parses, analyses and plans the gateway's large data-modifying CTEs
// on every execution. Measured with pg_stat_statements (bench/gateway.ts, 100 KB packets at 100/s,
// 2-core machine): planning alone took 2.2 ms of Postgres CPU per document — as much as executing
// the statements (the claim: 0.58 ms to plan, 0.40 ms to run). A named statement is parsed once per
// connection, and after five executions Postgres keeps a generic plan for it.
//
// Only parameterised queries are named: kysely's own transaction control and the migrations'
// multi-statement DDL have no parameters and keep the simple protocol. The number of distinct
// statements is bounded (a query with a variable-length IN list has a text per length); past the
// bound new texts run unnamed, as before. A pooler in transaction mode that does not track prepared
// statements (PgBouncer before 1.21) needs DATABASE_PREPARED_STATEMENTS=false.

import type { PostgresCursor, PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import type pg from 'pg';

/** Distinct statement texts named per process; the gateway has a few dozen. */
const MAX_NAMED_STATEMENTS = 500;

/** Gives each distinct parameterised query text one statement name, the same on every connection. */
export class StatementNames {
  readonly #names = new Map<string, string>();
  readonly #limit: number;

  constructor(limit = MAX_NAMED_STATEMENTS) {
    this.#limit = limit;
  }

  /** The name to prepare `text` under, or undefined to run it unnamed. */
  nameFor(text: string, parameterCount: number): string | undefined {
    if (parameterCount === 0) return undefined;
    let name = this.#names.get(text);
    if (name === undefined) {
      if (this.#names.size >= this.#limit) return undefined;
      name = `edx_${this.#names.size + 1}`;
      this.#names.set(text, name);
    }
    return name;
  }

  /** How many texts have a name (for tests and diagnostics). */
  get size(): number {
    return this.#names.size;
  }
}

/** A kysely pool over a pg pool whose clients run parameterised queries as named prepared statements. */
export class PreparingPool implements PostgresPool {
  readonly #pool: pg.Pool;
  readonly #names: StatementNames;
  // kysely keys its connection objects by client identity: one wrapper per pg client, kept.
  readonly #clients = new WeakMap<pg.PoolClient, PostgresPoolClient>();

  constructor(pool: pg.Pool, names: StatementNames = new StatementNames()) {
    this.#pool = pool;
    this.#names = names;
  }

  async connect(): Promise<PostgresPoolClient> {
    const client = await this.#pool.connect();
    let wrapped = this.#clients.get(client);
    if (wrapped === undefined) {
      wrapped = preparing(client, this.#names);
      this.#clients.set(client, wrapped);
    }
    return wrapped;
  }

  end(): Promise<void> {
    return this.#pool.end();
  }
}

function preparing(client: pg.PoolClient, names: StatementNames): PostgresPoolClient {
  function query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
  function query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
  function query<R>(textOrCursor: string | PostgresCursor<R>, parameters?: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>> | PostgresCursor<R> {
    if (typeof textOrCursor !== 'string') return client.query(textOrCursor as unknown as pg.Submittable) as unknown as PostgresCursor<R>;
    const values = parameters === undefined ? [] : [...parameters];
    const name = names.nameFor(textOrCursor, values.length);
    const result = name === undefined ? client.query(textOrCursor, values) : client.query({ name, text: textOrCursor, values });
    return result as unknown as Promise<PostgresQueryResult<R>>;
  }
  return {
    query,
    release: () => client.release(),
  };
}
