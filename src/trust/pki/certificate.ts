// X.509 certificates as values: decoding PEM or DER, the fields and extensions the trust decision
// reads, and the signature link between a certificate and its issuer.
//
// Two parsers look at every certificate on purpose. Node's X509Certificate (OpenSSL) must accept
// it, and supplies the public key and signature verification for every algorithm OpenSSL knows;
// the DER reader (der.ts) supplies what X509Certificate does not expose: keyUsage bits, basic
// constraints' path length, key identifiers, CRL distribution points, exact validity instants,
// and which critical extensions are present.

import { createHash, X509Certificate } from 'node:crypto';
import {
  DerError,
  at,
  bitIsSet,
  children,
  childrenOf,
  content,
  contextTag,
  readBitString,
  readBoolean,
  readElement,
  readIntegerHex,
  readOid,
  readRoot,
  readSmallInteger,
  readTime,
  TAG,
} from './der.ts';
import type { DerElement } from './der.ts';
import { readName, sameName } from './names.ts';
import type { DistinguishedName } from './names.ts';

/** The outcome of decoding untrusted bytes: a value, or why not (no exceptions). */
export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

export const KEY_USAGES = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;
export type KeyUsage = (typeof KEY_USAGES)[number];

export interface BasicConstraints {
  readonly ca: boolean;
  readonly pathLength?: number | undefined;
}

/** A parsed certificate. Immutable; safe to share between trust-store snapshots. */
export interface Certificate {
  readonly der: Buffer;
  /** OpenSSL's view, for the public key and signature checks. */
  readonly x509: X509Certificate;
  /** 1, 2 or 3. */
  readonly version: number;
  /** Upper-case hex of the serial number as OpenSSL prints it (CRLs are matched on this form). */
  readonly serialNumber: string;
  readonly subject: DistinguishedName;
  readonly issuer: DistinguishedName;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** SHA-256 of the DER, lower-case hex without separators (what agency bindings list). */
  readonly fingerprint256: string;
  /** Absent when the certificate has no basicConstraints extension. */
  readonly basicConstraints?: BasicConstraints | undefined;
  /** Absent when the certificate has no keyUsage extension (then no restriction applies). */
  readonly keyUsage?: ReadonlySet<KeyUsage> | undefined;
  readonly subjectKeyId?: string | undefined;
  readonly authorityKeyId?: string | undefined;
  /** http(s) and other URIs from cRLDistributionPoints/fullName, in order. */
  readonly crlDistributionPoints: readonly string[];
  /** OIDs of critical extensions this layer does not process; such a certificate cannot be trusted. */
  readonly unhandledCriticalExtensions: readonly string[];
  /** Subject and issuer are the same name (a root, or a CA's self-issued rollover certificate). */
  readonly selfIssued: boolean;
}

export const EXTENSION = {
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  issuerAltName: '2.5.29.18',
  basicConstraints: '2.5.29.19',
  cRLDistributionPoints: '2.5.29.31',
  certificatePolicies: '2.5.29.32',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
} as const;

/**
 * Critical extensions a certificate may carry and still be trusted. RFC 5280 §4.2 requires refusing
 * a certificate with a critical extension the verifier does not recognise. Those listed are either
 * enforced here (basicConstraints, keyUsage) or impose nothing on a signature check that accepts
 * any policy and any extended key usage (the profile names none for edXML signing).
 */
const HANDLED_EXTENSIONS: ReadonlySet<string> = new Set(Object.values(EXTENSION));

// Every packet of a sender carries the same certificates, and parsing one (OpenSSL, then the DER
// reader) costs several times a signature check, so parsed certificates are kept in a small LRU
// keyed by their SHA-256. They are immutable values built from public data: a hostile sender can
// at worst evict entries.
const PARSED_CACHE_SIZE = 512;
const parsedCache = new Map<string, Certificate>();

/** Decodes one DER certificate. */
export function parseCertificate(der: Buffer): Parsed<Certificate> {
  const fingerprint = fingerprint256(der);
  const cached = parsedCache.get(fingerprint);
  if (cached) {
    parsedCache.delete(fingerprint); // re-insert: Map order is the LRU order
    parsedCache.set(fingerprint, cached);
    return { ok: true, value: cached };
  }
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(der);
  } catch (error) {
    return { ok: false, reason: `not an X.509 certificate (${errorText(error)})` };
  }
  let certificate: Certificate;
  try {
    certificate = readCertificate(Buffer.from(der), x509, fingerprint);
  } catch (error) {
    if (error instanceof DerError) return { ok: false, reason: `malformed certificate: ${error.message}` };
    return { ok: false, reason: `unreadable certificate: ${errorText(error)}` };
  }
  parsedCache.set(fingerprint, certificate);
  if (parsedCache.size > PARSED_CACHE_SIZE) {
    const oldest = parsedCache.keys().next();
    if (!oldest.done) parsedCache.delete(oldest.value);
  }
  return { ok: true, value: certificate };
}

/**
 * Splits PEM text or a single DER blob into DER certificates, without checking them. PEM may hold
 * several CERTIFICATE blocks (a chain file, a CA bundle); other block types are skipped so that a
 * file holding a key and its certificate can be read for the certificate.
 */
export function decodeCertificateBlobs(input: Buffer | string): Parsed<Buffer[]> {
  const text = typeof input === 'string' ? input : looksLikePem(input) ? input.toString('latin1') : undefined;
  if (text === undefined) return { ok: true, value: [Buffer.from(input as Buffer)] };
  const blocks = pemBlocks(text);
  if (!blocks.ok) return blocks;
  const certificates = blocks.value.filter((block) => block.label === 'CERTIFICATE').map((block) => block.der);
  if (certificates.length === 0) return { ok: false, reason: 'no -----BEGIN CERTIFICATE----- block' };
  return { ok: true, value: certificates };
}

/** Decodes PEM or DER input into parsed certificates; fails on the first bad one. */
export function readCertificates(input: Buffer | string): Parsed<Certificate[]> {
  const blobs = decodeCertificateBlobs(input);
  if (!blobs.ok) return blobs;
  const certificates: Certificate[] = [];
  for (const [index, blob] of blobs.value.entries()) {
    const parsed = parseCertificate(blob);
    if (!parsed.ok) {
      return { ok: false, reason: blobs.value.length > 1 ? `certificate ${index + 1}: ${parsed.reason}` : parsed.reason };
    }
    certificates.push(parsed.value);
  }
  return { ok: true, value: certificates };
}

export interface PemBlock {
  readonly label: string;
  readonly der: Buffer;
}

/** All `-----BEGIN X-----` blocks of a PEM text. Encapsulated headers (RFC 1421) are refused. */
export function pemBlocks(text: string): Parsed<PemBlock[]> {
  const blocks: PemBlock[] = [];
  const pattern = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END ([A-Z0-9 ]+)-----/g;
  for (const match of text.matchAll(pattern)) {
    const [, label = '', body = '', endLabel] = match;
    if (label !== endLabel) return { ok: false, reason: `PEM block BEGIN ${label} ends with END ${endLabel}` };
    if (body.includes(':')) {
      return { ok: false, reason: `PEM block ${label} has encapsulated headers (an encrypted legacy key?)` };
    }
    const base64 = body.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 !== 0) {
      return { ok: false, reason: `PEM block ${label} is not valid base64` };
    }
    blocks.push({ label, der: Buffer.from(base64, 'base64') });
  }
  if (blocks.length === 0) return { ok: false, reason: 'no PEM block found' };
  return { ok: true, value: blocks };
}

export function looksLikePem(bytes: Buffer): boolean {
  // A DER certificate starts with 0x30; PEM is text with a BEGIN line near the top.
  return bytes.subarray(0, 4096).toString('latin1').includes('-----BEGIN ');
}

/** PEM text for DER bytes, 64 characters a line. */
export function toPem(der: Buffer, label = 'CERTIFICATE'): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** SHA-256 fingerprint of DER bytes in the form bindings use. */
export function fingerprint256(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex');
}

/** Normalises a fingerprint written by a person (`AB:CD:…`, spaces, upper case) for comparison. */
export function normaliseFingerprint(text: string): string {
  return text.replace(/[\s:]/g, '').toLowerCase();
}

/**
 * Whether `issuer` issued `child`: the names chain and the child's signature verifies with the
 * issuer's public key. Never throws (an unsupported key type simply does not verify).
 */
export function signedBy(child: Certificate, issuer: Certificate): boolean {
  if (!sameName(child.issuer, issuer.subject)) return false;
  let byIssuer = verifiedLinks.get(child);
  if (!byIssuer) {
    byIssuer = new Map();
    verifiedLinks.set(child, byIssuer);
  }
  const known = byIssuer.get(issuer.fingerprint256);
  if (known !== undefined) return known;
  let verdict: boolean;
  try {
    verdict = child.x509.verify(issuer.x509.publicKey);
  } catch {
    verdict = false;
  }
  byIssuer.set(issuer.fingerprint256, verdict);
  return verdict;
}

// With parsed certificates cached, the same (certificate, issuer) pair comes back for every
// packet; the verdict of a signature check over immutable bytes never changes.
const verifiedLinks = new WeakMap<Certificate, Map<string, boolean>>();

/** A self-issued certificate whose signature verifies with its own key (a root). */
export function isSelfSigned(certificate: Certificate): boolean {
  return certificate.selfIssued && signedBy(certificate, certificate);
}

export function isValidAt(certificate: Certificate, at: Date): boolean {
  return certificate.notBefore.getTime() <= at.getTime() && at.getTime() <= certificate.notAfter.getTime();
}

/** Whole days from `at` to notAfter, rounded down; negative once expired. */
export function daysToExpiry(certificate: Certificate, at: Date): number {
  return Math.floor((certificate.notAfter.getTime() - at.getTime()) / 86_400_000);
}

// --- reading the DER ---------------------------------------------------------------------------

function readCertificate(der: Buffer, x509: X509Certificate, fingerprint: string): Certificate {
  const root = readRoot(der);
  const tbs = childrenOf(at(childrenOf(root, TAG.SEQUENCE, 'Certificate'), 0, 'tbsCertificate'), TAG.SEQUENCE, 'tbsCertificate');
  let index = 0;
  let version = 1;
  const first = at(tbs, 0, 'serialNumber');
  if (first.tag === contextTag(0, true)) {
    version = readSmallInteger(at(children(first), 0, 'version')) + 1;
    index += 1;
  }
  const serialNumber = readIntegerHex(at(tbs, index, 'serialNumber'));
  index += 2; // serialNumber, signature AlgorithmIdentifier (X509Certificate checks it matches the outer one)
  const issuer = readName(at(tbs, index, 'issuer'));
  const validity = childrenOf(at(tbs, index + 1, 'validity'), TAG.SEQUENCE, 'validity');
  const notBefore = readTime(at(validity, 0, 'notBefore'));
  const notAfter = readTime(at(validity, 1, 'notAfter'));
  const subject = readName(at(tbs, index + 2, 'subject'));
  // index + 3 is subjectPublicKeyInfo; X509Certificate reads the key.
  const extensions = tbs.slice(index + 4).find((element) => element.tag === contextTag(3, true));
  const parsed = extensions ? readExtensions(extensions) : emptyExtensions();
  if (version < 3 && extensions) throw new DerError(`a version ${version} certificate with extensions`);
  return {
    der,
    x509,
    version,
    serialNumber,
    subject,
    issuer,
    notBefore,
    notAfter,
    fingerprint256: fingerprint,
    ...parsed,
    selfIssued: sameName(subject, issuer),
  };
}

type ExtensionFields = Pick<
  Certificate,
  'basicConstraints' | 'keyUsage' | 'subjectKeyId' | 'authorityKeyId' | 'crlDistributionPoints' | 'unhandledCriticalExtensions'
>;

function emptyExtensions(): ExtensionFields {
  return { crlDistributionPoints: [], unhandledCriticalExtensions: [] };
}

/** One Extension: its OID, criticality and the DER inside extnValue. */
export interface RawExtension {
  readonly oid: string;
  readonly critical: boolean;
  readonly value: DerElement;
}

/** Reads `[n] EXPLICIT Extensions` (certificates: [3]; CRLs: [0]) or a bare Extensions SEQUENCE. */
export function readRawExtensions(element: DerElement): RawExtension[] {
  const sequence = element.tag === TAG.SEQUENCE ? element : at(children(element), 0, 'Extensions');
  const seen = new Set<string>();
  return childrenOf(sequence, TAG.SEQUENCE, 'Extensions').map((extension) => {
    const parts = childrenOf(extension, TAG.SEQUENCE, 'Extension');
    const oid = readOid(at(parts, 0, 'extnID'));
    // RFC 5280 §4.2: an extension appears at most once; two differing copies would let two
    // verifiers read different certificates from the same bytes.
    if (seen.has(oid)) throw new DerError(`extension ${oid} appears twice`);
    seen.add(oid);
    const hasCritical = at(parts, 1, 'extnValue').tag === TAG.BOOLEAN;
    const critical = hasCritical ? readBoolean(at(parts, 1, 'critical')) : false;
    const octets = at(parts, hasCritical ? 2 : 1, 'extnValue');
    if (octets.tag !== TAG.OCTET_STRING) throw new DerError(`extension ${oid}: extnValue is not an OCTET STRING`);
    const value = readElement(octets.bytes, octets.contentStart, octets.end);
    if (value.end !== octets.end) throw new DerError(`extension ${oid}: trailing bytes in extnValue`);
    return { oid, critical, value };
  });
}

function readExtensions(element: DerElement): ExtensionFields {
  const fields: {
    basicConstraints?: BasicConstraints;
    keyUsage?: ReadonlySet<KeyUsage>;
    subjectKeyId?: string;
    authorityKeyId?: string;
    crlDistributionPoints: string[];
    unhandledCriticalExtensions: string[];
  } = { crlDistributionPoints: [], unhandledCriticalExtensions: [] };
  for (const extension of readRawExtensions(element)) {
    switch (extension.oid) {
      case EXTENSION.basicConstraints:
        fields.basicConstraints = readBasicConstraints(extension.value);
        break;
      case EXTENSION.keyUsage:
        fields.keyUsage = readKeyUsage(extension.value);
        break;
      case EXTENSION.subjectKeyIdentifier:
        if (extension.value.tag !== TAG.OCTET_STRING) throw new DerError('subjectKeyIdentifier is not an OCTET STRING');
        fields.subjectKeyId = content(extension.value).toString('hex');
        break;
      case EXTENSION.authorityKeyIdentifier: {
        const keyId = readAuthorityKeyId(extension.value);
        if (keyId !== undefined) fields.authorityKeyId = keyId;
        break;
      }
      case EXTENSION.cRLDistributionPoints:
        fields.crlDistributionPoints = readDistributionPointUris(extension.value);
        break;
      default:
        if (extension.critical && !HANDLED_EXTENSIONS.has(extension.oid)) {
          fields.unhandledCriticalExtensions.push(extension.oid);
        }
    }
  }
  return fields;
}

function readBasicConstraints(value: DerElement): BasicConstraints {
  const parts = childrenOf(value, TAG.SEQUENCE, 'basicConstraints');
  let ca = false;
  let pathLength: number | undefined;
  for (const part of parts) {
    if (part.tag === TAG.BOOLEAN) ca = readBoolean(part);
    else if (part.tag === TAG.INTEGER) pathLength = readSmallInteger(part);
    else throw new DerError('basicConstraints holds an unexpected element');
  }
  return { ca, pathLength };
}

function readKeyUsage(value: DerElement): ReadonlySet<KeyUsage> {
  const { bytes } = readBitString(value);
  return new Set(KEY_USAGES.filter((_, index) => bitIsSet(bytes, index)));
}

/** keyIdentifier [0] of AuthorityKeyIdentifier, hex; the issuer/serial form is not used for chaining. */
function readAuthorityKeyId(value: DerElement): string | undefined {
  const keyId = childrenOf(value, TAG.SEQUENCE, 'authorityKeyIdentifier').find((part) => part.tag === contextTag(0, false));
  return keyId ? content(keyId).toString('hex') : undefined;
}

/** URIs of every DistributionPoint's fullName. Relative names and cRLIssuer are not followed. */
export function readDistributionPointUris(value: DerElement): string[] {
  const uris: string[] = [];
  for (const point of childrenOf(value, TAG.SEQUENCE, 'CRLDistributionPoints')) {
    const name = childrenOf(point, TAG.SEQUENCE, 'DistributionPoint').find((part) => part.tag === contextTag(0, true));
    if (name) uris.push(...fullNameUris(name));
  }
  return uris;
}

/** URIs in a `[0] DistributionPointName` whose choice is `[0] fullName` (GeneralNames). */
export function fullNameUris(distributionPointName: DerElement): string[] {
  const choice = children(distributionPointName).find((part) => part.tag === contextTag(0, true));
  if (!choice) return [];
  return children(choice)
    .filter((generalName) => generalName.tag === contextTag(6, false)) // uniformResourceIdentifier
    .map((generalName) => content(generalName).toString('latin1'));
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
