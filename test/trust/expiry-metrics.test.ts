// The certificate expiry gauge: one series per certificate, days to expiry (negative once
// expired), read at scrape time; certificates that disappear lose their series; a failing read
// keeps the last values and reports the error.

import { Registry } from 'prom-client';
import t from 'tap';

import { CERTIFICATE_EXPIRY_GAUGE_NAME, registerCertificateExpiryGauge } from '../../src/trust/expiry-metrics.ts';
import { TrustStore, certificateExpiry } from '../../src/trust/pki/index.ts';
import type { ExpiryReport } from '../../src/trust/pki/index.ts';
import { TEST_AGENCY, createTestPki } from './helpers/test-pki.ts';

const pki = await createTestPki();
const store = TrustStore.from({ anchors: [pki.root.pem], intermediates: [pki.intermediate.pem] });
if (!store.ok) throw new Error('the test trust store does not load');

/** The gauge's samples as {labels, value}, from the registry's JSON (what a scrape would read). */
async function samples(registry: Registry): Promise<{ labels: Record<string, string | number | undefined>; value: number }[]> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === CERTIFICATE_EXPIRY_GAUGE_NAME);
  if (metric === undefined) throw new Error('the gauge is not registered');
  return metric.values.map((v) => ({ labels: { ...v.labels }, value: v.value }));
}

t.test('one series per certificate, days to expiry, negative once expired', async (t) => {
  const asked: number[] = [];
  const registry = new Registry();
  registerCertificateExpiryGauge(registry, {
    expiry: (withinDays) => {
      asked.push(withinDays);
      return certificateExpiry(
        {
          trustStore: store.value,
          signingKey: { privateKey: pki.leaves.expiringSoon.privateKey, certificates: [pki.leaves.expiringSoon.der, pki.intermediate.der] },
          agencyCertificates: [{ agency: TEST_AGENCY, certificate: pki.leaves.expired.der }],
        },
        { at: pki.now, withinDays },
      );
    },
  });
  const values = await samples(registry);
  t.same(asked, [0], 'read once per scrape');
  const byRole = new Map(values.map((s) => [`${s.labels['role']}`, s]));
  t.same([...byRole.keys()].sort(), ['agency', 'anchor', 'intermediate', 'signing', 'signing-chain']);
  t.same(byRole.get('signing'), {
    labels: { role: 'signing', subject: 'CN=Văn thư Sở Nội vụ, O=000.00.15.H47, OU=Test CA — not for production, C=VN', fingerprint: pki.leaves.expiringSoon.fingerprint256 },
    value: 10,
  });
  t.equal(byRole.get('agency')?.value, -35, 'expired 35 days ago');
  t.equal(byRole.get('anchor')?.value, 3650);
  t.match(byRole.get('intermediate'), { labels: { fingerprint: pki.intermediate.fingerprint256 }, value: 1825 });

  const text = await registry.metrics();
  t.match(text, `# TYPE ${CERTIFICATE_EXPIRY_GAUGE_NAME} gauge`);
  t.match(text, new RegExp(`${CERTIFICATE_EXPIRY_GAUGE_NAME}\\{role="agency",subject="[^"]+",fingerprint="${pki.leaves.expired.fingerprint256}"\\} -35\\n`));
});

t.test('a certificate gone since the last scrape loses its series; a failing read keeps the last values', async (t) => {
  let report: () => Promise<ExpiryReport> = async () => certificateExpiry({ trustStore: store.value }, { at: pki.now, withinDays: 0 });
  const errors: unknown[] = [];
  const registry = new Registry();
  registerCertificateExpiryGauge(registry, { expiry: () => report(), onError: (error) => errors.push(error) });
  t.same((await samples(registry)).map((s) => s.labels['role']).sort(), ['anchor', 'intermediate']);

  // A reload that dropped the intermediate.
  const rootOnly = TrustStore.from({ anchors: [pki.root.pem] });
  if (!rootOnly.ok) throw new Error('unreachable');
  report = async () => certificateExpiry({ trustStore: rootOnly.value }, { at: pki.now, withinDays: 0 });
  t.same((await samples(registry)).map((s) => s.labels['role']), ['anchor']);

  report = () => Promise.reject(new Error('database unavailable'));
  const kept = await samples(registry);
  t.same(kept.map((s) => [s.labels['role'], s.value]), [['anchor', 3650]], 'the scrape still works, with the last values');
  t.equal(errors.length, 1);
  t.match(errors[0], { message: 'database unavailable' });
});
