import { sql } from 'kysely';
import t from 'tap';
import { admitPacket } from '../../src/store/queries/admit-packet.ts';
import { claimDeliveries, claimDue, nextClaimAt } from '../../src/store/queries/claim-deliveries.ts';
import type { ClaimedDelivery } from '../../src/store/queries/claim-deliveries.ts';
import { completeDelivery } from '../../src/store/queries/complete-delivery.ts';
import { deferDelivery } from '../../src/store/queries/defer-delivery.ts';
import { failDelivery } from '../../src/store/queries/fail-delivery.ts';
import type { Store } from '../../src/store/open-store.ts';
import { testDatabase } from '../helpers/database.ts';
import { packetInput, seedRoutes } from './packet-input.ts';

const database = await testDatabase(t);
const { store } = database;
t.beforeEach(async () => {
  await database.truncate();
  await seedRoutes(store);
});

const LEASE = { leaseMs: 30_000 };

/** Admits a one-recipient packet and returns its delivery id. */
async function admitOne(on: Store, priority: number, to = '000.01.15.H47'): Promise<string> {
  const result = await admitPacket(on.db, await packetInput(on, { priority, recipients: [{ to, routeId: 'inbox' }] }));
  const id = result.packet.deliveries[0]?.deliveryId;
  if (id === undefined) throw new Error('no delivery');
  return id;
}

t.test('urgent priorities are claimed first, then the longest due', async (t) => {
  const ordinary1 = await admitOne(store, 0);
  const khan = await admitOne(store, 1);
  const hoaToc = await admitOne(store, 3);
  const ordinary2 = await admitOne(store, 0);
  const thuongKhan = await admitOne(store, 2);

  const [first] = await claimDeliveries(store.db, { limit: 1, ...LEASE });
  t.equal(first?.deliveryId, hoaToc, 'a batch of one takes the most urgent');
  const rest = await claimDeliveries(store.db, { limit: 10, ...LEASE });
  t.same(
    rest.map((d) => d.deliveryId),
    [thuongKhan, khan, ordinary1, ordinary2],
    'priority desc, then admission order',
  );
  t.same(await claimDeliveries(store.db, { limit: 10, ...LEASE }), [], 'claimed rows are not claimed again');
});

t.test('a claim carries what the worker needs and starts a lease', async (t) => {
  const input = await packetInput(store, { priority: 1, recipients: [{ to: '000.02.15.H47', routeId: 'webhook-b', aliasOf: '000.08.15.H47' }] });
  const admitted = await admitPacket(store.db, input);
  const [claim] = await claimDeliveries(store.db, { limit: 5, ...LEASE });
  t.match(claim, {
    deliveryId: admitted.packet.deliveries[0]?.deliveryId,
    packetId: admitted.packet.packetId,
    recipient: '000.02.15.H47',
    aliasOf: '000.08.15.H47',
    routeId: 'webhook-b',
    priority: 1,
    attempt: 1,
    reclaimed: false,
    kind: 'document',
    documentId: input.documentId,
    sender: input.sender,
    sha256: input.sha256,
    sizeBytes: input.sizeBytes,
    payloadRef: input.payloadRef,
  });
  t.equal(claim?.leaseUntil.getTime(), (claim?.claimedAt.getTime() ?? 0) + 30_000, 'lease = claim time + leaseMs');
  t.equal(claim?.deadlineAt.getTime(), admitted.packet.deadlineAt.getTime());
  const row = await store.db.selectFrom('deliveries').select(['state', 'attempts']).where('id', '=', claim?.deliveryId ?? '').executeTakeFirst();
  t.same(row, { state: 'delivering', attempts: 1 });
});

t.test('a retry that is not due yet is not claimed, and nextClaimAt says when it will be', async (t) => {
  await admitOne(store, 0);
  const [claim] = await claimDeliveries(store.db, { limit: 1, ...LEASE });
  if (!claim) throw new Error('no claim');
  const failed = await failDelivery(store.db, { deliveryId: claim.deliveryId, attempt: claim.attempt, error: 'HTTP 503', retryInMs: 60_000, maxAttempts: 5 });
  if (failed?.outcome !== 'retry') throw new Error('expected a retry');
  t.same(await claimDeliveries(store.db, { limit: 10, ...LEASE }), []);
  t.equal((await nextClaimAt(store.db))?.getTime(), failed.nextAttemptAt.getTime());
  const short = await claimDue(store.db, { limit: 10, ...LEASE });
  t.same(short.deliveries, []);
  t.equal(short.nextClaimAt?.getTime(), failed.nextAttemptAt.getTime(), 'a short claim says when the retry comes due');

  // Make it due (as time passing would) and it is claimed, as attempt 2.
  await sql`UPDATE deliveries SET next_attempt_at = now() - interval '1 second'`.execute(store.db);
  const [again] = await claimDeliveries(store.db, { limit: 1, ...LEASE });
  t.equal(again?.attempt, 2);
  t.equal(again?.reclaimed, false);
});

t.test('claimDue: a full batch carries no next-claim time; a short one counts only retries still to come', async (t) => {
  for (let i = 0; i < 3; i++) await admitOne(store, 0, `000.0${i + 1}.15.H47`);
  const full = await claimDue(store.db, { limit: 2, ...LEASE });
  t.equal(full.deliveries.length, 2);
  t.equal(full.nextClaimAt, null, 'full batch: the worker claims again at once');
  const rest = await claimDue(store.db, { limit: 2, ...LEASE });
  t.equal(rest.deliveries.length, 1);
  const leases = rest.deliveries.concat(full.deliveries).map((d) => d.leaseUntil.getTime());
  t.equal(rest.nextClaimAt?.getTime(), Math.min(...leases), 'short batch: the earliest lease expiry, not the rows just claimed');
  const empty = await claimDue(store.db, { limit: 2, ...LEASE });
  t.same(empty.deliveries, []);
  t.equal(empty.nextClaimAt?.getTime(), Math.min(...leases));
});

t.test('an expired lease is claimed again; the stale worker is fenced out', async (t) => {
  const id = await admitOne(store, 0);
  const [crashed] = await claimDeliveries(store.db, { limit: 1, ...LEASE });
  t.equal(crashed?.deliveryId, id);
  t.same(await claimDeliveries(store.db, { limit: 1, ...LEASE }), [], 'a live lease is respected');

  // The node that claimed it died: its lease runs out (moved into the past instead of waiting).
  await sql`UPDATE deliveries SET lease_until = now() - interval '1 second' WHERE id = ${id}`.execute(store.db);
  const [reclaimed] = await claimDeliveries(store.db, { limit: 1, ...LEASE });
  t.equal(reclaimed?.deliveryId, id, 'the same delivery id, so a receiver can dedupe');
  t.equal(reclaimed?.attempt, 2);
  t.equal(reclaimed?.reclaimed, true);

  t.equal(await completeDelivery(store.db, { deliveryId: id, attempt: 1 }), undefined, 'the old claim cannot complete');
  t.equal(await failDelivery(store.db, { deliveryId: id, attempt: 1, error: 'late', retryInMs: 0, maxAttempts: 9 }), undefined, 'nor fail');
  t.match(await completeDelivery(store.db, { deliveryId: id, attempt: 2 }), { deliveryId: id });
});

t.test('excluded routes: neither their queued deliveries nor their expired leases are claimed', async (t) => {
  const toInbox = await admitOne(store, 0);
  const admitted = await admitPacket(store.db, await packetInput(store, { recipients: [{ to: '000.02.15.H47', routeId: 'webhook-b' }] }));
  const toWebhook = admitted.packet.deliveries[0]?.deliveryId;
  const expired = await admitOne(store, 0);
  await claimDeliveries(store.db, { limit: 3, ...LEASE });
  // Two back in the queue, one whose claimer died: every kind of claimable row, on both routes.
  await sql`UPDATE deliveries SET state = 'queued', attempts = 0, lease_until = NULL WHERE id IN (${toInbox}, ${toWebhook})`.execute(store.db);
  await sql`UPDATE deliveries SET lease_until = now() - interval '1 second' WHERE id = ${expired}`.execute(store.db);

  const { deliveries } = await claimDue(store.db, { limit: 10, ...LEASE, excludeRoutes: ['inbox'] });
  t.same(deliveries.map((d) => d.deliveryId), [toWebhook], 'only the route not excluded');
  const rest = await claimDue(store.db, { limit: 10, ...LEASE, excludeRoutes: [] });
  t.same(rest.deliveries.map((d) => d.deliveryId).sort(), [toInbox, expired].sort(), 'claimable again once not excluded');
});

async function claimAll(on: Store, batch: number): Promise<ClaimedDelivery[]> {
  const claimed: ClaimedDelivery[] = [];
  for (;;) {
    const got = await claimDeliveries(on.db, { limit: batch, ...LEASE });
    if (got.length === 0) return claimed;
    claimed.push(...got);
  }
}

t.test('put back unattempted: the attempt is restored; without a delay the due time and the last error stay', async (t) => {
  const id = await admitOne(store, 0);
  const row = () => store.db.selectFrom('deliveries').select(['state', 'attempts', 'next_attempt_at', 'last_error']).where('id', '=', id).executeTakeFirstOrThrow();
  // A first attempt that failed, now due again: its error and due time are what an operator and the queue-wait budget see.
  const [first] = await claimDeliveries(store.db, { limit: 1, ...LEASE });
  if (!first) throw new Error('no claim');
  await failDelivery(store.db, { deliveryId: id, attempt: first.attempt, error: 'HTTP 503', retryInMs: 0, maxAttempts: 5 });
  await sql`UPDATE deliveries SET next_attempt_at = now() - interval '3 seconds'`.execute(store.db);
  const before = await row();

  const [claim] = await claimDeliveries(store.db, { limit: 1, ...LEASE });
  if (!claim) throw new Error('no claim');
  t.equal(await deferDelivery(store.db, { deliveryId: id, attempt: claim.attempt }), true, 'put back (its route at its limit)');
  const kept = await row();
  t.same(kept, before, 'queued, attempt count, due time and last error as before the claim');

  const [again] = await claimDeliveries(store.db, { limit: 1, ...LEASE });
  if (!again) throw new Error('no claim');
  t.equal(again.attempt, 2, 'the put-back did not count as an attempt');
  t.equal(again.dueAt.getTime(), before.next_attempt_at.getTime(), 'its wait counts from when it became due');
  t.equal(await deferDelivery(store.db, { deliveryId: id, attempt: again.attempt, delayMs: 60_000, reason: 'circuit of route inbox is open' }), true);
  const deferred = await row();
  t.equal(deferred.last_error, 'circuit of route inbox is open', 'with a reason: kept for operators');
  t.ok(deferred.next_attempt_at.getTime() > Date.now() + 50_000, 'with a delay: due after it');
  t.equal(deferred.attempts, 1);
  t.equal(await deferDelivery(store.db, { deliveryId: id, attempt: again.attempt }), false, 'a claim no longer held is not put back');
});

t.test('concurrent claimers never get the same delivery', async (t) => {
  // On Postgres the claimers are two stores (two pools, as two nodes would have); on PGlite they
  // share the one session.
  const other = database.kind === 'postgres' ? await database.openAnother() : store;
  const total = 120;
  for (let i = 0; i < total / 4; i++) {
    await admitPacket(
      store.db,
      await packetInput(store, {
        priority: i % 5,
        recipients: ['000.01.15.H47', '000.02.15.H47', '000.03.15.H47', '000.04.15.H47'].map((to) => ({ to, routeId: 'inbox' })),
      }),
    );
  }
  const results = await Promise.all([claimAll(store, 7), claimAll(other, 5), claimAll(store, 3), claimAll(other, 9)]);
  const ids = results.flat().map((c) => c.deliveryId);
  t.equal(ids.length, total, 'every delivery claimed');
  t.equal(new Set(ids).size, total, 'none claimed twice');
  t.ok(results.flat().every((c) => c.attempt === 1));
});

t.test('SKIP LOCKED: a row locked by another transaction is skipped, not waited for', { skip: database.kind !== 'postgres' && 'needs two sessions (Postgres)' }, async (t) => {
  const other = await database.openAnother();
  const locked = await admitOne(store, 4);
  const free = await admitOne(store, 0);
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  let lockTaken: () => void = () => undefined;
  const taken = new Promise<void>((resolve) => {
    lockTaken = resolve;
  });
  const holder = other.db.transaction().execute(async (trx) => {
    await sql`SELECT id FROM deliveries WHERE id = ${locked} FOR UPDATE`.execute(trx);
    lockTaken();
    await held;
  });
  await taken;
  const claimed = await claimDeliveries(store.db, { limit: 10, ...LEASE });
  t.same(
    claimed.map((c) => c.deliveryId),
    [free],
    'the urgent row is locked elsewhere, so only the free one comes back',
  );
  release();
  await holder;
  const after = await claimDeliveries(store.db, { limit: 10, ...LEASE });
  t.same(
    after.map((c) => c.deliveryId),
    [locked],
  );
});
