// The certificate expiry gauge of /metrics: days until each certificate the gateway depends on
// expires (trust anchors, intermediates, its own signing certificate and chain, certificates bound
// to agencies), negative once expired — the same figures `edxgate doctor` prints. Read at scrape
// time from the trust service, so a trust store reload or a new agency certificate shows at the
// next scrape, and an alert rule (`edxgate_certificate_expiry_days < 30`) needs no other input.

import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { ExpiryReport } from './pki/expiry.ts';

/** Options of registerCertificateExpiryGauge. */
export interface CertificateExpiryGaugeOptions {
  /**
   * The expiry report, e.g. `(withinDays) => gateway.trust.expiry(withinDays)`. The gauge reads
   * `certificates` (all of them), so the horizon it asks for does not matter; it passes 0.
   */
  readonly expiry: (withinDays: number) => Promise<ExpiryReport> | ExpiryReport;
  /** Called when a scrape cannot read the report (the gauge then keeps its previous values). */
  readonly onError?: ((error: unknown) => void) | undefined;
}

/** The gauge's name. */
export const CERTIFICATE_EXPIRY_GAUGE_NAME = 'edxgate_certificate_expiry_days';

/** Label names: role (anchor, intermediate, signing, signing-chain, agency), subject, SHA-256 fingerprint. */
export type CertificateExpiryLabel = 'role' | 'subject' | 'fingerprint';

/**
 * Registers `edxgate_certificate_expiry_days{role, subject, fingerprint}` on `registry`. A
 * certificate bound to several agencies is one series (same labels, same value): the gauge says
 * when a certificate expires, doctor says which agencies it is bound to.
 */
export function registerCertificateExpiryGauge(registry: Registry, options: CertificateExpiryGaugeOptions): Gauge<CertificateExpiryLabel> {
  return new Gauge({
    name: CERTIFICATE_EXPIRY_GAUGE_NAME,
    help: 'Whole days until the certificate expires (negative once expired): trust anchors, intermediates, the gateway signing certificate and its chain, certificates bound to agencies',
    labelNames: ['role', 'subject', 'fingerprint'] as const,
    registers: [registry],
    async collect() {
      let report: ExpiryReport;
      try {
        report = await options.expiry(0);
      } catch (error) {
        // A failing read (the database behind the agency certificates) must not fail the whole
        // /metrics scrape; the previous values stay until the next scrape that works.
        options.onError?.(error);
        return;
      }
      // Reset only once the new report is in hand: a certificate removed by a reload (or an
      // agency certificate deleted) must disappear rather than report its last value for ever.
      this.reset();
      for (const certificate of report.certificates) {
        this.set({ role: certificate.role, subject: certificate.subject, fingerprint: certificate.fingerprint256 }, certificate.daysToExpiry);
      }
    },
  });
}
