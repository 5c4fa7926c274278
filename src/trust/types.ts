// The contract between the parts of the trust module: the XML-DSig layer (src/trust/dsig/) checks
// that a packet's bytes are what its Signature signed and with which key; the certificate layer
// (src/trust/pki/) judges whether that key's certificate is one we trust for the sending agency at
// that time; src/trust/policy.ts combines both under the agency's signature policy into the verdict
// stored with the packet. Each layer returns values, never throws on bad input.

import type { KeyObject } from 'node:crypto';
import type { ErrorCode } from '../errors.ts';

/** SignatureMethod accepted on input; only rsa-sha256 is emitted. */
export type SignatureAlgorithm = 'rsa-sha256' | 'rsa-sha1';
/** DigestMethod accepted on input; only sha256 is emitted. */
export type DigestAlgorithm = 'sha256' | 'sha1';
/** c14n 1.0 (inclusive) or exclusive c14n, each without comments. */
export type Canonicalization = 'c14n' | 'exc-c14n';

/**
 * What the XML-DSig layer found. `valid` means only: the single enveloped Reference (URI="")
 * covers the whole document, its digest matches, and SignatureValue verifies with the public key of
 * `certificates[0]`. Whether that certificate is trusted is the certificate layer's question.
 */
export type SignatureCheck =
  | { readonly status: 'unsigned' }
  /** The official samples' hard-coded block: no XML-DSig namespace, or values that cannot be a signature. */
  | { readonly status: 'placeholder'; readonly reason: string }
  | {
      readonly status: 'invalid';
      /** EDX_ERR_SIGNATURE_* from the catalogue. */
      readonly code: ErrorCode;
      readonly reason: string;
      /** DER of the KeyInfo certificates, signer first, when they could be read. */
      readonly certificates: readonly Buffer[];
    }
  | {
      readonly status: 'valid';
      readonly signatureAlgorithm: SignatureAlgorithm;
      readonly digestAlgorithm: DigestAlgorithm;
      readonly canonicalization: Canonicalization;
      /** DER of the KeyInfo certificates, signer first. */
      readonly certificates: readonly Buffer[];
    };

/** A key the gateway (or the CLI) signs with. */
export interface SigningKey {
  readonly privateKey: KeyObject;
  /** DER, signer first, then intermediates; all go into KeyInfo/X509Data, in this order. */
  readonly certificates: readonly Buffer[];
}

/** How a certificate chain was judged. */
export type CertificateVerdict =
  | {
      readonly ok: true;
      readonly subject: string;
      readonly issuer: string;
      readonly serialNumber: string;
      readonly notAfter: Date;
      /** Subjects from the signer up to the trust anchor. */
      readonly chain: readonly string[];
      /** `good`: on a fresh CRL and not listed; `unknown`: no fresh CRL and the policy is soft-fail. */
      readonly revocation: 'good' | 'unknown';
    }
  | {
      readonly ok: false;
      /** EDX_ERR_SIGNATURE_CERT_* from the catalogue. */
      readonly code: ErrorCode;
      readonly reason: string;
      readonly subject?: string | undefined;
    };

/** The per-agency (or per-route) signature policy. */
export const SIGNATURE_POLICIES = ['require', 'verify-if-present', 'off'] as const;
export type SignaturePolicy = (typeof SIGNATURE_POLICIES)[number];

/** The verdict stored with a packet (`packets.signature_verdict`) and shown wherever it is shown. */
export const SIGNATURE_VERDICTS = ['valid', 'invalid', 'unsigned', 'placeholder', 'not-checked'] as const;
export type SignatureVerdictStatus = (typeof SIGNATURE_VERDICTS)[number];
