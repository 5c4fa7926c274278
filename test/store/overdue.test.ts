// The overdue list and counts (receipt not confirmed by the end of the working day; urgent documents
// not delivered in time) on a real database, with a fixed clock, and the /metrics gauge that reads
// them. Packets are admitted with the store's own admission; the rows the tracking write side keeps
// (documents, document_recipients) and the worker's outcomes are written with SQL at fixed instants.
// March 2025: Monday the 10th … Wednesday the 12th.

import { sql } from 'kysely';
import { Registry } from 'prom-client';
import t from 'tap';
import type { DeliveryState } from '../../src/store/database.ts';
import { admitPacket } from '../../src/store/queries/admit-packet.ts';
import { countOverdue, listOverdue } from '../../src/store/queries/overdue.ts';
import type { OverdueItem } from '../../src/store/queries/overdue.ts';
import { registerOverdueGauge } from '../../src/tracking/overdue-metrics.ts';
import { WorkingCalendar } from '../../src/tracking/working-day.ts';
import { testDatabase } from '../helpers/database.ts';
import { packetInput, seedRoutes } from './packet-input.ts';

const A = '000.00.15.H47';
const B = '000.01.15.H47';
const C = '000.02.15.H47';

const vn = (text: string): Date => new Date(`${text}+07:00`);
/** Wednesday 10:00: the cut-off is Tuesday 17:00. */
const NOW = vn('2025-03-12T10:00:00');
const calendar = WorkingCalendar.of();

const database = await testDatabase(t);
const { store } = database;
const db = store.db;

interface Sent {
  readonly documentId: string;
  readonly packetId: string;
  /** Delivery id by recipient. */
  readonly to: Readonly<Record<string, string>>;
}

/** A document from A admitted at `sentAt`, tracked as the write side would track it. */
async function send(to: readonly string[], sentAt: Date, priority = 0): Promise<Sent> {
  const input = await packetInput(store, { receivedAt: sentAt, priority, recipients: to.map((r) => ({ to: r, routeId: 'inbox' })) });
  const { packet } = await admitPacket(db, input);
  // Idempotent, so the test holds whether or not admission already tracks the document.
  await db
    .insertInto('documents')
    .values({ document_id: packet.documentId, sender: A, packet_id: packet.packetId, business_type: 0, subject: input.subject, priority, received_at: sentAt })
    .onConflict((oc) => oc.doNothing())
    .execute();
  for (const d of packet.deliveries) {
    await db
      .insertInto('document_recipients')
      .values({ document_id: packet.documentId, sender: A, recipient: d.to, delivery_id: d.deliveryId })
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
  return { documentId: packet.documentId, packetId: packet.packetId, to: Object.fromEntries(packet.deliveries.map((d) => [d.to, d.deliveryId])) };
}

/** What a worker's successful attempt at `at` records. */
async function deliver(deliveryId: string, at: Date): Promise<void> {
  await sql`
    UPDATE deliveries AS d
    SET state = 'delivered', delivered_at = ${at}, attempts = d.attempts + 1, lease_until = NULL,
        latency_ms = round(extract(epoch FROM ${at}::timestamptz - p.received_at) * 1000)::integer,
        late = d.late OR ${at}::timestamptz > d.deadline_at
    FROM packets AS p
    WHERE d.id = ${deliveryId} AND p.id = d.packet_id`.execute(db);
}

async function setState(deliveryId: string, state: DeliveryState, late = false): Promise<void> {
  await db.updateTable('deliveries').set({ state, late }).where('id', '=', deliveryId).execute();
}

/** A status from the recipient; 02 and 03 onwards stop the receipt clock. */
async function status(sent: Sent, recipient: string, code: string, at: Date): Promise<void> {
  const confirms = code !== '01';
  await db
    .updateTable('document_recipients')
    .set({ status_code: code, status_at: at, ...(confirms ? { confirmed_at: at } : {}) })
    .where('document_id', '=', sent.documentId)
    .where('recipient', '=', recipient)
    .execute();
}

t.beforeEach(async () => {
  await database.truncate();
  await seedRoutes(store);
});

t.test('receipts not confirmed by the end of the working day, and urgent documents not delivered in time', async (t) => {
  const doc = async (name: string, to: readonly string[], sentAt: Date, priority = 0): Promise<Sent & { name: string }> => ({ name, ...(await send(to, sentAt, priority)) });

  // Monday morning to B and C: B accepts (03) the same afternoon, C only arrives (01).
  const d1 = await doc('d1', [B, C], vn('2025-03-10T09:00:00'));
  await deliver(d1.to[B] ?? '', vn('2025-03-10T09:00:01'));
  await deliver(d1.to[C] ?? '', vn('2025-03-10T09:00:01'));
  await status(d1, B, '03', vn('2025-03-10T15:00:00'));
  await status(d1, C, '01', vn('2025-03-10T09:00:02'));
  // Delivered exactly at Tuesday's end: due then, overdue now.
  const d3 = await doc('d3', [B], vn('2025-03-11T16:59:59'));
  await deliver(d3.to[B] ?? '', vn('2025-03-11T17:00:00'));
  // A millisecond after Tuesday's end: due Wednesday 17:00, not overdue yet.
  const d2 = await doc('d2', [B], vn('2025-03-11T17:00:00'));
  await deliver(d2.to[B] ?? '', vn('2025-03-11T17:00:00.001'));
  // Refused (02) in time: the refusal is the answer.
  const d4 = await doc('d4', [C], vn('2025-03-10T10:00:00'));
  await deliver(d4.to[C] ?? '', vn('2025-03-10T10:00:01'));
  await status(d4, C, '02', vn('2025-03-10T16:00:00'));
  // Recalled at the recipient (15), revoked, withdrawn: nobody owes a confirmation.
  const d5 = await doc('d5', [B], vn('2025-03-10T11:00:00'));
  await deliver(d5.to[B] ?? '', vn('2025-03-10T11:00:01'));
  await db.updateTable('document_recipients').set({ recall_state: 'recalled', recall_kind: 'recall' }).where('document_id', '=', d5.documentId).execute();
  const d6 = await doc('d6', [B], vn('2025-03-10T11:30:00'));
  await deliver(d6.to[B] ?? '', vn('2025-03-10T11:30:01'));
  await db.updateTable('documents').set({ revoked_at: vn('2025-03-10T12:00:00') }).where('document_id', '=', d6.documentId).execute();
  const d7 = await doc('d7', [B], vn('2025-03-10T12:00:00'));
  await deliver(d7.to[B] ?? '', vn('2025-03-10T12:00:01'));
  await setState(d7.to[B] ?? '', 'withdrawn');

  // Urgent: still queued past its 5 s deadline.
  const d8 = await doc('d8', [C], vn('2025-03-12T09:59:50'), 2);
  // Urgent, queued, deadline not reached yet at NOW.
  const d9 = await doc('d9', [B], vn('2025-03-12T09:59:58'), 1);
  // Urgent, delivered late but confirmed since: nothing left to do.
  const d10 = await doc('d10', [B], vn('2025-03-10T08:00:00'), 3);
  await deliver(d10.to[B] ?? '', vn('2025-03-10T08:00:30'));
  await status(d10, B, '03', vn('2025-03-10T08:05:00'));
  // Urgent, delivered late, not confirmed yet (its receipt is due only tonight).
  const d11 = await doc('d11', [C], vn('2025-03-12T08:00:00'), 1);
  await deliver(d11.to[C] ?? '', vn('2025-03-12T08:00:09'));
  // Urgent, dead-lettered.
  const d12 = await doc('d12', [B], vn('2025-03-11T10:00:00'), 4);
  await setState(d12.to[B] ?? '', 'dead', true);
  // Ordinary and queued past its deadline: the budget is the delivery worker's business, not a legal timer.
  await doc('d13', [B], vn('2025-03-11T10:00:00'));
  // Urgent and withdrawn before delivery.
  const d14 = await doc('d14', [C], vn('2025-03-11T11:00:00'), 2);
  await setState(d14.to[C] ?? '', 'withdrawn', true);

  const names = new Map([d1, d2, d3, d4, d5, d6, d7, d8, d9, d10, d11, d12, d14].map((d) => [d.documentId, d.name]));
  const label = (items: readonly OverdueItem[]): string[] => items.map((i) => `${i.reason} ${names.get(i.documentId) ?? '?'}@${i.recipient === B ? 'B' : i.recipient === C ? 'C' : i.recipient}`);

  const list = await listOverdue(db, { now: NOW, calendar });
  t.equal(list.cutoff.toISOString(), vn('2025-03-11T17:00:00').toISOString(), 'the cut-off is Tuesday 17:00');
  t.same(list.counts, { unconfirmed: 2, urgentLate: 3 });
  t.same(label(list.items), ['unconfirmed d1@C', 'urgent_late d12@B', 'unconfirmed d3@B', 'urgent_late d11@C', 'urgent_late d8@C'], 'oldest first');
  t.equal(list.truncated, false);
  t.same(await countOverdue(db, { now: NOW, calendar }), list.counts, 'the counts alone agree');

  const first = list.items[0];
  t.match(first, { reason: 'unconfirmed', sender: A, recipient: C, deliveryId: d1.to[C], packetId: d1.packetId, priority: 0, deliveryState: 'delivered', statusCode: '01', recallState: 'none' });
  t.equal(first?.dueAt.toISOString(), vn('2025-03-10T17:00:00').toISOString(), 'due at the end of Monday');
  t.equal(first?.deliveredAt?.toISOString(), vn('2025-03-10T09:00:01').toISOString());
  t.equal(first?.sentAt.toISOString(), vn('2025-03-10T09:00:00').toISOString());
  const d8Item = list.items.find((i) => i.documentId === d8.documentId);
  t.match(d8Item, { reason: 'urgent_late', deliveryState: 'queued', priority: 2, deliveredAt: null, statusCode: null });
  t.equal(d8Item?.dueAt.toISOString(), vn('2025-03-12T09:59:55').toISOString(), 'an urgent item is due at its delivery deadline');
  t.match(list.items.find((i) => i.documentId === d12.documentId), { deliveryState: 'dead', priority: 4 });

  // Scopes: a recipient sees what it owes, the sender sees everything it sent.
  t.same(label((await listOverdue(db, { now: NOW, calendar, agencies: [C] })).items), ['unconfirmed d1@C', 'urgent_late d11@C', 'urgent_late d8@C']);
  t.same(await countOverdue(db, { now: NOW, calendar, agencies: [B] }), { unconfirmed: 1, urgentLate: 1 });
  t.same(await countOverdue(db, { now: NOW, calendar, agencies: [A] }), list.counts, 'the sender sees all of its documents');
  t.same(await countOverdue(db, { now: NOW, calendar, agencies: ['000.05.15.H47'] }), { unconfirmed: 0, urgentLate: 0 });
  t.same(await countOverdue(db, { now: NOW, calendar, agencies: [] }), { unconfirmed: 0, urgentLate: 0 }, 'no agency, nothing');

  const page = await listOverdue(db, { now: NOW, calendar, limit: 2 });
  t.same(label(page.items), ['unconfirmed d1@C', 'urgent_late d12@B']);
  t.equal(page.truncated, true);
  t.same(page.counts, list.counts, 'the counts are of everything, not of the page');

  // Later the same day, after 17:00: d2 (delivered just after Tuesday's end) and d11 are due, d9 late.
  const evening = await listOverdue(db, { now: vn('2025-03-12T17:00:01'), calendar });
  t.same(evening.counts, { unconfirmed: 4, urgentLate: 4 });
  t.same(label(evening.items.filter((i) => i.reason === 'unconfirmed')), ['unconfirmed d1@C', 'unconfirmed d3@B', 'unconfirmed d2@B', 'unconfirmed d11@C']);
  t.ok(evening.items.some((i) => i.documentId === d9.documentId && i.reason === 'urgent_late'), 'd9 missed its deadline by then');

  // B confirms d3: it leaves the list (and by 10:31 d9 has missed its deadline).
  await status(d3, B, '03', vn('2025-03-12T10:30:00'));
  t.same(await countOverdue(db, { now: vn('2025-03-12T10:31:00'), calendar }), { unconfirmed: 1, urgentLate: 4 });
});

t.test('holidays move the due time: nothing delivered before 30/4 is overdue until the next working day ends', async (t) => {
  const holidays = WorkingCalendar.of({ workdayEnd: '17:00', workingDays: [1, 2, 3, 4, 5], holidays: ['2025-04-30', '2025-05-01', '2025-05-02'] });
  const d = await send([B], vn('2025-04-29T18:00:00'));
  await deliver(d.to[B] ?? '', vn('2025-04-29T18:00:01'));
  t.same(await countOverdue(db, { now: vn('2025-05-02T20:00:00'), calendar: holidays }), { unconfirmed: 0, urgentLate: 0 }, 'over the holidays');
  t.same(await countOverdue(db, { now: vn('2025-05-05T16:59:59'), calendar: holidays }), { unconfirmed: 0, urgentLate: 0 }, 'Monday, before its end');
  t.same(await countOverdue(db, { now: vn('2025-05-05T17:00:01'), calendar: holidays }), { unconfirmed: 1, urgentLate: 0 }, 'Monday, after its end');
  t.same(await countOverdue(db, { now: vn('2025-04-30T17:00:01'), calendar }), { unconfirmed: 1, urgentLate: 0 }, 'without the holidays listed, due on 30/4');
});

t.test('the gauge edxgate_overdue_documents reads the counts at scrape time', async (t) => {
  const d = await send([B], vn('2025-03-10T09:00:00'));
  await deliver(d.to[B] ?? '', vn('2025-03-10T09:00:01'));
  await send([C], vn('2025-03-12T09:00:00'), 1); // urgent, never delivered

  const registry = new Registry();
  let clock = vn('2025-03-10T16:00:00');
  const errors: unknown[] = [];
  registerOverdueGauge(registry, { db, now: () => clock, onError: (e) => errors.push(e) });
  let text = await registry.metrics();
  t.match(text, /# TYPE edxgate_overdue_documents gauge/);
  t.match(text, /edxgate_overdue_documents\{reason="unconfirmed"\} 0\n/);
  t.match(text, /edxgate_overdue_documents\{reason="urgent_late"\} 0\n/);

  clock = vn('2025-03-12T10:00:00');
  text = await registry.metrics();
  t.match(text, /edxgate_overdue_documents\{reason="unconfirmed"\} 1\n/);
  t.match(text, /edxgate_overdue_documents\{reason="urgent_late"\} 1\n/);
  t.same(errors, []);
});
