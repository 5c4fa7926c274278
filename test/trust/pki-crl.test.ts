// CRLs: parsing and signature checks, and CrlCache fetching them from a real HTTP server on
// loopback (no fetch mocks): refresh outcomes, stale lists, failures that keep the previous list,
// replayed old lists, conditional requests, persistence, and discovery from verified chains.

import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';
import t from 'tap';
import { parseCertificate } from '../../src/trust/pki/certificate.ts';
import type { Certificate } from '../../src/trust/pki/certificate.ts';
import { CrlCache } from '../../src/trust/pki/crl-cache.ts';
import { crlCovers, crlIsCurrent, crlIsStale, crlSignedBy, parseCrl, revokedEntry } from '../../src/trust/pki/crl.ts';
import type { Crl } from '../../src/trust/pki/crl.ts';
import { TrustStore, TrustStoreHolder } from '../../src/trust/pki/trust-store.ts';
import type { EvaluateOptions } from '../../src/trust/pki/trust-store.ts';
import { listenOnLoopback } from '../helpers/loopback.ts';
import { TEST_AGENCY, createTestPki, issueCrl, testKey, toPemText } from './helpers/test-pki.ts';

const DAY = 86_400_000;

/** What the loopback CRL server answers per path; tests change it between refreshes. */
interface Route {
  status?: number;
  body?: Buffer | string;
  etag?: string;
}
const routes = new Map<string, Route>();
const requests: { path: string; ifNoneMatch: string | undefined }[] = [];

const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  const path = req.url ?? '/';
  const ifNoneMatch = req.headers['if-none-match'];
  requests.push({ path, ifNoneMatch: typeof ifNoneMatch === 'string' ? ifNoneMatch : undefined });
  const route = routes.get(path);
  if (!route) {
    res.writeHead(404).end('no such CRL');
    return;
  }
  if (route.etag !== undefined && ifNoneMatch === route.etag) {
    res.writeHead(304).end();
    return;
  }
  const headers: Record<string, string> = { 'content-type': 'application/pkix-crl' };
  if (route.etag !== undefined) headers['etag'] = route.etag;
  res.writeHead(route.status ?? 200, headers).end(route.body ?? '');
});
const base = await listenOnLoopback(t, server);
const pki = await createTestPki({ crlBaseUrl: base });
const rootPath = '/root.crl';
const intermediatePath = '/intermediate.crl';

function crl(der: Buffer | string): Crl {
  const parsed = parseCrl(der);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.value;
}

function certificate(der: Buffer): Certificate {
  const parsed = parseCertificate(der);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.value;
}

function serveCurrent(): void {
  routes.clear();
  routes.set(rootPath, { body: pki.crls.root });
  routes.set(intermediatePath, { body: pki.crls.intermediate });
}

const options: EvaluateOptions = { at: pki.now, agency: TEST_AGENCY, binding: pki.binding, revocation: 'hard-fail' };

t.test('parsing', async (t) => {
  const intermediateCrl = crl(pki.crls.intermediate);
  t.match(intermediateCrl.issuer.text, /^CN=edxgate Test Intermediate CA/);
  t.equal(intermediateCrl.crlNumber, '02');
  t.equal(intermediateCrl.entries.size, 1);
  const entry = revokedEntry(intermediateCrl, certificate(pki.leaves.revoked.der));
  t.equal(entry?.reason, 'keyCompromise');
  t.equal(revokedEntry(intermediateCrl, certificate(pki.leaves.valid.der)), undefined);
  t.equal(intermediateCrl.incompleteReason, undefined);

  const fromPem = crl(toPemText(pki.crls.intermediate, 'X509 CRL'));
  t.equal(fromPem.fingerprint256, intermediateCrl.fingerprint256, 'PEM and DER give the same CRL');
  t.equal(crl(Buffer.from(toPemText(pki.crls.intermediate, 'X509 CRL'))).fingerprint256, intermediateCrl.fingerprint256, 'PEM as bytes too');

  for (const [what, input] of [
    ['empty', Buffer.alloc(0)],
    ['a certificate', pki.root.der],
    ['truncated', pki.crls.intermediate.subarray(0, 100)],
    ['trailing bytes', Buffer.concat([pki.crls.intermediate, Buffer.from([0])])],
    ['a PEM without a CRL block', pki.root.pem],
    ['indefinite length', Buffer.from([0x30, 0x80, 0x00, 0x00])],
  ] as const) {
    const parsed = parseCrl(input);
    t.notOk(parsed.ok, `${what} is refused as a value`);
  }
});

t.test('signature, currency and scope', async (t) => {
  const intermediateCrl = crl(pki.crls.intermediate);
  const intermediate = certificate(pki.intermediate.der);
  t.ok(crlSignedBy(intermediateCrl, intermediate));
  t.notOk(crlSignedBy(intermediateCrl, certificate(pki.root.der)), 'not with another CA key');
  t.notOk(crlSignedBy(intermediateCrl, certificate(pki.leaves.valid.der)), 'a key without cRLSign may not sign CRLs');

  t.ok(crlIsCurrent(intermediateCrl, pki.now));
  t.notOk(crlIsCurrent(intermediateCrl, new Date(pki.now.getTime() + 8 * DAY)), 'past nextUpdate');
  t.notOk(crlIsCurrent(intermediateCrl, new Date(pki.now.getTime() - 2 * DAY)), 'before thisUpdate');
  t.ok(crlIsStale(crl(pki.crls.staleIntermediate), pki.now));

  const withoutNextUpdate = crl(issueCrl({ issuer: pki.intermediate, thisUpdate: pki.now }));
  t.notOk(crlIsCurrent(withoutNextUpdate, pki.now), 'no nextUpdate is never current');

  const asn1 = forge.asn1;
  const delta = crl(
    issueCrl({
      issuer: pki.intermediate,
      thisUpdate: pki.now,
      nextUpdate: new Date(pki.now.getTime() + DAY),
      extraExtensions: [{ oid: '2.5.29.27', critical: true, value: asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, '\x01') }],
    }),
  );
  t.match(delta.incompleteReason, /delta CRL/);
  t.notOk(crlCovers(delta, certificate(pki.leaves.valid.der)));

  const unknownCritical = crl(
    issueCrl({
      issuer: pki.intermediate,
      thisUpdate: pki.now,
      nextUpdate: new Date(pki.now.getTime() + DAY),
      extraExtensions: [{ oid: '1.3.6.1.4.1.99999.7', critical: true, value: asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, '') }],
    }),
  );
  t.match(unknownCritical.incompleteReason, /unknown critical extension 1\.3\.6\.1\.4\.1\.99999\.7/);

  // issuingDistributionPoint [2] onlyContainsCACerts: a CA-only CRL says nothing about agency certificates.
  const caOnly = crl(
    issueCrl({
      issuer: pki.intermediate,
      thisUpdate: pki.now,
      nextUpdate: new Date(pki.now.getTime() + DAY),
      extraExtensions: [
        {
          oid: '2.5.29.28',
          critical: true,
          value: asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [asn1.create(asn1.Class.CONTEXT_SPECIFIC, 2, false, '\xff')]),
        },
      ],
    }),
  );
  t.equal(caOnly.incompleteReason, undefined);
  t.ok(caOnly.scope.onlyCaCertificates);
  t.notOk(crlCovers(caOnly, certificate(pki.leaves.valid.der)));
  t.ok(crlCovers(caOnly, certificate(pki.intermediate.der)));
});

t.test('CrlCache over loopback HTTP', async (t) => {
  const loaded = TrustStore.from({ anchors: [pki.root.pem], intermediates: [pki.intermediate.pem] });
  if (!loaded.ok) throw new Error('load failed');
  const holder = new TrustStoreHolder(loaded.value);
  const clock = pki.now;

  t.test('refresh fetches configured URLs and those the trust store names', async (t) => {
    serveCurrent();
    // The root CRL URL comes from the intermediate's CRL distribution point; the intermediate's
    // own CRL URL is configured (agency certificates name it, but none has been seen yet).
    const cache = new CrlCache({ urls: [pki.crlUrls.intermediate], issuers: () => holder.current(), clock: () => clock });
    t.same(cache.urls().sort(), [pki.crlUrls.intermediate, pki.crlUrls.root].sort());
    t.equal(cache.staleCrls().length, 2, 'nothing held yet: both stale');
    const outcomes = await cache.refresh();
    t.same(
      outcomes.map((outcome) => [outcome.url, outcome.status, outcome.held?.signature, outcome.held?.stale]),
      [
        [pki.crlUrls.intermediate, 'updated', 'verified', false],
        [pki.crlUrls.root, 'updated', 'verified', false],
      ],
    );
    t.equal(outcomes[0]?.held?.revoked, 1);
    t.same(cache.staleCrls(), []);

    const store = holder.current().withCrls(cache);
    const valid = store.evaluate(pki.chainOf(pki.leaves.valid), options);
    t.ok(valid.ok && valid.revocation === 'good', 'the fetched CRLs answer for the chain');
    const revoked = store.evaluate(pki.chainOf(pki.leaves.revoked), options);
    t.equal(revoked.ok ? 'ok' : revoked.code, 'EDX_ERR_SIGNATURE_CERT_REVOKED');

    t.test('a stale CRL from the server is held but reported, and hard-fail refuses', async (t) => {
      const staleCache = new CrlCache({ urls: [pki.crlUrls.intermediate, pki.crlUrls.root], issuers: () => holder.current(), clock: () => clock });
      routes.set(intermediatePath, { body: pki.crls.staleIntermediate });
      const [intermediateOutcome] = await staleCache.refresh();
      t.equal(intermediateOutcome?.status, 'updated');
      t.equal(intermediateOutcome?.held?.stale, true);
      const stale = staleCache.staleCrls();
      t.same(stale.map((entry) => entry.url), [pki.crlUrls.intermediate]);
      t.ok(stale[0]?.held?.nextUpdate && stale[0].held.nextUpdate < pki.now, 'doctor can show when it expired');
      const verdict = holder.current().withCrls(staleCache).evaluate(pki.chainOf(pki.leaves.valid), options);
      t.equal(verdict.ok ? 'ok' : verdict.code, 'EDX_ERR_SIGNATURE_CERT_REVOCATION_UNKNOWN');
      const soft = holder.current().withCrls(staleCache).evaluate(pki.chainOf(pki.leaves.valid), { ...options, revocation: 'soft-fail' });
      t.ok(soft.ok && soft.revocation === 'unknown');
      serveCurrent();
    });

    t.test('failures keep the previous CRL and say why', async (t) => {
      routes.set(intermediatePath, { status: 503, body: 'maintenance' });
      routes.set(rootPath, { body: 'this is not a CRL' });
      const outcomes = await cache.refresh();
      t.same(outcomes.map((outcome) => outcome.status), ['failed', 'failed']);
      t.match(outcomes[0]?.detail, /HTTP 503/);
      t.match(outcomes[1]?.detail, /not a CRL/);
      t.equal(outcomes[0]?.held?.revoked, 1, 'the previous CRL is still held');
      t.ok(store.evaluate(pki.chainOf(pki.leaves.valid), options).ok, 'and still used');
      const status = cache.status();
      t.match(status.find((entry) => entry.url === pki.crlUrls.intermediate)?.lastError, /HTTP 503/);
      serveCurrent();
    });

    t.test('a CRL not signed by the CA is refused', async (t) => {
      const forged = issueCrl({
        issuer: pki.intermediate,
        signWith: (await testKey('unknown-root')).privateKey,
        thisUpdate: pki.now,
        nextUpdate: new Date(pki.now.getTime() + 7 * DAY),
        crlNumber: 99,
      });
      routes.set(intermediatePath, { body: forged });
      const outcome = await cache.refreshUrl(pki.crlUrls.intermediate);
      t.equal(outcome.status, 'failed');
      t.match(outcome.detail, /signature does not verify/);
      t.equal(outcome.held?.crlNumber, '02');
      serveCurrent();
    });

    t.test('a replayed older CRL does not replace a newer one', async (t) => {
      const older = issueCrl({
        issuer: pki.intermediate,
        thisUpdate: new Date(pki.now.getTime() - 2 * DAY),
        nextUpdate: new Date(pki.now.getTime() + 5 * DAY),
        crlNumber: 1,
      });
      routes.set(intermediatePath, { body: older });
      const outcome = await cache.refreshUrl(pki.crlUrls.intermediate);
      t.equal(outcome.status, 'unchanged');
      t.match(outcome.detail, /older CRL/);
      t.equal(outcome.held?.revoked, 1, 'the revocation stays');
      serveCurrent();
      t.equal((await cache.refreshUrl(pki.crlUrls.intermediate)).status, 'unchanged', 'the same CRL again');
    });

    t.test('unreachable, oversized and non-http URLs', async (t) => {
      const probe = createServer();
      const closedPort = await new Promise<number>((resolve) => {
        probe.listen(0, '127.0.0.1', () => {
          const address = probe.address();
          const port = typeof address === 'object' && address ? address.port : 0;
          probe.close(() => resolve(port));
        });
      });
      const small = new CrlCache({ urls: [`http://127.0.0.1:${closedPort}/gone.crl`, pki.crlUrls.intermediate, 'ldap://ldap.example/cn=crl'], maxBytes: 100, issuers: () => holder.current() });
      const outcomes = await small.refresh();
      t.equal(outcomes[0]?.status, 'failed');
      t.match(outcomes[0]?.detail, /request failed/);
      t.equal(outcomes[1]?.status, 'failed');
      t.match(outcomes[1]?.detail, /larger than 100 bytes/);
      t.equal(outcomes[2]?.status, 'skipped');
    });
  });

  t.test('conditional requests: ETag and 304', async (t) => {
    serveCurrent();
    routes.set(intermediatePath, { body: pki.crls.intermediate, etag: '"v2"' });
    const cache = new CrlCache({ urls: [pki.crlUrls.intermediate], issuers: () => holder.current() });
    t.equal((await cache.refreshUrl(pki.crlUrls.intermediate)).status, 'updated');
    requests.length = 0;
    const second = await cache.refreshUrl(pki.crlUrls.intermediate);
    t.equal(second.status, 'not-modified');
    t.equal(second.held?.crlNumber, '02');
    t.same(requests, [{ path: intermediatePath, ifNoneMatch: '"v2"' }]);
  });

  t.test('persistence in a folder survives a restart', async (t) => {
    serveCurrent();
    const directory = await mkdtemp(join(tmpdir(), 'edxgate-crl-'));
    t.teardown(() => rm(directory, { recursive: true, force: true }));
    const first = await CrlCache.open({ urls: [pki.crlUrls.intermediate], issuers: () => holder.current(), directory });
    await first.refresh();
    await first.idle();
    const files = (await readdir(directory)).sort();
    const hashOf = (url: string): string => `${createHash('sha256').update(url).digest('hex').slice(0, 32)}.crl`;
    t.same(files, [hashOf(pki.crlUrls.intermediate), hashOf(pki.crlUrls.root), 'index.json'].sort());

    routes.clear(); // the CA's server is down after the restart
    const second = await CrlCache.open({ urls: [pki.crlUrls.intermediate], issuers: () => holder.current(), directory });
    const store = holder.current().withCrls(second);
    const verdict = store.evaluate(pki.chainOf(pki.leaves.valid), options);
    t.ok(verdict.ok && verdict.revocation === 'good', 'the persisted CRLs are used without any fetch');
    t.same(second.staleCrls(), []);
    t.ok(second.urls().includes(pki.crlUrls.root), 'persisted URLs are refreshed later');
  });

  t.test('discovery: a verified chain names an unknown CRL URL, and it is fetched', async (t) => {
    serveCurrent();
    // Nothing configured: the store (intermediate) names the root CRL; the agency certificate
    // names the intermediate's CRL, which the cache learns on first use.
    const cache = new CrlCache({ issuers: () => holder.current() });
    await cache.refresh();
    const store = holder.current().withCrls(cache);
    const first = store.evaluate(pki.chainOf(pki.leaves.valid), options);
    t.equal(first.ok ? 'ok' : first.code, 'EDX_ERR_SIGNATURE_CERT_REVOCATION_UNKNOWN', 'refused until the CRL is there');
    await cache.idle();
    t.ok(cache.urls().includes(pki.crlUrls.intermediate));
    const second = store.evaluate(pki.chainOf(pki.leaves.valid), options);
    t.ok(second.ok && second.revocation === 'good', 'accepted once the discovered CRL arrived');

    requests.length = 0;
    store.evaluate([pki.leaves.unknownCa.der, pki.unknownRoot.der], options);
    await cache.idle();
    t.same(requests, [], 'an untrusted chain never makes the gateway fetch anything');
  });

  t.test('startRefreshing runs refresh on a timer until stopped', async (t) => {
    serveCurrent();
    const cache = new CrlCache({ urls: [pki.crlUrls.intermediate], issuers: () => holder.current() });
    const rounds: string[][] = [];
    const stop = cache.startRefreshing(20, (outcomes) => rounds.push(outcomes.map((outcome) => outcome.status)));
    while (rounds.length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    stop();
    const seen = rounds.length;
    await new Promise((resolve) => setTimeout(resolve, 80));
    await cache.idle();
    t.equal(rounds.length, seen, 'no round after stop');
    t.same(rounds[0], ['updated', 'updated']);
    t.same(rounds[1], ['unchanged', 'unchanged']);
  });

  t.test('a CRL file added by hand', async (t) => {
    const cache = new CrlCache({ issuers: () => holder.current() });
    const added = cache.add(toPemText(pki.crls.intermediate, 'X509 CRL'), '/etc/edxgate/crl/intermediate.crl');
    t.ok(added.ok);
    const forged = issueCrl({ issuer: pki.root, signWith: (await testKey('unknown-root')).privateKey, thisUpdate: pki.now, nextUpdate: pki.now });
    const refused = cache.add(forged, 'forged.crl');
    t.notOk(refused.ok);
    t.same(
      cache.status().map((entry) => [entry.url, entry.stale]),
      [
        [pki.crlUrls.root, true],
        ['/etc/edxgate/crl/intermediate.crl', false],
      ],
    );
    const nextWeek = new Date(pki.now.getTime() + 8 * DAY);
    t.same(cache.staleCrls(nextWeek).map((entry) => entry.url).sort(), ['/etc/edxgate/crl/intermediate.crl', pki.crlUrls.root].sort(), 'stale once past nextUpdate');
  });
});
