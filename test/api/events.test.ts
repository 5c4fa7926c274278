// GET /v1/events (a client reads its agencies' events, the admin all of them, by cursor) and the
// subscription routes (create with a one-time secret, list and delete one's own).

import Fastify from 'fastify';
import t from 'tap';
import { registerEventRoutes } from '../../src/api/events/routes.ts';
import { installProblemHandlers } from '../../src/api/problem.ts';
import type { EdxApp } from '../../src/api/types.ts';
import { newClientToken } from '../../src/gateway/demo-seed.ts';
import { ADMIN_TOKEN, makeDocument, postHeaders, startTestGateway, waitFor } from './gateway-fixture.ts';
import type { TestGateway } from './gateway-fixture.ts';
import type { Teardown } from '../helpers/database.ts';

const A = '000.00.15.H47';
const B = '000.01.15.H47';
const C = '000.02.15.H47';
const D = '000.03.15.H47';

interface WireEvent {
  cursor: string;
  type: string;
  at: string;
  agency: string | null;
  packetId: string | null;
  deliveryId: string | null;
  documentId: string | null;
  data: Record<string, unknown>;
}
interface Page {
  events: WireEvent[];
  nextCursor: string;
  hasMore: boolean;
}
interface Subscription {
  id: string;
  url: string;
  agencies: string[];
  eventTypes: string[] | null;
  cursor: string | null;
  attempts: number;
  nextAttemptAt: string;
  lastError: string | null;
  createdAt: string;
  secret?: string;
}

/**
 * The app serving the event routes: the gateway's own once src/api/index.ts registers them;
 * until then the same gateway behind a second Fastify instance with the same error handling.
 */
async function eventsApp(t: Teardown, gw: TestGateway): Promise<EdxApp> {
  if (gw.app.hasRoute({ method: 'GET', url: '/v1/events' })) return gw.app;
  const app: EdxApp = Fastify({ loggerInstance: gw.app.gateway.logger });
  app.decorate('gateway', gw.app.gateway);
  app.decorateRequest('principal', null);
  app.decorateRequest('receivedAtMs', 0);
  installProblemHandlers(app);
  registerEventRoutes(app);
  await app.ready();
  t.teardown(() => app.close());
  return app;
}

function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

async function post(gw: TestGateway, to: readonly string[]): Promise<string> {
  const res = await gw.app.inject({ method: 'POST', url: '/v1/packets', headers: postHeaders(gw, A), payload: makeDocument({ to }) });
  if (res.statusCode !== 202) throw new Error(`post failed: ${res.body}`);
  return (JSON.parse(res.body) as { packetId: string }).packetId;
}

async function events(app: EdxApp, token: string, query = ''): Promise<Page> {
  const res = await app.inject({ method: 'GET', url: `/v1/events${query}`, headers: bearer(token) });
  if (res.statusCode !== 200) throw new Error(`events failed: ${res.statusCode} ${res.body}`);
  return JSON.parse(res.body) as Page;
}

async function allEvents(app: EdxApp, token: string, query = ''): Promise<WireEvent[]> {
  const out: WireEvent[] = [];
  let cursor = '';
  for (let i = 0; i < 100; i++) {
    const page = await events(app, token, `?cursor=${cursor}${query}`);
    out.push(...page.events);
    cursor = page.nextCursor;
    if (!page.hasMore) return out;
  }
  throw new Error('no end');
}

t.test('GET /v1/events: each client its agencies\' events, the admin all, by cursor', async (t) => {
  const gw = await startTestGateway(t);
  const app = await eventsApp(t, gw);
  const packetId = await post(gw, [B]);
  const ofPacket = (list: readonly WireEvent[]): string[] => list.filter((e) => e.packetId === packetId).map((e) => e.type);
  await waitFor('admitted and delivered, final', async () => {
    const types = ofPacket(await allEvents(app, ADMIN_TOKEN));
    return types.includes('admitted') && types.includes('delivered');
  });

  const all = await allEvents(app, ADMIN_TOKEN);
  t.ok(all.findIndex((e) => e.packetId === packetId && e.type === 'admitted') < all.findIndex((e) => e.packetId === packetId && e.type === 'delivered'), 'stream order');
  const byOne: WireEvent[] = [];
  let cursor = '';
  for (;;) {
    const page = await events(app, ADMIN_TOKEN, `?limit=1&cursor=${cursor}`);
    t.ok(page.events.length <= 1);
    byOne.push(...page.events);
    cursor = page.nextCursor;
    if (!page.hasMore) break;
  }
  t.same(byOne.map((e) => e.cursor), all.map((e) => e.cursor).slice(0, byOne.length), 'paging by one gives the same stream');
  t.ok(byOne.length >= all.length);

  const delivered = all.find((e) => e.packetId === packetId && e.type === 'delivered');
  t.match(delivered, { type: 'delivered', agency: B, packetId, deliveryId: String, documentId: String, data: { attempt: 1 } });
  t.match(delivered?.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+07:00$/, 'Vietnam time');

  t.ok(ofPacket(await allEvents(app, gw.token(A))).includes('admitted'), 'the sender sees its admission');
  t.ok(ofPacket(await allEvents(app, gw.token(B))).includes('delivered'), 'the recipient sees its delivery');
  t.same(ofPacket(await allEvents(app, gw.token(C))), [], 'an agency with no part sees nothing of it');
  const onlyDelivered = await allEvents(app, ADMIN_TOKEN, '&types=delivered,acked');
  t.ok(onlyDelivered.length > 0 && onlyDelivered.every((e) => e.type === 'delivered' || e.type === 'acked'), 'types filter');

  const end = await events(app, ADMIN_TOKEN, `?cursor=${cursor}`);
  t.same(end.events, [], 'nothing after the end');
  t.equal(end.hasMore, false);
  t.type(end.nextCursor, 'string', 'a cursor to poll with');
});

t.test('GET /v1/events refuses a bad cursor, an unknown type, no token', async (t) => {
  const gw = await startTestGateway(t, { startWorkers: false });
  const app = await eventsApp(t, gw);
  const bad = await app.inject({ method: 'GET', url: '/v1/events?cursor=czU', headers: bearer(gw.token(B)) });
  t.equal(bad.statusCode, 400);
  t.match(bad.headers['content-type'], /^application\/problem\+json/);
  t.equal(JSON.parse(bad.body).code, 'EDX_ERR_CURSOR_INVALID');
  const type = await app.inject({ method: 'GET', url: '/v1/events?types=delivered,exploded', headers: bearer(gw.token(B)) });
  t.equal(type.statusCode, 400);
  t.match(JSON.parse(type.body), { code: 'EDX_ERR_REQUEST_INVALID', issues: [{ path: 'querystring.types', value: 'exploded' }] });
  const limit = await app.inject({ method: 'GET', url: '/v1/events?limit=501', headers: bearer(gw.token(B)) });
  t.equal(limit.statusCode, 400);
  const anonymous = await app.inject({ method: 'GET', url: '/v1/events' });
  t.equal(anonymous.statusCode, 401);
  t.equal(JSON.parse(anonymous.body).code, 'EDX_ERR_AUTH_REQUIRED');
  const wrong = await app.inject({ method: 'GET', url: '/v1/events', headers: bearer('edx_nobody') });
  t.equal(wrong.statusCode, 401);
});

t.test('subscriptions: created for a subset of the client\'s agencies, secret shown once, own only', async (t) => {
  const gw = await startTestGateway(t, { startWorkers: false });
  const app = await eventsApp(t, gw);
  const { token: both, hash } = newClientToken();
  await gw.db.store.db.insertInto('clients').values({ id: crypto.randomUUID(), name: 'QLVB huyện', token_hash: hash, agency_codes: [B, C] }).execute();
  const create = (token: string, payload: Record<string, unknown>) =>
    app.inject({ method: 'POST', url: '/v1/subscriptions', headers: { ...bearer(token), 'content-type': 'application/json' }, payload });

  const res = await create(both, { url: 'https://qlvb.example.vn/edxgate/events' });
  t.equal(res.statusCode, 201);
  const created = JSON.parse(res.body) as Subscription;
  t.match(created, { url: 'https://qlvb.example.vn/edxgate/events', agencies: [B, C], eventTypes: null, attempts: 0, lastError: null, cursor: String });
  t.match(created.secret, /^[A-Za-z0-9_-]{43}$/, 'the secret, this once');
  t.match(created.createdAt, /\+07:00$/);
  const narrow = JSON.parse((await create(both, { url: 'http://127.0.0.1:8080/hook', agencies: [C], eventTypes: ['status', 'withdrawn'] })).body) as Subscription;
  t.match(narrow, { agencies: [C], eventTypes: ['status', 'withdrawn'] });

  const foreign = await create(both, { url: 'https://qlvb.example.vn/x', agencies: [C, D] });
  t.equal(foreign.statusCode, 403);
  t.match(JSON.parse(foreign.body), { code: 'EDX_ERR_AUTH_FORBIDDEN', issues: [{ path: 'body.agencies', value: D }] });
  t.equal((await create(gw.token(B), { url: 'https://qlvb.example.vn/x', agencies: [C] })).statusCode, 403);
  for (const [why, payload] of [
    ['not http', { url: 'ftp://qlvb.example.vn/x' }],
    ['relative', { url: '/x' }],
    ['credentials', { url: 'https://user:pass@qlvb.example.vn/x' }],
    ['unknown type', { url: 'https://qlvb.example.vn/x', eventTypes: ['exploded'] }],
    ['no agency', { url: 'https://qlvb.example.vn/x', agencies: [] }],
    ['no url', {}],
  ] as const) {
    const refused = await create(both, payload);
    t.equal(refused.statusCode, 400, why);
    t.equal(JSON.parse(refused.body).code, 'EDX_ERR_REQUEST_INVALID', why);
  }
  t.equal((await create(ADMIN_TOKEN, { url: 'https://qlvb.example.vn/x' })).statusCode, 403, 'the admin acts for no agency');

  const list = async (token: string): Promise<Subscription[]> =>
    (JSON.parse((await app.inject({ method: 'GET', url: '/v1/subscriptions', headers: bearer(token) })).body) as { items: Subscription[] }).items;
  const mine = await list(both);
  t.same(mine.map((s) => s.id), [created.id, narrow.id]);
  t.ok(mine.every((s) => !('secret' in s)), 'never the secret again');
  t.same(await list(gw.token(B)), [], 'another client sees none of them');

  const remove = (token: string, id: string) => app.inject({ method: 'DELETE', url: `/v1/subscriptions/${id}`, headers: bearer(token) });
  const notMine = await remove(gw.token(B), created.id);
  t.equal(notMine.statusCode, 404);
  t.equal(JSON.parse(notMine.body).code, 'EDX_ERR_NOT_FOUND');
  t.equal((await remove(both, 'not-a-uuid')).statusCode, 404);
  const deleted = await remove(both, created.id);
  t.equal(deleted.statusCode, 204);
  t.equal(deleted.body, '');
  t.equal((await remove(both, created.id)).statusCode, 404, 'gone');
  t.same((await list(both)).map((s) => s.id), [narrow.id]);
  const row = await gw.db.store.db.selectFrom('event_subscriptions').select('disabled_at').where('id', '=', created.id).executeTakeFirstOrThrow();
  t.ok(row.disabled_at instanceof Date, 'disabled, kept for the record');
});
