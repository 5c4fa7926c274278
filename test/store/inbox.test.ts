// The pull side: list an agency's inbox by cursor, acknowledge items.
import t from 'tap';
import { ackDelivery } from '../../src/store/queries/ack-delivery.ts';
import { admitPacket } from '../../src/store/queries/admit-packet.ts';
import { claimDeliveries } from '../../src/store/queries/claim-deliveries.ts';
import { completeDelivery } from '../../src/store/queries/complete-delivery.ts';
import { listInbox } from '../../src/store/queries/list-inbox.ts';
import { testDatabase } from '../helpers/database.ts';
import { packetInput, seedRoutes } from './packet-input.ts';

const database = await testDatabase(t);
const { store } = database;
t.beforeEach(async () => {
  await database.truncate();
  await seedRoutes(store);
});

const B = '000.01.15.H47';
const C = '000.02.15.H47';

/** Admits n packets to B and C and delivers them all (what the inbox adapter does). */
async function deliverPackets(n: number): Promise<string[]> {
  const documentIds: string[] = [];
  for (let i = 0; i < n; i++) {
    const input = await packetInput(store, { subject: `Văn bản ${i}`, recipients: [B, C].map((to) => ({ to, routeId: 'inbox' })) });
    await admitPacket(store.db, input);
    documentIds.push(input.documentId);
  }
  for (const claim of await claimDeliveries(store.db, { limit: 100, leaseMs: 30_000 })) await completeDelivery(store.db, { deliveryId: claim.deliveryId, attempt: claim.attempt });
  return documentIds;
}

t.test('an inbox lists only delivered items of its agency, oldest first, by cursor', async (t) => {
  const documentIds = await deliverPackets(5);
  await admitPacket(store.db, await packetInput(store, { recipients: [{ to: B, routeId: 'inbox' }] })); // queued, not yet available

  const page1 = await listInbox(store.db, { agency: B, limit: 3 });
  t.equal(page1.items.length, 3);
  t.equal(page1.hasMore, true);
  const page2 = await listInbox(store.db, { agency: B, limit: 3, cursor: page1.nextCursor ?? undefined });
  t.equal(page2.items.length, 2);
  t.equal(page2.hasMore, false);
  const items = [...page1.items, ...page2.items];
  t.same(
    items.map((i) => i.documentId),
    documentIds,
  );
  t.ok(items.every((i) => i.recipient === B && i.ackedAt === null && i.deliveredAt instanceof Date));
  t.match(items[0], { kind: 'document', sender: '000.00.15.H47', subject: 'Văn bản 0', priority: 0 });

  const later = await listInbox(store.db, { agency: B, cursor: page2.nextCursor ?? undefined });
  t.same(later.items, []);
  t.equal(later.nextCursor, page2.nextCursor, 'an empty page keeps the cursor for the next poll');
  await t.rejects(listInbox(store.db, { agency: B, cursor: 'garbage!' }), { code: 'EDX_ERR_CURSOR_INVALID' });
});

t.test('ack: once, only by the recipient; acked items leave the default listing', async (t) => {
  await deliverPackets(2);
  const [first, second] = (await listInbox(store.db, { agency: B })).items;
  if (!first || !second) throw new Error('expected two items');

  t.equal(await ackDelivery(store.db, { deliveryId: first.deliveryId, agencies: [C] }), 'not_found', "C cannot ack B's item");
  t.equal(await ackDelivery(store.db, { deliveryId: first.deliveryId, agencies: [C, B] }), 'acked');
  t.equal(await ackDelivery(store.db, { deliveryId: first.deliveryId, agencies: [B] }), 'already_acked');
  t.equal(await ackDelivery(store.db, { deliveryId: 'nope', agencies: [B] }), 'not_found');
  t.equal(await ackDelivery(store.db, { deliveryId: crypto.randomUUID(), agencies: [B] }), 'not_found');

  t.same(
    (await listInbox(store.db, { agency: B })).items.map((i) => i.deliveryId),
    [second.deliveryId],
  );
  const all = await listInbox(store.db, { agency: B, includeAcked: true });
  t.equal(all.items.length, 2);
  t.ok(all.items[0]?.ackedAt instanceof Date);

  const events = await store.db.selectFrom('events').select(['type', 'agency']).where('type', '=', 'acked').execute();
  t.same(events, [{ type: 'acked', agency: B }]);
});

t.test('an undelivered item cannot be acked', async (t) => {
  const admitted = await admitPacket(store.db, await packetInput(store, { recipients: [{ to: B, routeId: 'inbox' }] }));
  const id = admitted.packet.deliveries[0]?.deliveryId ?? '';
  t.equal(await ackDelivery(store.db, { deliveryId: id, agencies: [B] }), 'not_found');
});
