import t from 'tap';
import { DELIVERIES_CHANNEL } from '../../src/store/channels.ts';
import { admitPacket } from '../../src/store/queries/admit-packet.ts';
import { testDatabase } from '../helpers/database.ts';
import { packetInput, seedRoutes } from './packet-input.ts';

// One database for the file; each subtest starts from empty tables with the test routes.
const database = await testDatabase(t);
const { store } = database;
t.beforeEach(async () => {
  await database.truncate();
  await seedRoutes(store);
});

async function counts(): Promise<{ packets: number; deliveries: number; events: number }> {
  const count = async (table: 'packets' | 'deliveries' | 'events') =>
    Number((await store.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  return { packets: await count('packets'), deliveries: await count('deliveries'), events: await count('events') };
}

t.test('admission writes the packet, one delivery per recipient and an event, atomically', async (t) => {
  const receivedAt = new Date(Date.now() - 20);
  const input = await packetInput(store, {
    priority: 2,
    receivedAt,
    recipients: [
      { to: '000.01.15.H47', routeId: 'inbox' },
      { to: '000.03.15.H47', routeId: 'webhook-b', aliasOf: '000.09.15.H47' },
    ],
  });

  const result = await admitPacket(store.db, input);
  t.equal(result.outcome, 'admitted');
  const { packet } = result;
  t.equal(packet.deliveries.length, 2);
  t.same(
    packet.deliveries.map((d) => [d.to, d.aliasOf, d.routeId, d.state]),
    [
      ['000.01.15.H47', null, 'inbox', 'queued'],
      ['000.03.15.H47', '000.09.15.H47', 'webhook-b', 'queued'],
    ],
  );
  t.equal(packet.deadlineAt.getTime(), receivedAt.getTime() + 5000, 'deadline = arrival + budget');

  const row = await store.db.selectFrom('packets').selectAll().where('id', '=', packet.packetId).executeTakeFirstOrThrow();
  t.match(row, { kind: 'document', sender: '000.00.15.H47', priority: 2, sha256: input.sha256, size_bytes: input.sizeBytes, payload_ref: input.payloadRef });
  t.same(row.stage_timings, { decode: 0.9, validate: 0.4 });
  t.equal(row.received_at.getTime(), receivedAt.getTime());

  const deliveries = await store.db.selectFrom('deliveries').selectAll().where('packet_id', '=', packet.packetId).orderBy('seq').execute();
  t.same(
    deliveries.map((d) => d.id),
    packet.deliveries.map((d) => d.deliveryId),
  );
  for (const d of deliveries) {
    t.match(d, { state: 'queued', priority: 2, attempts: 0, late: false, lease_until: null });
    t.equal(d.deadline_at.getTime(), packet.deadlineAt.getTime());
  }

  const events = await store.db.selectFrom('events').selectAll().execute();
  t.equal(events.length, 1);
  t.match(events[0], { type: 'admitted', packet_id: packet.packetId, document_id: input.documentId, agency: input.sender });
  t.match(events[0]?.data, { kind: 'document', priority: 2, recipients: [{ to: '000.01.15.H47' }, { to: '000.03.15.H47', aliasOf: '000.09.15.H47' }] });
});

t.test('a re-post with the same content returns the original and creates nothing', async (t) => {
  const input = await packetInput(store);
  const first = await admitPacket(store.db, input);
  const before = await counts();

  const again = await admitPacket(store.db, { ...input, receivedAt: new Date() });
  t.equal(again.outcome, 'duplicate');
  t.equal(again.packet.packetId, first.packet.packetId);
  t.same(
    again.packet.deliveries.map((d) => d.deliveryId),
    first.packet.deliveries.map((d) => d.deliveryId),
  );
  t.equal(again.packet.deadlineAt.getTime(), first.packet.deadlineAt.getTime(), 'the original deadline');
  t.same(await counts(), before);
});

t.test('the same key with other content is a conflict that reports the original', async (t) => {
  const input = await packetInput(store);
  const first = await admitPacket(store.db, input);
  const before = await counts();
  const other = await packetInput(store, { documentId: input.documentId, idempotencyKey: input.idempotencyKey });
  t.not(other.sha256, input.sha256);

  const result = await admitPacket(store.db, other);
  t.equal(result.outcome, 'conflict');
  t.equal(result.packet.packetId, first.packet.packetId);
  t.equal(result.packet.sha256, input.sha256, 'the original hash, so the caller can say what differs');
  t.same(await counts(), before);
});

t.test('a failing insert in the middle of admission leaves nothing behind', async (t) => {
  // The packet row goes in, then the deliveries violate UNIQUE (packet_id, recipient).
  const input = await packetInput(store, {
    recipients: [
      { to: '000.01.15.H47', routeId: 'inbox' },
      { to: '000.01.15.H47', routeId: 'inbox' },
    ],
  });
  await t.rejects(admitPacket(store.db, input));
  t.same(await counts(), { packets: 0, deliveries: 0, events: 0 });

  // And the key is free again: the same packet, well-formed, is admitted.
  const retry = await admitPacket(store.db, { ...input, recipients: [{ to: '000.01.15.H47', routeId: 'inbox' }] });
  t.equal(retry.outcome, 'admitted');
});

t.test('simultaneous posts of one packet admit it exactly once', async (t) => {
  const input = await packetInput(store);
  const results = await Promise.all(Array.from({ length: 8 }, () => admitPacket(store.db, input)));
  t.equal(results.filter((r) => r.outcome === 'admitted').length, 1);
  t.equal(results.filter((r) => r.outcome === 'duplicate').length, 7);
  t.equal(new Set(results.map((r) => r.packet.packetId)).size, 1);
  t.match(await counts(), { packets: 1, deliveries: 2, events: 1 });
});

t.test('admission wakes the delivery workers after COMMIT', async (t) => {
  let wake: (payload: string) => void = () => undefined;
  const woken = new Promise<string>((resolve) => {
    wake = resolve;
  });
  const unlisten = await store.listen(DELIVERIES_CHANNEL, (payload) => wake(payload));
  await admitPacket(store.db, await packetInput(store));
  t.equal(await woken, '');
  await unlisten();
});

t.test('a packet needs a recipient', async (t) => {
  await t.rejects(admitPacket(store.db, await packetInput(store, { recipients: [] })), TypeError);
});

t.test('a tracked document: rows per recipient; an arrival admits the 01 once, with its row and event', async (t) => {
  const document = await admitPacket(store.db, { ...(await packetInput(store)), trackDocument: true });
  t.equal(document.outcome, 'admitted');
  const rows = await store.db.selectFrom('document_recipients').selectAll().orderBy('recipient').execute();
  t.same(
    rows.map((r) => [r.recipient, r.delivery_id, r.status_code]),
    document.packet.deliveries.map((d) => [d.to, d.deliveryId, null]),
    'one tracking row per delivery, no status yet',
  );
  const toB = document.packet.deliveries[0];
  if (toB === undefined) throw new Error('no delivery');

  const arrival = async (): Promise<string> => {
    const input = await packetInput(store, {
      kind: 'status',
      idempotencyKey: `status|s01|${toB.to}|${document.packet.documentId}`,
      documentId: document.packet.documentId,
      sender: toB.to,
      businessType: null,
      statusCode: '01',
      recipients: [{ to: '000.00.15.H47', routeId: 'inbox' }],
      arrival: { deliveryId: toB.deliveryId, event: { code: '01', automatic: true } },
    });
    return (await admitPacket(store.db, input)).outcome;
  };
  t.equal(await arrival(), 'admitted');
  const row = await store.db.selectFrom('document_recipients').selectAll().where('delivery_id', '=', toB.deliveryId).executeTakeFirstOrThrow();
  t.equal(row.status_code, '01');
  t.ok(row.status_at instanceof Date);
  const events = await store.db.selectFrom('events').select(['type', 'agency', 'data']).where('type', '=', 'status').execute();
  t.match(events, [{ type: 'status', agency: toB.to, data: { code: '01', automatic: true, packetId: String } }]);
  t.equal(await arrival(), 'skipped', 'the row has a status now: nothing is admitted');
  t.equal((await counts()).packets, 2, 'the document and one 01');
});

t.test('inboxAvailable: an inbox delivery is written delivered by the admitting statement; a pushed one is queued', async (t) => {
  const receivedAt = new Date(Date.now() - 40);
  const input = await packetInput(store, { receivedAt, inboxAvailable: true });
  const result = await admitPacket(store.db, input);
  t.equal(result.outcome, 'admitted');
  const [inbox, pushed] = result.packet.deliveries;
  t.match(inbox, { routeId: 'inbox', state: 'delivered' });
  t.ok((inbox?.available?.latencyMs ?? -1) >= 40, 'latency counted from the sender’s request');
  t.equal(inbox?.available?.late, false);
  t.match(pushed, { routeId: 'webhook-b', state: 'queued', available: undefined });

  const rows = await store.db.selectFrom('deliveries').selectAll().where('packet_id', '=', result.packet.packetId).orderBy('seq').execute();
  t.match(rows[0], { state: 'delivered', attempts: 1, late: false, lease_until: null, acked_at: null });
  t.ok(rows[0]?.delivered_at instanceof Date);
  t.equal(rows[0]?.latency_ms, inbox?.available?.latencyMs);
  t.match(rows[1], { state: 'queued', attempts: 0, delivered_at: null, latency_ms: null });

  const events = await store.db.selectFrom('events').select(['type', 'delivery_id', 'agency', 'data']).orderBy('id').execute();
  t.same(
    events.map((e) => e.type),
    ['admitted', 'delivered'],
    'admitted first, then the inbox delivery; nothing for the queued one yet',
  );
  t.match(events[1], { delivery_id: inbox?.deliveryId, agency: '000.01.15.H47', data: { attempt: 1, late: false, stageTimings: { waitToClaim: 0, deliver: 0 } } });

  // Only inbox deliveries: nothing queued, so no worker is woken.
  const onlyInbox = await packetInput(store, { inboxAvailable: true, recipients: [{ to: '000.01.15.H47', routeId: 'inbox' }] });
  const notified: string[] = [];
  const unlisten = await store.listen(DELIVERIES_CHANNEL, (payload) => notified.push(payload));
  const second = await admitPacket(store.db, { ...onlyInbox, notifyPayload: 'inbox-only' });
  t.same(second.packet.deliveries.map((d) => d.state), ['delivered']);
  const third = await admitPacket(store.db, await packetInput(store, { inboxAvailable: true, notifyPayload: 'with-push' }));
  t.equal(third.outcome, 'admitted');
  const deadline = Date.now() + 5000;
  while (!notified.includes('with-push') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  t.same(notified, ['with-push'], 'NOTIFY only for the admission that queued a delivery');
  await unlisten();
});
