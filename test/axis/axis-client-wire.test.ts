// The axis client adapter against a capture (issue 6, acceptance): AxisClient calls a raw TCP
// server on loopback that records every request's bytes as they arrive — request line, header
// names and values in order, body — and the recording is compared with what axis-wire.md says the
// official SDK sends. The expectations are written out from axis-wire.md here, not computed by
// src/axis/wire.ts, so a change there that drifts from the SDK's wire fails this test.

import { createHash, createHmac } from 'node:crypto';
import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import t from 'tap';
import type { Test } from 'tap';
import { AxisClient } from '../../src/adapters/axis/axis-client.ts';

const SYSTEMID = 'test.system.01';
const SECRET = 'capture-secret-0123456789';
/** 2026-11-22 12:03:38.774 in Vietnam: axis-wire.md's example timestamp, 22112026T120338+0774. */
const CLOCK = new Date('2026-11-22T05:03:38.774Z');
const TIMESTAMP = '22112026T120338+0774';
const TIMEOUT_MS = 5000;

/** One request as it arrived on the socket. */
interface Captured {
  readonly requestLine: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Buffer;
  /** Whether the body arrived only after the server answered 100 Continue. */
  readonly bodyAfterContinue: boolean;
}

/** A raw HTTP/1.1 server that records requests and answers each with `reply(captured)` as JSON. */
async function startCaptureServer(reply: (c: Captured) => Record<string, unknown>): Promise<{ readonly url: string; readonly captured: Captured[]; close(): Promise<void> }> {
  const captured: Captured[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buffered = Buffer.alloc(0);
    let head: { requestLine: string; headers: [string, string][]; length: number; continued: boolean } | undefined;
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        if (head === undefined) {
          const end = buffered.indexOf('\r\n\r\n');
          if (end === -1) return;
          const lines = buffered.subarray(0, end).toString('latin1').split('\r\n');
          buffered = buffered.subarray(end + 4);
          const headers = lines.slice(1).map((line): [string, string] => {
            const colon = line.indexOf(':');
            return [line.slice(0, colon), line.slice(colon + 1).trim()];
          });
          const length = Number(headers.find(([n]) => n.toLowerCase() === 'content-length')?.[1] ?? '0');
          const expects = headers.some(([n, v]) => n.toLowerCase() === 'expect' && v.toLowerCase() === '100-continue');
          head = { requestLine: lines[0] ?? '', headers, length, continued: false };
          if (expects && buffered.length === 0) {
            head.continued = true;
            socket.write('HTTP/1.1 100 Continue\r\n\r\n');
          }
        }
        if (buffered.length < head.length) return;
        const request: Captured = { requestLine: head.requestLine, headers: head.headers, body: buffered.subarray(0, head.length), bodyAfterContinue: head.continued };
        buffered = buffered.subarray(head.length);
        head = undefined;
        captured.push(request);
        const json = Buffer.from(JSON.stringify(reply(request)));
        socket.write(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${json.length}\r\n\r\n`);
        socket.write(json);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/axis`,
    captured,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const value = (c: Captured, name: string): string | undefined => c.headers.find(([n]) => n === name)?.[1];

/** The checks every request shares (axis-wire.md, "Every request"), given the call's own signed key order. */
function checkEveryRequest(t: Test, c: Captured, operation: string, callHeaders: readonly string[], signedKeys: string, contentType: string): void {
  t.equal(c.requestLine, `POST /axis/${operation} HTTP/1.1`, `${operation}: the request line`);
  const names = c.headers.map(([n]) => n);
  t.same(
    names,
    [
      'XroadVnpt-systemid',
      'XroadVnpt-timestamp',
      ...callHeaders,
      'Content-Type',
      'XroadVnpt-Content-Type',
      'XroadVnpt-sign-header-key',
      'XroadVnpt-sign-header',
      'XroadVnpt-hash-header',
      'XroadVnpt-version',
      'User-Agent',
      'Content-Length',
      'Host',
      'Connection',
      ...(names.includes('Expect') ? ['Expect'] : []),
    ],
    `${operation}: the headers, named and ordered as the SDK sends them`,
  );
  t.equal(value(c, 'XroadVnpt-systemid'), SYSTEMID);
  t.equal(value(c, 'XroadVnpt-timestamp'), TIMESTAMP, `${operation}: ddMMyyyy'T'HHmmss'+'SSSS in Vietnam time`);
  t.equal(value(c, 'Content-Type'), contentType);
  t.equal(value(c, 'XroadVnpt-Content-Type'), contentType);
  t.equal(value(c, 'XroadVnpt-sign-header-key'), signedKeys, `${operation}: the signed keys in the SDK's order`);
  const signHeader = value(c, 'XroadVnpt-sign-header') ?? '';
  // The JSON names the same keys in the same order, each with the value of its header.
  const signed = JSON.parse(signHeader) as Record<string, string>;
  t.same(Object.keys(signed), signedKeys.split(';').map((k) => `XroadVnpt-${k}`), `${operation}: sign-header in sign-header-key's order`);
  for (const [key, v] of Object.entries(signed)) t.equal(value(c, key), v, `${operation}: ${key} as signed`);
  t.equal(value(c, 'XroadVnpt-hash-header'), createHmac('sha256', Buffer.from(SECRET, 'utf8')).update(signHeader).digest('hex'), `${operation}: hex HMAC-SHA256 of the sign-header as sent, keyed by the secret's UTF-8 bytes`);
  t.equal(value(c, 'XroadVnpt-version'), '3.0.201608');
  t.equal(value(c, 'User-Agent'), 'JAVASDKAgent/1.0.0 XRoad/VPCP');
  t.equal(value(c, 'Content-Length'), String(c.body.length));
  t.equal(value(c, 'Connection'), 'Keep-Alive');
}

t.test('the axis client sends what the SDK sends', async (t) => {
  const file = Buffer.from('<?xml version="1.0" encoding="UTF-8"?>\n<edXML:edXMLEnvelope xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016">…</edXML:edXMLEnvelope>\n');
  const server = await startCaptureServer((c) => {
    const operation = c.requestLine.split(' ')[1]?.split('/').pop();
    if (operation === 'sendEdoc') return { status: 'OK', ErrorCode: '0', ErrorDesc: '', DocId: 'axis-doc-1' };
    if (operation === 'getEdoc') return { status: 'OK', ErrorCode: '0', ErrorDesc: '', data: file.toString('base64') };
    if (operation === 'getReceivedEdocList') return { status: 'OK', ErrorCode: '0', ErrorDesc: '', data: [{ docId: 'axis-doc-1', serviceType: 'eDoc', messageType: 'edoc', created_time: '2026-11-22 12:03:38', updated_time: '2026-11-22 12:03:38', from: '000.00.15.H47', to: '000.00.15.H41', status: 'initial', status_desc: '' }] };
    if (operation === 'getAgenciesList') return { status: 'OK', ErrorCode: '0', ErrorDesc: '', data: [{ id: 1, pid: 0, code: '000.00.00.G22', name: 'Văn phòng Chính phủ', mail: '' }] };
    return { status: 'OK', ErrorCode: '0', ErrorDesc: '' };
  });
  t.teardown(() => server.close());
  const client = new AxisClient({ endpoint: server.url, systemid: SYSTEMID, secret: SECRET, clock: () => CLOCK });
  t.teardown(() => client.close());

  await t.test('getAgenciesList: an empty body declared as JSON, and the sign-header axis-wire.md records', async (t) => {
    const result = await client.agencies(TIMEOUT_MS);
    t.ok(result.ok && result.reply.status === 'OK', 'the reply is read');
    const c = server.captured.at(-1);
    if (c === undefined) return t.fail('nothing captured');
    checkEveryRequest(t, c, 'getAgenciesList', [], 'systemid;timestamp;Content-Type', 'application/json');
    t.equal(value(c, 'XroadVnpt-sign-header'), `{"XroadVnpt-systemid":"${SYSTEMID}","XroadVnpt-timestamp":"${TIMESTAMP}","XroadVnpt-Content-Type":"application/json"}`, 'byte for byte');
    t.equal(c.body.length, 0, 'Content-Length: 0');
  });

  await t.test('sendEdoc: the raw file and a CRLF, hash-file in unpadded hex of the file alone', async (t) => {
    const result = await client.send(file, { from: '000.00.15.H47', messageType: 'edoc' }, { timeoutMs: TIMEOUT_MS });
    t.ok(result.ok && result.reply.fields['DocId'] === 'axis-doc-1', 'the DocId is read');
    const c = server.captured.at(-1);
    if (c === undefined) return t.fail('nothing captured');
    checkEveryRequest(t, c, 'sendEdoc', ['XroadVnpt-from', 'XroadVnpt-servicetype', 'XroadVnpt-messagetype', 'XroadVnpt-hash-file'], 'systemid;servicetype;messagetype;hash-file;from;timestamp;Content-Type', 'application/octet-stream');
    t.same(c.body, Buffer.concat([file, Buffer.from('\r\n')]), 'the body is the file followed by CRLF, no multipart');
    const digest = createHash('sha256').update(file).digest();
    const unpadded = [...digest].map((b) => b.toString(16)).join('');
    t.equal(value(c, 'XroadVnpt-hash-file'), unpadded, "Integer.toHexString per byte, leading zeros dropped");
    t.equal(value(c, 'XroadVnpt-servicetype'), 'eDoc');
    t.equal(value(c, 'XroadVnpt-messagetype'), 'edoc');
    t.equal(value(c, 'XroadVnpt-from'), '000.00.15.H47');
    t.equal(value(c, 'Expect'), undefined);
  });

  await t.test('getReceivedEdocList: servicetype and messagetype, an empty body', async (t) => {
    const result = await client.receivedList('status', TIMEOUT_MS);
    t.ok(result.ok && result.items.length === 1 && result.items[0]?.docId === 'axis-doc-1', 'the list is read');
    const c = server.captured.at(-1);
    if (c === undefined) return t.fail('nothing captured');
    checkEveryRequest(t, c, 'getReceivedEdocList', ['XroadVnpt-servicetype', 'XroadVnpt-messagetype'], 'systemid;servicetype;messagetype;timestamp;Content-Type', 'application/json');
    t.equal(value(c, 'XroadVnpt-messagetype'), 'status');
    t.equal(c.body.length, 0);
  });

  await t.test('getEdoc: docId and filePath, {} with Expect: 100-continue, sent after the 100', async (t) => {
    const result = await client.getEdoc('axis-doc-1', TIMEOUT_MS);
    t.ok(result.ok && result.edxml?.equals(file), 'the base64 data is decoded to the file');
    const c = server.captured.at(-1);
    if (c === undefined) return t.fail('nothing captured');
    checkEveryRequest(t, c, 'getEdoc', ['XroadVnpt-filePath', 'XroadVnpt-docId'], 'systemid;docId;filePath;timestamp;Content-Type', 'application/json');
    t.equal(value(c, 'Expect'), '100-continue');
    t.equal(c.body.toString(), '{}');
    t.ok(c.bodyAfterContinue, 'the body waited for 100 Continue');
    t.equal(value(c, 'XroadVnpt-docId'), 'axis-doc-1');
  });

  await t.test('updateStatus: docId and status, {} with Expect: 100-continue', async (t) => {
    const result = await client.updateStatus('axis-doc-1', 'done', TIMEOUT_MS);
    t.ok(result.ok && result.reply.errorCode === '0', 'the reply is read');
    const c = server.captured.at(-1);
    if (c === undefined) return t.fail('nothing captured');
    checkEveryRequest(t, c, 'updateStatus', ['XroadVnpt-status', 'XroadVnpt-docId'], 'systemid;docId;timestamp;status;Content-Type', 'application/json');
    t.equal(value(c, 'Expect'), '100-continue');
    t.equal(c.body.toString(), '{}');
    t.equal(value(c, 'XroadVnpt-status'), 'done');
  });

  t.equal(server.captured.length, 5, 'one request per call, nothing retried');
});
