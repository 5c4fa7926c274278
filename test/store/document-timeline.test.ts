// The read side of document tracking in the store: which document a caller means (resolveDocument),
// its status (getDocumentStatus) and its timeline (getDocumentTimeline). Packets and deliveries go
// through the real admission and delivery queries; the tracking rows (documents,
// document_recipients, the status/withdrawn/linked events) are inserted with SQL, as the write side
// (src/tracking/) would write them.

import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import t from 'tap';
import type { Database } from '../../src/store/database.ts';
import { admitPacket } from '../../src/store/queries/admit-packet.ts';
import type { AdmittedPacket } from '../../src/store/queries/admit-packet.ts';
import { claimDeliveries } from '../../src/store/queries/claim-deliveries.ts';
import { completeDelivery } from '../../src/store/queries/complete-delivery.ts';
import { getDocumentStatus, resolveDocument } from '../../src/store/queries/document-status.ts';
import { getDocumentTimeline } from '../../src/store/queries/document-timeline.ts';
import type { TimelineEntry } from '../../src/store/queries/document-timeline.ts';
import { failDelivery } from '../../src/store/queries/fail-delivery.ts';
import { postgresAvailable, testDatabase } from '../helpers/database.ts';
import { packetInput, seedRoutes } from './packet-input.ts';

const database = await testDatabase(t);
const { store } = database;
t.beforeEach(async () => {
  await database.truncate();
  await seedRoutes(store);
});

const A = '000.00.15.H47';
const B = '000.01.15.H47';
const C = '000.02.15.H47';
const D = '000.03.15.H47';
const E = '000.04.15.H47';

let serial = 0;

/** Admits a document packet of `sender` to inbox recipients. */
async function admitDocument(sender: string, documentId: string, to: readonly string[], businessType = 0): Promise<AdmittedPacket> {
  const input = await packetInput(store, {
    idempotencyKey: `document|b${businessType}|${sender}|${documentId}|${++serial}`,
    documentId,
    sender,
    businessType,
    recipients: to.map((r) => ({ to: r, routeId: 'inbox' })),
  });
  return (await admitPacket(store.db, input)).packet;
}

/** Admits a status packet from `from` about `documentId`, flowing back to the document's sender `to`. */
async function admitStatus(from: string, to: string, documentId: string, code: string): Promise<AdmittedPacket> {
  const input = await packetInput(store, {
    idempotencyKey: `status|s${code}|${from}|${documentId}|${++serial}`,
    kind: 'status',
    documentId,
    sender: from,
    businessType: null,
    statusCode: code,
    subject: null,
    recipients: [{ to, routeId: 'inbox' }],
  });
  return (await admitPacket(store.db, input)).packet;
}

/** Delivers every queued delivery (what an inbox adapter does), writing the `delivered` events. */
async function deliverAll(): Promise<void> {
  for (const claim of await claimDeliveries(store.db, { limit: 100, leaseMs: 30_000 })) {
    await completeDelivery(store.db, { deliveryId: claim.deliveryId, attempt: claim.attempt });
  }
}

/** Writes the `documents` and `document_recipients` rows of an admitted document packet, as tracking does. */
async function trackDocument(db: Kysely<Database>, packet: AdmittedPacket, subject = 'Về việc thử nghiệm'): Promise<void> {
  await db
    .insertInto('documents')
    .values({ document_id: packet.documentId, sender: packet.sender, packet_id: packet.packetId, business_type: 0, subject, priority: 0, received_at: packet.receivedAt })
    .onConflict((oc) => oc.doNothing())
    .execute();
  await db
    .insertInto('document_recipients')
    .values(packet.deliveries.map((d) => ({ document_id: packet.documentId, sender: packet.sender, recipient: d.to, delivery_id: d.deliveryId })))
    .onConflict((oc) => oc.doNothing())
    .execute();
}

/** An event as the write side appends it; `tx` forces the transaction id (to test the order). */
interface EventSpec {
  readonly type: string;
  readonly documentId: string;
  readonly agency: string | null;
  readonly packetId?: string | null;
  readonly deliveryId?: string | null;
  readonly data: Record<string, unknown>;
  readonly tx?: bigint;
}

async function appendEvent(db: Kysely<Database>, e: EventSpec): Promise<void> {
  const data = JSON.stringify(e.data);
  // `tx` cannot be written through the typed table (it is the inserting transaction's by default).
  if (e.tx === undefined) {
    await sql`INSERT INTO events (type, packet_id, delivery_id, document_id, agency, data)
      VALUES (${e.type}, ${e.packetId ?? null}, ${e.deliveryId ?? null}, ${e.documentId}, ${e.agency}, ${data}::jsonb)`.execute(db);
  } else {
    await sql`INSERT INTO events (type, packet_id, delivery_id, document_id, agency, data, tx)
      VALUES (${e.type}, ${e.packetId ?? null}, ${e.deliveryId ?? null}, ${e.documentId}, ${e.agency}, ${data}::jsonb, ${e.tx.toString()}::xid8)`.execute(db);
  }
}

/** A `status` event as tracking writes it. */
function statusEvent(doc: AdmittedPacket, recipient: string, code: string, extra: Record<string, unknown> = {}): EventSpec {
  return {
    type: 'status',
    documentId: doc.documentId,
    agency: recipient,
    packetId: doc.packetId,
    data: { code, recipient, sender: doc.sender, previous: null, change: 'advance', packetId: doc.packetId, ...extra },
  };
}

async function currentTx(): Promise<bigint> {
  const { rows } = await sql<{ tx: string }>`SELECT pg_current_xact_id()::text AS tx`.execute(store.db);
  return BigInt(rows[0]?.tx ?? '0');
}

function summary(entries: readonly TimelineEntry[]): string[] {
  return entries.map((e) => (e.code === undefined ? e.type : `${e.type}:${e.code}`));
}

function documentIdOf(number: string): string {
  return `${A},2025/03/05,${number}/SLĐTBXH-VP`;
}

t.test('the timeline is in commit order (tx, id), not in id order', async (t) => {
  const doc = await admitDocument(A, documentIdOf('101'), [B]);
  await trackDocument(store.db, doc);
  const base = (await currentTx()) + 1000n;
  // A transaction that committed later (higher tx) inserted first (lower id), and the other way round.
  await appendEvent(store.db, { ...statusEvent(doc, B, '04'), tx: base + 2n });
  await appendEvent(store.db, { ...statusEvent(doc, B, '03'), tx: base + 1n });
  const ids = await store.db.selectFrom('events').select(['id', 'type']).where('type', '=', 'status').orderBy('id').execute();
  t.equal(ids.length, 2);

  const timeline = await getDocumentTimeline(store.db, { documentId: doc.documentId, sender: A, shared: false });
  t.same(summary(timeline), ['admitted', 'status:03', 'status:04'], '03 committed first, though inserted second');
});

t.test('a transaction that commits late sorts by its transaction id (two connections, Postgres)', { skip: !postgresAvailable() && 'needs DATABASE_URL' }, async (t) => {
  const doc = await admitDocument(A, documentIdOf('102'), [B]);
  await trackDocument(store.db, doc);
  const other = await database.openAnother();
  await store.db.transaction().execute(async (trx) => {
    // Take a transaction id now, then let another transaction insert and commit first.
    await sql`SELECT pg_current_xact_id()`.execute(trx);
    await appendEvent(other.db, statusEvent(doc, B, '04'));
    await appendEvent(trx, statusEvent(doc, B, '03'));
  });
  const rows = await store.db.selectFrom('events').select(['id', sql<string>`(data->>'code')`.as('code')]).where('type', '=', 'status').orderBy('id').execute();
  t.same(rows.map((r) => r.code), ['04', '03'], '04 has the lower id');
  const timeline = await getDocumentTimeline(store.db, { documentId: doc.documentId, sender: A, shared: false });
  t.same(summary(timeline), ['admitted', 'status:03', 'status:04'], 'the older transaction comes first');
});

t.test('each event type carries its own fields', async (t) => {
  const doc = await admitDocument(A, documentIdOf('103'), [B, C]);
  await trackDocument(store.db, doc);
  const toB = doc.deliveries.find((d) => d.to === B)?.deliveryId ?? '';
  const toC = doc.deliveries.find((d) => d.to === C)?.deliveryId ?? '';
  // B's copy is delivered; C's first attempt fails and is retried.
  const claims = await claimDeliveries(store.db, { limit: 10, leaseMs: 30_000 });
  const claimB = claims.find((c) => c.deliveryId === toB);
  const claimC = claims.find((c) => c.deliveryId === toC);
  if (!claimB || !claimC) throw new Error('expected both deliveries claimed');
  await completeDelivery(store.db, { deliveryId: toB, attempt: claimB.attempt });
  await failDelivery(store.db, { deliveryId: toC, attempt: claimC.attempt, error: 'HTTP 503', retryInMs: 60_000, maxAttempts: 5 });
  await appendEvent(store.db, { ...statusEvent(doc, B, '01', { automatic: true }), deliveryId: toB });
  const status = await admitStatus(B, A, doc.documentId, '02');
  await appendEvent(store.db, {
    ...statusEvent(doc, B, '02', {
      previous: '01',
      reason: 'Gửi nhầm đơn vị',
      staff: { department: 'Văn phòng', staff: 'Nguyễn Văn A', mobile: '0912345678' },
      packetId: status.packetId,
    }),
    packetId: status.packetId,
  });
  await appendEvent(store.db, { type: 'withdrawn', documentId: doc.documentId, agency: A, packetId: doc.packetId, deliveryId: toC, data: { deliveryId: toC, recipient: C, by: 'recall' } });
  const update = await admitDocument(A, documentIdOf('104'), [B], 2);
  await appendEvent(store.db, {
    type: 'linked',
    documentId: doc.documentId,
    agency: A,
    packetId: update.packetId,
    data: { relation: 'updated', byDocumentId: update.documentId, byPacketId: update.packetId },
  });

  const timeline = await getDocumentTimeline(store.db, { documentId: doc.documentId, sender: A, shared: false });
  t.same(summary(timeline), ['admitted', 'delivered', 'delivery_failed', 'status:01', 'admitted:02', 'status:02', 'withdrawn', 'linked']);
  const [admitted, delivered, failed, arrived, statusAdmitted, refused, withdrawn, linked] = timeline;
  t.match(admitted, { type: 'admitted', agency: A, packetId: doc.packetId, deliveryId: null, packetKind: 'document', businessType: 0, priority: 0, recipients: [B, C] });
  t.match(delivered, { type: 'delivered', agency: B, recipient: B, deliveryId: toB, attempt: 1, late: false });
  t.type(delivered?.latencyMs, 'number');
  t.match(failed, { type: 'delivery_failed', recipient: C, deliveryId: toC, attempt: 1, error: 'HTTP 503' });
  t.ok(failed?.nextAttemptAt instanceof Date && failed.nextAttemptAt.getTime() > Date.now(), 'nextAttemptAt is read back as an instant');
  t.match(arrived, { type: 'status', code: '01', automatic: true, recipient: B, sender: A, change: 'advance', previous: null, staff: null, reason: null });
  t.match(statusAdmitted, { type: 'admitted', agency: B, packetKind: 'status', code: '02', recipients: [A] });
  t.match(refused, {
    type: 'status',
    code: '02',
    previous: '01',
    reason: 'Gửi nhầm đơn vị',
    staff: { department: 'Văn phòng', staff: 'Nguyễn Văn A', mobile: '0912345678', email: null },
    automatic: false,
    packetId: status.packetId,
  });
  t.match(withdrawn, { type: 'withdrawn', recipient: C, by: 'recall', deliveryId: toC });
  t.match(linked, { type: 'linked', relation: 'updated', relatedDocumentId: update.documentId, relatedPacketId: update.packetId, packetId: update.packetId });
  t.ok(timeline.every((e) => e.at instanceof Date));
});

t.test('two senders used one DocumentId: who sees which, and whose events are whose', async (t) => {
  const id = documentIdOf('200');
  const ofA = await admitDocument(A, id, [B]);
  const ofD = await admitDocument(D, id, [B, C]);
  await trackDocument(store.db, ofA);
  await trackDocument(store.db, ofD);
  await deliverAll();
  // B answers both; its status packets flow back to each sender.
  const toA = await admitStatus(B, A, id, '03');
  const toD = await admitStatus(B, D, id, '05');
  await appendEvent(store.db, { ...statusEvent(ofA, B, '03'), packetId: toA.packetId });
  await appendEvent(store.db, { ...statusEvent(ofD, B, '05'), packetId: toD.packetId });

  t.same(await resolveDocument(store.db, { documentId: id, access: { agencies: [B] } }), { outcome: 'ambiguous', senders: [A, D] }, 'B received both');
  t.same(await resolveDocument(store.db, { documentId: id, sender: D, access: { agencies: [B] } }), { outcome: 'found', key: { documentId: id, sender: D }, shared: true });
  t.same(await resolveDocument(store.db, { documentId: id, access: { agencies: [C] } }), { outcome: 'found', key: { documentId: id, sender: D }, shared: true }, 'C sees only D\'s');
  t.same(await resolveDocument(store.db, { documentId: id, sender: A, access: { agencies: [C] } }), { outcome: 'not_found' }, 'naming an invisible sender finds nothing');
  t.same(await resolveDocument(store.db, { documentId: id, access: { agencies: [A] } }), { outcome: 'found', key: { documentId: id, sender: A }, shared: true }, 'the sender sees its own');
  t.same(await resolveDocument(store.db, { documentId: id, access: { agencies: [E] } }), { outcome: 'not_found' });
  t.same(await resolveDocument(store.db, { documentId: id, access: { agencies: [] } }), { outcome: 'not_found' });
  t.same(await resolveDocument(store.db, { documentId: id, access: 'all' }), { outcome: 'ambiguous', senders: [A, D] });
  t.same(await resolveDocument(store.db, { documentId: 'no,such/id', access: 'all' }), { outcome: 'not_found' });

  const timelineA = await getDocumentTimeline(store.db, { documentId: id, sender: A, shared: true });
  t.same(summary(timelineA), ['admitted', 'delivered', 'admitted:03', 'status:03']);
  t.ok(timelineA.every((e) => e.packetId === ofA.packetId || e.packetId === toA.packetId), 'only A\'s packet and the status sent to A');
  const timelineD = await getDocumentTimeline(store.db, { documentId: id, sender: D, shared: true });
  t.same(summary(timelineD), ['admitted', 'delivered', 'delivered', 'admitted:05', 'status:05']);
  t.ok(timelineD.every((e) => e.packetId === ofD.packetId || e.packetId === toD.packetId));
});

t.test('status: recipients in address order, delivery and processing state, links both ways', async (t) => {
  const doc = await admitDocument(A, documentIdOf('300'), [C, B]);
  await trackDocument(store.db, doc, 'Về việc báo cáo');
  await deliverAll();
  const statusAt = new Date('2025-03-05T03:02:41.000Z');
  await store.db
    .updateTable('document_recipients')
    .set({ status_code: '02', status_at: statusAt, status_reason: 'Không thuộc thẩm quyền', confirmed_at: statusAt })
    .where('document_id', '=', doc.documentId)
    .where('recipient', '=', B)
    .execute();
  await store.db
    .updateTable('document_recipients')
    .set({ status_code: '01', status_at: statusAt, recall_state: 'requested', recall_kind: 'recall', recall_reason: 'Sai số liệu', recall_requested_at: statusAt })
    .where('document_id', '=', doc.documentId)
    .where('recipient', '=', C)
    .execute();
  // A replacement of this document by a later one, and this document updating an earlier one.
  const replacement = await admitDocument(A, documentIdOf('301'), [B], 3);
  const earlier = await admitDocument(A, documentIdOf('299'), [B]);
  await trackDocument(store.db, earlier);
  await store.db.insertInto('document_links').values({ document_id: doc.documentId, sender: A, relation: 'replaced', by_document_id: replacement.documentId, by_packet_id: replacement.packetId }).execute();
  await store.db.insertInto('document_links').values({ document_id: earlier.documentId, sender: A, relation: 'updated', by_document_id: doc.documentId, by_packet_id: doc.packetId, at: new Date(Date.now() - 60_000) }).execute();
  // A revocation reuses the revoked document's id: the link names this document on both sides.
  const revocation = await admitDocument(A, doc.documentId, [B, C], 1);
  await store.db.insertInto('document_links').values({ document_id: doc.documentId, sender: A, relation: 'revoked', by_document_id: doc.documentId, by_packet_id: revocation.packetId }).execute();

  const status = await getDocumentStatus(store.db, { documentId: doc.documentId, sender: A });
  if (status === undefined) throw new Error('expected a status');
  t.match(status, { documentId: doc.documentId, sender: A, packetId: doc.packetId, businessType: 0, subject: 'Về việc báo cáo', priority: 0, revokedAt: null });
  t.same(status.recipients.map((r) => r.recipient), [C, B], 'in the order the sender addressed them');
  const [c, b] = status.recipients;
  t.match(b, { deliveryState: 'delivered', acknowledgedAt: null, late: false, status: { code: '02', at: statusAt, reason: 'Không thuộc thẩm quyền' }, confirmedAt: statusAt, recall: { state: 'none', kind: null } });
  t.ok(b?.deliveredAt instanceof Date);
  t.match(c, { status: { code: '01' }, confirmedAt: null, recall: { state: 'requested', kind: 'recall', reason: 'Sai số liệu', requestedAt: statusAt, answeredAt: null } });
  t.same(
    status.links.map((l) => [l.relation, l.documentId, l.packetId]),
    [
      ['updates', earlier.documentId, doc.packetId],
      ['replaced', replacement.documentId, replacement.packetId],
      ['revoked', doc.documentId, revocation.packetId],
    ],
    'oldest first; the revocation is not also listed as this document revoking itself',
  );
  t.equal(await getDocumentStatus(store.db, { documentId: doc.documentId, sender: D }), undefined);
});
