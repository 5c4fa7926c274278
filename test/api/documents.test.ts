// GET /v1/documents/{documentId} and /timeline: what a document's parties and the operator see of
// it, in Vietnam time, addressed by URL-encoded ids; nobody else learns it exists. The state is
// built through the real gateway (document and status packets posted, inbox acks); ensureTracked
// writes the tracking rows with SQL wherever the write side (src/tracking/) has not, so these reads
// are tested on the rows they need either way.

import t from 'tap';
import { buildPacketBuffer } from '../../src/edxml/build.ts';
import type { StatusCode } from '../../src/edxml/codes.ts';
import type { DocumentPacket, Organization, StaffInfo, StatusPacket } from '../../src/edxml/model.ts';
import { ADMIN_TOKEN, makeDocument, postHeaders, startTestGateway, waitFor } from './gateway-fixture.ts';
import type { TestGateway } from './gateway-fixture.ts';

const A = '000.00.15.H47';
const B = '000.01.15.H47';
const C = '000.02.15.H47';
const D = '000.03.15.H47';
const VIETNAM_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+07:00$/;

interface Receipt {
  packetId: string;
  documentId: string;
  deliveries: { to: string; deliveryId: string }[];
}

interface Problem {
  code: string;
  detail: string;
  issues: { path: string; message: string }[];
}

interface DocumentView {
  documentId: string;
  sender: string;
  packetId: string;
  businessType: number;
  subject: string | null;
  priority: number;
  receivedAt: string;
  revokedAt: string | null;
  links: { relation: string; documentId: string; packetId: string; at: string }[];
  recipients: {
    recipient: string;
    deliveryId: string;
    deliveryState: string;
    deliveredAt: string | null;
    acknowledgedAt: string | null;
    latencyMs: number | null;
    late: boolean;
    status: { code: string; meaning: string | null; at: string | null; reason: string | null } | null;
    confirmedAt: string | null;
    recall: { state: string; kind: string | null; reason: string | null; requestedAt: string | null; answeredAt: string | null };
  }[];
}

interface TimelineEvent {
  at: string;
  type: string;
  agency: string | null;
  packetId: string | null;
  deliveryId: string | null;
  packetKind?: string;
  code?: string;
  meaning?: string | null;
  change?: string;
  reason?: string | null;
  staff?: { department: string | null; staff: string | null; mobile: string | null; email: string | null } | null;
  recipient?: string;
  automatic?: boolean;
  recipients?: string[];
  latencyMs?: number | null;
  late?: boolean;
  attempt?: number;
}

interface Timeline {
  documentId: string;
  sender: string;
  events: TimelineEvent[];
}

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
function bearer(gw: TestGateway, agency: string): Record<string, string> {
  return { authorization: `Bearer ${gw.token(agency)}` };
}

/** The path of a document: its id URL-encoded, as clients must send it. */
function documentUrl(documentId: string, suffix = '', query = ''): string {
  return `/v1/documents/${encodeURIComponent(documentId)}${suffix}${query}`;
}

let serial = 0;

/** A document packet with a DocumentId of the caller's choosing (makeDocument derives it from the sender). */
function documentWithId(from: string, documentId: string, to: readonly string[], subject = 'V/v thử nghiệm theo dõi văn bản'): Buffer {
  const number = String(++serial);
  const packet: DocumentPacket = {
    kind: 'document',
    header: {
      from: { organId: from, organName: 'Cơ quan thử nghiệm' },
      to: to.map((organId): Organization => ({ organId })),
      documentId,
      code: { codeNumber: number, codeNotation: 'UBND-VP' },
      promulgationInfo: { place: 'Quảng Nam', promulgationDate: '2025/03/05' },
      documentType: { type: 1, typeName: 'Công văn' },
      subject,
      responseFor: [],
      toPlaces: [],
    },
    traceHeaders: [{ organId: from, timestamp: '2025/03/05 09:15:00' }],
    manifest: [],
    attachments: [],
  };
  return buildPacketBuffer(packet);
}

/** A status packet with the optional parts makeStatus leaves out (StaffInfo, Description). */
function statusPacket(from: string, about: string, documentId: string, statusCode: StatusCode, extra: { staffInfo?: StaffInfo; description?: string } = {}): Buffer {
  const packet: StatusPacket = {
    kind: 'status',
    from: { organId: from },
    responseFor: { organId: about, documentId },
    statusCode,
    timestamp: '2025/03/05 10:02:41',
    ...extra,
  };
  return buildPacketBuffer(packet);
}

async function post(gw: TestGateway, agency: string, bytes: Buffer): Promise<Receipt> {
  const res = await gw.app.inject({ method: 'POST', url: '/v1/packets', headers: postHeaders(gw, agency), payload: bytes });
  if (res.statusCode !== 202) throw new Error(`post by ${agency} failed (${res.statusCode}): ${res.body}`);
  return JSON.parse(res.body) as Receipt;
}

async function delivered(gw: TestGateway, receipt: Receipt): Promise<void> {
  await waitFor('the copies delivered', async () => {
    const rows = await gw.db.store.db.selectFrom('deliveries').select('state').where('packet_id', '=', receipt.packetId).execute();
    return rows.length > 0 && rows.every((r) => r.state === 'delivered');
  });
}

/**
 * Makes sure the tracking rows of a posted document exist: the `documents` row and one
 * `document_recipients` row per delivery, as the write side creates them at admission. A no-op where
 * it did (ON CONFLICT DO NOTHING), so the test reads the same rows with or without it.
 */
async function ensureTracked(gw: TestGateway, receipt: Receipt): Promise<void> {
  const db = gw.db.store.db;
  const packet = await db.selectFrom('packets').selectAll().where('id', '=', receipt.packetId).executeTakeFirstOrThrow();
  await db
    .insertInto('documents')
    .values({
      document_id: packet.document_id,
      sender: packet.sender,
      packet_id: packet.id,
      business_type: packet.business_type ?? 0,
      subject: packet.subject,
      priority: packet.priority,
      received_at: packet.received_at,
    })
    .onConflict((oc) => oc.doNothing())
    .execute();
  const deliveries = await db.selectFrom('deliveries').select(['id', 'recipient']).where('packet_id', '=', packet.id).execute();
  await db
    .insertInto('document_recipients')
    .values(deliveries.map((d) => ({ document_id: packet.document_id, sender: packet.sender, recipient: d.recipient, delivery_id: d.id })))
    .onConflict((oc) => oc.doNothing())
    .execute();
}

async function getJson<T>(gw: TestGateway, url: string, headers: Record<string, string>, status = 200): Promise<T> {
  const res = await gw.app.inject({ method: 'GET', url, headers });
  if (res.statusCode !== status) throw new Error(`GET ${url}: expected ${status}, got ${res.statusCode}: ${res.body}`);
  return JSON.parse(res.body) as T;
}

/** Whether `expected` appears in `actual` in that order (other entries may come between). */
function inOrder(actual: readonly string[], expected: readonly string[]): boolean {
  let i = 0;
  for (const item of actual) if (item === expected[i]) i++;
  return i === expected.length;
}

function label(e: TimelineEvent): string {
  return [e.type, e.code, e.agency].filter((p) => p !== undefined && p !== null).join(':');
}

const gw = await startTestGateway(t);

t.test('status and timeline of a document: its sender, its recipients and the operator see them', async (t) => {
  const doc = await post(gw, A, makeDocument({ to: [B, C], subject: 'V/v báo cáo tình hình' }));
  await delivered(gw, doc);
  await ensureTracked(gw, doc);
  const toC = doc.deliveries.find((d) => d.to === C)?.deliveryId ?? '';

  // B accepts (03) with its staff; C takes its copy (the gateway answers 01 for it), A then asks C
  // to give the document back (13) and C refuses (16).
  const accepted = await post(gw, B, statusPacket(B, A, doc.documentId, '03', { staffInfo: { department: 'Văn phòng', staff: 'Nguyễn Văn An', mobile: '0912345678' } }));
  const ack = await gw.app.inject({ method: 'POST', url: `/v1/inbox/${toC}/ack`, headers: bearer(gw, C) });
  t.equal(ack.statusCode, 200);
  await waitFor('the automatic 01 for C', async () => {
    const row = await gw.db.store.db
      .selectFrom('document_recipients')
      .select('status_code')
      .where('document_id', '=', doc.documentId)
      .where('recipient', '=', C)
      .executeTakeFirst();
    return row?.status_code === '01';
  });
  await post(gw, A, statusPacket(A, C, doc.documentId, '13', { description: 'Sai số liệu phụ lục' }));
  await post(gw, C, statusPacket(C, A, doc.documentId, '16', { description: 'Văn bản đã được phân công xử lý' }));

  const view = await getJson<DocumentView>(gw, documentUrl(doc.documentId), bearer(gw, A));
  t.match(view, { documentId: doc.documentId, sender: A, packetId: doc.packetId, businessType: 0, subject: 'V/v báo cáo tình hình', priority: 0, revokedAt: null, links: [] });
  t.match(view.receivedAt, VIETNAM_TIME);
  t.same(view.recipients.map((r) => r.recipient), [B, C], 'in the order the sender addressed them');
  const [b, c] = view.recipients;
  t.match(b, {
    deliveryState: 'delivered',
    acknowledgedAt: null,
    late: false,
    status: { code: '03', meaning: 'Đã tiếp nhận', reason: null },
    recall: { state: 'none', kind: null, requestedAt: null, answeredAt: null },
  });
  t.match(b?.deliveredAt, VIETNAM_TIME);
  t.match(b?.status?.at, VIETNAM_TIME);
  t.match(b?.confirmedAt, VIETNAM_TIME, '03 confirms receipt');
  t.type(b?.latencyMs, 'number');
  t.match(c, { deliveryId: toC, deliveryState: 'delivered', status: { code: '01', meaning: 'Đã đến' }, confirmedAt: null, recall: { state: 'refused', kind: 'recall' } });
  t.match(c?.acknowledgedAt, VIETNAM_TIME);
  t.match(c?.recall.requestedAt, VIETNAM_TIME);
  t.match(c?.recall.answeredAt, VIETNAM_TIME);

  const timeline = await getJson<Timeline>(gw, documentUrl(doc.documentId, '/timeline'), bearer(gw, A));
  t.same([timeline.documentId, timeline.sender], [doc.documentId, A]);
  const labels = timeline.events.map(label);
  t.ok(
    inOrder(labels, [
      `admitted:${A}`,
      `admitted:03:${B}`,
      `status:03:${B}`,
      `acked:${C}`,
      `status:01:${C}`,
      `admitted:13:${A}`,
      `status:13:${A}`,
      `admitted:16:${C}`,
      `status:16:${C}`,
    ]),
    'events in the order they happened',
    { labels },
  );
  t.equal(labels[0], `admitted:${A}`, 'the document\'s admission opens it');
  t.equal(timeline.events.filter((e) => e.type === 'delivered' && e.packetId === doc.packetId).length, 2, 'one delivery per recipient');
  for (const e of timeline.events) t.match(e.at, VIETNAM_TIME, `${e.type} at Vietnam time`);
  t.match(timeline.events[0], { type: 'admitted', packetKind: 'document', packetId: doc.packetId, recipients: [B, C] });
  const firstDelivery = timeline.events.find((e) => e.type === 'delivered');
  t.match(firstDelivery, { late: false, attempt: 1 });
  t.ok(firstDelivery?.recipient === B || firstDelivery?.recipient === C, 'a delivery names its recipient');
  t.match(timeline.events.find((e) => e.type === 'status' && e.code === '03'), {
    meaning: 'Đã tiếp nhận',
    recipient: B,
    change: 'advance',
    packetId: accepted.packetId,
    staff: { department: 'Văn phòng', staff: 'Nguyễn Văn An', mobile: '0912345678', email: null },
  });
  t.match(timeline.events.find((e) => e.type === 'status' && e.code === '01'), { meaning: 'Đã đến', recipient: C, automatic: true });
  t.match(timeline.events.find((e) => e.type === 'status' && e.code === '13'), { meaning: 'Yêu cầu lấy lại', recipient: C, change: 'recall-requested', reason: 'Sai số liệu phụ lục' });
  t.match(timeline.events.find((e) => e.type === 'status' && e.code === '16'), { meaning: 'Từ chối yêu cầu cập nhật, lấy lại', change: 'recall-answered', reason: 'Văn bản đã được phân công xử lý' });
  t.match(timeline.events.find((e) => e.type === 'admitted' && e.code === '03'), { packetKind: 'status', meaning: 'Đã tiếp nhận', recipients: [A] });

  // The recipients and the operator see the same document; a third agency does not.
  for (const [who, headers] of [
    ['B', bearer(gw, B)],
    ['C', bearer(gw, C)],
    ['admin', admin],
  ] as const) {
    const seen = await getJson<DocumentView>(gw, documentUrl(doc.documentId), headers);
    t.same(seen, view, `${who} sees the same status`);
    const seenTimeline = await getJson<Timeline>(gw, documentUrl(doc.documentId, '/timeline'), headers);
    t.same(seenTimeline.events.map(label), labels, `${who} sees the same timeline`);
  }
  const unknownId = `${A},2025/03/05,999999/KHÔNG-CÓ`;
  for (const suffix of ['', '/timeline']) {
    const hidden = await getJson<Problem>(gw, documentUrl(doc.documentId, suffix), bearer(gw, D), 404);
    const unknown = await getJson<Problem>(gw, documentUrl(unknownId, suffix), bearer(gw, D), 404);
    t.equal(hidden.code, 'EDX_ERR_NOT_FOUND', `a third agency gets 404${suffix}`);
    t.match(hidden.detail, doc.documentId, 'the message names the id');
    // Everything but the id itself (and the request's own instance and id) is the same.
    const anonymised = (p: Problem, id: string) => ({
      ...p,
      detail: p.detail.replace(id, 'ID'),
      issues: p.issues.map((i) => ({ ...i, value: 'ID' })),
      instance: undefined,
      requestId: undefined,
    });
    t.same(anonymised(hidden, doc.documentId), anonymised(unknown, unknownId), 'another agency\'s document and a document that does not exist look the same');
    const adminUnknown = await getJson<Problem>(gw, documentUrl(unknownId, suffix), admin, 404);
    t.match(adminUnknown, { code: 'EDX_ERR_NOT_FOUND', detail: new RegExp(unknownId.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')) });
  }
  const anonymous = await gw.app.inject({ method: 'GET', url: documentUrl(doc.documentId) });
  t.equal(anonymous.statusCode, 401);
  t.equal((JSON.parse(anonymous.body) as Problem).code, 'EDX_ERR_AUTH_REQUIRED');
  const badToken = await gw.app.inject({ method: 'GET', url: documentUrl(doc.documentId, '/timeline'), headers: { authorization: 'Bearer nobody' } });
  t.equal(badToken.statusCode, 401);
});

t.test('a document id is addressed URL-encoded: "/" as %2F, any case, up to the 100 characters an id may have', async (t) => {
  // 100 characters with Vietnamese letters: the router's limit on a parameter counts decoded characters.
  const head = `${A},2025/03/05,7/`;
  const longId = head + 'SLĐTBXH-VP/'.padEnd(100 - head.length, 'Ư');
  t.equal(longId.length, 100);
  const doc = await post(gw, A, documentWithId(A, longId, [B]));
  t.equal(doc.documentId, longId);
  await delivered(gw, doc);
  await ensureTracked(gw, doc);

  const encoded = encodeURIComponent(longId);
  t.match(encoded, /%2F/);
  t.equal((await getJson<DocumentView>(gw, `/v1/documents/${encoded}`, bearer(gw, B))).documentId, longId);
  t.equal((await getJson<Timeline>(gw, `/v1/documents/${encoded}/timeline`, bearer(gw, B))).documentId, longId);
  const lower = encoded.replace(/%2F/g, '%2f').replace(/%2C/g, '%2c');
  t.equal((await getJson<DocumentView>(gw, `/v1/documents/${lower}`, bearer(gw, B))).documentId, longId, 'lower-case escapes too');
  const commasRaw = encoded.replace(/%2C/g, ',');
  t.equal((await getJson<DocumentView>(gw, `/v1/documents/${commasRaw}`, bearer(gw, B))).documentId, longId, 'commas need no encoding');

  // Unencoded slashes split the id into path segments: refused with a hint, not read as another id.
  for (const suffix of ['', '/timeline']) {
    const raw = await getJson<Problem>(gw, `/v1/documents/${longId.replace(/[^/,A-Za-z0-9.-]/g, encodeURIComponent)}${suffix}`, bearer(gw, B), 404);
    t.equal(raw.code, 'EDX_ERR_NOT_FOUND');
    t.match(raw.detail, /%2F/, 'the message says how to encode');
  }
  const tooLong = await gw.app.inject({ method: 'GET', url: `/v1/documents/${encodeURIComponent(`${longId}X`)}`, headers: bearer(gw, B) });
  t.equal(tooLong.statusCode, 400, 'longer than any DocumentId');
  t.equal((JSON.parse(tooLong.body) as Problem).code, 'EDX_ERR_REQUEST_INVALID');
});

t.test('two senders used the same id: a caller who sees both must name the sender', async (t) => {
  const id = `${A},2025/03/05,${process.pid % 10000}88/UBND-VP`;
  const ofA = await post(gw, A, documentWithId(A, id, [B], 'Văn bản của Sở'));
  const ofD = await post(gw, D, documentWithId(D, id, [B, C], 'Văn bản của đơn vị khác'));
  await delivered(gw, ofA);
  await delivered(gw, ofD);
  await ensureTracked(gw, ofA);
  await ensureTracked(gw, ofD);
  await post(gw, B, statusPacket(B, D, id, '03'));

  for (const [who, headers] of [
    ['B', bearer(gw, B)],
    ['admin', admin],
  ] as const) {
    for (const suffix of ['', '/timeline']) {
      const ambiguous = await getJson<Problem>(gw, documentUrl(id, suffix), headers, 400);
      t.equal(ambiguous.code, 'EDX_ERR_REQUEST_INVALID', `${who}${suffix}: ambiguous`);
      t.match(ambiguous.issues, [{ path: 'querystring.sender' }]);
      t.ok(ambiguous.detail.includes(A) && ambiguous.detail.includes(D), 'names both senders');
    }
  }
  const fromD = await getJson<DocumentView>(gw, documentUrl(id, '', `?sender=${D}`), bearer(gw, B));
  t.match(fromD, { sender: D, packetId: ofD.packetId, subject: 'Văn bản của đơn vị khác' });
  t.same(fromD.recipients.map((r) => [r.recipient, r.status?.code ?? null]), [[B, '03'], [C, null]]);
  const fromA = await getJson<DocumentView>(gw, documentUrl(id, '', `?sender=${A}`), bearer(gw, B));
  t.match(fromA, { sender: A, packetId: ofA.packetId, recipients: [{ recipient: B, status: null }] });

  const timelineA = await getJson<Timeline>(gw, documentUrl(id, '/timeline', `?sender=${A}`), admin);
  t.ok(timelineA.events.length > 0 && timelineA.events.every((e) => e.packetId === ofA.packetId), 'A\'s timeline holds only A\'s packet', { events: timelineA.events.map(label) });
  const timelineD = await getJson<Timeline>(gw, documentUrl(id, '/timeline', `?sender=${D}`), admin);
  t.ok(inOrder(timelineD.events.map(label), [`admitted:${D}`, `admitted:03:${B}`, `status:03:${B}`]), 'D\'s timeline has B\'s status', { events: timelineD.events.map(label) });
  t.notOk(timelineD.events.some((e) => e.packetId === ofA.packetId));

  // A and C see one document each under the id: no need to name the sender.
  t.equal((await getJson<DocumentView>(gw, documentUrl(id), bearer(gw, A))).sender, A);
  t.equal((await getJson<DocumentView>(gw, documentUrl(id), bearer(gw, C))).sender, D);
  t.equal((await getJson<Problem>(gw, documentUrl(id, '', `?sender=${A}`), bearer(gw, C), 404)).code, 'EDX_ERR_NOT_FOUND', 'naming a sender one may not see finds nothing');
  const outsider = await getJson<Problem>(gw, documentUrl(id, '/timeline'), bearer(gw, '000.04.15.H47'), 404);
  t.equal(outsider.code, 'EDX_ERR_NOT_FOUND', 'an outsider learns nothing, not even that the id is shared');
  const badSender = await getJson<Problem>(gw, documentUrl(id, '', '?sender='), bearer(gw, B), 400);
  t.equal(badSender.code, 'EDX_ERR_REQUEST_INVALID');
});
