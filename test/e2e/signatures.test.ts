// Signatures through the running gateway, over loopback HTTP: a throwaway PKI generated at test
// time (root, intermediate, agency certificates, CRLs served by a loopback server), the sender
// under the `require` policy, and the gateway signing what it forwards.

import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parsePacket } from '../../src/edxml/parse.ts';
import { signPacket, verifySignature } from '../../src/trust/dsig/index.ts';
import { listenOnLoopback } from '../helpers/loopback.ts';
import { makeDocument, postHeaders, routeToWebhook, startReceiver, startTestGateway, waitFor } from '../api/gateway-fixture.ts';
import type { TestGateway } from '../api/gateway-fixture.ts';
import { TEST_AGENCY, createTestPki, writeTestPki } from '../trust/helpers/test-pki.ts';
import type { TestCertificate, TestPki } from '../trust/helpers/test-pki.ts';

const A = TEST_AGENCY; // 000.00.15.H47, policy `require`
const B = '000.01.15.H47'; // default policy (verify-if-present)
const C = '000.02.15.H47'; // webhook, the gateway signs what it forwards
const D = '000.03.15.H47'; // webhook with signing switched off
const GATEWAY = '000.00.00.H47';

interface Receipt {
  packetId: string;
  signature: { status: string; policy: string; reason?: string; code?: string; signer?: { subject: string; revocation: string } };
}

// The CRL server exists before the PKI (the certificates carry its URL); it serves what the PKI issues.
let pki: TestPki | undefined;
const crlServer = createServer((req, res) => {
  const crl = req.url === '/root.crl' ? pki?.crls.root : req.url === '/intermediate.crl' ? pki?.crls.intermediate : undefined;
  if (crl === undefined) res.writeHead(404).end();
  else res.writeHead(200, { 'content-type': 'application/pkix-crl' }).end(crl);
});
const crlBase = await listenOnLoopback(t, crlServer);
const created = await createTestPki({ crlBaseUrl: crlBase });
pki = created;
const dir = await mkdtemp(join(tmpdir(), 'edxgate-pki-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
await writeTestPki(dir, created);

function signedBy(leaf: TestCertificate, bytes: Buffer): Buffer {
  return signPacket(bytes, { privateKey: leaf.privateKey, certificates: created.chainOf(leaf) });
}

async function post(gw: TestGateway, agency: string, body: Buffer): Promise<{ status: number; body: Receipt & { code?: string; detail?: string } }> {
  const res = await fetch(`${gw.url}/v1/packets`, { method: 'POST', headers: postHeaders(gw, agency), body: new Uint8Array(body) });
  return { status: res.status, body: (await res.json()) as Receipt & { code?: string } };
}

const receiver = await startReceiver(t);
const plainReceiver = await startReceiver(t);
const gw = await startTestGateway(t, {
  listen: true,
  config: {
    trust: {
      anchors: join(dir, 'anchors'),
      intermediates: join(dir, 'intermediates'),
      binding: join(dir, 'binding.json'),
      crlUrls: `${created.crlUrls.intermediate},${created.crlUrls.root}`,
      revocation: 'hard-fail',
      // The gateway signs with a certificate of its own (here: another valid test certificate).
      signingKey: join(dir, 'certs', 'expiring-soon.key.pem'),
      signingCert: join(dir, 'certs', 'expiring-soon.chain.pem'),
      gatewayAgency: GATEWAY,
    },
  },
  setup: async (db) => {
    await routeToWebhook(db, C, 'webhook-c', receiver.url);
    await routeToWebhook(db, D, 'webhook-d', plainReceiver.url);
    await db.store.db.updateTable('routes').set({ sign_outgoing: false }).where('id', '=', 'webhook-d').execute();
    await db.store.db.updateTable('agencies').set({ signature_policy: 'require' }).where('code', '=', A).execute();
  },
});
// CRLs are fetched ahead of time, at start: wait for both before judging revocation.
await waitFor('both CRLs fetched', () => gw.app.gateway.trust.crlStatus().filter((c) => c.held !== undefined).length === 2);

t.test('require: only a valid signature by a trusted, unrevoked certificate bound to the sender is admitted', async (t) => {
  const unsigned = await post(gw, A, makeDocument({ from: A, to: [B] }));
  t.equal(unsigned.status, 422);
  t.equal(unsigned.body.code, 'EDX_ERR_SIGNATURE_REQUIRED');

  const good = await post(gw, A, signedBy(created.leaves.valid, makeDocument({ from: A, to: [B] })));
  t.equal(good.status, 202, good.body.detail ?? '');
  t.match(good.body.signature, { status: 'valid', policy: 'require', signer: { subject: /O=000\.00\.15\.H47/, revocation: 'good' } });
  const shown = (await (await fetch(`${gw.url}/v1/packets/${good.body.packetId}`, { headers: postHeaders(gw, A) })).json()) as Receipt;
  t.match(shown.signature, { status: 'valid' }, 'the verdict is stored with the packet and shown with it');

  for (const [leaf, code] of [
    ['expired', 'EDX_ERR_SIGNATURE_CERT_EXPIRED'],
    ['notYetValid', 'EDX_ERR_SIGNATURE_CERT_EXPIRED'],
    ['revoked', 'EDX_ERR_SIGNATURE_CERT_REVOKED'],
    ['wrongAgency', 'EDX_ERR_SIGNATURE_CERT_WRONG_AGENCY'],
    ['selfSigned', 'EDX_ERR_SIGNATURE_CERT_UNTRUSTED'],
    ['unknownCa', 'EDX_ERR_SIGNATURE_CERT_UNTRUSTED'],
  ] as const) {
    const refused = await post(gw, A, signedBy(created.leaves[leaf], makeDocument({ from: A, to: [B] })));
    t.equal(refused.status, 422, leaf);
    t.equal(refused.body.code, code, `${leaf}: ${refused.body.detail ?? ''}`);
  }

  const signed = signedBy(created.leaves.valid, makeDocument({ from: A, to: [B], subject: 'V/v số liệu gốc' }));
  const tampered = Buffer.from(signed.toString('utf8').replace('V/v số liệu gốc', 'V/v số liệu sửa'));
  const changed = await post(gw, A, tampered);
  t.equal(changed.body.code, 'EDX_ERR_SIGNATURE_DIGEST_MISMATCH', 'a changed header field');
});

t.test('verify-if-present: unsigned is recorded, a bad signature is still refused, an untrusted one recorded invalid', async (t) => {
  const unsigned = await post(gw, B, makeDocument({ from: B, to: [A] }));
  t.equal(unsigned.status, 202);
  t.match(unsigned.body.signature, { status: 'unsigned', policy: 'verify-if-present' });

  const signed = signedBy(created.leaves.valid, makeDocument({ from: B, to: [A], subject: 'V/v bản gốc' }));
  const tampered = Buffer.from(signed.toString('utf8').replace('V/v bản gốc', 'V/v bản giả'));
  t.equal((await post(gw, B, tampered)).body.code, 'EDX_ERR_SIGNATURE_DIGEST_MISMATCH', 'a forged packet is refused under any policy but off');

  // Valid cryptographically, but the certificate is not bound to B: accepted, recorded as invalid.
  const unbound = await post(gw, B, signedBy(created.leaves.valid, makeDocument({ from: B, to: [A] })));
  t.equal(unbound.status, 202);
  t.match(unbound.body.signature, { status: 'invalid', code: 'EDX_ERR_SIGNATURE_CERT_WRONG_AGENCY' });
});

t.test('the gateway adds its TraceHeader and signs what it forwards, unless the route says not to', async (t) => {
  const original = signedBy(created.leaves.valid, makeDocument({ from: A, to: [C, D] }));
  const sent = await post(gw, A, original);
  t.equal(sent.status, 202);
  const [pushed] = await waitFor('C receives it', () => (receiver.received.length > 0 ? receiver.received : undefined));
  const [plain] = await waitFor('D receives it', () => (plainReceiver.received.length > 0 ? plainReceiver.received : undefined));
  if (pushed === undefined || plain === undefined) throw new Error('nothing received');

  const check = verifySignature(pushed.body);
  t.equal(check.status, 'valid', 'the forwarded packet verifies');
  if (check.status === 'valid') {
    t.same(check.certificates[0], created.leaves.expiringSoon.der, "signed with the gateway's key");
    t.same(check.certificates[1], created.intermediate.der, 'KeyInfo carries the intermediate too, so a receiver can build the chain');
  }
  const parsed = parsePacket(pushed.body);
  t.ok(parsed.ok && parsed.value.kind === 'document' && parsed.value.traceHeaders.at(-1)?.organId === GATEWAY, "the gateway's TraceHeader is the last one");
  t.ok(plain.body.equals(original), 'a route with signing off gets the bytes exactly as the sender signed them');
});
