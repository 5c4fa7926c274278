// Named prepared statements: which queries get a name, that a name stays bound to one text, and on
// real Postgres that a parameterised query is prepared once on its connection and reused.
import { sql } from 'kysely';
import t from 'tap';
import { StatementNames } from '../../src/store/prepared-statements.ts';
import { postgresAvailable, testDatabase } from '../helpers/database.ts';

t.test('a parameterised text gets one name; a text without parameters gets none', async (t) => {
  const names = new StatementNames();
  const select = 'select $1::int';
  const first = names.nameFor(select, 1);
  t.type(first, 'string');
  t.equal(names.nameFor(select, 1), first, 'the same text keeps its name');
  t.not(names.nameFor('select $1::text', 1), first, 'another text gets another name');
  t.equal(names.nameFor('begin', 0), undefined, 'no parameters: simple protocol (transaction control, multi-statement DDL)');
  t.equal(names.size, 2);
});

t.test('past the bound, new texts run unnamed and the named ones keep their names', async (t) => {
  const names = new StatementNames(2);
  const a = names.nameFor('select $1', 1);
  const b = names.nameFor('select $1, 2', 1);
  t.equal(names.nameFor('select $1, 3', 1), undefined);
  t.equal(names.nameFor('select $1', 1), a);
  t.equal(names.nameFor('select $1, 2', 1), b);
  t.not(a, b);
});

t.test('on Postgres a parameterised query is prepared on its connection and reused', { skip: !postgresAvailable() && 'needs DATABASE_URL' }, async (t) => {
  const database = await testDatabase(t, { kind: 'postgres', config: { store: { poolSize: 1 } } });
  const db = database.store.db;
  const probe = (n: number) => sql<{ n: number }>`select ${n}::int + 1 as n /* prepared-statements test */`.execute(db);
  t.same((await probe(1)).rows, [{ n: 2 }]);
  t.same((await probe(41)).rows, [{ n: 42 }], 'the second execution binds new values to the same statement');
  // One pooled connection: this query runs on the connection that prepared the probe.
  const { rows } = await sql<{ count: number }>`
    select count(*)::int as count from pg_prepared_statements
    where statement like '%prepared-statements test%' and statement not like '%pg_prepared_statements%'`.execute(db);
  t.equal(rows[0]?.count, 1, 'exactly one prepared statement for the probe text');
});

t.test('DATABASE_PREPARED_STATEMENTS=false runs every query unnamed', { skip: !postgresAvailable() && 'needs DATABASE_URL' }, async (t) => {
  const database = await testDatabase(t, { kind: 'postgres', config: { store: { poolSize: 1, preparedStatements: false } } });
  const db = database.store.db;
  await sql`select ${1}::int /* unprepared test */`.execute(db);
  const { rows } = await sql<{ count: number }>`
    select count(*)::int as count from pg_prepared_statements where statement like '%unprepared test%' and statement not like '%pg_prepared%'`.execute(db);
  t.equal(rows[0]?.count, 0);
});

t.test('the pool plans prepared statements once (DATABASE_PLAN_CACHE_MODE, default force_generic_plan)', { skip: !postgresAvailable() && 'needs DATABASE_URL' }, async (t) => {
  const database = await testDatabase(t, { kind: 'postgres', config: { store: { poolSize: 1 } } });
  const db = database.store.db;
  const { rows: mode } = await sql<{ plan_cache_mode: string }>`show plan_cache_mode`.execute(db);
  t.equal(mode[0]?.plan_cache_mode, 'force_generic_plan');
  // An array parameter, as the admitting statement has: under `auto` Postgres plans it per execution.
  for (const ids of [[1], [1, 2], [3], [4, 5, 6]]) {
    await sql`select count(*) from unnest(${ids}::int[]) as u(id) /* plan-cache test */`.execute(db);
  }
  const { rows } = await sql<{ generic_plans: number; custom_plans: number }>`
    select generic_plans::int, custom_plans::int from pg_prepared_statements
    where statement like '%plan-cache test%' and statement not like '%pg_prepared_statements%'`.execute(db);
  t.same(rows, [{ generic_plans: 4, custom_plans: 0 }], 'four executions, one generic plan, no custom planning');
});

t.test('DATABASE_PLAN_CACHE_MODE=auto leaves the choice to Postgres', { skip: !postgresAvailable() && 'needs DATABASE_URL' }, async (t) => {
  const database = await testDatabase(t, { kind: 'postgres', config: { store: { poolSize: 1, planCacheMode: 'auto' } } });
  const { rows } = await sql<{ plan_cache_mode: string }>`show plan_cache_mode`.execute(database.store.db);
  t.equal(rows[0]?.plan_cache_mode, 'auto');
});
