// The axis-compatible API end to end: an SDK-like client (sdk-client.ts) sends over real HTTP what
// the national axis SDK sends (spec/axis-wire.md) to a gateway listening on loopback, and gets the
// axis's replies. Everything admitted goes through the same intake, delivery and tracking as /v1,
// which the tests cross-check through /v1 and the database.

import { createHash } from 'node:crypto';
import t from 'tap';
import type { Test } from 'tap';
import { registerAxisCompatRoutes } from '../../src/api/axis-compat/routes.ts';
import { hashFileOf } from '../../src/axis/wire.ts';
import { parsePacket } from '../../src/edxml/parse.ts';
import { makeDocument, makeStatus, waitFor } from '../api/gateway-fixture.ts';
import { startAxisGateway } from './axis-gateway.ts';
import type { AxisGateway } from './axis-gateway.ts';
import type { SdkClient, SdkResponse } from './sdk-client.ts';

t.setTimeout(240_000);

const SO = '000.00.15.H47';
const VP = '000.01.15.H47';
const C = '000.02.15.H47';
const D = '000.03.15.H47';

const SYSTEMS = [
  { systemid: 'so.system.01', agencies: [SO] },
  { systemid: 'vp.system.01', agencies: [VP] },
  { systemid: 'kh.system.01', agencies: [C, D] },
];

interface ReceivedItem {
  docId: string;
  serviceType: string;
  messageType: string;
  created_time: string;
  updated_time: string;
  from: string;
  to: string;
  status: string;
  status_desc: string;
}

interface SentItem {
  serviceType: string;
  messageType: string;
  senderDocId: string;
  receiverDocId: string;
  fromCode: string;
  toCode: string;
  title: string;
  notation: string;
  sentTime: string;
  receivedTime: string;
  sendStatus: string;
  sendStatusDesc: string;
  receiveStatus: string;
  receiveStatusDesc: string;
}

const AXIS_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A document whose SHA-256 has a byte below 0x10, so its unpadded hash-file differs from the padded hex. */
function documentWithShortHash(spec: Parameters<typeof makeDocument>[0]): { readonly file: Buffer; readonly number: string } {
  const base = Date.now() % 100_000;
  for (let i = 0; i < 200; i++) {
    const number = `${base}${i}`;
    const file = makeDocument({ ...spec, number });
    if (hashFileOf(file, 'unpadded').length < 64) return { file, number };
  }
  throw new Error('no document with a short unpadded hash in 200 tries');
}

function received(res: SdkResponse): ReceivedItem[] {
  return (res.json.data ?? []) as ReceivedItem[];
}

async function waitReceived(client: SdkClient, messagetype: 'edoc' | 'status', match: (i: ReceivedItem) => boolean): Promise<ReceivedItem> {
  return waitFor(`a ${messagetype} item in the received list`, async () => received(await client.getReceivedEdocList(messagetype)).find(match));
}

function expectOk(t: Test, res: SdkResponse, what: string): void {
  t.equal(res.statusCode, 200, `${what}: HTTP 200`);
  t.equal(res.json.status, 'OK', `${what}: status OK (${res.json.ErrorCode} ${res.json.ErrorDesc})`);
  t.equal(res.json.ErrorCode, '0', `${what}: ErrorCode "0"`);
  t.equal(res.json.ErrorDesc, '', `${what}: ErrorDesc empty`);
}

function expectFail(t: Test, res: SdkResponse, code: string, what: string): void {
  t.equal(res.statusCode, 200, `${what}: a refusal is HTTP 200, read from the body`);
  t.equal(res.json.status, 'FAIL', `${what}: status FAIL`);
  t.equal(res.json.ErrorCode, code, `${what}: ErrorCode ${code}`);
  t.type(res.json.ErrorDesc, 'string');
  t.ok(res.json.ErrorDesc.length > 0, `${what}: ErrorDesc says why`);
}

async function packetCount(gw: AxisGateway): Promise<number> {
  const row = await gw.db.store.db.selectFrom('packets').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

t.test('the axis SDK operations against a gateway on loopback', async (t) => {
  const gw = await startAxisGateway(t, { systems: SYSTEMS });
  const so = gw.client('so.system.01');
  const vp = gw.client('vp.system.01');
  const kh = gw.client('kh.system.01');

  await t.test('getAgenciesList: the directory, with an empty body declared as JSON', async (t) => {
    const res = await so.getAgenciesList();
    expectOk(t, res, 'getAgenciesList');
    const head = res.requestBytes.toString('latin1');
    t.match(head, /\r\nContent-Type: application\/json\r\n/, 'sent as application/json');
    t.match(head, /\r\nContent-Length: 0\r\n/, 'with no body');
    const agencies = res.json.data as { id: string; pid: string; code: string; name: string; mail: string }[];
    const so1 = agencies.find((a) => a.code === SO);
    t.same(so1, { id: SO, pid: so1?.pid ?? '', code: SO, name: 'Sở Lao động - Thương binh và Xã hội tỉnh Quảng Nam', mail: '' });
    const vp1 = agencies.find((a) => a.code === VP);
    t.equal(vp1?.pid, SO, 'pid is the parent unit\'s id (its code)');
    t.ok(agencies.some((a) => a.code === '000.00.00.G22'), 'agencies reached upstream are listed too');
    for (const a of agencies) t.same(Object.keys(a), ['id', 'pid', 'code', 'name', 'mail']);
  });

  const { file, number } = documentWithShortHash({ from: SO, to: [VP], subject: 'V/v liên thông qua trục' });
  let docId = '';
  let deliveryId = '';

  await t.test('sendEdoc: the raw file, a CRLF, the unpadded hash-file; the packet goes through intake', async (t) => {
    const res = await so.sendEdoc(file, { from: SO, messagetype: 'edoc' });
    expectOk(t, res, 'sendEdoc');
    t.match(res.json.DocId, UUID, 'DocId is the packet id');
    docId = res.json.DocId ?? '';
    t.same(Object.keys(res.json), ['status', 'ErrorCode', 'ErrorDesc', 'DocId'], 'the axis field order');

    const bodyStart = res.requestBytes.indexOf('\r\n\r\n') + 4;
    t.equal(res.requestBytes.byteLength - bodyStart, file.byteLength + 2, 'the body is the file and one CRLF');
    const head = res.requestBytes.subarray(0, bodyStart).toString('latin1');
    const announced = /\r\nXroadVnpt-hash-file: ([0-9a-f]+)\r\n/.exec(head)?.[1] ?? '';
    const sha = createHash('sha256').update(file).digest('hex');
    t.ok(announced.length < 64 && announced !== sha, 'hash-file was announced without leading zeros');
    t.match(head, /\r\nContent-Type: application\/octet-stream\r\n/);

    // The same packet as a /v1 post would have made: stored without the CRLF.
    const view = await gw.app.inject({ method: 'GET', url: `/v1/packets/${docId}`, headers: { authorization: `Bearer ${gw.token(SO)}` } });
    t.equal(view.statusCode, 200);
    const packet = JSON.parse(view.body) as { sha256: string; sizeBytes: number; sender: string; deliveries: { deliveryId: string; recipient: string }[] };
    t.equal(packet.sha256, sha, 'stored bytes are the file');
    t.equal(packet.sizeBytes, file.byteLength);
    t.equal(packet.sender, SO);
    deliveryId = packet.deliveries.find((d) => d.recipient === VP)?.deliveryId ?? '';
    t.match(deliveryId, UUID);
  });

  await t.test('sendEdoc again with the same packet: OK with the original DocId, nothing new admitted', async (t) => {
    const before = await packetCount(gw);
    const res = await so.sendEdoc(file, { from: SO, messagetype: 'edoc' });
    expectOk(t, res, 'duplicate sendEdoc');
    t.equal(res.json.DocId, docId, 'the original DocId');
    t.equal(await packetCount(gw), before, 'no second packet');
  });

  await t.test('getReceivedEdocList: the recipient system sees the delivery', async (t) => {
    const item = await waitReceived(vp, 'edoc', (i) => i.docId === deliveryId);
    t.same(Object.keys(item), ['docId', 'serviceType', 'messageType', 'created_time', 'updated_time', 'from', 'to', 'status', 'status_desc']);
    t.equal(item.serviceType, 'eDoc');
    t.equal(item.messageType, 'edoc');
    t.equal(item.from, SO);
    t.equal(item.to, VP);
    t.equal(item.status, 'pending');
    t.match(item.created_time, AXIS_TIME, 'Vietnam time, yyyy-MM-dd HH:mm:ss');
    t.match(item.updated_time, AXIS_TIME);
    const status = received(await vp.getReceivedEdocList('status'));
    t.notOk(status.some((i) => i.docId === deliveryId), 'a document is not listed as a status');
    t.same(received(await kh.getReceivedEdocList('edoc')), [], 'another system sees nothing of it');
  });

  await t.test('getEdoc: base64 of the stored bytes, after 100 Continue', async (t) => {
    const res = await vp.getEdoc(deliveryId);
    expectOk(t, res, 'getEdoc');
    t.equal(res.continued, true, 'the server answered Expect: 100-continue');
    t.match(res.requestBytes.toString('latin1'), /\r\n\r\n\{\}$/, 'the body was {}');
    t.ok(Buffer.from(String(res.json.data), 'base64').equals(file), 'the decoded data is the posted file');
    expectFail(t, await kh.getEdoc(deliveryId), 'EDX_ERR_NOT_FOUND', 'another system\'s getEdoc');
    expectFail(t, await vp.getEdoc('00000000-0000-4000-8000-000000000000'), 'EDX_ERR_NOT_FOUND', 'an unknown docId');
    expectFail(t, await vp.getEdoc('5bebcfeff858e3e0cc154762'), 'EDX_ERR_NOT_FOUND', 'a docId that is no id of ours');
    expectFail(t, await so.getEdoc(deliveryId), 'EDX_ERR_NOT_FOUND', 'the sender gets recipients\' copies through getSentEdocList, not getEdoc');
  });

  await t.test('getSentEdocList: the sender sees the delivery, not yet received', async (t) => {
    const res = await so.getSentEdocList('edoc', docId);
    expectOk(t, res, 'getSentEdocList');
    const items = res.json.data as SentItem[];
    t.equal(items.length, 1);
    const item = items[0];
    t.match(item, {
      serviceType: 'eDoc',
      messageType: 'edoc',
      senderDocId: docId,
      receiverDocId: deliveryId,
      fromCode: SO,
      toCode: VP,
      title: 'V/v liên thông qua trục',
      sendStatus: 'done',
      receiveStatus: 'pending',
      receivedTime: '',
    });
    t.equal(item?.notation, `${number}/SLĐTBXH-VP`, 'Number/Notation of the document id');
    t.match(item?.sentTime, AXIS_TIME);
    const all = received(await so.getSentEdocList('edoc'));
    t.ok(all.length >= 1, 'without docId: every sent packet of the kind');
    t.same((await so.getSentEdocList('status')).json.data, [], 'nothing sent as status yet');
    t.same((await vp.getSentEdocList('edoc')).json.data, [], 'the recipient sent nothing');
  });

  await t.test('updateStatus done: the item leaves the list and the sender gets the automatic 01', async (t) => {
    const res = await vp.updateStatus(deliveryId, 'done');
    expectOk(t, res, 'updateStatus done');
    t.equal(res.continued, true);
    t.same(Object.keys(res.json), ['status', 'ErrorCode', 'ErrorDesc'], 'status fields only');
    t.notOk(received(await vp.getReceivedEdocList('edoc')).some((i) => i.docId === deliveryId), 'acknowledged items leave the list');
    expectOk(t, await vp.updateStatus(deliveryId, 'done'), 'a second done');

    // The 01 reaches the sender's system as a status message.
    const arrival = await waitReceived(so, 'status', (i) => i.from === VP);
    t.equal(arrival.messageType, 'status');
    const got = await so.getEdoc(arrival.docId);
    expectOk(t, got, 'getEdoc of the 01');
    const parsed = parsePacket(Buffer.from(String(got.json.data), 'base64'));
    t.ok(parsed.ok);
    if (parsed.ok && parsed.value.kind === 'status') {
      t.equal(parsed.value.statusCode, '01', 'đã đến');
      t.equal(parsed.value.from.organId, VP);
      t.match(parsed.value.responseFor.documentId, /^000\.00\.15\.H47,/);
    } else t.fail('the 01 is a status packet');
    // Bkav spells the key docid.
    expectOk(t, await so.updateStatus(arrival.docId, 'done', 'docid'), 'updateStatus with docid');
    t.same(received(await so.getReceivedEdocList('status')), [], 'the status left the sender\'s list');

    const sent = (await so.getSentEdocList('edoc', docId)).json.data as SentItem[];
    t.match(sent[0], { receiveStatus: '01', receiveStatusDesc: 'Đã đến' });
    t.match(sent[0]?.receivedTime, AXIS_TIME);
  });

  await t.test('sendEdoc with messagetype status: the recipient reports 03 to the sender', async (t) => {
    const documentId = `${SO},2025/03/05,${number}/SLĐTBXH-VP`;
    const status = makeStatus(VP, SO, documentId, '03');
    const res = await vp.sendEdoc(status, { from: VP, messagetype: 'status' });
    expectOk(t, res, 'sendEdoc status');
    t.match(res.json.DocId, UUID);
    const item = await waitReceived(so, 'status', (i) => i.from === VP);
    const got = await so.getEdoc(item.docId);
    t.ok(Buffer.from(String(got.json.data), 'base64').equals(status), 'the status packet as posted');
    expectOk(t, await so.updateStatus(item.docId, 'done'), 'the sender takes it');
    const sent = (await so.getSentEdocList('edoc', docId)).json.data as SentItem[];
    t.match(sent[0], { receiveStatus: '03', receiveStatusDesc: 'Đã tiếp nhận' });
    const vpSent = (await vp.getSentEdocList('status')).json.data as SentItem[];
    t.ok(vpSent.some((s) => s.senderDocId === res.json.DocId && s.toCode === SO), 'the status is in the recipient\'s sent list');
  });

  await t.test('updateStatus fail: the item leaves the list, no 01 is sent, getEdoc still works', async (t) => {
    const second = makeDocument({ from: SO, to: [VP], subject: 'Văn bản sẽ báo lỗi' });
    const sentRes = await so.sendEdoc(second, { from: SO, messagetype: 'edoc' });
    expectOk(t, sentRes, 'sendEdoc');
    const item = await waitReceived(vp, 'edoc', (i) => i.from === SO);
    expectOk(t, await vp.updateStatus(item.docId, 'fail'), 'updateStatus fail');
    t.notOk(received(await vp.getReceivedEdocList('edoc')).some((i) => i.docId === item.docId), 'a failed item leaves the list');
    expectOk(t, await vp.updateStatus(item.docId, 'fail'), 'a second fail');
    expectOk(t, await vp.getEdoc(item.docId), 'the system may still fetch it');

    const events = await gw.db.store.db.selectFrom('events').select(['type', 'agency', 'data']).where('delivery_id', '=', item.docId).where('type', '=', 'transport_failed').execute();
    t.equal(events.length, 1, 'recorded once, as a transport_failed event');
    t.match(events[0], { agency: VP, data: { via: 'axis', systemid: 'vp.system.01' } });

    // The arrival sweep sends the 01s of acknowledged deliveries only.
    await gw.app.gateway.tracker.sweepArrivals({ olderThanMs: 0 });
    const row = await gw.db.store.db.selectFrom('document_recipients').select('status_code').where('delivery_id', '=', item.docId).executeTakeFirstOrThrow();
    t.equal(row.status_code, null, 'no 01 for a failed delivery');
    const sent = (await so.getSentEdocList('edoc', sentRes.json.DocId)).json.data as SentItem[];
    t.match(sent[0], { sendStatus: 'done', receiveStatus: 'fail' });

    // The /v1 inbox is the agency's, not the system's: the copy stays there for a /v1 client.
    const inbox = await gw.app.inject({ method: 'GET', url: '/v1/inbox', headers: { authorization: `Bearer ${gw.token(VP)}` } });
    t.ok((JSON.parse(inbox.body) as { items: { deliveryId: string }[] }).items.some((i) => i.deliveryId === item.docId));

    // done after fail acknowledges it after all (and sends the 01).
    expectOk(t, await vp.updateStatus(item.docId, 'done'), 'done after fail');
    await waitFor('the 01 of the late done', async () => {
      const r = await gw.db.store.db.selectFrom('document_recipients').select('status_code').where('delivery_id', '=', item.docId).executeTakeFirstOrThrow();
      return r.status_code === '01';
    });
    expectOk(t, await vp.updateStatus(item.docId, 'fail'), 'fail after done changes nothing');
    expectOk(t, await vp.updateStatus(item.docId, 'processing'), 'processing changes nothing');
    expectFail(t, await vp.updateStatus(item.docId, 'bogus'), 'EDX_ERR_AXIS_PARAMETER_INVALID', 'an unknown status');
    expectFail(t, await kh.updateStatus(item.docId, 'done'), 'EDX_ERR_NOT_FOUND', 'another system\'s updateStatus');
    expectFail(t, await kh.updateStatus(item.docId, 'fail'), 'EDX_ERR_NOT_FOUND', 'another system\'s fail');
  });

  await t.test('a system of several agencies lists and sends for each of them', async (t) => {
    const toC = makeDocument({ from: SO, to: [C, D], subject: 'Gửi hai đơn vị' });
    expectOk(t, await so.sendEdoc(toC, { from: SO, messagetype: 'edoc' }), 'sendEdoc to C and D');
    await waitFor('both copies listed', async () => received(await kh.getReceivedEdocList('edoc')).length === 2);
    const items = received(await kh.getReceivedEdocList('edoc'));
    t.same(items.map((i) => i.to).sort(), [C, D]);
    const fromD = makeDocument({ from: D, to: [SO] });
    expectOk(t, await kh.sendEdoc(fromD, { from: D, messagetype: 'edoc' }), 'sendEdoc as D');
  });

  await t.test('refusals: each an axis FAIL reply', async (t) => {
    const before = await packetCount(gw);

    expectFail(t, await gw.client('so.system.01', { secret: 'not-the-secret-at-all' }).getAgenciesList(), 'EDX_ERR_AXIS_AUTH_INVALID', 'a wrong secret');
    const wrong = await gw.client('so.system.01', { secret: 'not-the-secret-at-all' }).getReceivedEdocList('edoc');
    expectFail(t, wrong, 'EDX_ERR_AXIS_AUTH_INVALID', 'a wrong secret on a list');
    t.same(wrong.json.data, [], 'a refused list carries an empty data');
    expectFail(t, await gw.client('nobody.system').getAgenciesList(), 'EDX_ERR_AXIS_AUTH_INVALID', 'an unknown systemid');

    const other = makeDocument({ from: SO, to: [VP] });
    const tamperedFrom = await so.sendEdoc(other, { from: SO, messagetype: 'edoc' }, { mutate: (h) => h.map(([n, v]) => (n === 'XroadVnpt-from' ? [n, C] : [n, v])) });
    expectFail(t, tamperedFrom, 'EDX_ERR_AXIS_HEADER_MISMATCH', 'a signed header changed after signing');
    t.match(tamperedFrom.json.ErrorDesc, /XroadVnpt-from/);
    const dropped = await so.getReceivedEdocList('edoc').then(() => so.request({
      operation: 'getReceivedEdocList',
      params: [['servicetype', 'eDoc'], ['messagetype', 'edoc']],
      contentType: 'application/json',
      body: Buffer.alloc(0),
      mutate: (h) => h.filter(([n]) => n !== 'XroadVnpt-messagetype'),
    }));
    expectFail(t, dropped, 'EDX_ERR_AXIS_HEADER_MISMATCH', 'a signed header left out');
    const resigned = await so.request({
      operation: 'getAgenciesList',
      params: [],
      contentType: 'application/json',
      body: Buffer.alloc(0),
      mutate: (h) => h.map(([n, v]) => (n === 'XroadVnpt-sign-header' ? [n, v.replace('so.system.01', 'vp.system.01')] : [n, v])),
    });
    expectFail(t, resigned, 'EDX_ERR_AXIS_AUTH_INVALID', 'the sign-header changed without the secret');
    const noAuth = await so.request({ operation: 'getAgenciesList', params: [], contentType: 'application/json', body: Buffer.alloc(0), mutate: (h) => h.filter(([n]) => n !== 'XroadVnpt-hash-header') });
    expectFail(t, noAuth, 'EDX_ERR_AXIS_AUTH_REQUIRED', 'no hash-header');
    const unsignedKey = await so.request({
      operation: 'getReceivedEdocList',
      params: [['servicetype', 'eDoc']],
      contentType: 'application/json',
      body: Buffer.alloc(0),
    });
    expectFail(t, unsignedKey, 'EDX_ERR_AXIS_PARAMETER_INVALID', 'messagetype not signed');
    const badType = await so.getReceivedEdocList('edoc').then(() =>
      so.request({ operation: 'getReceivedEdocList', params: [['servicetype', 'eDoc'], ['messagetype', 'fax']], contentType: 'application/json', body: Buffer.alloc(0) }),
    );
    expectFail(t, badType, 'EDX_ERR_AXIS_PARAMETER_INVALID', 'an unknown messagetype');

    const unknownReceiver = await so.sendEdoc(makeDocument({ from: SO, to: ['000.99.15.H47'] }), { from: SO, messagetype: 'edoc' });
    expectFail(t, unknownReceiver, 'EDX_ERR_RECIPIENT_UNKNOWN', 'an unknown receiver');
    t.notOk('DocId' in unknownReceiver.json, 'no DocId on a refusal');
    expectFail(t, await so.sendEdoc(other, { from: SO, messagetype: 'edoc' }, { hashFile: 'deadbeef' }), 'EDX_ERR_AXIS_HASH_MISMATCH', 'a wrong hash-file');
    expectFail(t, await so.sendEdoc(other, { from: SO, messagetype: 'status' }), 'EDX_ERR_AXIS_MESSAGE_TYPE_MISMATCH', 'a document sent as status');
    expectFail(t, await so.sendEdoc(makeDocument({ from: C, to: [SO] }), { from: C, messagetype: 'edoc' }), 'EDX_ERR_AUTH_FORBIDDEN', 'from an agency of another system');
    expectFail(t, await kh.sendEdoc(makeDocument({ from: C, to: [SO] }), { from: D, messagetype: 'edoc' }), 'EDX_ERR_AXIS_FROM_MISMATCH', 'from is not the packet\'s From');
    expectFail(t, await so.sendEdoc(Buffer.from('<?xml version="1.0" encoding="UTF-8"?><root/>'), { from: SO, messagetype: 'edoc' }), 'EDX_ERR_PACKET_STRUCTURE', 'not an edXML packet: intake\'s own refusal');
    t.equal(await packetCount(gw), before, 'nothing was admitted');
  });

  await t.test('the server verifies the sign-header as received, never a rebuilt one', async (t) => {
    // Java HashMap order, as the SDK's: neither alphabetical nor the order the headers are sent in.
    const res = await so.getReceivedEdocList('edoc');
    const head = res.requestBytes.toString('latin1');
    const signed = /\r\nXroadVnpt-sign-header: (\{.*\})\r\n/.exec(head)?.[1] ?? '';
    const keys = Object.keys(JSON.parse(signed) as Record<string, string>);
    t.notSame(keys, [...keys].sort(), 'not alphabetical');
    t.notSame(keys, ['XroadVnpt-systemid', 'XroadVnpt-timestamp', 'XroadVnpt-servicetype', 'XroadVnpt-messagetype', 'XroadVnpt-Content-Type'], 'not the header order');
    t.equal(/\r\nXroadVnpt-sign-header-key: ([^\r]*)\r\n/.exec(head)?.[1], keys.map((k) => k.slice('XroadVnpt-'.length)).join(';'));
    expectOk(t, res, 'HashMap order');
    // Spaces no serialiser of ours would write: only the bytes received can verify.
    const spaced = await so.request({
      operation: 'getReceivedEdocList',
      params: [['servicetype', 'eDoc'], ['messagetype', 'edoc']],
      contentType: 'application/json',
      body: Buffer.alloc(0),
      signHeaderOverride: (text) => text.replace(/,/g, ' ,  ').replace(/:/g, ' : ').replace('{', '{ '),
    });
    expectOk(t, spaced, 'a sign-header with unusual spacing');
  });

  await t.test('timestamps repeat, as SDK 2.0.0 sends them', async (t) => {
    const fixed = gw.client('vp.system.01', { timestamp: '22112026T120338+0774' });
    const first = await fixed.getAgenciesList();
    const second = await fixed.getAgenciesList();
    expectOk(t, first, 'first');
    expectOk(t, second, 'second, same timestamp');
    t.match(second.requestBytes.toString('latin1'), /\r\nXroadVnpt-timestamp: 22112026T120338\+0774\r\n/);
  });

  await t.test('sendEdoc bodies from clients other than the SDK', async (t) => {
    // The bare file with a padded hash-file (no trailing CRLF).
    const bare = makeDocument({ from: SO, to: [VP] });
    const res = await so.sendEdoc(bare, { from: SO, messagetype: 'edoc' }, { body: bare, hashFile: hashFileOf(bare, 'padded') });
    expectOk(t, res, 'bare file, padded hash');
    // A file that itself ends with CRLF: sent bare, it is stored whole; sent the SDK's way, too.
    const crlf = Buffer.concat([makeDocument({ from: SO, to: [VP] }), Buffer.from('\r\n')]);
    const bareCrlf = await so.sendEdoc(crlf, { from: SO, messagetype: 'edoc' }, { body: crlf });
    expectOk(t, bareCrlf, 'a file ending in CRLF, sent bare');
    const view = await gw.app.inject({ method: 'GET', url: `/v1/packets/${bareCrlf.json.DocId ?? ''}`, headers: { authorization: `Bearer ${gw.token(SO)}` } });
    t.equal((JSON.parse(view.body) as { sizeBytes: number }).sizeBytes, crlf.byteLength, 'stored whole');
    const sdkCrlf = await so.sendEdoc(crlf, { from: SO, messagetype: 'edoc' });
    expectOk(t, sdkCrlf, 'the same file sent the SDK\'s way');
    t.equal(sdkCrlf.json.DocId, bareCrlf.json.DocId, 'the same packet: the SDK\'s CRLF was stripped, the file\'s kept');
    // The media type does not matter: application/xml, or none at all.
    const asXml = await so.sendEdoc(makeDocument({ from: SO, to: [VP] }), { from: SO, messagetype: 'edoc' }, { mutate: (h) => h.map(([n, v]) => (n === 'Content-Type' ? [n, 'application/xml'] : [n, v])) });
    expectOk(t, asXml, 'posted as application/xml');
    const untyped = await so.sendEdoc(makeDocument({ from: SO, to: [VP] }), { from: SO, messagetype: 'edoc' }, { mutate: (h) => h.filter(([n]) => n !== 'Content-Type') });
    expectOk(t, untyped, 'posted without Content-Type');
  });

  await t.test('unknown operations and methods', async (t) => {
    const res = await fetch(`${gw.url}/axis/countReceiveEdoc`, { method: 'POST' });
    t.equal(res.status, 200);
    t.match(await res.json(), { status: 'FAIL', ErrorCode: 'EDX_ERR_AXIS_OPERATION_UNKNOWN' });
    const get = await fetch(`${gw.url}/axis/getAgenciesList`);
    t.match(await get.json(), { status: 'FAIL', ErrorCode: 'EDX_ERR_AXIS_OPERATION_UNKNOWN' }, 'operations are POST');
    const plain = await fetch(`${gw.url}/axis/getAgenciesList`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '' });
    t.match(await plain.json(), { status: 'FAIL', ErrorCode: 'EDX_ERR_AXIS_AUTH_REQUIRED', data: [] }, 'no XroadVnpt headers');
    const v1 = await fetch(`${gw.url}/v1/nothing`);
    t.equal(v1.status, 404, 'outside the prefix, the API\'s own not-found');
    t.match(v1.headers.get('content-type'), /problem\+json/);
  });

  await t.test('registering the routes again does nothing', async (t) => {
    t.doesNotThrow(() => registerAxisCompatRoutes(gw.app));
    expectOk(t, await so.getAgenciesList(), 'still served');
  });

  await t.test('the /v1 API is untouched by the axis scope\'s body parsing and errors', async (t) => {
    const posted = await fetch(`${gw.url}/v1/packets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gw.token(SO)}`, 'content-type': 'application/xml' },
      body: makeDocument({ from: SO, to: [VP] }).toString('utf8'),
    });
    t.equal(posted.status, 202, 'a packet posted as application/xml');
    const text = await fetch(`${gw.url}/v1/packets`, { method: 'POST', headers: { authorization: `Bearer ${gw.token(SO)}`, 'content-type': 'text/plain' }, body: 'x' });
    t.equal(text.status, 415, 'text/plain is still refused there');
    const ack = await fetch(`${gw.url}/v1/inbox/bogus/ack`, { method: 'POST', headers: { authorization: `Bearer ${gw.token(VP)}`, 'content-type': 'application/json' }, body: '' });
    t.equal(ack.status, 404, 'an empty JSON body is still no body there');
    t.match(await ack.json(), { code: 'EDX_ERR_NOT_FOUND' });
  });
});

t.test('AXIS_PREFIX moves the API, and off removes it', async (t) => {
  await t.test('a custom prefix', async (t) => {
    const gw = await startAxisGateway(t, {
      systems: [SYSTEMS[0] ?? { systemid: 'x', agencies: [SO] }],
      config: { axisCompat: { prefix: '/vxp/v2' }, server: { bodyLimitBytes: 1024 } },
    });
    const client = gw.client('so.system.01', { prefix: '/vxp/v2' });
    expectOk(t, await client.getAgenciesList(), 'under /vxp/v2');
    const big = makeDocument({ from: SO, to: [VP], subject: 'x'.repeat(1500) });
    expectFail(t, await client.sendEdoc(big, { from: SO, messagetype: 'edoc' }), 'EDX_ERR_XML_TOO_LARGE', 'a packet over BODY_LIMIT_BYTES');
    const old = await fetch(`${gw.url}/axis/getAgenciesList`, { method: 'POST' });
    t.equal(old.status, 404, 'nothing under /axis');
  });
  await t.test('off', async (t) => {
    const gw = await startAxisGateway(t, { config: { axisCompat: { prefix: 'off' } } });
    const res = await fetch(`${gw.url}/axis/getAgenciesList`, { method: 'POST' });
    t.equal(res.status, 404);
    t.match(res.headers.get('content-type'), /problem\+json/);
  });
});
