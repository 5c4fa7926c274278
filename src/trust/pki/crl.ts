// Certificate revocation lists (RFC 5280 §5): parsing DER or PEM, checking the CA's signature,
// deciding whether a CRL is current and whether it speaks for a given certificate.
//
// Neither node-forge nor Node parses CRLs, hence this reader (over der.ts, which keeps the exact
// signed bytes). Only complete, direct CRLs are used: a delta CRL, an indirect CRL, or one limited
// to some revocation reasons never answers "not revoked", because reading it as complete would
// pass certificates it says nothing about.

import { constants, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import {
  DerError,
  at,
  children,
  childrenOf,
  content,
  contextTag,
  encoded,
  isTime,
  readBitString,
  readBoolean,
  readIntegerHex,
  readOid,
  readRoot,
  readSmallInteger,
  readTime,
  TAG,
} from './der.ts';
import type { DerElement } from './der.ts';
import { errorText, fingerprint256, fullNameUris, looksLikePem, pemBlocks, readRawExtensions } from './certificate.ts';
import type { Certificate, Parsed } from './certificate.ts';
import { nameKey, readName } from './names.ts';
import type { DistinguishedName } from './names.ts';

export const REVOCATION_REASONS = [
  'unspecified',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
  'unused',
  'removeFromCRL',
  'privilegeWithdrawn',
  'aACompromise',
] as const;
export type RevocationReason = (typeof REVOCATION_REASONS)[number];

export interface RevokedEntry {
  /** Canonical upper-case hex, as Certificate.serialNumber. */
  readonly serialNumber: string;
  readonly revocationDate: Date;
  readonly reason?: RevocationReason | undefined;
}

/** What part of the CA's certificates a CRL covers (its issuingDistributionPoint). */
export interface CrlScope {
  readonly onlyUserCertificates: boolean;
  readonly onlyCaCertificates: boolean;
  /** fullName URIs of the distribution point this CRL is for; empty means all. */
  readonly distributionPoints: readonly string[];
}

export interface Crl {
  readonly der: Buffer;
  readonly fingerprint256: string;
  readonly issuer: DistinguishedName;
  readonly thisUpdate: Date;
  /** Absent only in CRLs that break RFC 5280; such a CRL is never treated as current. */
  readonly nextUpdate?: Date | undefined;
  /** cRLNumber as canonical hex, when present. */
  readonly crlNumber?: string | undefined;
  readonly authorityKeyId?: string | undefined;
  /** Revoked certificates by serial number. */
  readonly entries: ReadonlyMap<string, RevokedEntry>;
  readonly scope: CrlScope;
  /** Why this CRL can never say "not revoked" (delta, indirect, unknown critical extension…). */
  readonly incompleteReason?: string | undefined;
  /** The signed bytes and the signature over them. */
  readonly signedBytes: Buffer;
  readonly signatureAlgorithm: string;
  readonly signature: Buffer;
}

/** Where the trust evaluation finds CRLs. CrlCache is one; staticCrls() wraps a fixed list. */
export interface RevocationSource {
  /** CRLs naming `issuer` as their issuer. Signatures are checked by the caller against the chain. */
  crlsIssuedBy(issuer: DistinguishedName): readonly Crl[];
  /**
   * Told the CRL URLs named by certificates of a chain that verified up to a trust anchor, so that
   * a cache can fetch CRLs for CAs it was not configured with. Only CA-signed URLs arrive here,
   * never URLs from an unverified certificate (which would let any sender make the gateway fetch
   * arbitrary URLs).
   */
  noteDistributionPoints?(uris: readonly string[]): void;
}

/** A RevocationSource over a fixed set of CRLs (CRL files given in the configuration, tests). */
export function staticCrls(crls: readonly Crl[]): RevocationSource {
  const byIssuer = new Map<string, Crl[]>();
  for (const crl of crls) {
    const key = nameKey(crl.issuer);
    byIssuer.set(key, [...(byIssuer.get(key) ?? []), crl]);
  }
  return { crlsIssuedBy: (issuer) => byIssuer.get(nameKey(issuer)) ?? [] };
}

const CRL_EXTENSION = {
  authorityKeyIdentifier: '2.5.29.35',
  cRLNumber: '2.5.29.20',
  deltaCRLIndicator: '2.5.29.27',
  issuingDistributionPoint: '2.5.29.28',
  freshestCRL: '2.5.29.46',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  issuerAltName: '2.5.29.18',
} as const;

const ENTRY_EXTENSION = {
  reasonCode: '2.5.29.21',
  holdInstructionCode: '2.5.29.23',
  invalidityDate: '2.5.29.24',
  certificateIssuer: '2.5.29.29',
} as const;

/** Parses a CRL given as DER or as PEM (`-----BEGIN X509 CRL-----`). */
export function parseCrl(input: Buffer | string): Parsed<Crl> {
  let der: Buffer;
  if (typeof input === 'string' || looksLikePem(input)) {
    const blocks = pemBlocks(typeof input === 'string' ? input : input.toString('latin1'));
    if (!blocks.ok) return blocks;
    const block = blocks.value.find((candidate) => candidate.label === 'X509 CRL');
    if (!block) return { ok: false, reason: 'no -----BEGIN X509 CRL----- block' };
    der = block.der;
  } else {
    der = Buffer.from(input);
  }
  try {
    return { ok: true, value: readCrl(der) };
  } catch (error) {
    if (error instanceof DerError) return { ok: false, reason: `malformed CRL: ${error.message}` };
    return { ok: false, reason: `unreadable CRL: ${errorText(error)}` };
  }
}

// Verifying an RSA signature costs far less than a packet, but a CRL is consulted for every packet
// of every sender under that CA, so the verdict per (CRL, issuer key) is remembered.
const verifiedBy = new WeakMap<Crl, Map<string, boolean>>();

/** Whether `issuer`'s key signed the CRL (and the issuer may sign CRLs). Never throws. */
export function crlSignedBy(crl: Crl, issuer: Certificate): boolean {
  let byIssuer = verifiedBy.get(crl);
  if (!byIssuer) {
    byIssuer = new Map();
    verifiedBy.set(crl, byIssuer);
  }
  const known = byIssuer.get(issuer.fingerprint256);
  if (known !== undefined) return known;
  // RFC 5280 §4.2.1.3: a key whose keyUsage omits cRLSign must not be used to verify CRLs.
  const allowed = issuer.keyUsage === undefined || issuer.keyUsage.has('cRLSign');
  const verdict = allowed && verifySignature(crl.signatureAlgorithm, crl.signedBytes, issuer.x509.publicKey, crl.signature);
  byIssuer.set(issuer.fingerprint256, verdict);
  return verdict;
}

/** Tolerated difference between the CA's clock and ours for thisUpdate. */
export const CRL_CLOCK_SKEW_MS = 5 * 60_000;

/**
 * Whether the CRL's validity window covers `at`: issued no later than `at` (with clock skew) and
 * `at` not past nextUpdate. A CRL without nextUpdate is never current (RFC 5280 §5.1.2.5 requires
 * it; without it nothing says how old is too old).
 */
export function crlIsCurrent(crl: Crl, at: Date): boolean {
  if (crl.nextUpdate === undefined) return false;
  return crl.thisUpdate.getTime() - CRL_CLOCK_SKEW_MS <= at.getTime() && at.getTime() <= crl.nextUpdate.getTime();
}

/** Past nextUpdate (or without one): the CRL must be fetched again. */
export function crlIsStale(crl: Crl, at: Date): boolean {
  return crl.nextUpdate === undefined || at.getTime() > crl.nextUpdate.getTime();
}

/**
 * Whether a "not listed" in this CRL means "not revoked" for `certificate`: a complete CRL whose
 * issuingDistributionPoint, if any, includes the certificate. Issuer name and signature are
 * checked separately (crlSignedBy with the certificate's issuer).
 */
export function crlCovers(crl: Crl, certificate: Certificate): boolean {
  if (crl.incompleteReason !== undefined) return false;
  const isCa = certificate.basicConstraints?.ca === true;
  if (crl.scope.onlyUserCertificates && isCa) return false;
  if (crl.scope.onlyCaCertificates && !isCa) return false;
  if (crl.scope.distributionPoints.length > 0) {
    // A partitioned CRL speaks only for certificates that point at its partition.
    return certificate.crlDistributionPoints.some((uri) => crl.scope.distributionPoints.includes(uri));
  }
  return true;
}

/** The entry for the certificate, if the CRL lists it. */
export function revokedEntry(crl: Crl, certificate: Certificate): RevokedEntry | undefined {
  return crl.entries.get(certificate.serialNumber);
}

// --- signatures --------------------------------------------------------------------------------

const SIGNATURE_ALGORITHMS: Readonly<Record<string, { readonly hash: string; readonly keyType: 'rsa' | 'ec' }>> = {
  '1.2.840.113549.1.1.5': { hash: 'sha1', keyType: 'rsa' },
  '1.2.840.113549.1.1.14': { hash: 'sha224', keyType: 'rsa' },
  '1.2.840.113549.1.1.11': { hash: 'sha256', keyType: 'rsa' },
  '1.2.840.113549.1.1.12': { hash: 'sha384', keyType: 'rsa' },
  '1.2.840.113549.1.1.13': { hash: 'sha512', keyType: 'rsa' },
  '1.2.840.10045.4.1': { hash: 'sha1', keyType: 'ec' },
  '1.2.840.10045.4.3.2': { hash: 'sha256', keyType: 'ec' },
  '1.2.840.10045.4.3.3': { hash: 'sha384', keyType: 'ec' },
  '1.2.840.10045.4.3.4': { hash: 'sha512', keyType: 'ec' },
};

function verifySignature(algorithmOid: string, signed: Buffer, key: KeyObject, signature: Buffer): boolean {
  const algorithm = SIGNATURE_ALGORITHMS[algorithmOid];
  // RSASSA-PSS and others are not used by the CAs in scope; an unknown algorithm does not verify.
  if (!algorithm || key.asymmetricKeyType !== algorithm.keyType) return false;
  try {
    return algorithm.keyType === 'rsa'
      ? verify(algorithm.hash, signed, { key, padding: constants.RSA_PKCS1_PADDING }, signature)
      : verify(algorithm.hash, signed, key, signature);
  } catch {
    return false;
  }
}

// --- reading the DER ---------------------------------------------------------------------------

function readCrl(der: Buffer): Crl {
  const root = readRoot(der);
  const outer = childrenOf(root, TAG.SEQUENCE, 'CertificateList');
  const tbsElement = at(outer, 0, 'tbsCertList');
  const outerAlgorithm = at(outer, 1, 'signatureAlgorithm');
  const signatureAlgorithm = readOid(at(childrenOf(outerAlgorithm, TAG.SEQUENCE, 'signatureAlgorithm'), 0, 'algorithm'));
  const { bytes: signature, unusedBits } = readBitString(at(outer, 2, 'signatureValue'));
  if (unusedBits !== 0) throw new DerError('signatureValue has unused bits');

  const tbs = childrenOf(tbsElement, TAG.SEQUENCE, 'tbsCertList');
  let index = 0;
  if (at(tbs, 0, 'signature').tag === TAG.INTEGER) {
    const version = readSmallInteger(at(tbs, 0, 'version'));
    if (version !== 1) throw new DerError(`CRL version ${version + 1} (only v1 and v2 exist)`);
    index += 1;
  }
  const innerAlgorithm = at(tbs, index, 'signature');
  // RFC 5280 §5.1.1.2: both AlgorithmIdentifiers must be identical; a mismatch is a forgery attempt
  // or a broken CA, and either way the signature cannot be trusted to mean one thing.
  if (!encoded(innerAlgorithm).equals(encoded(outerAlgorithm))) {
    throw new DerError('the signature algorithm inside tbsCertList differs from the outer one');
  }
  const issuer = readName(at(tbs, index + 1, 'issuer'));
  const thisUpdate = readTime(at(tbs, index + 2, 'thisUpdate'));
  index += 3;
  let nextUpdate: Date | undefined;
  if (isTime(tbs[index])) {
    nextUpdate = readTime(at(tbs, index, 'nextUpdate'));
    index += 1;
  }
  const reasons: string[] = [];
  let entries = new Map<string, RevokedEntry>();
  const maybeRevoked = tbs[index];
  if (maybeRevoked && maybeRevoked.tag === TAG.SEQUENCE) {
    entries = readRevokedCertificates(maybeRevoked, reasons);
    index += 1;
  }
  let crlNumber: string | undefined;
  let authorityKeyId: string | undefined;
  let scope: CrlScope = { onlyUserCertificates: false, onlyCaCertificates: false, distributionPoints: [] };
  const extensionsElement = tbs[index];
  if (extensionsElement) {
    if (extensionsElement.tag !== contextTag(0, true)) throw new DerError('unexpected element after revokedCertificates');
    for (const extension of readRawExtensions(extensionsElement)) {
      switch (extension.oid) {
        case CRL_EXTENSION.cRLNumber:
          crlNumber = readIntegerHex(extension.value);
          break;
        case CRL_EXTENSION.authorityKeyIdentifier: {
          const keyId = childrenOf(extension.value, TAG.SEQUENCE, 'authorityKeyIdentifier').find(
            (part) => part.tag === contextTag(0, false),
          );
          if (keyId) authorityKeyId = content(keyId).toString('hex');
          break;
        }
        case CRL_EXTENSION.deltaCRLIndicator:
          reasons.push('it is a delta CRL');
          break;
        case CRL_EXTENSION.issuingDistributionPoint:
          scope = readIssuingDistributionPoint(extension.value, reasons);
          break;
        case CRL_EXTENSION.freshestCRL:
        case CRL_EXTENSION.authorityInfoAccess:
        case CRL_EXTENSION.issuerAltName:
          break;
        default:
          // RFC 5280 §5.2: a CRL with a critical extension we cannot process must not be used.
          if (extension.critical) reasons.push(`it has the unknown critical extension ${extension.oid}`);
      }
    }
    index += 1;
  }
  if (index !== tbs.length) throw new DerError('unexpected trailing elements in tbsCertList');
  return {
    der,
    fingerprint256: fingerprint256(der),
    issuer,
    thisUpdate,
    nextUpdate,
    crlNumber,
    authorityKeyId,
    entries,
    scope,
    incompleteReason: reasons.length > 0 ? reasons.join('; ') : undefined,
    signedBytes: Buffer.from(encoded(tbsElement)),
    signatureAlgorithm,
    signature: Buffer.from(signature),
  };
}

function readRevokedCertificates(element: DerElement, reasons: string[]): Map<string, RevokedEntry> {
  const entries = new Map<string, RevokedEntry>();
  for (const entry of children(element)) {
    const parts = childrenOf(entry, TAG.SEQUENCE, 'revokedCertificate');
    const serialNumber = readIntegerHex(at(parts, 0, 'userCertificate'));
    const revocationDate = readTime(at(parts, 1, 'revocationDate'));
    let reason: RevocationReason | undefined;
    const extensions = parts[2];
    if (extensions) {
      for (const extension of readRawExtensions(extensions)) {
        if (extension.oid === ENTRY_EXTENSION.reasonCode) {
          reason = REVOCATION_REASONS[readSmallInteger(extension.value)] ?? 'unspecified';
        } else if (extension.oid === ENTRY_EXTENSION.certificateIssuer) {
          // Entries for other CAs' certificates: an indirect CRL, which this layer does not read.
          reasons.push('it is an indirect CRL (certificateIssuer entries)');
        } else if (extension.critical && extension.oid !== ENTRY_EXTENSION.invalidityDate && extension.oid !== ENTRY_EXTENSION.holdInstructionCode) {
          reasons.push(`an entry has the unknown critical extension ${extension.oid}`);
        }
      }
    }
    // A serial listed twice keeps its earliest revocation: the certificate was revoked from then on.
    const previous = entries.get(serialNumber);
    if (!previous || previous.revocationDate > revocationDate) entries.set(serialNumber, { serialNumber, revocationDate, reason });
  }
  return entries;
}

function readIssuingDistributionPoint(value: DerElement, reasons: string[]): CrlScope {
  let onlyUserCertificates = false;
  let onlyCaCertificates = false;
  let distributionPoints: string[] = [];
  for (const part of childrenOf(value, TAG.SEQUENCE, 'issuingDistributionPoint')) {
    switch (part.tag) {
      case contextTag(0, true):
        distributionPoints = fullNameUris(part);
        break;
      case contextTag(1, false):
        onlyUserCertificates = readImplicitBoolean(part);
        break;
      case contextTag(2, false):
        onlyCaCertificates = readImplicitBoolean(part);
        break;
      case contextTag(3, false):
        readBitString({ ...part, tag: TAG.BIT_STRING });
        reasons.push('it covers only some revocation reasons');
        break;
      case contextTag(4, false):
        if (readImplicitBoolean(part)) reasons.push('it is an indirect CRL');
        break;
      case contextTag(5, false):
        if (readImplicitBoolean(part)) reasons.push('it covers only attribute certificates');
        break;
      default:
        throw new DerError('issuingDistributionPoint holds an unexpected element');
    }
  }
  return { onlyUserCertificates, onlyCaCertificates, distributionPoints };
}

function readImplicitBoolean(element: DerElement): boolean {
  return readBoolean({ ...element, tag: TAG.BOOLEAN });
}
