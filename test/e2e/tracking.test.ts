// Document tracking end to end, over real HTTP on loopback, on real Postgres (when DATABASE_URL is
// set) and on PGlite: statuses and the automatic 01s in the timeline; recall with a recipient that
// had the document and one that had not pulled it; revoke, update and replace built from the
// official samples; the official status samples applied; 50 receivers answering at once.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { buildPacketBuffer } from '../../src/edxml/build.ts';
import type { StatusCode } from '../../src/edxml/codes.ts';
import type { DocumentPacket, StaffInfo, StatusPacket } from '../../src/edxml/model.ts';
import { parsePacket } from '../../src/edxml/parse.ts';
import { tokenHash } from '../../src/gateway/client-auth.ts';
import type { StoreDialect } from '../../src/store/open-store.ts';
import { postgresAvailable } from '../helpers/database.ts';
import type { TestDatabase } from '../helpers/database.ts';
import { makeDocument, startTestGateway, waitFor } from '../api/gateway-fixture.ts';
import type { TestGateway } from '../api/gateway-fixture.ts';

const A = '000.00.15.H47';
const B = '000.01.15.H47';
const C = '000.02.15.H47';
const SAMPLES = join(import.meta.dirname, '..', '..', '..', 'shared', 'interop', 'vpcp-samples');

interface Receipt {
  packetId: string;
  documentId: string;
  deliveries: { to: string; deliveryId: string; state: string }[];
  warnings: { code: string; path: string }[];
  signature: { status: string; policy: string };
}

interface InboxItem {
  deliveryId: string;
  packetId: string;
  documentId: string;
  kind: string;
  sender: string;
  statusCode: string | null;
}

interface DocumentView {
  documentId: string;
  sender: string;
  revokedAt: string | null;
  links: { relation: string; documentId: string }[];
  recipients: {
    recipient: string;
    deliveryState: string;
    status: { code: string; meaning: string; reason: string | null } | null;
    recall: { state: string; kind: string | null; reason: string | null };
  }[];
}

interface TimelineEvent {
  type: string;
  at: string;
  agency: string | null;
  code?: string | null;
  recipient?: string;
  automatic?: boolean;
  reason?: string | null;
  change?: string;
}

/** A client of the gateway over HTTP, acting with the token of `agency`. */
function clientOf(gw: TestGateway, tokens: Map<string, string>) {
  const url = gw.url as string;
  const auth = (agency: string): Record<string, string> => ({ authorization: `Bearer ${tokens.get(agency) ?? gw.token(agency)}` });
  return {
    async post(agency: string, body: Buffer): Promise<{ status: number; body: Receipt & { code?: string; detail?: string } }> {
      const res = await fetch(`${url}/v1/packets`, { method: 'POST', headers: { ...auth(agency), 'content-type': 'application/xml' }, body: new Uint8Array(body) });
      return { status: res.status, body: (await res.json()) as Receipt & { code?: string } };
    },
    async inbox(agency: string): Promise<InboxItem[]> {
      const res = await fetch(`${url}/v1/inbox?agency=${agency}&limit=500`, { headers: auth(agency) });
      return ((await res.json()) as { items: InboxItem[] }).items;
    },
    async ack(agency: string, deliveryId: string): Promise<number> {
      return (await fetch(`${url}/v1/inbox/${deliveryId}/ack`, { method: 'POST', headers: auth(agency) })).status;
    },
    async document(agency: string, documentId: string): Promise<DocumentView> {
      const res = await fetch(`${url}/v1/documents/${encodeURIComponent(documentId)}`, { headers: auth(agency) });
      if (res.status !== 200) throw new Error(`GET document: ${res.status} ${await res.text()}`);
      return (await res.json()) as DocumentView;
    },
    async timeline(agency: string, documentId: string): Promise<TimelineEvent[]> {
      const res = await fetch(`${url}/v1/documents/${encodeURIComponent(documentId)}/timeline`, { headers: auth(agency) });
      if (res.status !== 200) throw new Error(`GET timeline: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { events: TimelineEvent[] }).events;
    },
  };
}
type Client = ReturnType<typeof clientOf>;

let clock = 0;

/** A status packet; each one gets its own Timestamp. */
function status(from: string, about: string, documentId: string, code: StatusCode, description?: string, staff?: StaffInfo): Buffer {
  clock++;
  const packet: StatusPacket = {
    kind: 'status',
    from: { organId: from, organName: `Đơn vị ${from}` },
    responseFor: { organId: about, documentId },
    ...(staff === undefined ? {} : { staffInfo: staff }),
    statusCode: code,
    ...(description === undefined ? {} : { description }),
    timestamp: `2025/03/05 10:${String(Math.floor(clock / 60) % 60).padStart(2, '0')}:${String(clock % 60).padStart(2, '0')}`,
  };
  return buildPacketBuffer(packet);
}

/** Waits until `agency`'s inbox holds the delivery of `packetId`, acks it, and returns its id. */
async function pullAndAck(client: Client, agency: string, packetId: string): Promise<string> {
  const item = await waitFor(`${packetId} in ${agency}'s inbox`, async () => (await client.inbox(agency)).find((i) => i.packetId === packetId));
  t.equal(await client.ack(agency, item.deliveryId), 200);
  return item.deliveryId;
}

/** Adds agencies (inbox route) and one client acting for all of them; returns its token. */
async function addAgencies(db: TestDatabase, codes: readonly string[], token: string): Promise<void> {
  await db.store.db
    .insertInto('agencies')
    .values(codes.map((code) => ({ code, name: `Đơn vị kiểm thử ${code}`, state: 'active' as const, parent_code: null, successor_code: null, route_id: null })))
    .onConflict((oc) => oc.column('code').doNothing())
    .execute();
  await db.store.db
    .insertInto('clients')
    .values({ id: crypto.randomUUID(), name: `test client for ${codes.length} agencies`, token_hash: tokenHash(token), agency_codes: [...codes] })
    .execute();
}

const kinds: StoreDialect[] = postgresAvailable() ? ['postgres', 'pglite'] : ['pglite'];

for (const kind of kinds) {
  t.test(`${kind}: B answers 03–06, C refuses with 02; A's timeline shows every step with the automatic 01s`, async (t) => {
    const gw = await startTestGateway(t, { kind, listen: true });
    const client = clientOf(gw, new Map());
    const sent = await client.post(A, makeDocument({ from: A, to: [B, C], subject: 'V/v theo dõi trạng thái' }));
    t.equal(sent.status, 202);
    const doc = sent.body.documentId;

    await pullAndAck(client, B, sent.body.packetId);
    await pullAndAck(client, C, sent.body.packetId);
    await waitFor('the automatic 01s', async () => (await client.inbox(A)).filter((i) => i.documentId === doc && i.statusCode === '01').length === 2);

    const early = await client.post(B, status(B, A, doc, '06'));
    t.equal(early.status, 409, '06 before 03 is refused');
    t.equal(early.body.code, 'EDX_ERR_STATUS_TRANSITION');

    const staff = { department: 'Văn thư', staff: 'Nguyễn Thị Lan' };
    for (const code of ['03', '04', '05', '06'] as const) t.equal((await client.post(B, status(B, A, doc, code, undefined, staff))).status, 202, `B: ${code}`);
    t.equal((await client.post(C, status(C, A, doc, '02', 'Gửi nhầm đơn vị, đề nghị gửi lại Phòng Người có công'))).status, 202, 'C: 02 with a reason');
    const after02 = await client.post(C, status(C, A, doc, '03'));
    t.equal(after02.status, 409, 'nothing after 02');
    const again = await client.post(B, status(B, A, doc, '06', 'lặp lại'));
    t.equal(again.status, 200, 'a repeated status gets the first receipt');

    const unknown = await client.post(B, status(B, A, `${A},2025/03/05,999999/KHÔNG-CÓ`, '03'));
    t.equal(unknown.body.code, 'EDX_ERR_STATUS_UNKNOWN_DOCUMENT');
    const stranger = await client.post('000.03.15.H47', status('000.03.15.H47', A, doc, '03'));
    t.equal(stranger.body.code, 'EDX_ERR_STATUS_NOT_A_RECIPIENT', 'an agency that never received it');

    const view = await client.document(A, doc);
    const byRecipient = new Map(view.recipients.map((r) => [r.recipient, r]));
    t.match(byRecipient.get(B), { deliveryState: 'delivered', status: { code: '06', meaning: 'Hoàn thành' } });
    t.match(byRecipient.get(C), { status: { code: '02', reason: 'Gửi nhầm đơn vị, đề nghị gửi lại Phòng Người có công' } });

    const timeline = await client.timeline(A, doc);
    const steps = timeline.filter((e) => e.type === 'status').map((e) => `${e.recipient}:${e.code}${e.automatic === true ? '(auto)' : ''}`);
    t.same(steps.filter((s) => s.startsWith(B)), [`${B}:01(auto)`, `${B}:03`, `${B}:04`, `${B}:05`, `${B}:06`], 'B, in order');
    t.same(steps.filter((s) => s.startsWith(C)), [`${C}:01(auto)`, `${C}:02`], 'C, in order');
    t.equal(timeline[0]?.type, 'admitted', 'the timeline starts with the admission');
    t.ok(timeline.some((e) => e.type === 'delivered' && e.agency === B), 'deliveries are in it');
    t.ok(timeline.every((e) => e.at.endsWith('+07:00')), 'Vietnam time');
    t.match(timeline.find((e) => e.type === 'status' && e.code === '02'), { reason: 'Gửi nhầm đơn vị, đề nghị gửi lại Phòng Người có công', agency: C });

    // The sender received every status in its inbox: two 01s, 03–06 from B, 02 from C.
    const statuses = await waitFor('all statuses at A', async () => {
      const got = (await client.inbox(A)).filter((i) => i.documentId === doc && i.kind === 'status');
      return got.length === 7 ? got : undefined;
    });
    t.same(statuses.map((i) => `${i.sender}:${i.statusCode}`).sort(), [`${B}:01`, `${B}:03`, `${B}:04`, `${B}:05`, `${B}:06`, `${C}:01`, `${C}:02`].sort());
  });

  t.test(`${kind}: recall — B had it and agrees (15), C had not pulled it and loses it; a 16 keeps it with the reason`, async (t) => {
    const gw = await startTestGateway(t, { kind, listen: true });
    const client = clientOf(gw, new Map());
    const sent = await client.post(A, makeDocument({ from: A, to: [B, C] }));
    const doc = sent.body.documentId;
    await pullAndAck(client, B, sent.body.packetId);
    await waitFor('C has it in its inbox', async () => (await client.inbox(C)).some((i) => i.packetId === sent.body.packetId));

    const accepted = status(B, A, doc, '03');
    t.equal((await client.post(B, accepted)).status, 202, 'B accepted it before the recall');
    const recall = await client.post(A, status(A, A, doc, '13', 'Văn bản ban hành nhầm số, đề nghị trả lại'));
    t.equal(recall.status, 202, 'A asks every recipient for it back');
    t.same(recall.body.deliveries.map((d) => d.to).sort(), [B, C]);

    const cInbox = await client.inbox(C);
    t.notOk(cInbox.some((i) => i.packetId === sent.body.packetId), 'C never pulled it: it left C\'s inbox');
    t.ok(await waitFor('the recall request at C', async () => (await client.inbox(C)).some((i) => i.statusCode === '13')));
    const answerForC = await waitFor('15 on C\'s behalf at A', async () => (await client.inbox(A)).find((i) => i.statusCode === '15' && i.sender === C));
    t.equal(answerForC.documentId, doc);

    t.equal((await client.post(B, status(B, A, doc, '15', 'Đã hủy văn bản trên hệ thống'))).status, 202, 'B agrees');
    const view = await client.document(A, doc);
    const byRecipient = new Map(view.recipients.map((r) => [r.recipient, r]));
    t.match(byRecipient.get(B), { recall: { state: 'recalled', kind: 'recall' } });
    t.match(byRecipient.get(C), { deliveryState: 'withdrawn', recall: { state: 'recalled' } });
    t.equal((await client.post(B, status(B, A, doc, '05'))).body.code, 'EDX_ERR_STATUS_TRANSITION', 'no processing of a recalled document');
    t.equal((await client.post(B, accepted)).status, 200, 'a re-post of its earlier 03 still gets the first receipt');
    const timeline = await client.timeline(A, doc);
    t.ok(timeline.some((e) => e.type === 'withdrawn'), 'the withdrawal is in the timeline');
    t.ok(timeline.some((e) => e.type === 'status' && e.code === '15' && e.recipient === C && e.automatic === true));

    // Another document: B refuses the recall, with a reason; it keeps the document and goes on.
    const second = await client.post(A, makeDocument({ from: A, to: [B] }));
    await pullAndAck(client, B, second.body.packetId);
    t.equal((await client.post(A, status(A, B, second.body.documentId, '13', 'Đề nghị trả lại để sửa'))).status, 202);
    t.equal((await client.post(B, status(B, A, second.body.documentId, '16', 'Văn bản đã được phân công xử lý, không thể trả lại'))).status, 202);
    const kept = await client.document(A, second.body.documentId);
    t.match(kept.recipients[0], { recall: { state: 'refused', reason: 'Đề nghị trả lại để sửa' }, deliveryState: 'delivered' });
    const refusal = (await client.timeline(B, second.body.documentId)).find((e) => e.type === 'status' && e.code === '16');
    t.match(refusal, { reason: 'Văn bản đã được phân công xử lý, không thể trả lại', agency: B });
    t.equal((await client.post(B, status(B, A, second.body.documentId, '03'))).status, 202, 'processing continues after a refused recall');
    t.equal((await client.post(B, status(B, A, second.body.documentId, '16', 'lần nữa'))).status, 200, 'a repeated answer is idempotent');
  });

  t.test(`${kind}: revoke, update and replace built from the official samples`, async (t) => {
    const gw = await startTestGateway(t, { kind, listen: true });
    const client = clientOf(gw, new Map());
    const original = await client.post(A, makeDocument({ from: A, to: [B, C], subject: 'Văn bản gốc' }));
    const X = original.body.documentId;
    await pullAndAck(client, B, original.body.packetId);

    const fromSample = (file: string, edit: (p: DocumentPacket) => DocumentPacket): Buffer => {
      const parsed = parsePacket(readFileSync(join(SAMPLES, file)));
      if (!parsed.ok || parsed.value.kind !== 'document') throw new Error(`${file} does not parse`);
      const p = parsed.value;
      return buildPacketBuffer(edit({ ...p, header: { ...p.header, from: { ...p.header.from, organId: A }, to: [{ organId: B }, { organId: C }] }, signature: undefined }));
    };
    const withId = (p: DocumentPacket, id: string, number: string): DocumentPacket => ({ ...p, header: { ...p.header, documentId: id, code: { codeNumber: number, codeNotation: 'SLĐTBXH-VP' } } });

    const Y = `${A},2025/03/06,9001/SLĐTBXH-VP`;
    const update = await client.post(
      A,
      fromSample('edoc_update.edxml', (p) => {
        const business = p.business;
        if (business === undefined) throw new Error('no Bussiness');
        return { ...withId(p, Y, '9001'), business: { ...business, documentId: X } };
      }),
    );
    t.equal(update.status, 202, 'update admitted');
    t.same(update.body.warnings, [], 'the updated document is known');

    const Z = `${A},2025/03/07,9002/SLĐTBXH-VP`;
    const replacement = await client.post(
      A,
      fromSample('edoc_replacement.edxml', (p) => {
        const business = p.business;
        if (business === undefined) throw new Error('no Bussiness');
        return { ...withId(p, Z, '9002'), business: { ...business, replacements: [{ documentId: X, organIds: [B, C] }] } };
      }),
    );
    t.equal(replacement.status, 202, 'replacement admitted');

    const revocation = await client.post(A, fromSample('edoc_revocation.edxml', (p) => withId(p, X, original.body.documentId.split(',')[2]?.split('/')[0] ?? '')));
    t.equal(revocation.status, 202, 'revocation admitted');

    const view = await client.document(A, X);
    t.ok(view.revokedAt !== null, 'X is revoked');
    t.same(
      view.links.map((l) => `${l.relation}:${l.documentId}`).sort(),
      [`revoked:${X}`, `updated:${Y}`, `replaced:${Z}`].sort(),
      'the history of X links to Y (update), Z (replacement) and its revocation',
    );
    const byRecipient = new Map(view.recipients.map((r) => [r.recipient, r]));
    t.match(byRecipient.get(B), { recall: { state: 'requested', kind: 'revoke' } }, 'B has it: it must answer');
    t.match(byRecipient.get(C), { deliveryState: 'withdrawn', recall: { state: 'recalled', kind: 'revoke' } }, 'C had not pulled it');
    t.equal((await client.post(B, status(B, A, X, '15', 'Đã thu hồi'))).status, 202, 'B agrees to the revocation');
    t.match((await client.document(A, X)).recipients.find((r) => r.recipient === B), { recall: { state: 'recalled' } });
    t.same(
      (await client.document(A, Y)).links.map((l) => `${l.relation}:${l.documentId}`),
      [`updates:${X}`],
      'Y links back to X',
    );
  });

  t.test(`${kind}: the official samples are accepted and applied`, async (t) => {
    const G22 = '000.00.00.G22';
    const H41 = '000.00.00.H41';
    const H14 = '000.00.00.H14';
    const G17 = '000.00.00.G17';
    const token = 'edx_samples-client-token-0123456789';
    const gw = await startTestGateway(t, { kind, listen: true, setup: (db) => addAgencies(db, [G22, H41, H14, G17], token) });
    const tokens = new Map([G22, H41, H14, G17].map((code) => [code, token]));
    const client = clientOf(gw, tokens);
    const sample = (file: string): Buffer => readFileSync(join(SAMPLES, file));
    const D = '000.00.00.G22,2015/09/30,7816/VPCP-TTĐT';

    // The update sample starts document 7816 at H41, H14 and G17 (the document it updates, 7806, never passed here).
    const update = await client.post(G22, sample('edoc_update.edxml'));
    t.equal(update.status, 202);
    t.match(update.body.warnings, [{ code: 'EDX_ERR_DOCUMENT_REFERENCE_UNKNOWN' }]);
    t.match(update.body.signature, { status: 'placeholder', policy: 'verify-if-present' }, "the sample's hard-coded Signature is recognised, not judged");
    const replacement = await client.post(G22, sample('edoc_replacement.edxml'));
    t.equal(replacement.status, 202, 'the replacement sample is accepted');
    await pullAndAck(client, H41, update.body.packetId);

    t.equal((await client.post(H41, sample('status_inbox_01.edxml'))).status, 200, 'H41\'s own 01 repeats the automatic one');
    t.equal((await client.post(H41, sample('status.edxml'))).status, 200);
    for (const file of ['status_acceptance_03.edxml', 'status_assignment_04.edxml', 'status_processing_05.edxml', 'status_finish_06.edxml']) {
      t.equal((await client.post(H41, sample(file))).status, 202, file);
    }
    t.equal((await client.post(G22, sample('status_cancellation_13.edxml'))).status, 202, '13: G22 asks H41 for it back');
    t.equal((await client.post(H41, sample('status_change-acceptance_15.edxml'))).status, 202, '15: H41 agrees');
    t.equal((await client.post(H41, sample('status_change-rejection_16.edxml'))).body.code, 'EDX_ERR_STATUS_TRANSITION', '16 after 15 is refused');
    t.equal((await client.post(H41, sample('status_rejection_02.edxml'))).body.code, 'EDX_ERR_STATUS_TRANSITION', '02 after acceptance is refused');

    // The 02 and 16 samples, as H14 and G17 would send them.
    const asAgency = (file: string, code: string): Buffer => {
      const parsed = parsePacket(sample(file));
      if (!parsed.ok || parsed.value.kind !== 'status') throw new Error(`${file} does not parse`);
      return buildPacketBuffer({ ...parsed.value, from: { ...parsed.value.from, organId: code } });
    };
    await pullAndAck(client, H14, update.body.packetId);
    t.equal((await client.post(H14, asAgency('status_rejection_02.edxml', H14))).status, 202, '02 from H14, after it pulled the document');

    const revocation = await client.post(G22, sample('edoc_revocation.edxml'));
    t.equal(revocation.status, 202, 'the revocation sample revokes 7816');
    t.equal((await client.post(H14, asAgency('status_change-rejection_16.edxml', H14))).status, 202, '16 from H14 answers the revocation');

    const view = await client.document(G22, D);
    const byRecipient = new Map(view.recipients.map((r) => [r.recipient, r]));
    t.match(byRecipient.get(H41), { status: { code: '06' }, recall: { state: 'recalled', kind: 'recall' } });
    t.match(byRecipient.get(H14), { status: { code: '02' }, recall: { state: 'refused', kind: 'revoke' } });
    t.match(byRecipient.get(G17), { deliveryState: 'withdrawn', recall: { state: 'recalled', kind: 'revoke' } });
  });
}

t.test('50 receivers sending statuses for one document at once leave a consistent state and a complete timeline', { skip: postgresAvailable() ? false : 'needs DATABASE_URL (real Postgres)' }, async (t) => {
  const receivers = Array.from({ length: 50 }, (_, i) => `000.${String(i + 1).padStart(2, '0')}.16.H47`);
  const token = 'edx_fifty-receivers-token-0123456789';
  const gw = await startTestGateway(t, { kind: 'postgres', listen: true, setup: (db) => addAgencies(db, receivers, token) });
  const client = clientOf(gw, new Map(receivers.map((r) => [r, token])));
  const sent = await client.post(A, makeDocument({ from: A, to: receivers }));
  t.equal(sent.status, 202);
  const doc = sent.body.documentId;

  // Every receiver sends 03 twice at the same moment (one is a repeat), then 06.
  const accepted = await Promise.all(receivers.flatMap((r) => [client.post(r, status(r, A, doc, '03')), client.post(r, status(r, A, doc, '03'))]));
  t.same([...new Set(accepted.map((a) => a.status))].sort(), [200, 202], 'each 03 admitted once, its twin answered as a repeat');
  t.equal(accepted.filter((a) => a.status === 202).length, 50);
  const finished = await Promise.all(receivers.map((r) => client.post(r, status(r, A, doc, '06'))));
  t.ok(finished.every((f) => f.status === 202), 'fifty 06s');

  const view = await client.document(A, doc);
  t.equal(view.recipients.length, 50);
  t.ok(view.recipients.every((r) => r.status?.code === '06'), 'every receiver at 06');
  const timeline = await client.timeline(A, doc);
  const statusEvents = timeline.filter((e) => e.type === 'status');
  t.equal(statusEvents.length, 100, 'one 03 and one 06 per receiver, no more, no less');
  for (const r of receivers) {
    t.same(statusEvents.filter((e) => e.recipient === r).map((e) => e.code), ['03', '06'], `${r} in order`);
  }
});
