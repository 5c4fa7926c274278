// Which certificates the gateway depends on expire soon: the CAs it trusts, its own signing
// certificate, and the certificates bound to agencies. For `edxgate doctor` (the list) and
// /metrics (a days-to-expiry gauge per certificate).

import type { SigningKey } from '../types.ts';
import { daysToExpiry, readCertificates } from './certificate.ts';
import type { Certificate } from './certificate.ts';
import type { TrustStore } from './trust-store.ts';

export type CertificateRole = 'anchor' | 'intermediate' | 'signing' | 'signing-chain' | 'agency';

export interface CertificateExpiry {
  readonly role: CertificateRole;
  /** For role `agency`: the agency the certificate is bound to. */
  readonly agency?: string | undefined;
  readonly subject: string;
  readonly serialNumber: string;
  readonly fingerprint256: string;
  readonly notAfter: Date;
  /** Whole days left, rounded down; negative once expired (a good gauge value). */
  readonly daysToExpiry: number;
  readonly expired: boolean;
}

export interface ExpiryInput {
  readonly trustStore?: TrustStore | undefined;
  readonly signingKey?: SigningKey | undefined;
  /** Certificates bound to agencies (the directory holds them), PEM or DER. */
  readonly agencyCertificates?: readonly { readonly agency: string; readonly certificate: Buffer | string }[] | undefined;
}

export interface ExpiryReport {
  /** Every certificate, soonest expiry first. */
  readonly certificates: readonly CertificateExpiry[];
  /** Those expiring within `withinDays` (expired ones included). */
  readonly expiring: readonly CertificateExpiry[];
  /** Inputs that could not be read, so doctor can say so rather than skip them silently. */
  readonly unreadable: readonly { readonly role: CertificateRole; readonly agency?: string | undefined; readonly reason: string }[];
}

export function certificateExpiry(input: ExpiryInput, options: { readonly at: Date; readonly withinDays: number }): ExpiryReport {
  const certificates: CertificateExpiry[] = [];
  const unreadable: { role: CertificateRole; agency?: string | undefined; reason: string }[] = [];
  const seen = new Set<string>();
  const add = (certificate: Certificate, role: CertificateRole, agency?: string): void => {
    // The same certificate can be an intermediate and part of the signing chain: list it once per role.
    const key = `${role}:${agency ?? ''}:${certificate.fingerprint256}`;
    if (seen.has(key)) return;
    seen.add(key);
    const days = daysToExpiry(certificate, options.at);
    certificates.push({
      role,
      agency,
      subject: certificate.subject.text,
      serialNumber: certificate.serialNumber,
      fingerprint256: certificate.fingerprint256,
      notAfter: certificate.notAfter,
      daysToExpiry: days,
      expired: certificate.notAfter.getTime() < options.at.getTime(),
    });
  };
  for (const anchor of input.trustStore?.anchors ?? []) add(anchor, 'anchor');
  for (const intermediate of input.trustStore?.intermediates ?? []) add(intermediate, 'intermediate');
  (input.signingKey?.certificates ?? []).forEach((der, index) => {
    const parsed = readCertificates(der);
    const role: CertificateRole = index === 0 ? 'signing' : 'signing-chain';
    if (!parsed.ok) unreadable.push({ role, reason: parsed.reason });
    else for (const certificate of parsed.value) add(certificate, role);
  });
  for (const { agency, certificate } of input.agencyCertificates ?? []) {
    const parsed = readCertificates(certificate);
    if (!parsed.ok) unreadable.push({ role: 'agency', agency, reason: parsed.reason });
    else for (const one of parsed.value) add(one, 'agency', agency);
  }
  certificates.sort((a, b) => a.notAfter.getTime() - b.notAfter.getTime());
  const horizon = options.at.getTime() + options.withinDays * 86_400_000;
  return {
    certificates,
    expiring: certificates.filter((entry) => entry.notAfter.getTime() <= horizon),
    unreadable,
  };
}
