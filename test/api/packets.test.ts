// POST /v1/packets: admission, duplicates and conflicts, authentication and authorisation, recipient
// resolution (unknown, suspended, closed, alias), and refusals of bad input as problem+json; and
// GET /v1/packets/{packetId} with every stage's timing, the same stages /metrics lists.

import t from 'tap';
import type { Test } from 'tap';
import { buildPacketBuffer } from '../../src/edxml/build.ts';
import { decodePacket } from '../../src/edxml/decode.ts';
import type { DocumentPacket } from '../../src/edxml/model.ts';
import { ADMIN_TOKEN, makeDocument, makeStatus, postHeaders, routeToWebhook, startReceiver, startTestGateway, waitFor } from './gateway-fixture.ts';
import type { TestGateway } from './gateway-fixture.ts';

const A = '000.00.15.H47';
const B = '000.01.15.H47';
const C = '000.02.15.H47';

interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  instance?: string;
  issues: { code: string; path: string; message: string; value?: string }[];
}

async function counts(gw: TestGateway): Promise<{ packets: number; deliveries: number; events: number }> {
  const count = async (table: 'packets' | 'deliveries' | 'events'): Promise<number> => {
    const row = await gw.db.store.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  };
  return { packets: await count('packets'), deliveries: await count('deliveries'), events: await count('events') };
}

function problem(t: Test, res: { statusCode: number; headers: Record<string, unknown>; body: string }, status: number, code: string): Problem {
  t.equal(res.statusCode, status, `HTTP ${status}`);
  t.match(String(res.headers['content-type']), /^application\/problem\+json/, 'problem+json');
  const body = JSON.parse(res.body) as Problem;
  t.equal(body.code, code, code);
  t.equal(body.status, status);
  t.equal(body.type, `urn:edxgate:error:${code}`);
  t.type(body.title, 'string');
  t.type(body.detail, 'string');
  t.ok(Array.isArray(body.issues));
  return body;
}

t.test('a document is admitted: 202 with one queued delivery per recipient, after commit', async (t) => {
  const gw = await startTestGateway(t);
  const res = await gw.app.inject({ method: 'POST', url: '/v1/packets', headers: postHeaders(gw, A), payload: makeDocument({ to: [B, C] }) });
  t.equal(res.statusCode, 202);
  const body = JSON.parse(res.body) as { packetId: string; documentId: string; deliveries: { to: string; deliveryId: string; state: string }[]; warnings: unknown[] };
  t.match(body.documentId, /^000\.00\.15\.H47,2025\/03\/05,/);
  t.same(body.deliveries.map((d) => d.to), [B, C]);
  t.same(body.warnings, []);
  t.equal(res.headers.location, `/v1/packets/${body.packetId}/edxml`);
  const rows = await gw.db.store.db.selectFrom('deliveries').select(['id', 'recipient']).where('packet_id', '=', body.packetId).execute();
  t.same(rows.map((r) => r.id).sort(), body.deliveries.map((d) => d.deliveryId).sort(), 'the deliveries are in the database');
});

t.test('the same packet again: 200 with the original body, nothing created', async (t) => {
  const gw = await startTestGateway(t);
  const packet = makeDocument({ to: [B] });
  const first = await gw.app.inject({ method: 'POST', url: '/v1/packets', headers: postHeaders(gw, A), payload: packet });
  t.equal(first.statusCode, 202);
  // Let the delivery happen, so the duplicate is answered while the state has moved on.
  await waitFor('delivery', async () => (await counts(gw)).events >= 2);
  const before = await counts(gw);
  const second = await gw.app.inject({ method: 'POST', url: '/v1/packets', headers: postHeaders(gw, A), payload: packet });
  t.equal(second.statusCode, 200);
  t.same(JSON.parse(second.body), JSON.parse(first.body), 'the original receipt');
  t.same(await counts(gw), before, 'no packet, delivery or event created');
});

t.test('the same DocumentId with other content: 409, nothing created', async (t) => {
  // No workers: the count of events must not move because of a delivery.
  const gw = await startTestGateway(t, { startWorkers: false });
  const first = await gw.app.inject({ method: 'POST', url: '/v1/packets', headers: postHeaders(gw, A), payload: makeDocument({ to: [B], number: '77' }) });
  t.equal(first.statusCode, 202);
  const before = await counts(gw);
  const res = await gw.app.inject({ method: 'POST', url: '/v1/packets', headers: postHeaders(gw, A), payload: makeDocument({ to: [B], number: '77', subject: 'Nội dung khác' }) });
  const body = problem(t, res, 409, 'EDX_ERR_PACKET_CONFLICT');
  t.match(body.detail, JSON.parse(first.body).packetId, 'names the packet already admitted');
  t.same(await counts(gw), before);
});

t.test('a status packet about a document is not a conflict with it (the idempotency key names the kind)', async (t) => {
  const gw = await startTestGateway(t);
  const doc = await gw.app.inject({ method: 'POST', url: '/v1/packets', headers: postHeaders(gw, A), payload: makeDocument({ to: [B], number: '78' }) });
  const documentId = (JSON.parse(doc.body) as { documentId: string }).documentId;
  const status = await gw.app.inject({ method: 'POST', url: '/v1/packets', headers: postHeaders(gw, B), payload: makeStatus(B, A, documentId, '03') });
  t.equal(status.statusCode, 202, 'admitted');
  const body = JSON.parse(status.body) as { documentId: string; deliveries: { to: string }[] };
  t.equal(body.documentId, documentId, 'a status is about the original document');
  t.same(body.deliveries.map((d) => d.to), [A], 'a status goes back to the counterpart (ResponseFor/OrganId)');
  const later = await gw.app.inject({ method: 'POST', url: '/v1/packets', headers: postHeaders(gw, B), payload: makeStatus(B, A, documentId, '05') });
  t.equal(later.statusCode, 202, 'a later status of the same document is another packet');
});

t.test('authentication and authorisation', async (t) => {
  const gw = await startTestGateway(t);
  const packet = makeDocument({ from: A, to: [B] });
  const none = await gw.app.inject({ method: 'POST', url: '/v1/packets', headers: { 'content-type': 'application/xml' }, payload: packet });
  problem(t, none, 401, 'EDX_ERR_AUTH_REQUIRED');
  t.equal(none.headers['www-authenticate'], 'Bearer realm="edxgate"');
  const bad = await gw.app.inject({ method: 'POST', url: '/v1/packets', headers: { authorization: 'Bearer edx_not-a-token', 'content-type': 'application/xml' }, payload: packet });
  problem(t, bad, 401, 'EDX_ERR_AUTH_REQUIRED');
  const basic = await gw.app.inject({ method: 'POST', url: '/v1/packets', headers: { authorization: 'Basic dTpw', 'content-type': 'application/xml' }, payload: packet });
  problem(t, basic, 401, 'EDX_ERR_AUTH_REQUIRED');

  const before = await counts(gw);
  const other = await gw.app.inject({ method: 'POST', url: '/v1/packets', headers: postHeaders(gw, B), payload: packet });
  const body = problem(t, other, 403, 'EDX_ERR_AUTH_FORBIDDEN');
  t.same(body.issues.map((i) => [i.path, i.value]), [['MessageHeader/From/OrganId', A]]);
  t.same(await counts(gw), before, 'nothing admitted');

  const admin = await gw.app.inject({ method: 'POST', url: '/v1/packets', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/xml' }, payload: packet });
  problem(t, admin, 403, 'EDX_ERR_AUTH_FORBIDDEN');

  await gw.db.store.db.updateTable('clients').set({ disabled_at: new Date() }).execute();
  // A fresh gateway would see it at once; this one trusts its short cache, so wait for it to lapse.
  await waitFor('the disabled client to be refused', async () => {
    const res = await gw.app.inject({ method: 'POST', url: '/v1/packets', headers: postHeaders(gw, A), payload: makeDocument({ to: [B] }) });
    return res.statusCode === 401;
  });
});

t.test('recipients that cannot receive refuse the whole packet', async (t) => {
  const gw = await startTestGateway(t, {
    setup: async (db) => {
      await db.store.db
        .insertInto('agencies')
        .values([
          { code: '000.11.15.H47', name: 'Phòng tạm ngừng', state: 'suspended' },
          { code: '000.12.15.H47', name: 'Phòng đã giải thể', state: 'closed' },
        ])
        .execute();
    },
  });
  const before = await counts(gw);
  const unknown = await gw.app.inject({ method: 'POST', url: '/v1/packets', headers: postHeaders(gw, A), payload: makeDocument({ to: [B, '000.99.15.H47'] }) });
  const body = problem(t, unknown, 422, 'EDX_ERR_RECIPIENT_UNKNOWN');
  t.same(body.issues.map((i) => [i.code, i.path, i.value]), [['EDX_ERR_RECIPIENT_UNKNOWN', 'MessageHeader/To[2]/OrganId', '000.99.15.H47']]);

  const suspended = await gw.app.inject({ method: 'POST', url: '/v1/packets', headers: postHeaders(gw, A), payload: makeDocument({ to: ['000.11.15.H47'] }) });
  problem(t, suspended, 422, 'EDX_ERR_RECIPIENT_SUSPENDED');
  const closed = await gw.app.inject({ method: 'POST', url: '/v1/packets', headers: postHeaders(gw, A), payload: makeDocument({ to: ['000.12.15.H47', '000.98.15.H47'] }) });
  const both = problem(t, closed, 422, 'EDX_ERR_RECIPIENT_CLOSED');
  t.same(both.issues.map((i) => i.code), ['EDX_ERR_RECIPIENT_CLOSED', 'EDX_ERR_RECIPIENT_UNKNOWN'], 'every bad recipient is listed');
  t.same(await counts(gw), before, 'nothing admitted');
  const metrics = await gw.app.inject({ method: 'GET', url: '/metrics' });
  t.match(metrics.body, /edxgate_packets_rejected_total\{code="EDX_ERR_RECIPIENT_UNKNOWN"\} 1/);
});

t.test('a closed code with a successor: delivered to the successor, the alias recorded', async (t) => {
  const gw = await startTestGateway(t, {
    setup: async (db) => {
      await db.store.db.insertInto('agencies').values({ code: '000.11.15.H47', name: 'Phòng cũ (đã sáp nhập)', state: 'closed', successor_code: B }).execute();
    },
  });
  const res = await gw.app.inject({ method: 'POST', url: '/v1/packets', headers: postHeaders(gw, A), payload: makeDocument({ to: ['000.11.15.H47', C] }) });
  t.equal(res.statusCode, 202);
  const body = JSON.parse(res.body) as { deliveries: { to: string; aliasOf?: string; deliveryId: string }[] };
  t.same(
    body.deliveries.map((d) => [d.to, d.aliasOf]),
    [
      [B, '000.11.15.H47'],
      [C, undefined],
    ],
  );
  const inbox = await waitFor('the packet in the successor\'s inbox', async () => {
    const page = await gw.app.inject({ method: 'GET', url: '/v1/inbox', headers: { authorization: `Bearer ${gw.token(B)}` } });
    const items = (JSON.parse(page.body) as { items: { deliveryId: string; aliasOf: string | null; recipient: string }[] }).items;
    return items.length > 0 ? items : undefined;
  });
  t.same(inbox.map((i) => [i.recipient, i.aliasOf]), [[B, '000.11.15.H47']]);

  const direct = await gw.app.inject({ method: 'POST', url: '/v1/packets', headers: postHeaders(gw, A), payload: makeDocument({ to: ['000.11.15.H47', B] }) });
  t.equal(direct.statusCode, 202, 'an alias and its successor both listed');
  const deliveries = (JSON.parse(direct.body) as { deliveries: { to: string; aliasOf?: string }[] }).deliveries;
  t.same(deliveries.map((d) => [d.to, d.aliasOf]), [[B, undefined]], 'one delivery, addressed directly');
});

t.test('bad input is a 4xx problem, never a 500', async (t) => {
  const gw = await startTestGateway(t, { config: { server: { bodyLimitBytes: 4096 } } });
  const headers = postHeaders(gw, A);
  const malformed = await gw.app.inject({ method: 'POST', url: '/v1/packets', headers, payload: '<edXML><unclosed></edXML>' });
  const body = problem(t, malformed, 400, 'EDX_ERR_XML_MALFORMED');
  t.equal(body.instance, '/v1/packets');
  problem(t, await gw.app.inject({ method: 'POST', url: '/v1/packets', headers, payload: '' }), 400, 'EDX_ERR_XML_MALFORMED');
  problem(t, await gw.app.inject({ method: 'POST', url: '/v1/packets', headers: { authorization: headers.authorization ?? '' } }), 400, 'EDX_ERR_XML_MALFORMED');
  problem(t, await gw.app.inject({ method: 'POST', url: '/v1/packets', headers: { ...headers, 'content-type': 'application/json' }, payload: '{"a":' }), 400, 'EDX_ERR_REQUEST_INVALID');
  problem(t, await gw.app.inject({ method: 'POST', url: '/v1/packets', headers: { ...headers, 'content-type': 'application/json' }, payload: '{"a":1}' }), 415, 'EDX_ERR_MEDIA_TYPE');
  problem(t, await gw.app.inject({ method: 'POST', url: '/v1/packets', headers: { ...headers, 'content-type': 'text/plain' }, payload: 'hello' }), 415, 'EDX_ERR_MEDIA_TYPE');
  problem(t, await gw.app.inject({ method: 'POST', url: '/v1/packets', headers: { ...headers, 'content-type': 'image/png' }, payload: 'x' }), 415, 'EDX_ERR_MEDIA_TYPE');
  const big = await gw.app.inject({ method: 'POST', url: '/v1/packets', headers, payload: Buffer.alloc(5000, 0x20) });
  problem(t, big, 413, 'EDX_ERR_XML_TOO_LARGE');
  const notEdxml = await gw.app.inject({ method: 'POST', url: '/v1/packets', headers: { ...headers, 'content-type': 'text/xml; charset=utf-8' }, payload: '<html/>' });
  t.equal(notEdxml.statusCode, 400);
  t.match(JSON.parse(notEdxml.body), { code: /^EDX_ERR_PACKET_/ });
  const octets = await gw.app.inject({ method: 'POST', url: '/v1/packets', headers: { ...headers, 'content-type': 'application/octet-stream' }, payload: makeDocument({ to: [B] }) });
  t.equal(octets.statusCode, 202, 'application/octet-stream is accepted');
});

t.test('decode warnings come back in the receipt', async (t) => {
  const gw = await startTestGateway(t);
  const decoded = decodePacket(makeDocument({ to: [B] }));
  if (!decoded.ok || decoded.value.kind !== 'document') throw new Error('fixture packet does not decode');
  const packet: DocumentPacket = {
    ...decoded.value,
    manifest: [{ contentId: 'cid:1', contentType: 'application/pdf', attachmentName: 'cong-van.pdf' }],
    attachments: [{ contentId: 'cid:1', attachmentName: 'cong-van.pdf', contentType: 'application/pdf', content: 'not*base64' }],
  };
  const res = await gw.app.inject({ method: 'POST', url: '/v1/packets', headers: postHeaders(gw, A), payload: buildPacketBuffer(packet) });
  t.equal(res.statusCode, 202);
  const body = JSON.parse(res.body) as { warnings: { code: string; path: string; message: string }[] };
  t.same(body.warnings.map((w) => w.code), ['EDX_ERR_ATTACHMENT_ENCODING']);
  t.notOk('severity' in (body.warnings[0] ?? {}), 'wire issues carry no severity');
});

t.test('every stage is timed: GET /v1/packets/{id} shows the six, /metrics has a histogram for each', async (t) => {
  const receiver = await startReceiver(t);
  const gw = await startTestGateway(t, { setup: (db) => routeToWebhook(db, C, 'webhook-c', receiver.url) });
  const before = await gw.app.inject({ method: 'GET', url: '/metrics' });
  for (const stage of ['decode', 'validate', 'verify', 'admit', 'wait_to_claim', 'deliver'])
    t.match(before.body, new RegExp(`edxgate_stage_duration_seconds_count\\{stage="${stage}"\\} \\d+`), `${stage} listed before any packet`);

  const posted = await gw.app.inject({ method: 'POST', url: '/v1/packets', headers: postHeaders(gw, A), payload: makeDocument({ to: [B, C] }) });
  t.equal(posted.statusCode, 202);
  const { packetId } = JSON.parse(posted.body) as { packetId: string };
  await waitFor('the webhook to receive the packet', () => receiver.received[0]);

  interface Shown {
    stageTimings: Record<string, unknown>;
    deliveries: { recipient: string; state: string; stageTimings: { waitToClaim: unknown; deliver: unknown } | null }[];
  }
  // The admit stage is written after the COMMIT it includes, by a batch about a second later.
  const shown = await waitFor('the packet delivered to both, with its admit stage', async () => {
    const res = await gw.app.inject({ method: 'GET', url: `/v1/packets/${packetId}`, headers: { authorization: `Bearer ${gw.token(A)}` } });
    const body = JSON.parse(res.body) as Shown;
    return 'admit' in body.stageTimings && body.deliveries.every((d) => d.state === 'delivered') ? body : undefined;
  });
  const nonNegative = (value: unknown): boolean => typeof value === 'number' && Number.isFinite(value) && value >= 0;
  t.same(Object.keys(shown.stageTimings).sort(), ['admit', 'decode', 'validate', 'verify'], 'the intake stages');
  for (const [stage, ms] of Object.entries(shown.stageTimings)) t.ok(nonNegative(ms), `${stage}: ${String(ms)} ms`);
  t.same(shown.deliveries.map((d) => d.recipient), [B, C]);
  for (const d of shown.deliveries) {
    // B's inbox delivery was available at admission: its wait and call are 0, recorded all the same.
    t.ok(nonNegative(d.stageTimings?.waitToClaim), `${d.recipient}: waitToClaim ${String(d.stageTimings?.waitToClaim)} ms`);
    t.ok(nonNegative(d.stageTimings?.deliver), `${d.recipient}: deliver ${String(d.stageTimings?.deliver)} ms`);
  }

  const metrics = await gw.app.inject({ method: 'GET', url: '/metrics' });
  for (const stage of ['decode', 'validate', 'verify', 'admit', 'wait_to_claim', 'deliver'])
    t.match(metrics.body, new RegExp(`edxgate_stage_duration_seconds_count\\{stage="${stage}"\\} [1-9]`), `${stage} observed`);
});
