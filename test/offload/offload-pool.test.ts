// The offload pool runs parsing (with the signature check) and signing on threads beside the event
// loop. Whatever runs where, the result must be exactly what the same step gives on the calling
// thread: the same model
// (with long payloads still bytes of the caller's buffer), the same signature verdict with its
// certificates as Buffers, byte-identical signed packets. Steps a thread cannot take — a packet over
// the size limit, a pool without threads, a thread stopped while it holds steps — are answered on
// the event loop.

import t from 'tap';
import type { Test } from 'tap';
import { pino } from 'pino';
import { longContentOf } from '../../src/edxml/attachment-content.ts';
import { buildPacketBuffer } from '../../src/edxml/build.ts';
import type { DocumentPacket } from '../../src/edxml/model.ts';
import { parsePacket } from '../../src/edxml/parse.ts';
import { validatePacket } from '../../src/edxml/validate.ts';
import { OffloadPool } from '../../src/offload/offload-pool.ts';
import { payloadRef } from '../../src/store/payloads.ts';
import { makeDocument, postHeaders, startTestGateway } from '../api/gateway-fixture.ts';
import { signPacket, trySignPacket, verifySignature } from '../../src/trust/dsig/index.ts';
import { testKey } from '../trust/helpers/keys.ts';
import { documentPacket, minimalDocument, statusPacket } from '../edxml/example-packets.ts';

const silent = pino({ enabled: false });
const key = testKey();
/** Over the 4,096 characters a base64 run needs to stay bytes (src/edxml/xml.ts). */
const LONG_PAYLOAD = Buffer.alloc(30_000, 7).toString('base64');

const withLongAttachment: DocumentPacket = {
  ...minimalDocument,
  manifest: [{ contentId: 'cid:1', attachmentName: 'ho-so.pdf', contentType: 'application/pdf' }],
  attachments: [
    { contentId: 'cid:1', attachmentName: 'ho-so.pdf', contentType: 'application/pdf', content: LONG_PAYLOAD },
    { contentId: 'cid:2', attachmentName: 'ghi-chu.txt', content: 'R2hpIGNow7o=' },
  ],
};

/** A pool that sends every packet of these tests to a thread unless told otherwise (they are small). */
async function startPool(t: Test, threads = 1, limits: { readonly minBytes?: number; readonly maxBytes?: number } = {}): Promise<OffloadPool> {
  const pool = await OffloadPool.start({ threads, minBytes: limits.minBytes ?? 0, maxBytes: limits.maxBytes ?? 4_194_304, logger: silent });
  t.teardown(() => pool.close());
  return pool;
}

t.test('decode on a thread gives the model parsing on the event loop gives', async (t) => {
  const pool = await startPool(t);
  t.equal(pool.readyThreads, 1, 'the thread loaded');
  for (const model of [withLongAttachment, documentPacket, statusPacket]) {
    const bytes = buildPacketBuffer({ ...model, signature: undefined });
    const here = parsePacket(bytes);
    const pass = await pool.decode(bytes);
    const there = pass.parsed;
    if (!here.ok || !there.ok) throw new Error(`the example ${model.kind} packet must parse`);
    t.same(there.value, here.value, `${model.kind}: the same model`);
    t.same(there.warnings, here.warnings, `${model.kind}: the same warnings`);
    t.equal(pass.payloadRef, payloadRef(bytes), `${model.kind}: the payload reference of the bytes`);
    t.equal(pass.signature, undefined, `${model.kind}: no signature check unless asked for`);
  }
  t.equal(pool.stats().offloaded, 3, 'all three went to the thread');
});

t.test('decode checks the signature in the same pass when asked, and only for a signed packet', async (t) => {
  const pool = await startPool(t);
  const signed = signPacket(buildPacketBuffer({ ...documentPacket, signature: undefined }), key);
  const pass = await pool.decode(signed, { verify: true });
  t.ok(pass.parsed.ok, 'parsed');
  t.same(pass.signature?.check, verifySignature(signed), 'the check verifySignature makes');
  t.ok((pass.signature?.ms ?? -1) >= 0, 'with the time it took');
  const check = pass.signature?.check;
  if (check?.status !== 'valid') throw new Error('the signed packet must verify');
  t.ok(Buffer.isBuffer(check.certificates[0]), 'certificates are Buffers again once they have crossed');
  t.ok(check.certificates[0]?.equals(key.certificates[0] ?? Buffer.alloc(0)), "the signer's certificate");
  const tampered = Buffer.from(signed.toString('utf8').replace('Thanh tra Sở', 'Thanh tra Số'), 'utf8');
  const invalid = (await pool.decode(tampered, { verify: true })).signature?.check;
  t.equal(invalid?.status, 'invalid', 'a changed packet: invalid');
  t.same(invalid, verifySignature(tampered), 'with the code and reason the event loop gives');
  const unsigned = await pool.decode(buildPacketBuffer({ ...minimalDocument, signature: undefined }), { verify: true });
  t.equal(unsigned.signature, undefined, 'no Signature in the header: nothing to check');
  t.equal(pool.stats().offloaded, 3, 'each pass crossed once');
});

t.test('a long payload comes back unread, as bytes of the caller\'s buffer', async (t) => {
  const pool = await startPool(t);
  const bytes = buildPacketBuffer(withLongAttachment);
  const there = (await pool.decode(bytes)).parsed;
  if (!there.ok || there.value.kind !== 'document') throw new Error('the packet must parse as a document');
  const [long, short] = there.value.attachments;
  const unread = long === undefined ? undefined : longContentOf(long);
  t.ok(unread, 'the long payload is still a byte range (the validator reads it from the bytes)');
  t.equal(unread?.compactBytes().buffer, bytes.buffer, 'over the very buffer that was posted, not a copy');
  t.equal(long?.content, LONG_PAYLOAD, 'and reads the same text on first use');
  t.equal(short === undefined ? undefined : longContentOf(short), undefined, 'a short payload is a plain string');
  t.equal(short?.content, 'R2hpIGNow7o=');
  const now = new Date('2025-03-06T03:00:00Z');
  const here = parsePacket(bytes);
  if (!here.ok) throw new Error('the packet must parse');
  t.same(validatePacket(there.value, { now }), validatePacket(here.value, { now }), 'the validator judges both alike');
});

t.test('a packet the parser refuses comes back with the same issues', async (t) => {
  const pool = await startPool(t);
  for (const bytes of [Buffer.from('<edXMLEnvelope'), Buffer.from('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "x">]><edXMLEnvelope/>')]) {
    const here = parsePacket(bytes);
    const there = (await pool.decode(bytes)).parsed;
    t.equal(there.ok, false, 'refused');
    t.same(there, here, 'with the issues the event loop finds');
  }
});

t.test('sign on a thread gives byte-identical packets, and the key crosses once per thread', async (t) => {
  const pool = await startPool(t, 2);
  t.equal(pool.readyThreads, 2);
  for (const model of [documentPacket, statusPacket, withLongAttachment]) {
    const unsigned = buildPacketBuffer({ ...model, signature: undefined });
    const here = trySignPacket(unsigned, key);
    // Two at once: both threads take one, each is sent the key the first time only.
    const [a, b] = await Promise.all([pool.sign(unsigned, key), pool.sign(unsigned, key)]);
    if (!here.ok || !a?.ok || !b?.ok) throw new Error(`signing the ${model.kind} packet must succeed`);
    // RSA PKCS#1 v1.5 signatures are deterministic: equal inputs, equal bytes.
    t.ok(a.value.equals(here.value) && b.value.equals(here.value), `${model.kind}: the same bytes as on the event loop`);
    t.ok(Buffer.isBuffer(a.value), 'a Buffer');
    t.equal(verifySignature(a.value).status, 'valid', `${model.kind}: valid`);
  }
  t.equal(pool.stats().keysSent, 2, 'one key, sent to each of the two threads once');
  const other = testKey('another signer');
  const unsigned = buildPacketBuffer({ ...minimalDocument, signature: undefined });
  const signedByOther = await pool.sign(unsigned, other);
  t.ok(signedByOther.ok && verifySignature(signedByOther.value).status === 'valid', 'a second key is kept apart from the first');
  if (signedByOther.ok) {
    const check = verifySignature(signedByOther.value);
    t.ok(check.status === 'valid' && check.certificates[0]?.equals(other.certificates[0] ?? Buffer.alloc(0)), 'signed with the second key');
  }
});

t.test('packets outside the size limits, and a pool without threads, stay on the event loop', async (t) => {
  const small = buildPacketBuffer({ ...minimalDocument, signature: undefined });
  const large = buildPacketBuffer(withLongAttachment);
  const pool = await startPool(t, 1, { minBytes: small.byteLength, maxBytes: small.byteLength });
  t.ok((await pool.decode(small)).parsed.ok);
  t.ok((await pool.decode(large)).parsed.ok);
  t.same(pool.stats(), { offloaded: 1, onEventLoop: 1, keysSent: 0 }, 'the packet at the limits went to the thread, the larger one did not');
  const tight = await startPool(t, 1, { minBytes: small.byteLength + 1 });
  t.ok((await tight.decode(small)).parsed.ok);
  t.same(tight.stats(), { offloaded: 0, onEventLoop: 1, keysSent: 0 }, 'a packet under the lower limit stays on the event loop');

  const none = await startPool(t, 0);
  t.equal(none.readyThreads, 0);
  t.ok((await none.decode(small)).parsed.ok, 'parsed on the event loop');
  t.same(none.stats(), { offloaded: 0, onEventLoop: 1, keysSent: 0 });
});

t.test('steps held by a thread when it stops are answered on the event loop', async (t) => {
  const pool = await OffloadPool.start({ threads: 1, minBytes: 0, maxBytes: 4_194_304, logger: silent });
  const bytes = buildPacketBuffer(withLongAttachment);
  const expected = parsePacket(bytes);
  const inFlight = Array.from({ length: 20 }, () => pool.decode(bytes));
  await pool.close();
  const results = await Promise.all(inFlight);
  t.ok(
    results.every((r) => r.parsed.ok),
    'every step was answered',
  );
  t.same(results[results.length - 1]?.parsed, expected, 'with the model the event loop gives');
  t.ok((await pool.decode(bytes)).parsed.ok, 'a closed pool still answers, on the event loop');
});

t.test('/metrics shows the ready threads and where the steps ran', async (t) => {
  const gw = await startTestGateway(t, { config: { offload: { minBytes: 0 } } });
  const scrape = async (): Promise<string> => (await gw.app.inject({ method: 'GET', url: '/metrics' })).body;
  t.match(await scrape(), /^edxgate_offload_threads 1$/m, 'the default one thread is up');
  const posted = await gw.app.inject({ method: 'POST', url: '/v1/packets', headers: postHeaders(gw, '000.00.15.H47'), payload: makeDocument({ to: ['000.01.15.H47'] }) });
  t.equal(posted.statusCode, 202);
  const text = await scrape();
  t.match(text, /^edxgate_offload_steps_total\{where="thread"\} 1$/m, "the packet's decode pass ran on the thread");
  t.match(text, /^edxgate_offload_steps_total\{where="event_loop"\} 0$/m);
});
