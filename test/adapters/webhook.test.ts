import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import pino from 'pino';
import { Agent } from 'undici';
import { hasPull, type AdapterDeps, type DeliveryRequest } from '../../src/adapters/contract.ts';
import { parseRetryAfter } from '../../src/adapters/webhook/retry-after.ts';
import { signWebhook, verifyWebhookSignature } from '../../src/adapters/webhook/signature.ts';
import {
  WebhookAdapter,
  deliveryTimeoutMs,
  headerSafe,
  type WebhookOptions,
} from '../../src/adapters/webhook/webhook-adapter.ts';
import { runAdapterConformance, sampleRequest, type RecipientBehaviour } from './conformance.ts';
import { listenOnLoopback } from '../helpers/loopback.ts';

const SECRET = 'test-secret-0123456789';
const logger = pino({ level: 'silent' });

/** What the test receiver saw of one request. */
interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

/**
 * A real HTTP receiver on 127.0.0.1, one path per behaviour. Requests that are answered are logged
 * after their whole body arrived; a slow path logs on arrival and never answers.
 */
async function startReceiver(t: Test): Promise<{ base: string; received: Received[]; handlers: Map<string, Handler> }> {
  const received: Received[] = [];
  const handlers = new Map<string, Handler>([
    ['/ok', (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('thanks')],
    ['/failing', (_req, res) => res.writeHead(500).end('database down')],
    ['/refusing', (_req, res) => res.writeHead(404, { 'content-type': 'text/plain' }).end('no such endpoint')],
  ]);
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    if (path === '/slow') {
      received.push({ path, headers: req.headers, body: Buffer.alloc(0) });
      req.resume();
      return; // never answers; teardown closes the connection
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      received.push({ path, headers: req.headers, body });
      const handler = handlers.get(path);
      if (handler) handler(req, res, body);
      else res.writeHead(404).end();
    });
  });
  return { base: await listenOnLoopback(t, server), received, handlers };
}

/** A URL nobody listens on: a port bound by us, then released. */
async function refusedUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/ok`;
}

const receiver = await startReceiver(t);
const unreachable = await refusedUrl();
const realDeps: AdapterDeps = { logger, clock: () => new Date() };

function webhook(url: string, deps: AdapterDeps = realDeps, options: WebhookOptions = {}): WebhookAdapter {
  return new WebhookAdapter({ id: 'route-webhook', kind: 'webhook', url, secret: SECRET }, deps, options);
}

const urlFor = (behaviour: RecipientBehaviour): string =>
  behaviour === 'unreachable' ? unreachable : `${receiver.base}/${behaviour}`;

await runAdapterConformance(t, 'webhook', (behaviour) => webhook(urlFor(behaviour)), {
  behaviours: ['failing', 'unreachable', 'slow', 'refusing'],
  takeReceivedIds: () =>
    receiver.received.splice(0).map((r) => String(r.headers['edxgate-delivery-id'])),
});

/** Delivers one request with a fresh adapter and returns the result and what the receiver saw. */
async function deliverOnce(
  path: string,
  request: DeliveryRequest,
  deps: AdapterDeps = realDeps,
  options: WebhookOptions = {},
): Promise<{ result: Awaited<ReturnType<WebhookAdapter['deliver']>>; seen: Received[] }> {
  receiver.received.splice(0);
  const adapter = webhook(`${receiver.base}${path}`, deps, options);
  await adapter.start();
  try {
    const result = await adapter.deliver(request);
    return { result, seen: receiver.received.splice(0) };
  } finally {
    await adapter.close();
  }
}

t.test('webhook: no pull capability', async (t) => {
  t.equal(hasPull(webhook(`${receiver.base}/ok`)), false);
});

t.test('webhook: the request carries the packet and the headers', async (t) => {
  const request = sampleRequest(realDeps.clock, { attempt: 3, kind: 'status', priority: 3 });
  const { result, seen } = await deliverOnce('/ok', request);
  t.same(result, { outcome: 'accepted', detail: 'HTTP 200' });
  t.equal(seen.length, 1);
  const got = seen[0];
  if (!got) return;
  t.ok(got.body.equals(request.edxml), 'body is the packet, byte for byte');
  const h = got.headers;
  t.equal(h['content-type'], 'application/xml; charset=utf-8');
  t.equal(h['content-length'], String(request.edxml.byteLength));
  t.equal(h['edxgate-delivery-id'], request.deliveryId);
  t.equal(h['edxgate-packet-id'], request.packetId);
  t.equal(h['edxgate-document-id'], '000.00.15.H47,2025/03/05,123/SL%C4%90TBXH-VP', 'non-ASCII percent-encoded');
  t.equal(decodeURIComponent(String(h['edxgate-document-id'])), request.documentId, 'decodes back');
  t.equal(h['edxgate-kind'], 'status');
  t.equal(h['edxgate-sender'], request.sender);
  t.equal(h['edxgate-recipient'], request.recipient);
  t.equal(h['edxgate-attempt'], '3');
  t.match(h['edxgate-timestamp'], /^\d+$/);
  t.match(h['edxgate-signature'], new RegExp(`^t=${String(h['edxgate-timestamp'])},v1=[0-9a-f]{64}$`));
});

t.test('webhook: the signature verifies, and fails on a wrong secret, a tampered body or an old timestamp', async (t) => {
  // A fixed clock makes the signing time known, so the tolerance checks need no waiting.
  const at = new Date('2025-03-05T08:00:00.000Z');
  const deps: AdapterDeps = { logger, clock: () => at };
  const request = sampleRequest(deps.clock);
  const { seen } = await deliverOnce('/ok', request, deps);
  const got = seen[0];
  if (!got) throw new Error('nothing received');
  t.equal(got.headers['edxgate-timestamp'], String(at.getTime() / 1000));
  t.same(verifyWebhookSignature(got.headers, got.body, SECRET, 300, at), { ok: true, timestampSec: at.getTime() / 1000 });
  t.same(verifyWebhookSignature(got.headers, got.body.toString('utf8'), SECRET, 300, at), { ok: true, timestampSec: at.getTime() / 1000 }, 'a string body works too');
  t.same(verifyWebhookSignature(got.headers, got.body, 'wrong-secret', 300, at), { ok: false, reason: 'mismatch' });
  const tampered = Buffer.from(got.body);
  const at2 = tampered.length - 2;
  tampered.writeUInt8(tampered.readUInt8(at2) ^ 1, at2);
  t.same(verifyWebhookSignature(got.headers, tampered, SECRET, 300, at), { ok: false, reason: 'mismatch' });
  const later = new Date(at.getTime() + 301_000);
  t.same(verifyWebhookSignature(got.headers, got.body, SECRET, 300, later), { ok: false, reason: 'expired' });
  const earlier = new Date(at.getTime() - 301_000);
  t.same(verifyWebhookSignature(got.headers, got.body, SECRET, 300, earlier), { ok: false, reason: 'expired' }, 'from the future too');
  t.same(verifyWebhookSignature(got.headers, got.body, SECRET, 300), { ok: false, reason: 'expired' }, 'default now is the real clock');
  // The timestamp is under the MAC: moving it invalidates the signature.
  const sig = String(got.headers['edxgate-signature']);
  const moved = sig.replace(/^t=\d+/, `t=${at.getTime() / 1000 + 1}`);
  t.same(verifyWebhookSignature({ 'edxgate-signature': moved }, got.body, SECRET, 300, at), { ok: false, reason: 'mismatch' });
});

t.test('webhook: verifyWebhookSignature parsing', async (t) => {
  const body = Buffer.from('<edXML/>');
  const ts = 1_700_000_000;
  const now = new Date(ts * 1000);
  const good = signWebhook(body, SECRET, ts);
  const v = (headers: Parameters<typeof verifyWebhookSignature>[0]): unknown =>
    verifyWebhookSignature(headers, body, SECRET, 300, now);
  t.same(v({}), { ok: false, reason: 'missing' });
  t.same(v({ 'edxgate-signature': 'nonsense' }), { ok: false, reason: 'malformed' });
  t.same(v({ 'edxgate-signature': `t=${ts}` }), { ok: false, reason: 'malformed' }, 'no v1');
  t.same(v({ 'edxgate-signature': `t=${ts},v1=abc` }), { ok: false, reason: 'malformed' }, 'short digest');
  t.same(v({ 'edxgate-signature': `t=${ts},t=${ts},${good.split(',')[1] ?? ''}` }), { ok: false, reason: 'malformed' }, 'two t');
  t.same(v({ 'edxgate-signature': [good, good] }), { ok: false, reason: 'missing' }, 'a repeated header is not guessed at');
  t.same(v({ 'edxgate-signature': [good] }), { ok: true, timestampSec: ts });
  t.same(v(new Headers({ 'Edxgate-Signature': good })), { ok: true, timestampSec: ts }, 'fetch Headers');
  const other = signWebhook(body, 'old-secret', ts).split(',')[1] ?? '';
  t.same(v({ 'edxgate-signature': `t=${ts},${other},${good.split(',')[1] ?? ''},v2=future` }), { ok: true, timestampSec: ts }, 'one v1 of several matches; unknown keys ignored');
  t.same(verifyWebhookSignature({ 'edxgate-signature': good }, body, SECRET, -1, now), { ok: false, reason: 'expired' }, 'a negative tolerance accepts nothing');
});

t.test('webhook: status codes map to outcomes', async (t) => {
  const at = new Date('2025-03-05T08:00:00.000Z');
  const deps: AdapterDeps = { logger, clock: () => at };
  const cases: Array<[number, Record<string, string>, string, object]> = [
    [201, {}, '', { outcome: 'accepted', detail: 'HTTP 201' }],
    [204, {}, '', { outcome: 'accepted', detail: 'HTTP 204' }],
    [408, {}, '', { outcome: 'retry', code: 'EDX_ERR_DELIVERY_UNAVAILABLE', reason: 'HTTP 408' }],
    [425, {}, '', { outcome: 'retry', code: 'EDX_ERR_DELIVERY_UNAVAILABLE' }],
    [429, { 'retry-after': '7' }, 'slow down', { outcome: 'retry', reason: 'HTTP 429: slow down', retryAfterMs: 7000 }],
    [503, { 'retry-after': 'Wed, 05 Mar 2025 08:01:00 GMT' }, '', { outcome: 'retry', retryAfterMs: 60_000 }],
    [502, {}, '', { outcome: 'retry', code: 'EDX_ERR_DELIVERY_UNAVAILABLE' }],
    [400, {}, '  unknown\n  recipient ', { outcome: 'rejected', code: 'EDX_ERR_DELIVERY_REFUSED', reason: 'HTTP 400: unknown recipient' }],
    [401, {}, '', { outcome: 'rejected', reason: 'HTTP 401' }],
    [410, {}, 'gone', { outcome: 'rejected', reason: 'HTTP 410: gone' }],
    [413, {}, '', { outcome: 'rejected' }],
    [301, { location: 'http://elsewhere.invalid/' }, '', { outcome: 'rejected', reason: 'HTTP 301' }],
  ];
  for (const [status, headers, body, expected] of cases) {
    receiver.handlers.set(`/status-${status}`, (_req, res) => res.writeHead(status, headers).end(body));
    const { result } = await deliverOnce(`/status-${status}`, sampleRequest(deps.clock), deps);
    t.match(result, expected, `HTTP ${status}`);
    if (result.outcome === 'retry' && !('retry-after' in headers)) t.equal(result.retryAfterMs, undefined, `HTTP ${status}: no hint`);
  }
});

t.test('webhook: a refusal keeps a short excerpt of a long body', async (t) => {
  receiver.handlers.set('/long-refusal', (_req, res) => res.writeHead(422).end(`${'Sai định dạng. '.repeat(5000)}`));
  const { result } = await deliverOnce('/long-refusal', sampleRequest(realDeps.clock));
  t.match(result, { outcome: 'rejected', code: 'EDX_ERR_DELIVERY_REFUSED', reason: /^HTTP 422: Sai định dạng\. / });
  if (result.outcome === 'rejected') t.ok(result.reason.length <= 'HTTP 422: '.length + 200, 'at most 200 characters of body');
});

t.test('webhook: the timeout is the remaining budget, with a floor', async (t) => {
  const now = new Date('2025-03-05T08:00:00.000Z');
  const at = (ms: number): Date => new Date(now.getTime() + ms);
  t.equal(deliveryTimeoutMs(at(4200), now, 100_000), 4200, 'what is left of the budget');
  t.equal(deliveryTimeoutMs(at(100), now, 100_000), 250, 'never below the floor');
  t.equal(deliveryTimeoutMs(at(-60_000), now, 100_000), 5000, 'a late delivery gets a whole budget, not the floor');
  t.equal(deliveryTimeoutMs(at(0), now, 100_000), 5000, 'the deadline itself counts as late');
  t.equal(deliveryTimeoutMs(at(-1), now, 100_000, { lateTimeoutMs: 8000 }), 8000, 'late timeout is configurable');
  t.equal(deliveryTimeoutMs(at(-1), now, 67 * 1024 * 1024), 67_000, 'a late 67 MB packet still gets time to travel');
  t.equal(deliveryTimeoutMs(at(5000), now, 67 * 1024 * 1024), 67_000, 'a 67 MB packet gets time to travel at 1 MiB/s');
  t.equal(deliveryTimeoutMs(at(100), now, 1000, { minTimeoutMs: 1000 }), 1000, 'floor is configurable');
  t.equal(deliveryTimeoutMs(at(100), now, 4 * 1024 * 1024, { minUploadBytesPerSec: 2 * 1024 * 1024 }), 2000, 'rate is configurable');
});

t.test('webhook: a recipient slower than the deadline is cut off by it', async (t) => {
  // The adapter's clock is fixed, so the timeout it computes is exactly deadline − clock.
  const at = new Date('2025-03-05T08:00:00.000Z');
  const deps: AdapterDeps = { logger, clock: () => at };
  const { result, seen } = await deliverOnce('/slow', sampleRequest(deps.clock, { deadline: new Date(at.getTime() + 400) }), deps);
  t.same(result, { outcome: 'retry', code: 'EDX_ERR_DELIVERY_TIMEOUT', reason: 'no answer within 400 ms' });
  t.equal(seen.length, 1, 'the request did reach the recipient');
  // Past the deadline the attempt gets the late timeout (shortened here so the test stays quick).
  const late = await deliverOnce('/slow', sampleRequest(deps.clock, { deadline: new Date(at.getTime() - 10_000) }), deps, { lateTimeoutMs: 600 });
  t.same(late.result, { outcome: 'retry', code: 'EDX_ERR_DELIVERY_TIMEOUT', reason: 'no answer within 600 ms' }, 'past the deadline: the late timeout');
});

t.test('webhook: a recipient that answers within the budget is not cut off', async (t) => {
  receiver.handlers.set('/after-a-while', (_req, res) => {
    setTimeout(() => res.writeHead(200).end(), 300);
  });
  const { result } = await deliverOnce('/after-a-while', sampleRequest(realDeps.clock));
  t.same(result, { outcome: 'accepted', detail: 'HTTP 200' });
});

t.test('webhook: connection refused is a retry with the network error', async (t) => {
  const adapter = webhook(unreachable);
  await adapter.start();
  const result = await adapter.deliver(sampleRequest(realDeps.clock));
  t.match(result, { outcome: 'retry', code: 'EDX_ERR_DELIVERY_UNAVAILABLE', reason: /ECONNREFUSED/ });
  t.match(await adapter.health(), { ok: true, detail: /retry EDX_ERR_DELIVERY_UNAVAILABLE/ });
  await adapter.close();
});

t.test('webhook: a 67 MB packet arrives intact', async (t) => {
  const big = Buffer.alloc(67 * 1024 * 1024, 'QUJDRA==');
  const expected = createHash('sha256').update(big).digest('hex');
  let digest = '';
  let size = 0;
  // Its own server, hashing as it reads, so the test holds one copy of the packet, not two.
  const server = createServer((req, res) => {
    const hash = createHash('sha256');
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      hash.update(chunk);
    });
    req.on('end', () => {
      digest = hash.digest('hex');
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const adapter = webhook(`http://127.0.0.1:${(server.address() as AddressInfo).port}/big`);
  await adapter.start();
  const result = await adapter.deliver(sampleRequest(realDeps.clock, { edxml: big }));
  await adapter.close();
  t.same(result, { outcome: 'accepted', detail: 'HTTP 200' });
  t.equal(size, big.byteLength);
  t.equal(digest, expected);
});

t.test('webhook: a shared dispatcher is used, and left open on close', async (t) => {
  const agent = new Agent();
  t.teardown(() => agent.close());
  const adapter = webhook(`${receiver.base}/ok`, { ...realDeps, http: agent });
  await adapter.start();
  t.match(await adapter.deliver(sampleRequest(realDeps.clock)), { outcome: 'accepted' });
  await adapter.close();
  t.equal(agent.closed, false, 'the gateway owns the shared dispatcher');
  receiver.received.splice(0);
});

t.test('webhook: close waits for an in-flight slow delivery, which ends with a result', async (t) => {
  const adapter = webhook(`${receiver.base}/slow`);
  await adapter.start();
  const delivering = adapter.deliver(sampleRequest(realDeps.clock, { deadline: new Date(Date.now() + 200) }));
  await adapter.close();
  t.match(await delivering, { outcome: 'retry', code: 'EDX_ERR_DELIVERY_TIMEOUT' });
  receiver.received.splice(0);
});

t.test('webhook: header values are made safe and decode back', async (t) => {
  t.equal(headerSafe('0b6f2c3e-7d1a-4d3b-9a57-3f3c1b8e9a10'), '0b6f2c3e-7d1a-4d3b-9a57-3f3c1b8e9a10', 'ASCII unchanged');
  t.equal(headerSafe('123/SLĐTBXH-VP'), '123/SL%C4%90TBXH-VP');
  t.equal(headerSafe('50% xong\r\nX: y'), '50%25%20xong%0D%0AX:%20y', 'percent, space and CR LF encoded');
  for (const value of ['Công văn số 7/UBND-VX', '100%', 'a\u0000b', 'Hỏa tốc']) t.equal(decodeURIComponent(headerSafe(value)), value);
  t.doesNotThrow(() => headerSafe('broken \ud800 surrogate'), 'a lone surrogate does not throw');
});

t.test('webhook: parseRetryAfter', async (t) => {
  const now = new Date('2025-03-05T08:00:00.000Z');
  t.equal(parseRetryAfter('120', now), 120_000);
  t.equal(parseRetryAfter(' 0 ', now), 0);
  t.equal(parseRetryAfter(['5', '9'], now), 5000);
  t.equal(parseRetryAfter('Wed, 05 Mar 2025 08:00:30 GMT', now), 30_000);
  t.equal(parseRetryAfter('Wed, 05 Mar 2025 07:00:00 GMT', now), 0, 'a past date means now');
  t.equal(parseRetryAfter('soon', now), undefined);
  t.equal(parseRetryAfter('-5', now), undefined);
  t.equal(parseRetryAfter('1.5', now), undefined);
  t.equal(parseRetryAfter('2025', now), 2_025_000, 'a bare number is seconds, not a year');
  t.equal(parseRetryAfter(undefined, now), undefined);
});
