// A throwaway PKI for tests, generated at test time (nothing secret is committed): a root CA, an
// intermediate CA, agency certificates in every state the certificate layer must tell apart,
// CRLs, and a PKCS#12 of the valid agency certificate. scripts/test-pki.ts writes the same
// material into a folder for manual experiments.
//
// RSA key generation is the slow part (node-forge takes seconds per key), so keys come from
// node:crypto, in parallel, once per process and label; forge only assembles the ASN.1 of
// certificates, CRLs and the PKCS#12. Certificates are cheap and built fresh per call, so each
// test can choose its clock and its CRL URLs (a loopback server's port).

import { createHash, generateKeyPair, randomBytes, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import forge from 'node-forge';
import type { AgencyBinding } from '../../../src/trust/pki/agency-binding.ts';

export const TEST_AGENCY = '000.00.15.H47';
export const OTHER_AGENCY = '000.00.16.H47';
/** In every subject, so that nobody mistakes this material for real certificates. */
export const TEST_LABEL = 'Test CA — not for production';
export const P12_PASSWORD = 'edxgate-test-p12';

const { asn1 } = forge;
type Asn1 = forge.asn1.Asn1;

const DAY = 86_400_000;
const OID = {
  sha256WithRsa: '1.2.840.113549.1.1.11',
  commonName: '2.5.4.3',
  serialNumber: '2.5.4.5',
  country: '2.5.4.6',
  organization: '2.5.4.10',
  organizationalUnit: '2.5.4.11',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  basicConstraints: '2.5.29.19',
  cRLNumber: '2.5.29.20',
  reasonCode: '2.5.29.21',
  cRLDistributionPoints: '2.5.29.31',
  authorityKeyIdentifier: '2.5.29.35',
} as const;

/** A subject, written in display order; encoded as C, OU, O, serialNumber, CN (most general first). */
export interface NameSpec {
  readonly CN: string;
  readonly O?: string | undefined;
  readonly OU?: string | undefined;
  readonly C?: string | undefined;
  readonly serialNumber?: string | undefined;
}

export interface TestKeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export interface TestCertificate {
  readonly name: NameSpec;
  readonly der: Buffer;
  readonly pem: string;
  readonly privateKey: KeyObject;
  /** PKCS#8 PEM of the private key. */
  readonly keyPem: string;
  /** Canonical upper-case hex, as the certificate layer reports it. */
  readonly serialNumber: string;
  readonly fingerprint256: string;
  readonly subjectKeyId: Buffer;
}

export type KeyUsageName = 'digitalSignature' | 'nonRepudiation' | 'keyEncipherment' | 'keyCertSign' | 'cRLSign';

/** A raw extension for cases the named options do not cover (unknown critical extensions…). */
export interface RawExtensionSpec {
  readonly oid: string;
  readonly critical: boolean;
  readonly value: Asn1;
}

export interface IssueOptions {
  readonly subject: NameSpec;
  readonly key: TestKeyPair;
  /** The issuing CA; omitted for a self-signed certificate. */
  readonly issuer?: TestCertificate | undefined;
  /** Signs instead of the issuer's key: a certificate whose link signature is broken. */
  readonly signWith?: KeyObject | undefined;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly serialNumber?: Buffer | undefined;
  /** Makes a CA certificate (basicConstraints cA, keyCertSign and cRLSign). */
  readonly ca?: { readonly pathLength?: number | undefined } | undefined;
  /** Defaults: CA → keyCertSign + cRLSign; end entity → digitalSignature + nonRepudiation. */
  readonly keyUsage?: readonly KeyUsageName[] | undefined;
  /** Omit basicConstraints entirely (to test an issuer that is not marked as CA). */
  readonly omitBasicConstraints?: boolean | undefined;
  readonly crlDistributionPoints?: readonly string[] | undefined;
  readonly extraExtensions?: readonly RawExtensionSpec[] | undefined;
}

export interface RevokedSpec {
  readonly serialNumber: string;
  readonly revocationDate: Date;
  /** RFC 5280 CRLReason code (1 keyCompromise, 6 certificateHold…). */
  readonly reasonCode?: number | undefined;
}

export interface CrlSpec {
  readonly issuer: TestCertificate;
  readonly thisUpdate: Date;
  readonly nextUpdate?: Date | undefined;
  readonly revoked?: readonly RevokedSpec[] | undefined;
  readonly crlNumber?: number | undefined;
  /** Signs instead of the issuer's key (a forged CRL). */
  readonly signWith?: KeyObject | undefined;
  readonly extraExtensions?: readonly RawExtensionSpec[] | undefined;
}

const keyCache = new Map<string, Promise<TestKeyPair>>();

/** A 2048-bit RSA key pair, generated once per process per label. */
export function testKey(label: string): Promise<TestKeyPair> {
  let pending = keyCache.get(label);
  if (!pending) {
    pending = new Promise<TestKeyPair>((resolve, reject) => {
      generateKeyPair('rsa', { modulusLength: 2048 }, (error, publicKey, privateKey) => {
        if (error) reject(error);
        else resolve({ publicKey, privateKey });
      });
    });
    keyCache.set(label, pending);
  }
  return pending;
}

// --- DER building ------------------------------------------------------------------------------

function toDer(node: Asn1): Buffer {
  return Buffer.from(asn1.toDer(node).getBytes(), 'binary');
}

function fromDer(bytes: Buffer): Asn1 {
  return asn1.fromDer(forge.util.createBuffer(bytes.toString('binary')));
}

function sequence(...items: Asn1[]): Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, items);
}

function oid(dotted: string): Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(dotted).getBytes());
}

function integer(bytes: Buffer): Asn1 {
  // INTEGER is two's complement: a leading 1 bit needs a zero byte in front to stay positive.
  const positive = ((bytes[0] ?? 0) & 0x80) !== 0 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes;
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, positive.toString('binary'));
}

function smallInteger(value: number): Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, asn1.integerToDer(value).getBytes());
}

function octetString(bytes: Buffer): Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, bytes.toString('binary'));
}

function bitString(bytes: Buffer, unusedBits = 0): Asn1 {
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, String.fromCharCode(unusedBits) + bytes.toString('binary'));
}

function time(date: Date): Asn1 {
  const year = date.getUTCFullYear();
  return year >= 1950 && year < 2050
    ? asn1.create(asn1.Class.UNIVERSAL, asn1.Type.UTCTIME, false, asn1.dateToUtcTime(date))
    : asn1.create(asn1.Class.UNIVERSAL, asn1.Type.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(date));
}

function sha256WithRsa(): Asn1 {
  return sequence(oid(OID.sha256WithRsa), asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, ''));
}

function attribute(type: string, value: string, printable: boolean): Asn1 {
  const valueNode = printable
    ? asn1.create(asn1.Class.UNIVERSAL, asn1.Type.PRINTABLESTRING, false, value)
    : asn1.create(asn1.Class.UNIVERSAL, asn1.Type.UTF8, false, forge.util.encodeUtf8(value));
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SET, true, [sequence(oid(type), valueNode)]);
}

/** The Name DER for a NameSpec: the same spec always encodes to the same bytes. */
export function nameAsn1(name: NameSpec): Asn1 {
  const rdns: Asn1[] = [];
  if (name.C !== undefined) rdns.push(attribute(OID.country, name.C, true));
  if (name.OU !== undefined) rdns.push(attribute(OID.organizationalUnit, name.OU, false));
  if (name.O !== undefined) rdns.push(attribute(OID.organization, name.O, false));
  if (name.serialNumber !== undefined) rdns.push(attribute(OID.serialNumber, name.serialNumber, true));
  rdns.push(attribute(OID.commonName, name.CN, false));
  return sequence(...rdns);
}

function extension(spec: RawExtensionSpec): Asn1 {
  const parts = [oid(spec.oid)];
  if (spec.critical) parts.push(asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BOOLEAN, false, '\xff'));
  parts.push(octetString(toDer(spec.value)));
  return sequence(...parts);
}

const KEY_USAGE_BITS: Readonly<Record<KeyUsageName, number>> = {
  digitalSignature: 0,
  nonRepudiation: 1,
  keyEncipherment: 2,
  keyCertSign: 5,
  cRLSign: 6,
};

function keyUsageValue(usages: readonly KeyUsageName[]): Asn1 {
  let bits = 0;
  for (const usage of usages) bits |= 0x80 >> KEY_USAGE_BITS[usage];
  // DER named bit lists drop trailing zero bits; count them as unused.
  let unused = 0;
  while (unused < 7 && bits !== 0 && (bits & (1 << unused)) === 0) unused += 1;
  return bitString(Buffer.from([bits]), unused);
}

function distributionPoints(uris: readonly string[]): Asn1 {
  return sequence(
    ...uris.map((uri) =>
      sequence(
        asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [
          asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [asn1.create(asn1.Class.CONTEXT_SPECIFIC, 6, false, uri)]),
        ]),
      ),
    ),
  );
}

/** Key identifier: SHA-1 of the SubjectPublicKeyInfo (RFC 5280 §4.2.1.2 allows any unique method). */
export function keyIdentifier(publicKey: KeyObject): Buffer {
  return createHash('sha1').update(publicKey.export({ type: 'spki', format: 'der' })).digest();
}

function signed(tbs: Asn1, key: KeyObject): Buffer {
  const tbsDer = toDer(tbs);
  const signature = sign('sha256', tbsDer, key);
  return toDer(sequence(tbs, sha256WithRsa(), bitString(signature)));
}

export function toPemText(der: Buffer, label: string): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** A positive serial as the certificate layer (and OpenSSL) prints it: no leading zero bytes. */
function canonicalSerial(bytes: Buffer): string {
  let value = bytes;
  while (value.length > 1 && value[0] === 0) value = value.subarray(1);
  return value.toString('hex').toUpperCase();
}

function randomSerial(): Buffer {
  const bytes = randomBytes(12);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x10; // positive, and never a redundant leading zero
  return bytes;
}

/** Builds and signs one certificate. */
export function issueCertificate(options: IssueOptions): TestCertificate {
  const serial = options.serialNumber ?? randomSerial();
  const subjectKeyId = keyIdentifier(options.key.publicKey);
  const issuerName = options.issuer?.name ?? options.subject;
  const authorityKeyId = options.issuer?.subjectKeyId ?? subjectKeyId;
  const isCa = options.ca !== undefined;
  const extensions: RawExtensionSpec[] = [];
  if (!options.omitBasicConstraints) {
    const constraints = isCa
      ? sequence(
          asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BOOLEAN, false, '\xff'),
          ...(options.ca?.pathLength === undefined ? [] : [smallInteger(options.ca.pathLength)]),
        )
      : sequence();
    extensions.push({ oid: OID.basicConstraints, critical: true, value: constraints });
  }
  const usages = options.keyUsage ?? (isCa ? ['keyCertSign', 'cRLSign'] : ['digitalSignature', 'nonRepudiation']);
  if (usages.length > 0) extensions.push({ oid: OID.keyUsage, critical: true, value: keyUsageValue(usages) });
  extensions.push({ oid: OID.subjectKeyIdentifier, critical: false, value: octetString(subjectKeyId) });
  extensions.push({
    oid: OID.authorityKeyIdentifier,
    critical: false,
    value: sequence(asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, false, authorityKeyId.toString('binary'))),
  });
  if (options.crlDistributionPoints && options.crlDistributionPoints.length > 0) {
    extensions.push({ oid: OID.cRLDistributionPoints, critical: false, value: distributionPoints(options.crlDistributionPoints) });
  }
  extensions.push(...(options.extraExtensions ?? []));
  const tbs = sequence(
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [smallInteger(2)]),
    integer(serial),
    sha256WithRsa(),
    nameAsn1(issuerName),
    sequence(time(options.notBefore), time(options.notAfter)),
    nameAsn1(options.subject),
    fromDer(options.key.publicKey.export({ type: 'spki', format: 'der' })),
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 3, true, [sequence(...extensions.map(extension))]),
  );
  const signingKey = options.signWith ?? options.issuer?.privateKey ?? options.key.privateKey;
  const der = signed(tbs, signingKey);
  return {
    name: options.subject,
    der,
    pem: toPemText(der, 'CERTIFICATE'),
    privateKey: options.key.privateKey,
    keyPem: String(options.key.privateKey.export({ type: 'pkcs8', format: 'pem' })),
    serialNumber: canonicalSerial(serial),
    fingerprint256: createHash('sha256').update(der).digest('hex'),
    subjectKeyId,
  };
}

/** Builds and signs a v2 CRL. */
export function issueCrl(spec: CrlSpec): Buffer {
  const entries = (spec.revoked ?? []).map((entry) => {
    const parts = [integer(Buffer.from(entry.serialNumber, 'hex')), time(entry.revocationDate)];
    if (entry.reasonCode !== undefined) {
      const reason = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.ENUMERATED, false, String.fromCharCode(entry.reasonCode));
      parts.push(sequence(extension({ oid: OID.reasonCode, critical: false, value: reason })));
    }
    return sequence(...parts);
  });
  const extensions: RawExtensionSpec[] = [
    {
      oid: OID.authorityKeyIdentifier,
      critical: false,
      value: sequence(asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, false, spec.issuer.subjectKeyId.toString('binary'))),
    },
    { oid: OID.cRLNumber, critical: false, value: smallInteger(spec.crlNumber ?? 1) },
    ...(spec.extraExtensions ?? []),
  ];
  const tbs = sequence(
    smallInteger(1),
    sha256WithRsa(),
    nameAsn1(spec.issuer.name),
    time(spec.thisUpdate),
    ...(spec.nextUpdate ? [time(spec.nextUpdate)] : []),
    ...(entries.length > 0 ? [sequence(...entries)] : []),
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [sequence(...extensions.map(extension))]),
  );
  return signed(tbs, spec.signWith ?? spec.issuer.privateKey);
}

/** A PKCS#12 of a certificate, its key and extra certificates (the chain), encrypted with `password`. */
export function makePkcs12(certificate: TestCertificate, chain: readonly TestCertificate[], password: string): Buffer {
  const key = forge.pki.privateKeyFromPem(String(certificate.privateKey.export({ type: 'pkcs1', format: 'pem' })));
  const certificates = [certificate, ...chain].map((one) => forge.pki.certificateFromAsn1(fromDer(one.der)));
  const pfx = forge.pkcs12.toPkcs12Asn1(key, certificates, password, { algorithm: 'aes256', friendlyName: certificate.name.CN });
  return toDer(pfx);
}

// --- the standard test PKI ----------------------------------------------------------------------

export interface TestPkiOptions {
  /** Where the CRLs are served (a loopback server's base URL); certificates point there. */
  readonly crlBaseUrl?: string | undefined;
  /** The clock the validity periods are relative to. Default: now, to the second. */
  readonly now?: Date | undefined;
}

export interface TestLeaves {
  /** Bound to TEST_AGENCY by its subject O, within validity, not revoked. */
  readonly valid: TestCertificate;
  readonly expired: TestCertificate;
  readonly notYetValid: TestCertificate;
  /** Listed (keyCompromise) in the intermediate's CRL. */
  readonly revoked: TestCertificate;
  /** A valid certificate of OTHER_AGENCY. */
  readonly wrongAgency: TestCertificate;
  /** Self-signed, with an agency-like subject; not an anchor. */
  readonly selfSigned: TestCertificate;
  /** Issued by a CA that is not in the trust store. */
  readonly unknownCa: TestCertificate;
  /** Names the intermediate as issuer but is signed with another key. */
  readonly brokenSignature: TestCertificate;
  /** Valid, expiring in 10 days (for expiry reports). */
  readonly expiringSoon: TestCertificate;
}

export interface TestPki {
  readonly now: Date;
  readonly root: TestCertificate;
  readonly intermediate: TestCertificate;
  /** Root of the CA the trust store does not know. */
  readonly unknownRoot: TestCertificate;
  readonly leaves: TestLeaves;
  readonly crlUrls: { readonly root: string; readonly intermediate: string };
  readonly crls: {
    /** The root's CRL (nothing revoked), current. */
    readonly root: Buffer;
    /** The intermediate's CRL listing `leaves.revoked`, current. */
    readonly intermediate: Buffer;
    /** An older intermediate CRL whose nextUpdate has passed. */
    readonly staleIntermediate: Buffer;
  };
  /** PKCS#12 of `leaves.valid` with the intermediate, protected by P12_PASSWORD. */
  readonly pkcs12: Buffer;
  readonly p12Password: string;
  /** Binds an agency to certificates whose subject O is its code (covers every leaf). */
  readonly binding: AgencyBinding;
  /** Binds by fingerprint: TEST_AGENCY → the valid leaf only. */
  readonly fingerprintBinding: AgencyBinding;
  /** The certificates a signature with this leaf would carry in KeyInfo: leaf, intermediate. */
  chainOf(leaf: TestCertificate): Buffer[];
}

function agencyName(agency: string, unit: string): NameSpec {
  return { CN: `Văn thư ${unit}`, O: agency, OU: TEST_LABEL, C: 'VN' };
}

export async function createTestPki(options: TestPkiOptions = {}): Promise<TestPki> {
  const now = options.now ?? new Date(Math.floor(Date.now() / 1000) * 1000);
  const base = (options.crlBaseUrl ?? 'http://crl.edxgate-test.invalid').replace(/\/$/, '');
  const crlUrls = { root: `${base}/root.crl`, intermediate: `${base}/intermediate.crl` };
  const labels = [
    'root',
    'intermediate',
    'unknown-root',
    'valid',
    'expired',
    'not-yet-valid',
    'revoked',
    'wrong-agency',
    'self-signed',
    'unknown-ca',
    'broken-signature',
    'expiring-soon',
  ] as const;
  const keyList = await Promise.all(labels.map((label) => testKey(label)));
  const keys = Object.fromEntries(labels.map((label, index) => [label, keyList[index] as TestKeyPair])) as Record<
    (typeof labels)[number],
    TestKeyPair
  >;
  const days = (count: number): Date => new Date(now.getTime() + count * DAY);

  const root = issueCertificate({
    subject: { CN: 'edxgate Test Root CA', O: 'edxgate test PKI', OU: TEST_LABEL, C: 'VN' },
    key: keys.root,
    notBefore: days(-365),
    notAfter: days(3650),
    ca: {},
  });
  const intermediate = issueCertificate({
    subject: { CN: 'edxgate Test Intermediate CA', O: 'edxgate test PKI', OU: TEST_LABEL, C: 'VN' },
    key: keys.intermediate,
    issuer: root,
    notBefore: days(-365),
    notAfter: days(1825),
    ca: { pathLength: 0 },
    crlDistributionPoints: [crlUrls.root],
  });
  const unknownRoot = issueCertificate({
    subject: { CN: 'Unknown Test Root CA', O: 'not trusted', OU: TEST_LABEL, C: 'VN' },
    key: keys['unknown-root'],
    notBefore: days(-365),
    notAfter: days(3650),
    ca: {},
  });
  const leaf = (key: TestKeyPair, subject: NameSpec, notBefore: Date, notAfter: Date, issuer = intermediate): TestCertificate =>
    issueCertificate({ subject, key, issuer, notBefore, notAfter, crlDistributionPoints: [crlUrls.intermediate] });
  const sonv = agencyName(TEST_AGENCY, 'Sở Nội vụ');
  const leaves: TestLeaves = {
    valid: leaf(keys.valid, sonv, days(-30), days(365)),
    expired: leaf(keys.expired, sonv, days(-400), days(-35)),
    notYetValid: leaf(keys['not-yet-valid'], sonv, days(30), days(400)),
    revoked: leaf(keys.revoked, sonv, days(-30), days(365)),
    wrongAgency: leaf(keys['wrong-agency'], agencyName(OTHER_AGENCY, 'Sở Tài chính'), days(-30), days(365)),
    selfSigned: issueCertificate({ subject: sonv, key: keys['self-signed'], notBefore: days(-30), notAfter: days(365) }),
    unknownCa: leaf(keys['unknown-ca'], sonv, days(-30), days(365), unknownRoot),
    brokenSignature: issueCertificate({
      subject: sonv,
      key: keys['broken-signature'],
      issuer: intermediate,
      signWith: keys['unknown-root'].privateKey,
      notBefore: days(-30),
      notAfter: days(365),
      crlDistributionPoints: [crlUrls.intermediate],
    }),
    expiringSoon: leaf(keys['expiring-soon'], sonv, days(-355), days(10)),
  };
  const crls = {
    root: issueCrl({ issuer: root, thisUpdate: days(-1), nextUpdate: days(7), crlNumber: 1 }),
    intermediate: issueCrl({
      issuer: intermediate,
      thisUpdate: new Date(now.getTime() - 3_600_000),
      nextUpdate: days(7),
      crlNumber: 2,
      revoked: [{ serialNumber: leaves.revoked.serialNumber, revocationDate: days(-2), reasonCode: 1 }],
    }),
    staleIntermediate: issueCrl({ issuer: intermediate, thisUpdate: days(-30), nextUpdate: days(-23), crlNumber: 1 }),
  };
  return {
    now,
    root,
    intermediate,
    unknownRoot,
    leaves,
    crlUrls,
    crls,
    pkcs12: makePkcs12(leaves.valid, [intermediate, root], P12_PASSWORD),
    p12Password: P12_PASSWORD,
    binding: { agencies: {}, fallback: { subjects: [{ attribute: 'O', match: 'equals' }] } },
    fingerprintBinding: { agencies: { [TEST_AGENCY]: { fingerprints: [leaves.valid.fingerprint256] } } },
    chainOf: (certificate) => [certificate.der, intermediate.der],
  };
}

/**
 * Writes the PKI into `directory`: anchors/ and intermediates/ (point the trust store at these
 * folders), certs/ (each leaf with its key and chain), crl/ (DER and PEM), the PKCS#12, a
 * binding.json and a README that says what all this is.
 */
export async function writeTestPki(directory: string, pki: TestPki): Promise<string[]> {
  const written: string[] = [];
  const put = async (relative: string, data: string | Buffer): Promise<void> => {
    const path = join(directory, relative);
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, data);
    written.push(relative);
  };
  await put(
    'README.txt',
    [
      'edxgate TEST PKI - throwaway material generated by scripts/test-pki.ts. NOT FOR PRODUCTION.',
      `Generated ${pki.now.toISOString()}; validity periods are relative to that instant.`,
      '',
      'anchors/root.pem                 trust anchor (point the trust store anchors here)',
      'intermediates/intermediate.pem   intermediate CA',
      'certs/NAME.pem, NAME.key.pem     agency certificates and keys; NAME.chain.pem = leaf + intermediate',
      `crl/*.crl (DER), crl/*.crl.pem   CRLs; certificates point at ${pki.crlUrls.intermediate} and ${pki.crlUrls.root}`,
      `valid.p12                        PKCS#12 of certs/valid, password in valid.p12.password.txt`,
      'binding.json                     agency binding: TEST agency -> certs/valid by fingerprint, others by subject O',
      '',
    ].join('\n'),
  );
  await put('anchors/root.pem', pki.root.pem);
  await put('intermediates/intermediate.pem', pki.intermediate.pem);
  await put('unknown-ca/root.pem', pki.unknownRoot.pem);
  for (const [name, certificate] of Object.entries(pki.leaves) as [string, TestCertificate][]) {
    const file = name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
    await put(`certs/${file}.pem`, certificate.pem);
    await put(`certs/${file}.key.pem`, certificate.keyPem);
    await put(`certs/${file}.chain.pem`, certificate.pem + pki.intermediate.pem);
  }
  for (const [name, der] of [
    ['root', pki.crls.root],
    ['intermediate', pki.crls.intermediate],
    ['intermediate-stale', pki.crls.staleIntermediate],
  ] as const) {
    await put(`crl/${name}.crl`, der);
    await put(`crl/${name}.crl.pem`, toPemText(der, 'X509 CRL'));
  }
  await put('valid.p12', pki.pkcs12);
  await put('valid.p12.password.txt', `${pki.p12Password}\n`);
  await put(
    'binding.json',
    `${JSON.stringify({ agencies: { [TEST_AGENCY]: { fingerprints: [pki.leaves.valid.fingerprint256] } }, fallback: { subjects: [{ attribute: 'O', match: 'equals' }] } }, null, 2)}\n`,
  );
  return written;
}
