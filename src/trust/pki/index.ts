// The certificate layer of the trust module (see ../types.ts for how it fits with XML-DSig and the
// policy): trust store and chain evaluation, CRLs, agency bindings, signing keys, expiry reports.

export { TrustStore, TrustStoreHolder, loadTrustStore, readCertificateFiles, CERTIFICATE_FILE_EXTENSIONS } from './trust-store.ts';
export type { EvaluateOptions, RevocationPolicy, TrustInput, TrustMaterial, TrustStoreSources } from './trust-store.ts';
export { CrlCache } from './crl-cache.ts';
export type { CrlCacheOptions, CrlIssuers, CrlRefreshOutcome, CrlStatus, CrlSummary } from './crl-cache.ts';
export { parseCrl, crlSignedBy, crlIsCurrent, crlIsStale, crlCovers, revokedEntry, staticCrls, REVOCATION_REASONS } from './crl.ts';
export type { Crl, CrlScope, RevocationReason, RevocationSource, RevokedEntry } from './crl.ts';
export { matchAgencyBinding, checkAgencyBinding } from './agency-binding.ts';
export type { AgencyBinding, AgencyCertificates, BindingMatch, SubjectPattern } from './agency-binding.ts';
export { loadSigningKey, loadSigningKeyFiles, MIN_RSA_BITS } from './signing-key.ts';
export type { SigningKeyFiles, SigningKeyInput } from './signing-key.ts';
export { certificateExpiry } from './expiry.ts';
export type { CertificateExpiry, CertificateRole, ExpiryInput, ExpiryReport } from './expiry.ts';
export {
  parseCertificate,
  readCertificates,
  decodeCertificateBlobs,
  fingerprint256,
  normaliseFingerprint,
  signedBy,
  isSelfSigned,
  isValidAt,
  daysToExpiry,
  toPem,
  KEY_USAGES,
} from './certificate.ts';
export type { BasicConstraints, Certificate, KeyUsage, Parsed } from './certificate.ts';
export { formatName, sameName, attributeValues } from './names.ts';
export type { DistinguishedName, NameAttribute } from './names.ts';
