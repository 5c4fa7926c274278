// The inbox (GET /v1/inbox, POST /v1/inbox/{id}/ack) and the packet fetch (GET
// /v1/packets/{id}/edxml): each client sees its own agencies' packets only.

import t from 'tap';
import { makeDocument, postHeaders, startTestGateway, waitFor } from './gateway-fixture.ts';
import type { TestGateway } from './gateway-fixture.ts';

const A = '000.00.15.H47';
const B = '000.01.15.H47';
const C = '000.02.15.H47';

interface Page {
  agency: string;
  items: { deliveryId: string; packetId: string; subject: string | null; priority: number; admittedAt: string; availableAt: string; acknowledgedAt: string | null; state: string }[];
  nextCursor: string | null;
  hasMore: boolean;
}

function bearer(gw: TestGateway, agency: string): Record<string, string> {
  return { authorization: `Bearer ${gw.token(agency)}` };
}

async function post(gw: TestGateway, to: readonly string[], subject?: string): Promise<{ packetId: string; deliveries: { to: string; deliveryId: string }[] }> {
  const res = await gw.app.inject({ method: 'POST', url: '/v1/packets', headers: postHeaders(gw, A), payload: makeDocument({ to, ...(subject === undefined ? {} : { subject }) }) });
  if (res.statusCode !== 202) throw new Error(`post failed: ${res.body}`);
  return JSON.parse(res.body) as { packetId: string; deliveries: { to: string; deliveryId: string }[] };
}

async function inbox(gw: TestGateway, agency: string, query = ''): Promise<Page> {
  const res = await gw.app.inject({ method: 'GET', url: `/v1/inbox${query}`, headers: bearer(gw, agency) });
  if (res.statusCode !== 200) throw new Error(`inbox failed: ${res.body}`);
  return JSON.parse(res.body) as Page;
}

t.test('pages through an inbox with the cursor, oldest first', async (t) => {
  const gw = await startTestGateway(t);
  const sent = [await post(gw, [B], 'Văn bản 1'), await post(gw, [B], 'Văn bản 2'), await post(gw, [B], 'Văn bản 3')];
  await waitFor('three available', async () => (await inbox(gw, B)).items.length === 3);

  const first = await inbox(gw, B, '?limit=2');
  t.equal(first.agency, B, 'the agency defaults to the client\'s only one');
  t.same(first.items.map((i) => i.subject), ['Văn bản 1', 'Văn bản 2']);
  t.equal(first.hasMore, true);
  const second = await inbox(gw, B, `?agency=${B}&limit=2&cursor=${first.nextCursor ?? ''}`);
  t.same(second.items.map((i) => i.packetId), [sent[2]?.packetId]);
  t.equal(second.hasMore, false);
  const after = await inbox(gw, B, `?cursor=${second.nextCursor ?? ''}`);
  t.same(after.items, [], 'nothing after the end');
  t.equal(after.nextCursor, second.nextCursor, 'the cursor stays put on an empty page, so polling goes on');
  for (const item of first.items) {
    t.match(item.admittedAt, /\+07:00$/);
    t.match(item.availableAt, /\+07:00$/);
    t.equal(item.state, 'available');
    t.equal(item.acknowledgedAt, null);
  }

  const id = first.items[0]?.deliveryId ?? '';
  await gw.app.inject({ method: 'POST', url: `/v1/inbox/${id}/ack`, headers: bearer(gw, B) });
  t.equal((await inbox(gw, B)).items.length, 2, 'acknowledged items leave the default listing');
  const all = await inbox(gw, B, '?includeAcknowledged=true');
  t.same(all.items.map((i) => i.state), ['acknowledged', 'available', 'available']);
  t.match(all.items[0]?.acknowledgedAt, /\+07:00$/);
});

t.test('each client sees and acknowledges only its own agencies\' packets', async (t) => {
  const gw = await startTestGateway(t);
  const sent = await post(gw, [B]);
  await waitFor('available', async () => (await inbox(gw, B)).items.length === 1);
  const toB = sent.deliveries[0]?.deliveryId ?? '';

  const foreignInbox = await gw.app.inject({ method: 'GET', url: `/v1/inbox?agency=${B}`, headers: bearer(gw, C) });
  t.equal(foreignInbox.statusCode, 403);
  t.equal(JSON.parse(foreignInbox.body).code, 'EDX_ERR_AUTH_FORBIDDEN');
  t.same((await inbox(gw, C)).items, [], 'C\'s own inbox is empty');

  const foreignFetch = await gw.app.inject({ method: 'GET', url: `/v1/packets/${sent.packetId}/edxml`, headers: bearer(gw, C) });
  t.equal(foreignFetch.statusCode, 404, 'a packet of others is not found');
  t.equal(JSON.parse(foreignFetch.body).code, 'EDX_ERR_NOT_FOUND');
  const senderFetch = await gw.app.inject({ method: 'GET', url: `/v1/packets/${sent.packetId}/edxml`, headers: bearer(gw, A) });
  t.equal(senderFetch.statusCode, 200, 'the sender may fetch its packet');
  t.equal(senderFetch.headers['content-type'], 'application/xml; charset=utf-8');
  t.match(senderFetch.body, /^<\?xml/);
  const unknown = await gw.app.inject({ method: 'GET', url: '/v1/packets/00000000-0000-4000-8000-000000000000/edxml', headers: bearer(gw, A) });
  t.equal(unknown.statusCode, 404);
  const malformedId = await gw.app.inject({ method: 'GET', url: '/v1/packets/not-a-uuid/edxml', headers: bearer(gw, A) });
  t.equal(malformedId.statusCode, 404);

  const foreignAck = await gw.app.inject({ method: 'POST', url: `/v1/inbox/${toB}/ack`, headers: bearer(gw, C) });
  t.equal(foreignAck.statusCode, 404, 'C cannot acknowledge B\'s delivery');
  const senderAck = await gw.app.inject({ method: 'POST', url: `/v1/inbox/${toB}/ack`, headers: bearer(gw, A) });
  t.equal(senderAck.statusCode, 404, 'nor can the sender');
  const bogus = await gw.app.inject({ method: 'POST', url: '/v1/inbox/bogus/ack', headers: { ...bearer(gw, B), 'content-type': 'application/json' } });
  t.equal(bogus.statusCode, 404, 'an empty JSON body is fine; an unknown id is not found');
  const own = await gw.app.inject({ method: 'POST', url: `/v1/inbox/${toB}/ack`, headers: bearer(gw, B) });
  t.equal(own.statusCode, 200);
});

t.test('bad query parameters are 400 problems', async (t) => {
  const gw = await startTestGateway(t);
  for (const query of ['?limit=0', '?limit=abc', '?limit=501']) {
    const res = await gw.app.inject({ method: 'GET', url: `/v1/inbox${query}`, headers: bearer(gw, B) });
    t.equal(res.statusCode, 400, query);
    t.equal(JSON.parse(res.body).code, 'EDX_ERR_REQUEST_INVALID', query);
  }
  const cursor = await gw.app.inject({ method: 'GET', url: '/v1/inbox?cursor=nonsense!', headers: bearer(gw, B) });
  t.equal(cursor.statusCode, 400);
  t.equal(JSON.parse(cursor.body).code, 'EDX_ERR_CURSOR_INVALID');
  const noAuth = await gw.app.inject({ method: 'GET', url: '/v1/inbox' });
  t.equal(noAuth.statusCode, 401);
});
