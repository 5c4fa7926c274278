// Admin routes (behind ADMIN_TOKEN), /health, /metrics and the catch-all not-found answer.

import t from 'tap';
import { ADMIN_TOKEN, makeDocument, postHeaders, routeToWebhook, startTestGateway } from './gateway-fixture.ts';
import { MIGRATIONS } from '../../src/store/migrations/index.ts';

/** The migration a fresh database ends at. */
const LATEST_MIGRATION = Object.keys(MIGRATIONS).at(-1);

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

t.test('the deliveries listing and the re-queue need the admin token', async (t) => {
  // A pushed recipient, so its delivery stays queued without workers (an inbox one is available on admission).
  const gw = await startTestGateway(t, { startWorkers: false, setup: (db) => routeToWebhook(db, '000.01.15.H47', 'webhook-b', 'http://127.0.0.1:9/never-called') });
  const posted = await gw.app.inject({ method: 'POST', url: '/v1/packets', headers: postHeaders(gw, '000.00.15.H47'), payload: makeDocument({ to: ['000.01.15.H47'] }) });
  const deliveryId = (JSON.parse(posted.body) as { deliveries: { deliveryId: string }[] }).deliveries[0]?.deliveryId ?? '';

  const anonymous = await gw.app.inject({ method: 'GET', url: '/v1/deliveries?state=dead' });
  t.equal(anonymous.statusCode, 401);
  const client = await gw.app.inject({ method: 'GET', url: '/v1/deliveries?state=dead', headers: { authorization: `Bearer ${gw.token('000.00.15.H47')}` } });
  t.equal(client.statusCode, 403);
  t.equal(JSON.parse(client.body).code, 'EDX_ERR_AUTH_FORBIDDEN');

  const queued = await gw.app.inject({ method: 'GET', url: '/v1/deliveries?state=queued', headers: admin });
  t.equal(queued.statusCode, 200);
  const page = JSON.parse(queued.body) as { items: { deliveryId: string; state: string; attempts: number; deadlineAt: string; lastError: string | null }[] };
  t.same(page.items.map((d) => [d.deliveryId, d.state, d.attempts, d.lastError]), [[deliveryId, 'queued', 0, null]]);
  t.match(page.items[0]?.deadlineAt, /\+07:00$/);
  const dead = await gw.app.inject({ method: 'GET', url: '/v1/deliveries?state=dead', headers: admin });
  t.same(JSON.parse(dead.body).items, []);
  const badState = await gw.app.inject({ method: 'GET', url: '/v1/deliveries?state=lost', headers: admin });
  t.equal(badState.statusCode, 400);
  t.equal(JSON.parse(badState.body).code, 'EDX_ERR_REQUEST_INVALID');

  const notDead = await gw.app.inject({ method: 'POST', url: `/v1/deliveries/${deliveryId}/requeue`, headers: admin });
  t.equal(notDead.statusCode, 409);
  t.equal(JSON.parse(notDead.body).code, 'EDX_ERR_DELIVERY_NOT_DEAD');
  const unknown = await gw.app.inject({ method: 'POST', url: '/v1/deliveries/00000000-0000-4000-8000-000000000000/requeue', headers: admin });
  t.equal(unknown.statusCode, 404);
  const byClient = await gw.app.inject({ method: 'POST', url: `/v1/deliveries/${deliveryId}/requeue`, headers: { authorization: `Bearer ${gw.token('000.01.15.H47')}` } });
  t.equal(byClient.statusCode, 403);
});

t.test('health reports the database, the migrations and the workers', async (t) => {
  const gw = await startTestGateway(t);
  const ok = await gw.app.inject({ method: 'GET', url: '/health' });
  t.equal(ok.statusCode, 200);
  t.match(JSON.parse(ok.body), { status: 'ok', checks: { database: { ok: true }, migrations: { ok: true, current: LATEST_MIGRATION }, workers: { ok: true, configured: 2, running: 2 } } });

  await gw.app.gateway.stopWorkers();
  const stopped = await gw.app.inject({ method: 'GET', url: '/health' });
  t.equal(stopped.statusCode, 503, 'workers that stopped make the node unhealthy');
  t.match(JSON.parse(stopped.body), { status: 'unavailable', checks: { workers: { ok: false, running: 0 } } });
});

t.test('metrics are Prometheus text; unknown routes are problem+json 404s', async (t) => {
  const gw = await startTestGateway(t);
  const metrics = await gw.app.inject({ method: 'GET', url: '/metrics' });
  t.equal(metrics.statusCode, 200);
  t.match(metrics.headers['content-type'], /^text\/plain/);
  for (const name of ['edxgate_end_to_end_latency_seconds', 'edxgate_deadline_misses_total', 'edxgate_queue_depth', 'edxgate_oldest_undelivered_age_seconds', 'edxgate_deliveries']) {
    t.match(metrics.body, new RegExp(`# TYPE ${name} `), name);
  }
  const missing = await gw.app.inject({ method: 'GET', url: '/v2/nothing?x=1' });
  t.equal(missing.statusCode, 404);
  t.match(missing.headers['content-type'], /^application\/problem\+json/);
  t.match(JSON.parse(missing.body), { code: 'EDX_ERR_NOT_FOUND', instance: '/v2/nothing' });
});
