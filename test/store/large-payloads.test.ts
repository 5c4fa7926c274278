// Large payloads (src/store/payloads.ts): on the table store a payload above IN_STATEMENT_MAX_BYTES
// is written through a large object in pieces and every payload above a piece is read back in
// pieces; admission then writes it with `put` instead of in its statement. Both stores hold a
// payload too large for the `remember` budget only weakly.

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { sql } from 'kysely';
import t from 'tap';
import { IN_STATEMENT_MAX_BYTES, createDbPayloadStore, createFsPayloadStore, payloadRef, writesInStatement } from '../../src/store/payloads.ts';
import { testDatabase } from '../helpers/database.ts';

const database = await testDatabase(t);

t.test('table store: a payload above the in-statement limit round-trips in pieces, and leaves no large object', async (t) => {
  const store = createDbPayloadStore(database.store.db);
  // Not a multiple of the piece size, so the last piece is a short one.
  const bytes = randomBytes(IN_STATEMENT_MAX_BYTES + 3 * 1024 * 1024 + 12_345);
  const ref = await store.put(bytes);
  t.equal(ref, payloadRef(bytes));
  t.ok((await store.get(ref)).equals(bytes), 'get: the same bytes');
  t.ok((await buffer(await store.stream(ref))).equals(bytes), 'stream: the same bytes');
  t.equal(await store.has(ref), true);
  t.equal(await store.put(bytes), ref, 'the same bytes again: the same ref, nothing written');
  const row = await database.store.db.selectFrom('payloads').select(['size_bytes']).where('sha256', '=', ref).executeTakeFirstOrThrow();
  t.equal(Number(row.size_bytes), bytes.byteLength);
  const objects = await sql<{ n: number }>`SELECT count(*)::integer AS n FROM pg_largeobject_metadata`.execute(database.store.db);
  t.equal(objects.rows[0]?.n, 0, 'the large object used to assemble it is gone');
});

t.test('table store: a payload altered in the table is refused when read in pieces', async (t) => {
  const store = createDbPayloadStore(database.store.db);
  const bytes = randomBytes(3 * 1024 * 1024);
  const ref = await store.put(bytes);
  await sql`UPDATE payloads SET bytes = overlay(bytes PLACING '\\x00'::bytea FROM 2000000) WHERE sha256 = ${ref}`.execute(database.store.db);
  await t.rejects(store.get(ref), { code: 'EDX_ERR_PAYLOAD_CORRUPT' });
});

t.test('admission writes a payload in its statement up to the limit only', async (t) => {
  const table = createDbPayloadStore(database.store.db);
  t.equal(writesInStatement(table, IN_STATEMENT_MAX_BYTES), true);
  t.equal(writesInStatement(table, IN_STATEMENT_MAX_BYTES + 1), false);
  const dir = await mkdtemp(join(tmpdir(), 'edxgate-large-payloads-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  t.equal(writesInStatement(createFsPayloadStore(dir), 100), false, 'a folder store never does');
});

t.test('a payload beyond a quarter of the remember budget is held weakly: the admitted buffer serves the read while it lives', async (t) => {
  const store = createDbPayloadStore(database.store.db, { cacheBytes: 4 * 1024 * 1024 });
  const bytes = randomBytes(2 * 1024 * 1024);
  const ref = await store.put(bytes);
  store.remember?.(ref, bytes);
  t.equal(await store.get(ref), bytes, 'the remembered buffer itself, not a copy read back');
  // A store without a budget keeps nothing, not even weakly: its reads come from the table.
  const bare = createDbPayloadStore(database.store.db, { cacheBytes: 0 });
  bare.remember?.(ref, bytes);
  const other = await bare.get(ref);
  t.not(other, bytes);
  t.ok(other.equals(bytes));
});
