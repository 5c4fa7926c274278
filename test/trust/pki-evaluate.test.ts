// The certificate decision: every refusal kind, the order of checks, hard- and soft-fail
// revocation, and chain building (intermediates from the store or from KeyInfo).

import t from 'tap';
import type { Test } from 'tap';
import { parseCrl, staticCrls } from '../../src/trust/pki/crl.ts';
import type { Crl, RevocationSource } from '../../src/trust/pki/crl.ts';
import { TrustStore } from '../../src/trust/pki/trust-store.ts';
import type { EvaluateOptions } from '../../src/trust/pki/trust-store.ts';
import type { CertificateVerdict } from '../../src/trust/types.ts';
import { OTHER_AGENCY, TEST_AGENCY, createTestPki, issueCertificate, issueCrl, testKey } from './helpers/test-pki.ts';

const pki = await createTestPki();
const DAY = 86_400_000;

function crl(der: Buffer): Crl {
  const parsed = parseCrl(der);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.value;
}

function store(options: { intermediates?: boolean; crls?: RevocationSource | undefined } = {}): TrustStore {
  const crls = 'crls' in options ? options.crls : staticCrls([crl(pki.crls.root), crl(pki.crls.intermediate)]);
  const loaded = TrustStore.from({
    anchors: [pki.root.pem],
    intermediates: options.intermediates === false ? [] : [pki.intermediate.der],
    crls,
  });
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.issues));
  return loaded.value;
}

const options = (overrides: Partial<EvaluateOptions> = {}): EvaluateOptions => ({
  at: pki.now,
  agency: TEST_AGENCY,
  binding: pki.binding,
  revocation: 'hard-fail',
  ...overrides,
});

function refused(t: Test, verdict: CertificateVerdict, code: string, reason: RegExp): void {
  if (verdict.ok) {
    t.fail(`expected ${code}, got ok (${verdict.subject})`);
    return;
  }
  t.equal(verdict.code, code);
  t.match(verdict.reason, reason);
}

const trusted = store();

t.test('a valid agency certificate chains to the root and is not revoked', async (t) => {
  const verdict = trusted.evaluate(pki.chainOf(pki.leaves.valid), options());
  t.ok(verdict.ok);
  if (!verdict.ok) return;
  t.equal(verdict.subject, 'CN=Văn thư Sở Nội vụ, O=000.00.15.H47, OU=Test CA — not for production, C=VN');
  t.match(verdict.issuer, /^CN=edxgate Test Intermediate CA/);
  t.equal(verdict.serialNumber, pki.leaves.valid.serialNumber);
  t.equal(verdict.chain.length, 3);
  t.match(verdict.chain[2], /^CN=edxgate Test Root CA/);
  t.equal(verdict.revocation, 'good');
  t.same(verdict.notAfter, new Date(pki.now.getTime() + 365 * DAY));
});

t.test('refusal kinds', async (t) => {
  t.test('expired', async (t) => {
    refused(t, trusted.evaluate(pki.chainOf(pki.leaves.expired), options()), 'EDX_ERR_SIGNATURE_CERT_EXPIRED', /expired on/);
  });
  t.test('not yet valid is reported as EXPIRED with the start date', async (t) => {
    refused(t, trusted.evaluate(pki.chainOf(pki.leaves.notYetValid), options()), 'EDX_ERR_SIGNATURE_CERT_EXPIRED', /not valid before/);
  });
  t.test('revoked (listed in the intermediate CA CRL)', async (t) => {
    refused(t, trusted.evaluate(pki.chainOf(pki.leaves.revoked), options()), 'EDX_ERR_SIGNATURE_CERT_REVOKED', /revoked on .*keyCompromise/);
  });
  t.test('revoked is refused under soft-fail too', async (t) => {
    refused(t, trusted.evaluate(pki.chainOf(pki.leaves.revoked), options({ revocation: 'soft-fail' })), 'EDX_ERR_SIGNATURE_CERT_REVOKED', /revoked/);
  });
  t.test('wrong agency: a valid certificate of another agency', async (t) => {
    const verdict = trusted.evaluate(pki.chainOf(pki.leaves.wrongAgency), options());
    refused(t, verdict, 'EDX_ERR_SIGNATURE_CERT_WRONG_AGENCY', /000\.00\.15\.H47/);
    t.equal(verdict.ok ? undefined : verdict.subject, 'CN=Văn thư Sở Tài chính, O=000.00.16.H47, OU=Test CA — not for production, C=VN');
    t.ok(trusted.evaluate(pki.chainOf(pki.leaves.wrongAgency), options({ agency: OTHER_AGENCY })).ok, 'it is fine for its own agency');
  });
  t.test('self-signed and not an anchor', async (t) => {
    refused(t, trusted.evaluate([pki.leaves.selfSigned.der], options()), 'EDX_ERR_SIGNATURE_CERT_UNTRUSTED', /self-signed/);
  });
  t.test('unknown CA', async (t) => {
    refused(t, trusted.evaluate([pki.leaves.unknownCa.der], options()), 'EDX_ERR_SIGNATURE_CERT_UNTRUSTED', /Unknown Test Root CA.*neither in the trust store/);
  });
  t.test('unknown CA even when KeyInfo carries its root', async (t) => {
    refused(
      t,
      trusted.evaluate([pki.leaves.unknownCa.der, pki.unknownRoot.der], options()),
      'EDX_ERR_SIGNATURE_CERT_UNTRUSTED',
      /chain ends at the self-signed CN=Unknown Test Root CA/,
    );
  });
  t.test('broken link signature', async (t) => {
    refused(t, trusted.evaluate(pki.chainOf(pki.leaves.brokenSignature), options()), 'EDX_ERR_SIGNATURE_CERT_UNTRUSTED', /does not verify with the key of CN=edxgate Test Intermediate CA/);
  });
  t.test('no certificate, an unreadable one, no valid time', async (t) => {
    refused(t, trusted.evaluate([], options()), 'EDX_ERR_SIGNATURE_CERT_UNTRUSTED', /no certificate/);
    refused(t, trusted.evaluate([Buffer.from('MIIFqTCCBJG', 'base64')], options()), 'EDX_ERR_SIGNATURE_CERT_UNTRUSTED', /cannot be read/);
    refused(t, trusted.evaluate(pki.chainOf(pki.leaves.valid), options({ at: new Date(Number.NaN) })), 'EDX_ERR_SIGNATURE_CERT_UNTRUSTED', /No valid time/);
  });
});

t.test('the order of checks: the most definite refusal wins', async (t) => {
  // Wrong agency AND expired: expiry is reported (it is what the sender must fix first).
  const expiredOther = issueCertificate({
    subject: { CN: 'Văn thư khác', O: OTHER_AGENCY, C: 'VN' },
    key: await testKey('wrong-agency'),
    issuer: pki.intermediate,
    notBefore: new Date(pki.now.getTime() - 400 * DAY),
    notAfter: new Date(pki.now.getTime() - 10 * DAY),
  });
  refused(t, trusted.evaluate([expiredOther.der], options()), 'EDX_ERR_SIGNATURE_CERT_EXPIRED', /expired/);
  // Wrong agency with no CRL at all under hard-fail: WRONG_AGENCY, since retrying would not help.
  const noCrls = store({ crls: undefined });
  refused(t, noCrls.evaluate(pki.chainOf(pki.leaves.wrongAgency), options()), 'EDX_ERR_SIGNATURE_CERT_WRONG_AGENCY', /does not match/);
});

t.test('chain building', async (t) => {
  const withoutIntermediates = store({ intermediates: false });
  t.ok(withoutIntermediates.evaluate(pki.chainOf(pki.leaves.valid), options()).ok, 'the intermediate may come from KeyInfo');
  refused(
    t,
    withoutIntermediates.evaluate([pki.leaves.valid.der], options()),
    'EDX_ERR_SIGNATURE_CERT_UNTRUSTED',
    /issuer of .* \(CN=edxgate Test Intermediate CA.*neither in the trust store nor among the certificates in KeyInfo/,
  );
  t.ok(trusted.evaluate([pki.leaves.valid.der], options()).ok, 'or from the store when KeyInfo has only the signer');
  t.ok(trusted.evaluate([pki.leaves.valid.der, pki.root.der, pki.intermediate.der, Buffer.from('junk')], options()).ok, 'order and junk in KeyInfo do not matter');

  t.test('an anchor itself may sign (a pinned self-signed certificate)', async (t) => {
    const pinned = TrustStore.from({ anchors: [pki.leaves.selfSigned.der] });
    if (!pinned.ok) throw new Error('load failed');
    const verdict = pinned.value.evaluate([pki.leaves.selfSigned.der], options());
    t.ok(verdict.ok);
    if (verdict.ok) t.equal(verdict.revocation, 'good', 'nothing below the anchor to check');
  });

  t.test('an issuer that is not a CA cannot issue', async (t) => {
    const issuedByLeaf = issueCertificate({
      subject: { CN: 'issued by an end entity', O: TEST_AGENCY, C: 'VN' },
      key: await testKey('expiring-soon'),
      issuer: pki.leaves.valid,
      notBefore: new Date(pki.now.getTime() - DAY),
      notAfter: new Date(pki.now.getTime() + DAY),
    });
    refused(t, trusted.evaluate([issuedByLeaf.der, pki.leaves.valid.der, pki.intermediate.der], options()), 'EDX_ERR_SIGNATURE_CERT_UNTRUSTED', /not a CA certificate/);
  });

  t.test('pathLength of the intermediate (0) forbids a CA below it', async (t) => {
    const subCa = issueCertificate({
      subject: { CN: 'edxgate Test Sub CA', O: 'edxgate test PKI', C: 'VN' },
      key: await testKey('unknown-ca'),
      issuer: pki.intermediate,
      notBefore: new Date(pki.now.getTime() - DAY),
      notAfter: new Date(pki.now.getTime() + 100 * DAY),
      ca: {},
    });
    const leaf = issueCertificate({
      subject: { CN: 'leaf under the sub CA', O: TEST_AGENCY, C: 'VN' },
      key: await testKey('expiring-soon'),
      issuer: subCa,
      notBefore: new Date(pki.now.getTime() - DAY),
      notAfter: new Date(pki.now.getTime() + DAY),
    });
    refused(t, trusted.evaluate([leaf.der, subCa.der, pki.intermediate.der], options()), 'EDX_ERR_SIGNATURE_CERT_UNTRUSTED', /allows 0 intermediate/);
  });

  t.test('a signer whose keyUsage excludes signing', async (t) => {
    const encryptionOnly = issueCertificate({
      subject: { CN: 'encryption only', O: TEST_AGENCY, C: 'VN' },
      key: await testKey('expiring-soon'),
      issuer: pki.intermediate,
      keyUsage: ['keyEncipherment'],
      notBefore: new Date(pki.now.getTime() - DAY),
      notAfter: new Date(pki.now.getTime() + DAY),
    });
    refused(t, trusted.evaluate([encryptionOnly.der], options()), 'EDX_ERR_SIGNATURE_CERT_UNTRUSTED', /allows neither digitalSignature nor nonRepudiation/);
  });

  t.test('an unknown critical extension makes a certificate untrusted', async (t) => {
    const { default: forge } = await import('node-forge');
    const critical = issueCertificate({
      subject: { CN: 'critical extension', O: TEST_AGENCY, C: 'VN' },
      key: await testKey('expiring-soon'),
      issuer: pki.intermediate,
      notBefore: new Date(pki.now.getTime() - DAY),
      notAfter: new Date(pki.now.getTime() + DAY),
      extraExtensions: [{ oid: '1.3.6.1.4.1.99999.1', critical: true, value: forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.NULL, false, '') }],
    });
    refused(t, trusted.evaluate([critical.der], options()), 'EDX_ERR_SIGNATURE_CERT_UNTRUSTED', /critical extensions .*1\.3\.6\.1\.4\.1\.99999\.1/);
  });

  t.test('an expired intermediate makes the chain expired', async (t) => {
    const oldIntermediate = issueCertificate({
      subject: pki.intermediate.name,
      key: await testKey('intermediate'),
      issuer: pki.root,
      notBefore: new Date(pki.now.getTime() - 800 * DAY),
      notAfter: new Date(pki.now.getTime() - 400 * DAY),
      ca: { pathLength: 0 },
    });
    const onlyOld = TrustStore.from({ anchors: [pki.root.der], intermediates: [oldIntermediate.der], crls: staticCrls([crl(pki.crls.root), crl(pki.crls.intermediate)]) });
    if (!onlyOld.ok) throw new Error('load failed');
    t.ok(onlyOld.warnings.some((w) => w.code === 'EDX_ERR_SIGNATURE_CERT_EXPIRED'), 'the load warns about the expired CA');
    refused(t, onlyOld.value.evaluate([pki.leaves.valid.der], options()), 'EDX_ERR_SIGNATURE_CERT_EXPIRED', /The CA certificate CN=edxgate Test Intermediate CA.*expired/);
    t.test('but a renewed intermediate with the same key, sent in KeyInfo, is preferred', async (t) => {
      t.ok(onlyOld.value.evaluate(pki.chainOf(pki.leaves.valid), options()).ok);
    });
  });
});

t.test('revocation: hard-fail and soft-fail', async (t) => {
  t.test('no CRL source at all', async (t) => {
    const noCrls = store({ crls: undefined });
    refused(t, noCrls.evaluate(pki.chainOf(pki.leaves.valid), options()), 'EDX_ERR_SIGNATURE_CERT_REVOCATION_UNKNOWN', /No revocation lists are configured/);
    const soft = noCrls.evaluate(pki.chainOf(pki.leaves.valid), options({ revocation: 'soft-fail' }));
    t.ok(soft.ok);
    if (soft.ok) t.equal(soft.revocation, 'unknown');
  });

  t.test('only a stale intermediate CRL', async (t) => {
    const stale = store({ crls: staticCrls([crl(pki.crls.root), crl(pki.crls.staleIntermediate)]) });
    refused(t, stale.evaluate(pki.chainOf(pki.leaves.valid), options()), 'EDX_ERR_SIGNATURE_CERT_REVOCATION_UNKNOWN', /not current .*next update was due/);
    const soft = stale.evaluate(pki.chainOf(pki.leaves.valid), options({ revocation: 'soft-fail' }));
    t.ok(soft.ok && soft.revocation === 'unknown');
  });

  t.test("the root's CRL is needed too (the intermediate could be revoked)", async (t) => {
    const noRootCrl = store({ crls: staticCrls([crl(pki.crls.intermediate)]) });
    refused(t, noRootCrl.evaluate(pki.chainOf(pki.leaves.valid), options()), 'EDX_ERR_SIGNATURE_CERT_REVOCATION_UNKNOWN', /No CRL of CN=edxgate Test Root CA/);
  });

  t.test('a revoked intermediate revokes the chain', async (t) => {
    const rootCrl = issueCrl({
      issuer: pki.root,
      thisUpdate: new Date(pki.now.getTime() - DAY),
      nextUpdate: new Date(pki.now.getTime() + DAY),
      revoked: [{ serialNumber: pki.intermediate.serialNumber, revocationDate: new Date(pki.now.getTime() - DAY), reasonCode: 2 }],
    });
    const revokedCa = store({ crls: staticCrls([crl(rootCrl), crl(pki.crls.intermediate)]) });
    refused(t, revokedCa.evaluate(pki.chainOf(pki.leaves.valid), options({ revocation: 'soft-fail' })), 'EDX_ERR_SIGNATURE_CERT_REVOKED', /The CA certificate CN=edxgate Test Intermediate CA.*cACompromise/);
  });

  t.test('a forged CRL (right issuer name, wrong key) is ignored', async (t) => {
    const forged = issueCrl({
      issuer: pki.intermediate,
      signWith: (await testKey('unknown-root')).privateKey,
      thisUpdate: new Date(pki.now.getTime() - DAY),
      nextUpdate: new Date(pki.now.getTime() + DAY),
      revoked: [{ serialNumber: pki.leaves.valid.serialNumber, revocationDate: pki.now }],
    });
    const forgedOnly = store({ crls: staticCrls([crl(pki.crls.root), crl(forged)]) });
    refused(t, forgedOnly.evaluate(pki.chainOf(pki.leaves.valid), options()), 'EDX_ERR_SIGNATURE_CERT_REVOCATION_UNKNOWN', /signed with its key/);
  });

  t.test('a revoked certificate stays revoked in a stale CRL, a hold does not', async (t) => {
    const staleListing = issueCrl({
      issuer: pki.intermediate,
      thisUpdate: new Date(pki.now.getTime() - 20 * DAY),
      nextUpdate: new Date(pki.now.getTime() - 10 * DAY),
      revoked: [
        { serialNumber: pki.leaves.revoked.serialNumber, revocationDate: new Date(pki.now.getTime() - 21 * DAY), reasonCode: 1 },
        { serialNumber: pki.leaves.valid.serialNumber, revocationDate: new Date(pki.now.getTime() - 21 * DAY), reasonCode: 6 },
      ],
    });
    const stale = store({ crls: staticCrls([crl(pki.crls.root), crl(staleListing)]) });
    refused(t, stale.evaluate(pki.chainOf(pki.leaves.revoked), options({ revocation: 'soft-fail' })), 'EDX_ERR_SIGNATURE_CERT_REVOKED', /keyCompromise/);
    const held = stale.evaluate(pki.chainOf(pki.leaves.valid), options({ revocation: 'soft-fail' }));
    t.ok(held.ok && held.revocation === 'unknown', 'an old hold may have been lifted');
  });

  t.test('a hold on a current CRL refuses', async (t) => {
    const onHold = issueCrl({
      issuer: pki.intermediate,
      thisUpdate: new Date(pki.now.getTime() - DAY),
      nextUpdate: new Date(pki.now.getTime() + DAY),
      crlNumber: 3,
      revoked: [{ serialNumber: pki.leaves.valid.serialNumber, revocationDate: pki.now, reasonCode: 6 }],
    });
    const held = store({ crls: staticCrls([crl(pki.crls.root), crl(onHold)]) });
    refused(t, held.evaluate(pki.chainOf(pki.leaves.valid), options()), 'EDX_ERR_SIGNATURE_CERT_REVOKED', /certificateHold/);
  });

  t.test('evaluation at a past instant uses the CRL current then', async (t) => {
    const past = new Date(pki.now.getTime() - 25 * DAY);
    const stale = store({ crls: staticCrls([crl(pki.crls.root), crl(pki.crls.staleIntermediate)]) });
    refused(t, stale.evaluate(pki.chainOf(pki.leaves.valid), options({ at: past })), 'EDX_ERR_SIGNATURE_CERT_REVOCATION_UNKNOWN', /CRL of CN=edxgate Test Root CA/);
  });
});

t.test('agency binding by fingerprint', async (t) => {
  t.ok(trusted.evaluate(pki.chainOf(pki.leaves.valid), options({ binding: pki.fingerprintBinding })).ok);
  refused(
    t,
    trusted.evaluate(pki.chainOf(pki.leaves.expiringSoon), options({ binding: pki.fingerprintBinding })),
    'EDX_ERR_SIGNATURE_CERT_WRONG_AGENCY',
    /does not match the certificates bound to agency 000\.00\.15\.H47/,
  );
  refused(
    t,
    trusted.evaluate(pki.chainOf(pki.leaves.wrongAgency), options({ agency: OTHER_AGENCY, binding: pki.fingerprintBinding })),
    'EDX_ERR_SIGNATURE_CERT_WRONG_AGENCY',
    /no certificate is bound to agency 000\.00\.16\.H47/,
  );
});

t.test('the verified chain tells the revocation source its CRL URLs', async (t) => {
  const told: string[][] = [];
  const source: RevocationSource = { crlsIssuedBy: () => [], noteDistributionPoints: (uris) => told.push([...uris]) };
  store({ crls: source }).evaluate(pki.chainOf(pki.leaves.valid), options());
  t.same(told, [[pki.crlUrls.intermediate, pki.crlUrls.root]]);
  told.length = 0;
  store({ crls: source }).evaluate([pki.leaves.unknownCa.der, pki.unknownRoot.der], options());
  store({ crls: source }).evaluate(pki.chainOf(pki.leaves.brokenSignature), options());
  t.same(told, [], 'never from a chain that did not verify');
});
