// The event dispatcher against real receivers on loopback and a real database: signed JSON
// batches in stream order, retried after a 500 with the same delivery id, an event whose
// transaction commits late is not skipped, two nodes share the work, wake() skips the poll wait,
// and shutdown leaves an unfinished POST to its lease.

import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import pg from 'pg';
import t from 'tap';
import { SIGNATURE_HEADER, verifyWebhookSignature } from '../../src/adapters/webhook/signature.ts';
import { createLogger } from '../../src/observability/logger.ts';
import type { Database } from '../../src/store/database.ts';
import { createSubscription, decodeEventCursor } from '../../src/store/queries/event-stream.ts';
import { EVENT_WEBHOOK_HEADERS, EventDispatcher } from '../../src/tracking/event-dispatcher.ts';
import type { EventBatch, EventDispatcherOptions } from '../../src/tracking/event-dispatcher.ts';
import { startReceiver, waitFor } from '../api/gateway-fixture.ts';
import type { ReceivedRequest } from '../api/gateway-fixture.ts';
import { postgresAvailable, testDatabase } from '../helpers/database.ts';
import type { Teardown } from '../helpers/database.ts';
import { listenOnLoopback } from '../helpers/loopback.ts';

const database = await testDatabase(t);
const { store } = database;
const B = '000.01.15.H47';
const C = '000.02.15.H47';
const X = '000.09.15.H47';
const DELIVERY_ID = EVENT_WEBHOOK_HEADERS.deliveryId.toLowerCase();
const SUBSCRIPTION_ID = EVENT_WEBHOOK_HEADERS.subscriptionId.toLowerCase();
const ATTEMPT = EVENT_WEBHOOK_HEADERS.attempt.toLowerCase();
const FAST: EventDispatcherOptions = { pollIntervalMs: 50, batchSize: 3, timeoutMs: 2000, retry: { baseMs: 20, maxMs: 100 } };
const logger = createLogger({ log: { level: process.env.EDXGATE_TEST_LOG === '1' ? 'debug' : 'silent' } });

let clientId = '';
t.beforeEach(async () => {
  await database.truncate();
  clientId = randomUUID();
  await store.db.insertInto('clients').values({ id: clientId, name: 'QLVB', token_hash: randomUUID().replaceAll('-', '').padEnd(64, '0'), agency_codes: [B, C] }).execute();
});

async function append(db: Kysely<Database>, type: string, agency: string): Promise<number> {
  const row = await db.insertInto('events').values({ type, agency, data: JSON.stringify({ type }) }).returning('id').executeTakeFirstOrThrow();
  return row.id;
}

/** Waits until every event is final (other test files' transactions share the cluster's xmin). */
async function settle(db: Kysely<Database>): Promise<void> {
  await waitFor('events final', async () => {
    const { rows } = await sql<{ n: number }>`SELECT count(*)::integer AS n FROM events WHERE tx >= pg_snapshot_xmin(pg_current_snapshot())`.execute(db);
    return rows[0]?.n === 0;
  });
}

/** The ids of an agency's events in stream order, straight from the table. */
async function streamIds(agency: string, types?: readonly string[]): Promise<number[]> {
  let query = store.db.selectFrom('events').select('id').where('agency', '=', agency);
  if (types !== undefined) query = query.where('type', 'in', [...types]);
  const rows = await query.orderBy(sql`tx`).orderBy('id').execute();
  return rows.map((r) => r.id);
}

function batchOf(request: ReceivedRequest): EventBatch {
  return JSON.parse(request.body.toString('utf8')) as EventBatch;
}

/** Event ids of the accepted (2xx) batches in arrival order, duplicates removed (what a receiver that dedupes on the cursor keeps). */
function deduped(received: readonly ReceivedRequest[]): number[] {
  const seen = new Set<string>();
  const ids: number[] = [];
  for (const r of received) {
    if (r.status >= 300) continue;
    for (const e of batchOf(r).events) {
      if (seen.has(e.cursor)) continue;
      seen.add(e.cursor);
      ids.push(decodeEventCursor(e.cursor).id);
    }
  }
  return ids;
}

function startDispatcher(t: Teardown, db: Kysely<Database>, options: EventDispatcherOptions = FAST): EventDispatcher {
  const dispatcher = new EventDispatcher({ db, logger }, options);
  void dispatcher.start();
  t.teardown(() => dispatcher.stop(2000));
  return dispatcher;
}

async function subscription(id: string) {
  return store.db.selectFrom('event_subscriptions').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

t.test('posts the visible events as signed JSON batches, in stream order: none skipped, none repeated', async (t) => {
  const receiver = await startReceiver(t);
  const onlyAcked = await startReceiver(t);
  await append(store.db, 'delivered', B); // before the subscription: not sent
  await settle(store.db);
  const sub = await createSubscription(store.db, { clientId, url: receiver.url, agencies: [B] });
  const acked = await createSubscription(store.db, { clientId, url: onlyAcked.url, agencies: [B, C], eventTypes: ['acked'] });
  for (let i = 0; i < 4; i++) {
    await append(store.db, 'delivered', B);
    await append(store.db, 'delivered', X); // another agency's
    await append(store.db, 'acked', C);
  }
  await store.db.transaction().execute(async (trx) => {
    for (let i = 0; i < 3; i++) await append(trx, 'status', B);
  });
  await append(store.db, 'acked', B);
  await settle(store.db);
  const all = await streamIds(B);
  const expected = all.slice(1);
  t.equal(expected.length, 8);

  startDispatcher(t, store.db);
  await waitFor('all of B\'s events', () => deduped(receiver.received).length >= expected.length);
  await waitFor('the acked ones', async () => deduped(onlyAcked.received).length >= (await streamIds(C, ['acked'])).length + 1);
  t.same(deduped(receiver.received), expected, 'every visible event once, in stream order');
  t.equal(receiver.received.flatMap((r) => batchOf(r).events).length, expected.length, 'one node, all accepted: nothing sent twice');
  const ackedExpected = (await sql<{ id: number }>`SELECT id FROM events WHERE type = 'acked' AND agency IN (${B}, ${C}) ORDER BY tx, id`.execute(store.db)).rows.map((r) => r.id);
  t.same(deduped(onlyAcked.received), ackedExpected, 'a subscription with event types gets only those, of all its agencies');

  for (const r of receiver.received) {
    const batch = batchOf(r);
    const check = verifyWebhookSignature(r.headers, r.body, sub.secret, 300);
    t.ok(check.ok, `signed with the subscription's secret (${SIGNATURE_HEADER})`);
    t.notOk(verifyWebhookSignature(r.headers, r.body, acked.secret, 300).ok, 'and not with another one');
    t.match(r.headers['content-type'], /^application\/json/);
    t.equal(batch.subscriptionId, sub.id);
    t.equal(r.headers[SUBSCRIPTION_ID], sub.id);
    t.equal(r.headers[DELIVERY_ID], `${sub.id}:${batch.events[0]?.cursor ?? ''}`, 'delivery id: subscription and first event');
    t.equal(r.headers[ATTEMPT], '1');
    t.ok(batch.events.length >= 1 && batch.events.length <= 3, 'batches of at most batchSize');
  }
  const last = batchOf(receiver.received[receiver.received.length - 1] as ReceivedRequest);
  // The receiver records a request before it answers; the cursor moves after the answer.
  const stored = await waitFor('the last batch recorded', async () => {
    const row = await subscription(sub.id);
    return row.cursor === last.cursor ? row : undefined;
  });
  t.equal(stored.attempts, 0, 'the subscription is at the last batch\'s cursor, without failures');
  t.match(batchOf(receiver.received[0] as ReceivedRequest).events[0], {
    type: 'delivered',
    agency: B,
    packetId: null,
    deliveryId: null,
    documentId: null,
    data: { type: 'delivered' },
    at: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+07:00$/,
  });
});

t.test('a 500 is retried with backoff and the same delivery id; the error is recorded; then the cursor moves on', async (t) => {
  const receiver = await startReceiver(t, () => 500);
  const sub = await createSubscription(store.db, { clientId, url: receiver.url, agencies: [B] });
  const first = await append(store.db, 'delivered', B);
  const second = await append(store.db, 'acked', B);
  await settle(store.db);
  startDispatcher(t, store.db);

  await waitFor('two refusals', () => receiver.received.length >= 2);
  const failing = await waitFor('the failure recorded', async () => {
    const row = await subscription(sub.id);
    return row.attempts >= 1 ? row : undefined;
  });
  t.match(failing.last_error, /^HTTP 500: refused with 500$/);
  t.equal(failing.cursor, sub.cursor, 'the cursor stays while the batch is refused');

  receiver.answerWith(() => 200);
  const done = await waitFor('delivered', async () => {
    const row = await subscription(sub.id);
    return row.cursor !== sub.cursor ? row : undefined;
  });
  t.equal(done.attempts, 0, 'failures cleared');
  t.equal(done.last_error, null);
  const ids = new Set(receiver.received.map((r) => r.headers[DELIVERY_ID]));
  t.equal(ids.size, 1, 'the same delivery id on every try');
  t.same(
    receiver.received.map((r) => r.headers[ATTEMPT]),
    receiver.received.map((_, i) => String(i + 1)),
    'attempts numbered 1, 2, 3…',
  );
  t.equal(receiver.received[receiver.received.length - 1]?.status, 200);
  t.same(deduped(receiver.received), [first, second], 'after dedupe: each event once, in order');
});

t.test('an event whose transaction commits late is delivered, not skipped', { skip: postgresAvailable() ? false : 'needs DATABASE_URL (two sessions)' }, async (t) => {
  const receiver = await startReceiver(t);
  await createSubscription(store.db, { clientId, url: receiver.url, agencies: [B] });
  const open = new pg.Client({ connectionString: database.databaseUrl });
  await open.connect();
  t.teardown(() => open.end());
  await open.query('BEGIN');
  const early = Number((await open.query<{ id: string }>(`INSERT INTO events (type, agency) VALUES ('status', $1) RETURNING id`, [B])).rows[0]?.id);
  const late = await append(store.db, 'delivered', B);
  const dispatcher = startDispatcher(t, store.db);
  dispatcher.wake();
  await sleep(300); // several polls
  t.same(deduped(receiver.received), [], 'nothing is sent past a transaction that is still open');

  await open.query('COMMIT');
  dispatcher.wake();
  await waitFor('both', () => deduped(receiver.received).length >= 2);
  t.same(deduped(receiver.received), [early, late], 'both, in stream order');
});

t.test('two nodes: every event arrives, in order, each batch advanced once', { skip: postgresAvailable() ? false : 'needs DATABASE_URL (two nodes)' }, async (t) => {
  const receiver = await startReceiver(t);
  const sub = await createSubscription(store.db, { clientId, url: receiver.url, agencies: [B] });
  const other = await database.openAnother();
  startDispatcher(t, store.db);
  startDispatcher(t, other.db);
  for (let i = 0; i < 30; i++) await append(i % 2 === 0 ? store.db : other.db, 'delivered', B);
  await settle(store.db);
  const expected = await streamIds(B);
  await waitFor('all 30', () => deduped(receiver.received).length >= 30);
  t.same(deduped(receiver.received), expected, 'every event, in stream order');
  const ids = receiver.received.map((r) => r.headers[DELIVERY_ID]);
  t.equal(new Set(ids).size, ids.length, 'leases kept the two nodes from posting a batch twice');
  const last = batchOf(receiver.received[receiver.received.length - 1] as ReceivedRequest);
  await waitFor('the subscription at the last batch', async () => (await subscription(sub.id)).cursor === last.cursor);
});

t.test('wake() sends at once instead of at the next poll', async (t) => {
  const receiver = await startReceiver(t);
  await createSubscription(store.db, { clientId, url: receiver.url, agencies: [B] });
  const dispatcher = startDispatcher(t, store.db, { ...FAST, pollIntervalMs: 60_000 });
  await sleep(100); // the first cycle has run and found nothing
  const id = await append(store.db, 'delivered', B);
  await settle(store.db);
  const started = Date.now();
  dispatcher.wake();
  await waitFor('sent', () => deduped(receiver.received).length >= 1, 10_000);
  t.same(deduped(receiver.received), [id]);
  t.ok(Date.now() - started < 10_000, 'well before the 60 s poll');
});

t.test('stop() aborts a POST that outlives it and leaves the batch to its lease', async (t) => {
  const hanging = createServer(() => {
    // Never answers.
  });
  const base = await listenOnLoopback(t, hanging);
  const sub = await createSubscription(store.db, { clientId, url: `${base}/hook`, agencies: [B] });
  await append(store.db, 'delivered', B);
  await settle(store.db);
  const dispatcher = new EventDispatcher({ db: store.db, logger }, { ...FAST, timeoutMs: 30_000 });
  await dispatcher.start();
  await waitFor('leased', async () => (await subscription(sub.id)).next_attempt_at.getTime() > Date.now() + 10_000);
  t.same(await dispatcher.stop(100), { drained: false });
  t.same(await dispatcher.stop(100), { drained: false }, 'idempotent');
  const row = await subscription(sub.id);
  t.equal(row.cursor, sub.cursor, 'not advanced');
  t.equal(row.attempts, 0, 'no failure recorded for a shutdown');
  t.ok(row.next_attempt_at.getTime() > Date.now(), 'the lease holds it until it expires');
  t.equal(dispatcher.status().running, false);
});
