// The event stream: (tx, id) order by opaque cursor, only final events (an event whose transaction
// commits late is not skipped — the reason the stream is not ordered by id), visibility by agency
// and by document, a bounded scan; and the subscription rows the dispatcher leases and advances.

import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import pg from 'pg';
import t from 'tap';
import type { Database } from '../../src/store/database.ts';
import { admitPacket } from '../../src/store/queries/admit-packet.ts';
import { encodeCursor } from '../../src/store/queries/common.ts';
import {
  advanceSubscription,
  createSubscription,
  decodeEventCursor,
  disableSubscription,
  encodeEventCursor,
  failSubscription,
  leaseSubscription,
  listDueSubscriptions,
  listSubscriptions,
  readEvents,
  streamFrontier,
  streamHead,
} from '../../src/store/queries/event-stream.ts';
import type { ReadEventsInput, StreamEvent } from '../../src/store/queries/event-stream.ts';
import { postgresAvailable, testDatabase } from '../helpers/database.ts';
import { packetInput, seedRoutes } from './packet-input.ts';

const database = await testDatabase(t);
const { store } = database;
t.beforeEach(async () => {
  await database.truncate();
  await seedRoutes(store);
});

const A = '000.00.15.H47';
const B = '000.01.15.H47';
const C = '000.02.15.H47';
const X = '000.09.15.H47';

/** Appends an event in its own transaction; returns its id. */
async function append(db: Kysely<Database>, type: string, agency: string | null, documentId: string | null = null): Promise<number> {
  const row = await db
    .insertInto('events')
    .values({ type, agency, document_id: documentId, data: JSON.stringify({ n: randomUUID() }) })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/**
 * Waits until every event is final. Other test files share the Postgres cluster, and one of their
 * transactions open at the moment of a read holds xmin below events this test just committed.
 */
async function settle(db: Kysely<Database>): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const { rows } = await sql<{ n: number }>`SELECT count(*)::integer AS n FROM events WHERE tx >= pg_snapshot_xmin(pg_current_snapshot())`.execute(db);
    if (rows[0]?.n === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('the events never became final');
}

/** Every event id in stream order, straight from the table. */
async function streamOrder(db: Kysely<Database>): Promise<number[]> {
  const { rows } = await sql<{ id: number }>`SELECT id FROM events ORDER BY tx, id`.execute(db);
  return rows.map((r) => r.id);
}

/** Reads pages until caught up; returns the ids and the final cursor. */
async function readAll(db: Kysely<Database>, input: Omit<ReadEventsInput, 'after'>, after?: string): Promise<{ ids: number[]; cursor: string; pages: number }> {
  const ids: number[] = [];
  let cursor = after;
  for (let pages = 1; ; pages++) {
    const page = await readEvents(db, { ...input, after: cursor });
    ids.push(...page.events.map((e) => e.id));
    cursor = page.nextCursor;
    if (!page.hasMore) return { ids, cursor, pages };
    if (pages > 1000) throw new Error('readAll: no end');
  }
}

/** Admits a document A → B, C and records it as tracking does: the document and its recipients. */
async function carryDocument(): Promise<string> {
  const input = await packetInput(store, {
    recipients: [
      { to: B, routeId: 'inbox' },
      { to: C, routeId: 'inbox' },
    ],
  });
  const { packet } = await admitPacket(store.db, input);
  await store.db
    .insertInto('documents')
    .values({ document_id: packet.documentId, sender: A, packet_id: packet.packetId, business_type: 0, priority: 0, received_at: new Date() })
    .execute();
  await store.db
    .insertInto('document_recipients')
    .values(packet.deliveries.map((d) => ({ document_id: packet.documentId, sender: A, recipient: d.to, delivery_id: d.deliveryId })))
    .execute();
  return packet.documentId;
}

t.test('cursors: opaque round trip; anything the stream did not issue is refused', async (t) => {
  const position = { tx: '18446744073709551615', id: 9_007_199_254_740_991 };
  const cursor = encodeEventCursor(position);
  t.match(cursor, /^[A-Za-z0-9_-]+$/);
  t.ok(cursor.length <= 64, 'fits the query schema');
  t.same(decodeEventCursor(cursor), position);
  t.same(decodeEventCursor(encodeEventCursor({ tx: '0', id: 0 })), { tx: '0', id: 0 });
  const refused = [
    '',
    'garbage!',
    encodeCursor(5), // an inbox cursor
    Buffer.from('e18446744073709551616:1').toString('base64url'), // beyond xid8
    Buffer.from('e1:9007199254740993').toString('base64url'), // beyond a safe integer
    Buffer.from('e01:1').toString('base64url'),
    Buffer.from('e1:1:1').toString('base64url'),
    'A'.repeat(65),
  ];
  for (const bad of refused) t.throws(() => decodeEventCursor(bad), { code: 'EDX_ERR_CURSOR_INVALID' }, bad);
  await t.rejects(readEvents(store.db, { after: 'nope', agencies: 'all' }), { code: 'EDX_ERR_CURSOR_INVALID' });
});

t.test('pages through the final events in (tx, id) order: none skipped, none repeated', async (t) => {
  for (let i = 0; i < 5; i++) await append(store.db, 'delivered', B);
  // Several events of one transaction stay together, in id order.
  await store.db.transaction().execute(async (trx) => {
    for (let i = 0; i < 3; i++) await append(trx, 'status', B);
  });
  for (let i = 0; i < 2; i++) await append(store.db, 'acked', B);
  await settle(store.db);
  const expected = await streamOrder(store.db);
  t.equal(expected.length, 10);

  const paged = await readAll(store.db, { agencies: 'all', limit: 3 });
  t.same(paged.ids, expected, 'limit 3: every event once, in stream order');
  t.equal(paged.pages, 4);
  const single = await readEvents(store.db, { agencies: 'all', limit: 500 });
  t.same(single.events.map((e) => e.id), expected);
  t.equal(single.hasMore, false);

  const first = single.events[0];
  t.match(first, { type: 'delivered', agency: B, packetId: null, deliveryId: null, documentId: null });
  t.type(first?.at, Date);
  t.type(first?.data.n, 'string', 'data is parsed JSON');
  t.same(
    single.events.map((e) => decodeEventCursor(e.cursor)),
    single.events.map((e) => ({ tx: e.tx, id: e.id })),
    'each event carries its own position',
  );

  const later = await readEvents(store.db, { after: paged.cursor, agencies: 'all' });
  t.same(later.events, [], 'nothing after the end');
  t.equal(later.hasMore, false);
  const next = await append(store.db, 'acked', B);
  await settle(store.db);
  t.same((await readEvents(store.db, { after: paged.cursor, agencies: 'all' })).events.map((e) => e.id), [next], 'a later event comes after the cursor');
  // From the middle: exactly what follows that event.
  const third = single.events[2];
  t.same((await readAll(store.db, { agencies: 'all' }, third?.cursor)).ids, [...expected.slice(3), next]);
});

t.test('visibility: own agencies, documents sent or received — nothing else', async (t) => {
  const documentId = await carryDocument(); // admission wrote `admitted` (agency A) about it
  const delivered = await append(store.db, 'delivered', B, documentId);
  const statusFromC = await append(store.db, 'status', C, documentId);
  const ownC = await append(store.db, 'acked', C);
  const otherDocument = await append(store.db, 'admitted', X, `${X},2025/03/05,1/UBND`);
  await settle(store.db);
  const [admitted] = (await readEvents(store.db, { agencies: [A], types: ['admitted'] })).events;
  if (admitted === undefined) throw new Error('admission wrote no event');

  const ids = async (agencies: readonly string[], types?: readonly string[]): Promise<number[]> =>
    (await readAll(store.db, { agencies, ...(types === undefined ? {} : { types }) })).ids;
  t.same(await ids([A]), [admitted.id, delivered, statusFromC], 'the sender sees its document\'s events');
  t.same(await ids([B]), [admitted.id, delivered, statusFromC], 'a recipient sees the document\'s events');
  t.same(await ids([C]), [admitted.id, delivered, statusFromC, ownC], 'and its own');
  t.same(await ids([X]), [otherDocument]);
  t.same(await ids(['000.05.15.H47']), [], 'an agency with no part in anything sees nothing');
  t.same(await ids([]), [], 'no agencies, no events');
  t.same(await ids([X, C]), [admitted.id, delivered, statusFromC, ownC, otherDocument], 'several agencies: the union, in stream order');
  t.same(await ids([C], ['status', 'acked']), [statusFromC, ownC], 'types filter');
  t.same(await ids([C], ['linked']), []);
  t.equal((await readAll(store.db, { agencies: 'all' })).ids.length, 5, 'the operator sees all');
});

t.test('a reader that sees few events: each call examines a bounded window and moves past it', async (t) => {
  for (let i = 0; i < 23; i++) await append(store.db, 'delivered', X);
  const mine = await append(store.db, 'delivered', B);
  for (let i = 0; i < 4; i++) await append(store.db, 'delivered', X);
  await settle(store.db);

  const first = await readEvents(store.db, { agencies: [B], limit: 2, maxScan: 10 });
  t.same(first.events, [], 'nothing visible in the first window');
  t.equal(first.hasMore, true, 'but more to examine');
  const read = await readAll(store.db, { agencies: [B], limit: 2, maxScan: 10 });
  t.same(read.ids, [mine]);
  t.equal(read.pages, 3, '28 events in windows of 10');
  t.same((await readEvents(store.db, { agencies: [B], after: read.cursor })).events, []);
});

t.test('streamHead and streamFrontier', async (t) => {
  t.equal(await streamFrontier(store.db), null, 'no event, no frontier');
  const before = await append(store.db, 'acked', B);
  await settle(store.db);
  const head = await streamHead(store.db);
  const frontier = await streamFrontier(store.db);
  t.equal(frontier === null ? undefined : decodeEventCursor(frontier).id, before);
  const after = await append(store.db, 'acked', B);
  await settle(store.db);
  t.same((await readEvents(store.db, { agencies: 'all', after: head })).events.map((e) => e.id), [after], 'the head: only what comes next');
  t.not(await streamFrontier(store.db), frontier, 'the frontier moves when an event becomes final');
});

t.test('an event whose transaction commits late is not skipped', { skip: postgresAvailable() ? false : 'needs DATABASE_URL (two sessions)' }, async (t) => {
  await append(store.db, 'acked', B);
  await settle(store.db);
  const start = (await readAll(store.db, { agencies: 'all' })).cursor;

  // Session 1 inserts an event and stays open; session 2 inserts and commits a later one.
  const open = new pg.Client({ connectionString: database.databaseUrl });
  await open.connect();
  t.teardown(() => open.end());
  await open.query('BEGIN');
  const early = Number((await open.query<{ id: string }>(`INSERT INTO events (type, agency) VALUES ('status', $1) RETURNING id`, [B])).rows[0]?.id);
  const late = await append(store.db, 'delivered', B);
  t.ok(early < late, 'the open transaction took the lower id');

  // What paging by id would do: it sees the committed event, moves its cursor past it, and the
  // open transaction's event, once committed, is behind the cursor for good.
  const naive = await store.db.selectFrom('events').select('id').where('id', '>', 0).orderBy('id').execute();
  t.notOk(naive.some((r) => r.id === early), 'paging by id: the open event is not there yet…');
  t.ok(naive.some((r) => r.id === late), '…but the later one is, so the id cursor passes the open one');

  const during = await readEvents(store.db, { agencies: 'all', after: start });
  t.same(during.events, [], 'the stream returns neither while an older transaction is open: nothing beyond what is final');
  t.equal(during.hasMore, false);

  await open.query('COMMIT');
  // Other test files share the cluster: one of their transactions may hold xmin for a moment.
  let after: StreamEvent[] = [];
  for (let i = 0; i < 200 && after.length < 2; i++) {
    after = [...(await readEvents(store.db, { agencies: 'all', after: during.nextCursor })).events];
    if (after.length < 2) await new Promise((resolve) => setTimeout(resolve, 25));
  }
  t.same(after.map((e) => e.id), [early, late], 'both appear, the one that committed late first (it began first), none skipped');
});

t.test('on PGlite (one session) xmin is the current transaction: its own events are final after COMMIT', async (t) => {
  const local = database.kind === 'pglite' ? database : await testDatabase(t, { kind: 'pglite', name: 'event_stream_pglite' });
  const db = local.store.db;
  const start = (await readAll(db, { agencies: 'all' })).cursor;
  const before = await append(db, 'acked', B);
  let inside = 0;
  await db.transaction().execute(async (trx) => {
    inside = await append(trx, 'status', B);
    const seen = await readEvents(trx, { agencies: 'all', after: start });
    t.same(seen.events.map((e) => e.id), [before], 'inside: the committed event, not its own');
  });
  const outside = await append(db, 'delivered', B);
  t.same((await readAll(db, { agencies: 'all' }, start)).ids, [before, inside, outside], 'after COMMIT: all, in order');
  t.same((await readAll(db, { agencies: [B], limit: 1 }, start)).ids, [before, inside, outside], 'paging by one');
});

t.test('subscriptions: start at the head, leased once, advanced and failed by compare-and-set', async (t) => {
  const clientId = randomUUID();
  await store.db.insertInto('clients').values({ id: clientId, name: 'QLVB', token_hash: 'a'.repeat(64), agency_codes: [A, B] }).execute();
  const old = await append(store.db, 'acked', B);
  await settle(store.db);
  const created = await createSubscription(store.db, { clientId, url: 'http://127.0.0.1:9/events', agencies: [B, C] });
  t.match(created, { clientId, url: 'http://127.0.0.1:9/events', agencies: [B, C], eventTypes: null, attempts: 0, lastError: null });
  t.match(created.secret, /^[A-Za-z0-9_-]{43}$/, '256 random bits');
  t.notOk((await readEvents(store.db, { agencies: 'all', after: created.cursor ?? undefined })).events.some((e) => e.id === old), 'starts after what was final at creation');
  t.same((await listSubscriptions(store.db, clientId)).map((s) => s.id), [created.id]);
  t.notOk('secret' in ((await listSubscriptions(store.db, clientId))[0] ?? {}), 'the secret is not read back');

  const [due] = await listDueSubscriptions(store.db, { limit: 10 });
  t.same(due?.agencies, [B], 'only the agencies the client still acts for');
  t.equal(due?.secret, created.secret);

  const cursor = created.cursor;
  t.equal(await leaseSubscription(store.db, { id: created.id, cursor, leaseMs: 60_000 }), 1, 'first attempt');
  t.equal(await leaseSubscription(store.db, { id: created.id, cursor, leaseMs: 60_000 }), undefined, 'leased: not due for anyone else');
  t.same(await listDueSubscriptions(store.db, { limit: 10 }), []);

  const to = encodeEventCursor({ tx: '999999999', id: 1 });
  t.equal(await failSubscription(store.db, { id: created.id, cursor: to, error: 'stale', delayMs: 0 }), false, 'a failure at another cursor is not recorded');
  t.equal(await failSubscription(store.db, { id: created.id, cursor, error: 'HTTP 500: down', delayMs: 0 }), true);
  t.match((await listSubscriptions(store.db, clientId))[0], { attempts: 1, lastError: 'HTTP 500: down' });
  t.equal(await leaseSubscription(store.db, { id: created.id, cursor, leaseMs: 60_000 }), 2, 'the next attempt is numbered on');

  t.equal(await advanceSubscription(store.db, { id: created.id, from: to, to }), false, 'compare-and-set: not from another cursor');
  t.equal(await advanceSubscription(store.db, { id: created.id, from: cursor, to }), true);
  t.equal(await advanceSubscription(store.db, { id: created.id, from: cursor, to }), false, 'a second node posting the same batch does not advance again');
  t.match((await listSubscriptions(store.db, clientId))[0], { cursor: to, attempts: 0, lastError: null });
  t.equal((await listDueSubscriptions(store.db, { limit: 10 })).length, 1, 'due again at once after an advance');

  await store.db.updateTable('clients').set({ disabled_at: new Date() }).where('id', '=', clientId).execute();
  t.same(await listDueSubscriptions(store.db, { limit: 10 }), [], 'a disabled client\'s subscriptions rest');
  t.equal(await disableSubscription(store.db, { clientId: randomUUID(), id: created.id }), false, 'only its own client disables it');
  t.equal(await disableSubscription(store.db, { clientId, id: 'not-a-uuid' }), false);
  t.equal(await disableSubscription(store.db, { clientId, id: created.id }), true);
  t.equal(await disableSubscription(store.db, { clientId, id: created.id }), false, 'once');
  t.same(await listSubscriptions(store.db, clientId), []);
});

t.test('due subscriptions are read in pages by id, each once', async (t) => {
  const clientId = randomUUID();
  await store.db.insertInto('clients').values({ id: clientId, name: 'QLVB', token_hash: 'b'.repeat(64), agency_codes: [B] }).execute();
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push((await createSubscription(store.db, { clientId, url: `http://127.0.0.1:9/${i}`, agencies: [B] })).id);
  const seen: string[] = [];
  let afterId: string | undefined;
  for (;;) {
    const page = await listDueSubscriptions(store.db, { limit: 2, afterId });
    seen.push(...page.map((s) => s.id));
    const last = page[page.length - 1];
    if (last === undefined || page.length < 2) break;
    afterId = last.id;
  }
  t.same(seen, [...ids].sort(), 'all five, by id, once');
});
