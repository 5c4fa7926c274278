// complete / fail / dead-letter / requeue / mark-late, and the queue statistics they move.
import { sql } from 'kysely';
import t from 'tap';
import { admitPacket } from '../../src/store/queries/admit-packet.ts';
import { claimDeliveries } from '../../src/store/queries/claim-deliveries.ts';
import type { ClaimedDelivery } from '../../src/store/queries/claim-deliveries.ts';
import { completeDelivery } from '../../src/store/queries/complete-delivery.ts';
import { deadLetterDelivery, failDelivery } from '../../src/store/queries/fail-delivery.ts';
import { listDeliveries } from '../../src/store/queries/list-deliveries.ts';
import { markLateDeliveries } from '../../src/store/queries/mark-late-deliveries.ts';
import { queueStats } from '../../src/store/queries/queue-stats.ts';
import { requeueDelivery } from '../../src/store/queries/requeue-delivery.ts';
import { DELIVERIES_CHANNEL } from '../../src/store/channels.ts';
import { testDatabase } from '../helpers/database.ts';
import { packetInput, seedRoutes } from './packet-input.ts';

const database = await testDatabase(t);
const { store } = database;
t.beforeEach(async () => {
  await database.truncate();
  await seedRoutes(store);
});

const LEASE = { leaseMs: 30_000 };

async function admitAndClaim(overrides: Parameters<typeof packetInput>[1] = {}): Promise<ClaimedDelivery> {
  await admitPacket(store.db, await packetInput(store, { recipients: [{ to: '000.01.15.H47', routeId: 'inbox' }], ...overrides }));
  const [claim] = await claimDeliveries(store.db, { limit: 1, ...LEASE });
  if (!claim) throw new Error('nothing claimed');
  return claim;
}

async function eventsOf(deliveryId: string) {
  return store.db.selectFrom('events').select(['type', 'data', 'agency', 'document_id']).where('delivery_id', '=', deliveryId).orderBy('id').execute();
}

async function makeDue(): Promise<void> {
  await sql`UPDATE deliveries SET next_attempt_at = now() - interval '1 second' WHERE state = 'queued'`.execute(store.db);
}

t.test('complete records latency from arrival, on time', async (t) => {
  const claim = await admitAndClaim({ receivedAt: new Date(Date.now() - 1500) });
  const done = await completeDelivery(store.db, { deliveryId: claim.deliveryId, attempt: claim.attempt });
  if (!done) throw new Error('not completed');
  t.ok(done.latencyMs >= 1500, 'counted from the request arriving, not from admission');
  t.equal(done.late, false);
  t.equal(done.newlyLate, false);
  const row = await store.db.selectFrom('deliveries').selectAll().where('id', '=', claim.deliveryId).executeTakeFirstOrThrow();
  t.match(row, { state: 'delivered', lease_until: null, latency_ms: done.latencyMs, late: false });
  t.ok(row.delivered_at instanceof Date);
  const events = await eventsOf(claim.deliveryId);
  t.match(events, [{ type: 'delivered', agency: '000.01.15.H47', data: { attempt: 1, latencyMs: done.latencyMs, late: false } }]);
  t.equal(await completeDelivery(store.db, { deliveryId: claim.deliveryId, attempt: claim.attempt }), undefined, 'completing twice does nothing');
});

t.test('a delivery completed after its deadline is late, counted once', async (t) => {
  const claim = await admitAndClaim({ receivedAt: new Date(Date.now() - 10_000), budgetMs: 5000 });
  const done = await completeDelivery(store.db, { deliveryId: claim.deliveryId, attempt: claim.attempt });
  t.match(done, { late: true, newlyLate: true });
  t.ok((done?.latencyMs ?? 0) >= 10_000);

  // Already flagged by the sweep: completion is late but not a new miss.
  const flagged = await admitAndClaim({ receivedAt: new Date(Date.now() - 10_000), budgetMs: 5000 });
  t.same(
    (await markLateDeliveries(store.db)).map((l) => l.deliveryId),
    [flagged.deliveryId],
  );
  t.match(await completeDelivery(store.db, { deliveryId: flagged.deliveryId, attempt: flagged.attempt }), { late: true, newlyLate: false });
});

t.test('markLateDeliveries flags waiting deliveries past their deadline once, and keeps them queued', async (t) => {
  await admitPacket(store.db, await packetInput(store, { receivedAt: new Date(Date.now() - 6000), budgetMs: 5000 }));
  await admitPacket(store.db, await packetInput(store)); // on time
  const late = await markLateDeliveries(store.db);
  t.equal(late.length, 2, 'both recipients of the late packet');
  t.same(await markLateDeliveries(store.db), [], 'flagged once');
  const rows = await store.db.selectFrom('deliveries').select(['state', 'late']).orderBy('seq').execute();
  t.same(
    rows.map((r) => [r.state, r.late]),
    [
      ['queued', true],
      ['queued', true],
      ['queued', false],
      ['queued', false],
    ],
  );
  const types = await store.db.selectFrom('events').select('type').where('type', '=', 'deadline_missed').execute();
  t.equal(types.length, 2);
});

t.test('fail schedules retries, then dead-letters at the last attempt', async (t) => {
  let claim = await admitAndClaim();
  const first = await failDelivery(store.db, { deliveryId: claim.deliveryId, attempt: claim.attempt, error: 'HTTP 503', retryInMs: 250, maxAttempts: 3 });
  t.match(first, { outcome: 'retry', attempts: 1 });
  let row = await store.db.selectFrom('deliveries').selectAll().where('id', '=', claim.deliveryId).executeTakeFirstOrThrow();
  t.match(row, { state: 'queued', lease_until: null, last_error: 'HTTP 503' });

  await makeDue();
  [claim] = (await claimDeliveries(store.db, { limit: 1, ...LEASE })) as [ClaimedDelivery];
  t.equal(claim.attempt, 2);
  t.match(await failDelivery(store.db, { deliveryId: claim.deliveryId, attempt: 2, error: 'timeout', retryInMs: 500, maxAttempts: 3 }), { outcome: 'retry' });

  await makeDue();
  [claim] = (await claimDeliveries(store.db, { limit: 1, ...LEASE })) as [ClaimedDelivery];
  t.equal(claim.attempt, 3);
  t.same(await failDelivery(store.db, { deliveryId: claim.deliveryId, attempt: 3, error: 'x'.repeat(5000), retryInMs: 1000, maxAttempts: 3 }), {
    outcome: 'dead',
    attempts: 3,
  });
  row = await store.db.selectFrom('deliveries').selectAll().where('id', '=', claim.deliveryId).executeTakeFirstOrThrow();
  t.equal(row.state, 'dead');
  t.equal(row.last_error?.length, 2000, 'errors are clipped');
  t.same(await claimDeliveries(store.db, { limit: 1, ...LEASE }), [], 'the dead are not claimed');

  t.same(
    (await eventsOf(claim.deliveryId)).map((e) => e.type),
    ['delivery_failed', 'delivery_failed', 'dead_lettered'],
  );
});

t.test('a permanent refusal goes straight to the dead letter; requeue brings it back', async (t) => {
  const claim = await admitAndClaim();
  t.equal(await deadLetterDelivery(store.db, { deliveryId: claim.deliveryId, attempt: claim.attempt, error: 'rejected: unknown recipient' }), true);

  const dead = await listDeliveries(store.db, { state: 'dead' });
  t.same(
    dead.items.map((d) => [d.deliveryId, d.lastError, d.attempts]),
    [[claim.deliveryId, 'rejected: unknown recipient', 1]],
  );

  let wake: (payload: string) => void = () => undefined;
  const woken = new Promise<string>((resolve) => {
    wake = resolve;
  });
  const unlisten = await store.listen(DELIVERIES_CHANNEL, (p) => wake(p));
  t.equal(await requeueDelivery(store.db, { deliveryId: claim.deliveryId, by: 'admin@test' }), 'requeued');
  t.equal(await woken, '', 'workers are woken');
  await unlisten();

  t.equal(await requeueDelivery(store.db, { deliveryId: claim.deliveryId }), 'not_dead');
  t.equal(await requeueDelivery(store.db, { deliveryId: crypto.randomUUID() }), 'not_found');
  t.equal(await requeueDelivery(store.db, { deliveryId: 'not-a-uuid' }), 'not_found');

  const [again] = await claimDeliveries(store.db, { limit: 1, ...LEASE });
  t.equal(again?.deliveryId, claim.deliveryId);
  t.equal(again?.attempt, 1, 'a fresh attempt budget');
  t.match(await eventsOf(claim.deliveryId), [{ type: 'dead_lettered' }, { type: 'requeued', data: { previousAttempts: 1, by: 'admin@test' } }]);
});

t.test('queue statistics count what is not yet delivered', async (t) => {
  t.same(await queueStats(store.db), { byState: { queued: 0, delivering: 0, dead: 0 }, depth: 0, oldestUndeliveredAgeSeconds: 0, oldestDueWaitSeconds: 0 });
  await admitPacket(store.db, await packetInput(store)); // 2 queued
  const claim = await admitAndClaim(); // the claim takes one of the 3 queued
  await deadLetterDelivery(store.db, { deliveryId: claim.deliveryId, attempt: claim.attempt, error: 'no' });
  const [other] = await claimDeliveries(store.db, { limit: 1, ...LEASE });
  t.ok(other);
  await sql`UPDATE deliveries SET created_at = now() - interval '90 seconds' WHERE state = 'queued'`.execute(store.db);
  const stats = await queueStats(store.db);
  t.same(stats.byState, { queued: 1, delivering: 1, dead: 1 });
  t.equal(stats.depth, 2);
  t.ok(stats.oldestUndeliveredAgeSeconds >= 90 && stats.oldestUndeliveredAgeSeconds < 3600);
  t.ok(stats.oldestDueWaitSeconds >= 0 && stats.oldestDueWaitSeconds < 90, 'the wait counts from when the delivery became due, not from admission');

  // Due for 40 s: waiting that long for a worker. A retry an hour ahead is not waiting for one.
  await sql`UPDATE deliveries SET next_attempt_at = now() - interval '40 seconds' WHERE state = 'queued'`.execute(store.db);
  const waiting = await queueStats(store.db);
  t.ok(waiting.oldestDueWaitSeconds >= 40 && waiting.oldestDueWaitSeconds < 90, `waited ${waiting.oldestDueWaitSeconds} s`);
  await sql`UPDATE deliveries SET next_attempt_at = now() + interval '1 hour' WHERE state = 'queued'`.execute(store.db);
  t.equal((await queueStats(store.db)).oldestDueWaitSeconds, 0, 'a retry still to come waits for its time, not for a worker');
});

t.test('listDeliveries pages with a cursor and rejects a foreign one', async (t) => {
  for (let i = 0; i < 3; i++) await admitPacket(store.db, await packetInput(store)); // 6 deliveries
  const first = await listDeliveries(store.db, { state: 'queued', limit: 4 });
  t.equal(first.items.length, 4);
  t.equal(first.hasMore, true);
  const second = await listDeliveries(store.db, { state: 'queued', limit: 4, cursor: first.nextCursor ?? undefined });
  t.equal(second.items.length, 2);
  t.equal(second.hasMore, false);
  t.equal(new Set([...first.items, ...second.items].map((d) => d.deliveryId)).size, 6);
  const empty = await listDeliveries(store.db, { state: 'queued', cursor: second.nextCursor ?? undefined });
  t.same(empty.items, []);
  t.equal(empty.nextCursor, second.nextCursor, 'an empty page keeps the cursor');
  await t.rejects(listDeliveries(store.db, { cursor: '12' }), { code: 'EDX_ERR_CURSOR_INVALID' });
});
