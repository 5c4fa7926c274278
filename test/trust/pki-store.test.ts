// Loading the trust store (rows and files), swapping snapshots on reload, agency bindings, the
// expiry report, and the test-PKI CLI wrapper.

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { checkAgencyBinding, matchAgencyBinding } from '../../src/trust/pki/agency-binding.ts';
import type { AgencyBinding } from '../../src/trust/pki/agency-binding.ts';
import { parseCertificate, readCertificates } from '../../src/trust/pki/certificate.ts';
import type { Certificate } from '../../src/trust/pki/certificate.ts';
import { certificateExpiry } from '../../src/trust/pki/expiry.ts';
import { loadSigningKey } from '../../src/trust/pki/signing-key.ts';
import { TrustStore, TrustStoreHolder, loadTrustStore, readCertificateFiles } from '../../src/trust/pki/trust-store.ts';
import type { EvaluateOptions } from '../../src/trust/pki/trust-store.ts';
import type { Result } from '../../src/errors.ts';
import { OTHER_AGENCY, TEST_AGENCY, createTestPki, issueCertificate, testKey, writeTestPki } from './helpers/test-pki.ts';

const pki = await createTestPki();
const DAY = 86_400_000;
const softFail: EvaluateOptions = { at: pki.now, agency: TEST_AGENCY, binding: pki.binding, revocation: 'soft-fail' };

function certificate(der: Buffer): Certificate {
  const parsed = parseCertificate(der);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.value;
}

function loaded(result: Result<TrustStore>): TrustStore {
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.value;
}

t.test('TrustStore.from', async (t) => {
  const store = loaded(TrustStore.from({ anchors: [pki.root.pem, pki.root.der], intermediates: [pki.intermediate.pem + pki.root.pem] }));
  t.equal(store.anchors.length, 1, 'duplicates collapse');
  t.equal(store.intermediates.length, 1, 'an anchor listed among intermediates stays an anchor');
  t.same(store.distributionPoints(), [pki.crlUrls.root]);
  t.ok(Object.isFrozen(store) && Object.isFrozen(store.anchors), 'a snapshot cannot be changed');

  const bad = TrustStore.from({
    anchors: [pki.root.pem, { source: 'trust_anchors row 7', data: 'garbage' }],
    intermediates: [Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01])],
  });
  t.notOk(bad.ok);
  if (!bad.ok) {
    t.same(bad.issues.map((issue) => [issue.code, issue.path]), [
      ['EDX_ERR_CONFIG_INVALID', 'trust_anchors row 7'],
      ['EDX_ERR_CONFIG_INVALID', 'intermediates[0]'],
    ]);
  }

  const empty = TrustStore.from({ anchors: [] });
  t.ok(empty.ok);
  if (empty.ok) {
    t.match(empty.warnings[0]?.message, /no anchors/);
    t.equal(empty.value.evaluate(pki.chainOf(pki.leaves.valid), softFail).ok, false);
  }
  const nonCa = TrustStore.from({ anchors: [pki.root.der], intermediates: [pki.leaves.valid.der] });
  t.ok(nonCa.ok && nonCa.warnings.some((w) => /not a CA certificate/.test(w.message)));
});

t.test('loading from files and folders', async (t) => {
  const directory = await mkdtemp(join(tmpdir(), 'edxgate-trust-'));
  t.teardown(() => rm(directory, { recursive: true, force: true }));
  await writeTestPki(directory, pki);
  // Files a trust folder may also contain, which must be skipped.
  await writeFile(join(directory, 'anchors', 'README.md'), 'the Government CA root');
  await writeFile(join(directory, 'anchors', '.hidden.pem'), 'not a certificate');

  const files = await readCertificateFiles([join(directory, 'anchors')]);
  t.ok(files.ok);
  if (files.ok) t.same(files.value.map((input) => (typeof input === 'object' && 'source' in input ? input.source : '?')), [join(directory, 'anchors', 'root.pem')]);

  const store = loaded(
    await loadTrustStore({
      anchorPaths: [join(directory, 'anchors')],
      intermediatePaths: [join(directory, 'intermediates', 'intermediate.pem')],
    }),
  );
  t.equal(store.anchors.length, 1);
  t.equal(store.intermediates.length, 1);
  t.ok(store.evaluate([pki.leaves.valid.der], softFail).ok);

  const missing = await loadTrustStore({ anchorPaths: [join(directory, 'nope')] });
  t.notOk(missing.ok);
  if (!missing.ok) t.equal(missing.issues[0]?.code, 'EDX_ERR_FILE_UNREADABLE');

  await writeFile(join(directory, 'anchors', 'broken.crt'), 'not a certificate either');
  const broken = await loadTrustStore({ anchorPaths: [join(directory, 'anchors')] });
  t.notOk(broken.ok);
  if (!broken.ok) t.equal(broken.issues[0]?.path, join(directory, 'anchors', 'broken.crt'), 'the issue names the file');
});

t.test('reload swaps whole snapshots', async (t) => {
  const withRoot = loaded(TrustStore.from({ anchors: [pki.root.der], intermediates: [pki.intermediate.der] }));
  const withoutRoot = loaded(TrustStore.from({ anchors: [pki.unknownRoot.der] }));
  let next: () => Promise<Result<TrustStore>> = async () => ({ ok: true, value: withoutRoot, warnings: [] });
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const holder = new TrustStoreHolder(withRoot, async () => {
    await gate; // the reload is in progress until the test lets it finish
    return next();
  });

  // A verification that took its snapshot before the reload…
  const snapshot = holder.current();
  const reloading = holder.reload();
  t.ok(holder.evaluate(pki.chainOf(pki.leaves.valid), softFail).ok, 'while reloading, the old snapshot serves');
  release();
  const result = await reloading;
  t.ok(result.ok);
  t.equal(holder.current(), withoutRoot, 'the new snapshot is installed');
  // …completes against that snapshot, unaffected by the swap.
  t.ok(snapshot.evaluate(pki.chainOf(pki.leaves.valid), softFail).ok);
  t.ok(snapshot.anchors.some((anchor) => anchor.fingerprint256 === pki.root.fingerprint256));
  const after = holder.evaluate(pki.chainOf(pki.leaves.valid), softFail);
  t.equal(after.ok ? 'ok' : after.code, 'EDX_ERR_SIGNATURE_CERT_UNTRUSTED', 'new verifications use the new snapshot');

  t.test('a failed reload keeps the current snapshot', async (t) => {
    next = async () => TrustStore.from({ anchors: ['garbage'] });
    const failed = await holder.reload();
    t.notOk(failed.ok);
    t.equal(holder.current(), withoutRoot);
    next = async () => {
      throw new Error('database unreachable');
    };
    const thrown = await holder.reload();
    t.notOk(thrown.ok);
    if (!thrown.ok) t.match(thrown.issues[0]?.message, /database unreachable/);
    t.equal(holder.current(), withoutRoot);
  });

  t.test('overlapping reloads install in call order', async (t) => {
    const order: string[] = [];
    let calls = 0;
    const slowFirst = new TrustStoreHolder(withoutRoot, async () => {
      calls += 1;
      const call = calls;
      await new Promise((resolve) => setTimeout(resolve, call === 1 ? 30 : 1));
      order.push(`load ${call}`);
      return { ok: true, value: call === 1 ? withoutRoot : withRoot, warnings: [] };
    });
    await Promise.all([slowFirst.reload(), slowFirst.reload()]);
    t.same(order, ['load 1', 'load 2']);
    t.equal(slowFirst.current(), withRoot, 'the later reload wins');
  });

  t.test('replace() installs a snapshot directly', async (t) => {
    const previous = holder.replace(withRoot);
    t.equal(previous, withoutRoot);
    t.ok(holder.evaluate(pki.chainOf(pki.leaves.valid), softFail).ok);
    const noLoader = await new TrustStoreHolder(withRoot).reload();
    t.notOk(noLoader.ok);
  });
});

t.test('agency binding matcher', async (t) => {
  const valid = certificate(pki.leaves.valid.der);
  const byFingerprint: AgencyBinding = {
    agencies: new Map([[TEST_AGENCY, { fingerprints: [pki.leaves.valid.fingerprint256.toUpperCase().replace(/(..)(?!$)/g, '$1:')] }]]),
  };
  const match = matchAgencyBinding(valid, TEST_AGENCY, byFingerprint);
  t.ok(match.ok && match.by === 'fingerprint', 'colons and upper case are ignored');
  t.notOk(matchAgencyBinding(valid, OTHER_AGENCY, byFingerprint).ok, 'unlisted agency, no fallback: refused');

  const key = await testKey('expiring-soon');
  const subjectCertificate = (subject: { CN: string; O?: string; OU?: string; serialNumber?: string }): Certificate =>
    certificate(
      issueCertificate({
        subject: { ...subject, C: 'VN' },
        key,
        issuer: pki.intermediate,
        notBefore: pki.now,
        notAfter: new Date(pki.now.getTime() + DAY),
      }).der,
    );
  const inCn = subjectCertificate({ CN: 'Văn thư 000.00.15.H47 - Sở Nội vụ', O: 'UBND tỉnh' });
  const contains: AgencyBinding = { agencies: { [TEST_AGENCY]: { subjects: [{ attribute: 'CN', match: 'contains' }] } } };
  t.ok(matchAgencyBinding(inCn, TEST_AGENCY, contains).ok, 'the code as a token in CN');
  const longer = subjectCertificate({ CN: 'Văn thư 1000.00.15.H470' });
  t.notOk(matchAgencyBinding(longer, '000.00.15.H47', contains).ok, 'not inside a longer code');
  const prefixed = subjectCertificate({ CN: 'Văn thư (000.00.15.H47)' });
  t.ok(matchAgencyBinding(prefixed, TEST_AGENCY, contains).ok, 'punctuation is a boundary');

  const bySerial = subjectCertificate({ CN: 'Sở Nội vụ', serialNumber: 'MST:0101234567' });
  const serialBinding: AgencyBinding = { agencies: { [TEST_AGENCY]: { subjects: [{ attribute: 'serialNumber', value: 'mst:0101234567' }] } } };
  const serialMatch = matchAgencyBinding(bySerial, TEST_AGENCY, serialBinding);
  t.ok(serialMatch.ok && serialMatch.by === 'subject', 'a fixed value, case-insensitively');
  t.notOk(matchAgencyBinding(valid, TEST_AGENCY, serialBinding).ok);

  const fallbackOu: AgencyBinding = { agencies: {}, fallback: { subjects: [{ attribute: 'OU' }, { attribute: 'O' }] } };
  t.ok(matchAgencyBinding(valid, TEST_AGENCY, fallbackOu).ok, 'any pattern of the list binds');
  t.notOk(matchAgencyBinding(valid, 'toString', { agencies: {} }).ok, 'object keys are not agencies');

  const checked = checkAgencyBinding({
    agencies: { [TEST_AGENCY]: { fingerprints: ['abc'], subjects: [{ attribute: 'favouriteColour' }, { attribute: 'O', value: ' ' }] } },
  });
  t.notOk(checked.ok);
  if (!checked.ok) {
    t.same(checked.issues.map((issue) => issue.path), [
      `${TEST_AGENCY}/fingerprints[0]`,
      `${TEST_AGENCY}/subjects[0]/attribute`,
      `${TEST_AGENCY}/subjects[1]/value`,
    ]);
  }
  t.ok(checkAgencyBinding(pki.binding).ok && checkAgencyBinding(pki.fingerprintBinding).ok);
});

t.test('expiry report for doctor and /metrics', async (t) => {
  const store = loaded(TrustStore.from({ anchors: [pki.root.der], intermediates: [pki.intermediate.der] }));
  const signingKey = loadSigningKey({ pkcs12: pki.pkcs12, password: pki.p12Password });
  if (!signingKey.ok) throw new Error('signing key');
  const report = certificateExpiry(
    {
      trustStore: store,
      signingKey: signingKey.value,
      agencyCertificates: [
        { agency: TEST_AGENCY, certificate: pki.leaves.expiringSoon.pem },
        { agency: TEST_AGENCY, certificate: pki.leaves.expired.der },
        { agency: OTHER_AGENCY, certificate: 'garbage' },
      ],
    },
    { at: pki.now, withinDays: 30 },
  );
  t.same(
    report.certificates.map((entry) => [entry.role, entry.daysToExpiry, entry.expired]),
    [
      ['agency', -35, true],
      ['agency', 10, false],
      ['signing', 365, false],
      ['intermediate', 1825, false],
      ['signing-chain', 1825, false],
      ['anchor', 3650, false],
    ],
    'soonest first, with whole days left',
  );
  t.same(report.expiring.map((entry) => entry.daysToExpiry), [-35, 10]);
  t.equal(report.expiring[1]?.agency, TEST_AGENCY);
  t.same(report.unreadable.map((entry) => [entry.role, entry.agency]), [['agency', OTHER_AGENCY]]);
  t.equal(certificateExpiry({}, { at: pki.now, withinDays: 30 }).certificates.length, 0);
});

t.test('scripts/test-pki.ts writes the material into a folder', async (t) => {
  const directory = await mkdtemp(join(tmpdir(), 'edxgate-test-pki-'));
  t.teardown(() => rm(directory, { recursive: true, force: true }));
  const run = promisify(execFile);
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/test-pki.ts', directory, '--crl-base-url', 'http://127.0.0.1:1'], {
    cwd: join(import.meta.dirname, '..', '..'),
  });
  t.match(stdout, /TEST PKI material \(not for production\)/);
  const store = loaded(await loadTrustStore({ anchorPaths: [join(directory, 'anchors')], intermediatePaths: [join(directory, 'intermediates')] }));
  const chain = readCertificates(await readFile(join(directory, 'certs', 'valid.chain.pem')));
  t.ok(chain.ok);
  if (chain.ok) {
    t.equal(chain.value.length, 2, 'the chain file holds leaf and intermediate');
    t.same(chain.value[0]?.crlDistributionPoints, ['http://127.0.0.1:1/intermediate.crl']);
    t.ok(store.evaluate(chain.value.map((one) => one.der), softFail).ok);
  }
  const p12 = loadSigningKey({ pkcs12: await readFile(join(directory, 'valid.p12')), password: (await readFile(join(directory, 'valid.p12.password.txt'), 'utf8')).trim() });
  t.ok(p12.ok);
  const usage = await run(process.execPath, ['--import', 'tsx', 'scripts/test-pki.ts'], { cwd: join(import.meta.dirname, '..', '..') }).catch((error: { code?: number; stderr?: string }) => error);
  t.equal((usage as { code?: number }).code, 2, 'no folder: usage and exit code 2');
});
