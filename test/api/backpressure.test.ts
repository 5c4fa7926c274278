// Load shedding: over the memory or queue budget (depth, or how long due deliveries wait for a
// worker), a new packet gets 503 with Retry-After before its body is read, and nothing is
// admitted; back under budget, packets are taken again.

import t from 'tap';
import { makeDocument, postHeaders, routeToWebhook, startReceiver, startTestGateway, waitFor } from './gateway-fixture.ts';

const A = '000.00.15.H47';
const B = '000.01.15.H47';

async function packetCount(gw: Awaited<ReturnType<typeof startTestGateway>>, kind?: 'document'): Promise<number> {
  let query = gw.db.store.db.selectFrom('packets').select((eb) => eb.fn.countAll<number>().as('n'));
  if (kind !== undefined) query = query.where('kind', '=', kind);
  const row = await query.executeTakeFirstOrThrow();
  return Number(row.n);
}

t.test('over the queue budget: 503 with Retry-After, nothing admitted; under it again: admitted', async (t) => {
  // No workers: what is queued stays queued, so the queue is over a budget of 1 after two packets.
  // B is pushed to (an inbox delivery is available on admission, never queued); nothing listens there.
  const gw = await startTestGateway(t, {
    startWorkers: false,
    config: { overload: { maxQueueDepth: 1, retryAfterSeconds: 7 } },
    setup: (db) => routeToWebhook(db, B, 'webhook-b', 'http://127.0.0.1:9/never-called'),
  });
  const post = () => gw.app.inject({ method: 'POST', url: '/v1/packets', headers: postHeaders(gw, A), payload: makeDocument({ from: A, to: [B] }) });
  t.equal((await post()).statusCode, 202);
  t.equal((await post()).statusCode, 202, 'the depth is sampled: the budget is a threshold, not a hard cap');
  const refused = await waitFor('the sampled queue depth over budget', async () => {
    const res = await post();
    return res.statusCode === 503 ? res : undefined;
  });
  t.equal(refused.headers['retry-after'], '7');
  t.match(JSON.parse(refused.body), { code: 'EDX_ERR_SERVER_OVERLOADED', detail: /deliveries are waiting, over the budget of 1/ });
  const admitted = await packetCount(gw);

  // The queue drains (the deliveries are taken out of it), and packets are accepted again.
  await gw.db.store.db.updateTable('deliveries').set({ state: 'dead' }).execute();
  const accepted = await waitFor('accepted again', async () => {
    const res = await post();
    return res.statusCode === 202 ? res : undefined;
  });
  t.equal(accepted.statusCode, 202);
  t.equal(await packetCount(gw), admitted + 1, 'only the accepted post was admitted; the refused ones left nothing');
  const metrics = await gw.app.inject({ method: 'GET', url: '/metrics' });
  t.match(metrics.body, /edxgate_packets_rejected_total\{code="EDX_ERR_SERVER_OVERLOADED"\} [1-9]/);
});

t.test('due deliveries waiting for a worker over the wait budget: 503; once the workers catch up: admitted', async (t) => {
  // The workers are not started: the first packet's delivery is due and nobody claims it. The
  // depth budget is off, so only the wait can refuse.
  const receiver = await startReceiver(t, () => 200);
  const gw = await startTestGateway(t, {
    startWorkers: false,
    config: { overload: { maxQueueDepth: 0, maxQueueWaitMs: 300, retryAfterSeconds: 3 } },
    setup: (db) => routeToWebhook(db, B, 'webhook-b', receiver.url),
  });
  const post = () => gw.app.inject({ method: 'POST', url: '/v1/packets', headers: postHeaders(gw, A), payload: makeDocument({ from: A, to: [B] }) });
  t.equal((await post()).statusCode, 202, 'nothing has waited yet');
  const refused = await waitFor('the sampled wait over budget', async () => {
    const res = await post();
    return res.statusCode === 503 ? res : undefined;
  });
  t.equal(refused.headers['retry-after'], '3');
  t.match(JSON.parse(refused.body), { code: 'EDX_ERR_SERVER_OVERLOADED', detail: /deliveries have waited \d+ ms for a worker, over the budget of 300 ms/ });
  const admitted = await packetCount(gw, 'document');
  const metrics = await gw.app.inject({ method: 'GET', url: '/metrics' });
  const wait = Number(/^edxgate_queue_wait_seconds ([\d.e+-]+)$/m.exec(metrics.body)?.[1]);
  t.ok(wait > 0.3, `the gauge shows the wait (${wait} s)`);

  // The workers deliver what waited; nothing is due any more, and packets are accepted again.
  await gw.app.gateway.start();
  const accepted = await waitFor('accepted again', async () => {
    const res = await post();
    return res.statusCode === 202 ? res : undefined;
  });
  t.equal(accepted.statusCode, 202);
  // Documents only: each delivered one also brought its sender an automatic 01.
  t.equal(await packetCount(gw, 'document'), admitted + 1, 'the refused posts left nothing');
  t.ok(receiver.received.length >= 1, 'what waited was delivered');
});

t.test('over the memory budget: 503 before the body is read', async (t) => {
  const gw = await startTestGateway(t, { startWorkers: false, config: { overload: { maxRssBytes: 1024 * 1024 } } });
  const res = await gw.app.inject({ method: 'POST', url: '/v1/packets', headers: postHeaders(gw, A), payload: makeDocument({ from: A, to: [B] }) });
  t.equal(res.statusCode, 503);
  t.equal(res.headers['retry-after'], '5');
  t.match(JSON.parse(res.body), { code: 'EDX_ERR_SERVER_OVERLOADED', detail: /MiB of memory, over its budget of 1 MiB/ });
  t.equal(await packetCount(gw), 0);
  const other = await gw.app.inject({ method: 'GET', url: `/v1/inbox?agency=${B}`, headers: { authorization: `Bearer ${gw.token(B)}` } });
  t.equal(other.statusCode, 200, 'only new packets are refused; reads go on');
});
