// The delivery workers against real receivers on loopback: retries keep the delivery id, a refusal
// goes to the dead letter and an admin re-queue brings it back, urgent packets are claimed first,
// an open circuit reschedules instead of attempting, a late delivery is flagged, counted and still
// delivered, a slow receiver does not hold back the deliveries claimed with it, and a route at its
// in-flight limit does not take the slots of the others nor hide its waiting deliveries from the
// queue-wait budget.

import { createServer } from 'node:http';
import type { ServerResponse } from 'node:http';
import t from 'tap';
import { WEBHOOK_HEADERS } from '../../src/adapters/webhook/webhook-adapter.ts';
import { ADMIN_TOKEN, makeDocument, postHeaders, routeToWebhook, startReceiver, startTestGateway, waitFor } from '../api/gateway-fixture.ts';
import type { TestGateway } from '../api/gateway-fixture.ts';
import type { Teardown } from '../helpers/database.ts';
import { listenOnLoopback } from '../helpers/loopback.ts';

const A = '000.00.15.H47';
const B = '000.01.15.H47';
const C = '000.02.15.H47';
const D = '000.03.15.H47';
const DELIVERY_ID = WEBHOOK_HEADERS.deliveryId.toLowerCase();
const ATTEMPT = WEBHOOK_HEADERS.attempt.toLowerCase();

async function post(gw: TestGateway, to: readonly string[], priority?: 0 | 1 | 2 | 3 | 4): Promise<{ packetId: string; deliveryId: string }> {
  const res = await gw.app.inject({ method: 'POST', url: '/v1/packets', headers: postHeaders(gw, A), payload: makeDocument({ to, ...(priority === undefined ? {} : { priority }) }) });
  if (res.statusCode !== 202) throw new Error(`post failed: ${res.body}`);
  const body = JSON.parse(res.body) as { packetId: string; deliveries: { deliveryId: string }[] };
  return { packetId: body.packetId, deliveryId: body.deliveries[0]?.deliveryId ?? '' };
}

async function delivery(gw: TestGateway, id: string) {
  return gw.db.store.db.selectFrom('deliveries').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

async function eventTypes(gw: TestGateway, deliveryId: string): Promise<string[]> {
  const rows = await gw.db.store.db.selectFrom('events').select('type').where('delivery_id', '=', deliveryId).orderBy('id').execute();
  return rows.map((r) => r.type);
}

/**
 * A gateway whose workers are not started yet, C routed to a receiver that holds every answer
 * (`held`, in arrival order) and D to one that answers 200 at once. The 60 s budget keeps the held
 * requests from timing out.
 */
async function startHeldAndFast(
  t: Teardown,
  delivery: { workers: number; batchSize: number; routeMaxInFlight?: number; sweepIntervalMs?: number },
  overload: { maxQueueWaitMs?: number } = {},
) {
  const held: ServerResponse[] = [];
  const slow = createServer((req, res) => {
    req.resume();
    req.on('end', () => held.push(res));
  });
  const slowUrl = `${await listenOnLoopback(t, slow)}/hook`;
  const fast = await startReceiver(t, () => 200);
  const gw = await startTestGateway(t, {
    startWorkers: false,
    config: { budgetMs: 60_000, delivery, overload },
    setup: async (db) => {
      await routeToWebhook(db, C, 'webhook-c', slowUrl);
      await routeToWebhook(db, D, 'webhook-d', fast.url);
    },
  });
  return { gw, held, fast };
}

t.test('a receiver failing twice then answering 200: retried with the same delivery id, then delivered', async (t) => {
  const receiver = await startReceiver(t, (n) => (n <= 2 ? 500 : 200));
  const gw = await startTestGateway(t, { setup: (db) => routeToWebhook(db, C, 'webhook-c', receiver.url) });
  const { deliveryId } = await post(gw, [C]);
  const row = await waitFor('delivered', async () => {
    const d = await delivery(gw, deliveryId);
    return d.state === 'delivered' ? d : undefined;
  });
  t.equal(row.attempts, 3);
  t.type(row.latency_ms, 'number');
  t.equal(row.last_error, null, 'the last error is cleared on delivery');
  t.same(receiver.received.map((r) => r.headers[DELIVERY_ID]), [deliveryId, deliveryId, deliveryId], 'the same delivery id every time');
  t.same(receiver.received.map((r) => r.headers[ATTEMPT]), ['1', '2', '3']);
  const events = await waitFor('the automatic 01 recorded', async () => {
    const types = await eventTypes(gw, deliveryId);
    return types.includes('status') ? types : undefined;
  });
  t.same(events, ['delivery_failed', 'delivery_failed', 'delivered', 'status'], 'then the automatic 01 for the recipient');
  const metrics = await gw.app.inject({ method: 'GET', url: '/metrics' });
  t.match(metrics.body, /edxgate_delivery_attempts_total\{route_kind="webhook",outcome="retry"\} 2/);
  t.match(metrics.body, /edxgate_delivery_attempts_total\{route_kind="webhook",outcome="accepted"\} 1/);
});

t.test('a receiver answering 404: dead letter, listed, re-queued by the admin, then delivered', async (t) => {
  const receiver = await startReceiver(t, () => 404);
  const gw = await startTestGateway(t, { setup: (db) => routeToWebhook(db, C, 'webhook-c', receiver.url) });
  const { deliveryId } = await post(gw, [C]);
  await waitFor('dead', async () => (await delivery(gw, deliveryId)).state === 'dead');
  t.equal(receiver.received.length, 1, 'a refusal is not retried');

  const listed = await gw.app.inject({ method: 'GET', url: '/v1/deliveries?state=dead', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  t.equal(listed.statusCode, 200);
  const items = (JSON.parse(listed.body) as { items: { deliveryId: string; state: string; attempts: number; lastError: string }[] }).items;
  t.same(items.map((i) => [i.deliveryId, i.state, i.attempts]), [[deliveryId, 'dead', 1]]);
  t.match(items[0]?.lastError, /^EDX_ERR_DELIVERY_REFUSED: HTTP 404/);

  receiver.answerWith(() => 200);
  const requeued = await gw.app.inject({ method: 'POST', url: `/v1/deliveries/${deliveryId}/requeue`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  t.equal(requeued.statusCode, 200);
  t.same(JSON.parse(requeued.body), { deliveryId, state: 'queued' });
  await waitFor('delivered after the re-queue', async () => (await delivery(gw, deliveryId)).state === 'delivered');
  t.same(receiver.received.map((r) => [r.headers[DELIVERY_ID], r.status]), [
    [deliveryId, 404],
    [deliveryId, 200],
  ]);
  const events = await waitFor('the automatic 01 recorded', async () => {
    const types = await eventTypes(gw, deliveryId);
    return types.includes('status') ? types : undefined;
  });
  t.same(events, ['dead_lettered', 'requeued', 'delivered', 'status'], 'then the automatic 01 for the recipient');
  const dead = await gw.app.inject({ method: 'GET', url: '/v1/deliveries?state=dead', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  t.same(JSON.parse(dead.body).items, [], 'the dead letter is empty again');
});

t.test('the last allowed attempt dead-letters a delivery that keeps failing', async (t) => {
  const receiver = await startReceiver(t, () => 503);
  const gw = await startTestGateway(t, { config: { delivery: { maxAttempts: 3 } }, setup: (db) => routeToWebhook(db, C, 'webhook-c', receiver.url) });
  const { deliveryId } = await post(gw, [C]);
  await waitFor('dead', async () => (await delivery(gw, deliveryId)).state === 'dead');
  t.equal(receiver.received.length, 3);
  t.equal((await delivery(gw, deliveryId)).attempts, 3);
  t.same(await eventTypes(gw, deliveryId), ['delivery_failed', 'delivery_failed', 'dead_lettered']);
});

t.test('urgent packets are claimed before ordinary ones', async (t) => {
  // One worker taking one delivery at a time makes the claim order the delivery order. A webhook
  // recipient: an inbox delivery is available on admission and never queued.
  const receiver = await startReceiver(t, () => 200);
  const gw = await startTestGateway(t, {
    startWorkers: false,
    config: { delivery: { workers: 1, batchSize: 1 } },
    setup: (db) => routeToWebhook(db, C, 'webhook-c', receiver.url),
  });
  const ordinary = [await post(gw, [C]), await post(gw, [C]), await post(gw, [C])];
  const urgent = await post(gw, [C], 3);
  await gw.app.gateway.start();
  const order = await waitFor('all four delivered', async () => {
    // Recipient C's deliveries only: each push is followed by an automatic 01 to A's inbox.
    const rows = await gw.db.store.db.selectFrom('events').select('delivery_id').where('type', '=', 'delivered').where('agency', '=', C).orderBy('id').execute();
    return rows.length === 4 ? rows.map((r) => r.delivery_id) : undefined;
  });
  t.same(order, [urgent.deliveryId, ...ordinary.map((o) => o.deliveryId)], 'hỏa tốc first, then the others oldest first');
});

t.test('an open circuit reschedules the route\'s deliveries without attempting them; other routes go on', async (t) => {
  const receiver = await startReceiver(t, () => 503);
  const gw = await startTestGateway(t, {
    config: { delivery: { workers: 1, batchSize: 1, circuitFailureThreshold: 2, circuitCooldownMs: 600_000 } },
    setup: (db) => routeToWebhook(db, C, 'webhook-c', receiver.url),
  });
  const sent = [await post(gw, [C]), await post(gw, [C]), await post(gw, [C])];
  // Settled: every delivery of the route is back in the queue, held back for the cooldown.
  const rows = await waitFor('all three held back by the open circuit', async () => {
    const found = await gw.db.store.db.selectFrom('deliveries').selectAll().where('recipient', '=', C).execute();
    return found.length === 3 && found.every((d) => d.state === 'queued' && d.last_error === 'circuit of route webhook-c is open') ? found : undefined;
  });
  t.equal(receiver.received.length, 2, 'exactly the failures that opened it reached the receiver');
  t.equal(rows.reduce((sum, r) => sum + r.attempts, 0), 2, 'held-back claims are not counted as attempts');
  t.same(rows.map((r) => r.id).sort(), sent.map((s) => s.deliveryId).sort());

  const health = JSON.parse((await gw.app.inject({ method: 'GET', url: '/health' })).body) as { checks: { workers: { circuits: Record<string, { state: string }> } } };
  t.equal(health.checks.workers.circuits['webhook-c']?.state, 'open');

  const toB = await post(gw, [B]);
  await waitFor('the inbox route still delivers', async () => (await delivery(gw, toB.deliveryId)).state === 'delivered');
});

t.test('a delivery past its deadline is flagged and counted once, and still delivered', async (t) => {
  const receiver = await startReceiver(t, (n) => (n === 1 ? 500 : 200));
  // A 1 ms budget: every delivery is late.
  const gw = await startTestGateway(t, { config: { budgetMs: 1 }, setup: (db) => routeToWebhook(db, C, 'webhook-c', receiver.url) });
  const { deliveryId } = await post(gw, [C]);
  const row = await waitFor('delivered', async () => {
    const d = await delivery(gw, deliveryId);
    return d.state === 'delivered' ? d : undefined;
  });
  t.equal(row.late, true);
  t.equal(row.attempts, 2, 'retried after the deadline passed');
  // The automatic 01 that follows the push is itself a packet with the same 1 ms budget: late too.
  await waitFor('the automatic 01 delivered', async () => {
    const statuses = await gw.db.store.db
      .selectFrom('deliveries')
      .innerJoin('packets', 'packets.id', 'deliveries.packet_id')
      .select('deliveries.state')
      .where('packets.kind', '=', 'status')
      .execute();
    return statuses.length === 1 && statuses[0]?.state === 'delivered';
  });
  // The 01 goes to A's inbox, available on admission: late only if its admission took over 1 ms.
  const late = await gw.db.store.db.selectFrom('deliveries').select('id').where('late', '=', true).execute();
  t.ok(late.length >= 1);
  const metrics = await gw.app.inject({ method: 'GET', url: '/metrics' });
  t.match(metrics.body, new RegExp(`\nedxgate_deadline_misses_total ${late.length}\n`), 'each late delivery counted once: the document, and its 01 if late');
});

t.test('a receiver that holds its answer does not hold back the deliveries claimed after it', async (t) => {
  // One worker with two slots. The first claim takes the delivery to C, whose receiver holds its
  // answer, and one to D. When D's is done its slot is free, and the third packet (to D) must be
  // claimed and delivered while C's receiver still holds: a worker that waited for its whole batch
  // would not claim again until C answered.
  const { gw, held, fast } = await startHeldAndFast(t, { workers: 1, batchSize: 2 });
  const toC = await post(gw, [C]);
  const first = await post(gw, [D]);
  const second = await post(gw, [D]);
  await gw.app.gateway.start();
  await waitFor('the held delivery reached its receiver', () => held.length === 1);
  await waitFor('both deliveries to D delivered while C holds', async () => {
    const rows = await gw.db.store.db.selectFrom('deliveries').select(['id', 'state']).where('recipient', '=', D).execute();
    return rows.length === 2 && rows.every((r) => r.state === 'delivered');
  });
  t.equal(held.length, 1, 'C still holds its answer');
  t.equal((await delivery(gw, toC.deliveryId)).state, 'delivering', 'the delivery to C is still in flight');
  t.same(fast.received.map((r) => r.headers[DELIVERY_ID]), [first.deliveryId, second.deliveryId]);

  for (const res of held) res.writeHead(200).end('ok');
  await waitFor('C delivered once answered', async () => (await delivery(gw, toC.deliveryId)).state === 'delivered');
});

t.test('a route at its in-flight limit leaves its other deliveries queued and the other routes keep their slots', async (t) => {
  // One worker with four slots, at most one delivery per route in flight. Three packets to C, whose
  // receiver holds every answer, then two to D: without the limit the first claim takes all three
  // to C (and one to D), and C holds three slots. With it, C has one request held at a time, the
  // other two wait queued (not attempted, so not counted), and both deliveries to D go through.
  const { gw, held, fast } = await startHeldAndFast(t, { workers: 1, batchSize: 4, routeMaxInFlight: 1 });
  const toC = [await post(gw, [C]), await post(gw, [C]), await post(gw, [C])];
  const toD = [await post(gw, [D]), await post(gw, [D])];
  await gw.app.gateway.start();
  await waitFor('both deliveries to D delivered while C holds', async () => {
    const rows = await gw.db.store.db.selectFrom('deliveries').select('state').where('recipient', '=', D).execute();
    return rows.length === 2 && rows.every((r) => r.state === 'delivered');
  });
  await waitFor('one delivery to C at its receiver', () => held.length === 1);
  const statesOfC = async () => (await Promise.all(toC.map((p) => delivery(gw, p.deliveryId)))).map((d) => d.state).sort();
  t.same(await statesOfC(), ['delivering', 'queued', 'queued'], 'one to C in flight, the others left queued');
  t.equal(held.length, 1, "C's receiver got one request, not three");
  t.same(fast.received.map((r) => r.headers[DELIVERY_ID]).sort(), toD.map((p) => p.deliveryId).sort());

  // Each answer frees the route's slot, and the next delivery to C is claimed.
  for (let answered = 0; answered < 3; answered++) {
    await waitFor(`request ${answered + 1} to C held`, () => held.length === answered + 1);
    held[answered]?.writeHead(200).end('ok');
  }
  await waitFor('every delivery to C delivered', async () => (await statesOfC()).every((s) => s === 'delivered'));
  const rows = await Promise.all(toC.map((p) => delivery(gw, p.deliveryId)));
  t.same(rows.map((r) => r.attempts), [1, 1, 1], 'put back, not attempted: one attempt each');
  t.equal(held.length, 3, 'each delivery to C reached its receiver once');
});

t.test("deliveries left queued behind a route's limit count against the queue-wait budget", async (t) => {
  // C's receiver holds every answer, and C may have one delivery in flight, so its other two stay
  // queued and wait. The workers keep claiming (a sweep every 50 ms) and find nothing else due. Those
  // claims must not tell the budget that nothing waits: the waiting deliveries are behind the limit,
  // not delivered, and new packets are refused until C catches up. (When a short claim reported 0,
  // the budget saw 0 for all but the moments after each once-a-second sample and admitted them.)
  const { gw, held } = await startHeldAndFast(t, { workers: 1, batchSize: 4, routeMaxInFlight: 1, sweepIntervalMs: 50 }, { maxQueueWaitMs: 300 });
  const toC = [await post(gw, [C]), await post(gw, [C]), await post(gw, [C])];
  await gw.app.gateway.start();
  await waitFor('one delivery to C at its receiver', () => held.length === 1);
  // Past the budget, and past a once-a-second sample after that.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const answers: number[] = [];
  for (let i = 0; i < 5; i++) {
    const res = await gw.app.inject({ method: 'POST', url: '/v1/packets', headers: postHeaders(gw, A), payload: makeDocument({ to: [D] }) });
    answers.push(res.statusCode);
    if (res.statusCode === 503) t.equal(JSON.parse(res.body).code, 'EDX_ERR_SERVER_OVERLOADED');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  t.same(answers, [503, 503, 503, 503, 503], 'every post refused while deliveries wait behind the limit');

  for (let answered = 0; answered < 3; answered++) {
    await waitFor(`request ${answered + 1} to C held`, () => held.length === answered + 1);
    held[answered]?.writeHead(200).end('ok');
  }
  await waitFor('every delivery to C delivered', async () => (await Promise.all(toC.map((p) => delivery(gw, p.deliveryId)))).every((d) => d.state === 'delivered'));
  await waitFor('accepted again once C has caught up', async () => {
    const res = await gw.app.inject({ method: 'POST', url: '/v1/packets', headers: postHeaders(gw, A), payload: makeDocument({ to: [D] }) });
    return res.statusCode === 202;
  });
});
