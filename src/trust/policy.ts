// The signature policy: what the XML-DSig check and the certificate check together mean for a
// packet, under the sender's policy (docs/trust.md).
//
// - `off`: nothing is checked; the verdict is `not-checked`.
// - `verify-if-present` (the default): no signature is `unsigned`, the official samples' hard-coded
//   block is `placeholder`, and both are accepted. A real signature that does not verify — the
//   packet was changed, the reference does not cover the whole packet, extra Signature elements —
//   is refused: a packet that claims a signature it does not have is forged or damaged. A signature
//   that verifies but whose certificate is not trusted (unknown CA, expired, revoked, another
//   agency's) is accepted and recorded `invalid` with the reason, so that agencies whose CA the
//   operator has not configured yet are not cut off; `require` is the policy that refuses them.
// - `require`: anything but a valid signature by a trusted certificate bound to the sender is refused.

import type { ErrorCode } from '../errors.ts';
import type { CertificateVerdict, SignatureCheck, SignaturePolicy, SignatureVerdictStatus } from './types.ts';

/** Who signed, as the certificate layer established it. */
export interface SignerDetail {
  readonly subject: string;
  readonly issuer: string;
  readonly serialNumber: string;
  readonly notAfter: string;
  readonly chain: readonly string[];
  readonly revocation: 'good' | 'unknown';
}

/** The verdict stored with a packet and shown with it. */
export interface SignatureVerdict {
  readonly status: SignatureVerdictStatus;
  /** The policy it was judged under. */
  readonly policy: SignaturePolicy;
  /** Why it is not `valid` (or what was recognised, for `placeholder`). */
  readonly reason?: string | undefined;
  /** The catalogued code behind an `invalid` verdict. */
  readonly code?: ErrorCode | undefined;
  readonly signer?: SignerDetail | undefined;
}

/** A packet accepted with its verdict, or refused with a catalogued code. */
export type Judgement =
  | { readonly accepted: true; readonly verdict: SignatureVerdict }
  | { readonly accepted: false; readonly code: ErrorCode; readonly reason: string; readonly verdict: SignatureVerdict };

/**
 * Judges a packet. `check` is the XML-DSig layer's finding; `evaluate` runs the certificate layer on
 * the signer's chain and is called only for a signature that verifies.
 */
export function judgeSignature(
  policy: SignaturePolicy,
  check: () => SignatureCheck,
  evaluate: (certificates: readonly Buffer[]) => CertificateVerdict,
): Judgement {
  if (policy === 'off') return { accepted: true, verdict: { status: 'not-checked', policy } };
  const found = check();
  switch (found.status) {
    case 'unsigned':
    case 'placeholder': {
      const reason = found.status === 'unsigned' ? 'the packet carries no Signature' : `placeholder signature: ${found.reason}`;
      const verdict: SignatureVerdict = { status: found.status, policy, reason };
      if (policy === 'require') return { accepted: false, code: 'EDX_ERR_SIGNATURE_REQUIRED', reason, verdict };
      return { accepted: true, verdict };
    }
    case 'invalid': {
      const verdict: SignatureVerdict = { status: 'invalid', policy, reason: found.reason, code: found.code };
      return { accepted: false, code: found.code, reason: found.reason, verdict };
    }
    case 'valid': {
      const certificate = evaluate(found.certificates);
      if (certificate.ok) {
        const signer: SignerDetail = {
          subject: certificate.subject,
          issuer: certificate.issuer,
          serialNumber: certificate.serialNumber,
          notAfter: certificate.notAfter.toISOString(),
          chain: certificate.chain,
          revocation: certificate.revocation,
        };
        return { accepted: true, verdict: { status: 'valid', policy, signer } };
      }
      const verdict: SignatureVerdict = { status: 'invalid', policy, reason: certificate.reason, code: certificate.code };
      if (policy === 'require') return { accepted: false, code: certificate.code, reason: certificate.reason, verdict };
      return { accepted: true, verdict };
    }
  }
}
