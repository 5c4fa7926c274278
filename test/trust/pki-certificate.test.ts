// Reading certificates: PEM and DER, the fields and extensions the decision uses, names, and
// malformed input refused as values.

import { X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import t from 'tap';
import {
  decodeCertificateBlobs,
  isSelfSigned,
  normaliseFingerprint,
  parseCertificate,
  readCertificates,
  signedBy,
} from '../../src/trust/pki/certificate.ts';
import type { Certificate } from '../../src/trust/pki/certificate.ts';
import { DerError, readElement, readIntegerHex, readRoot, readTime } from '../../src/trust/pki/der.ts';
import { attributeValues, formatName, sameName } from '../../src/trust/pki/names.ts';
import { createTestPki, issueCertificate, testKey } from './helpers/test-pki.ts';

const pki = await createTestPki();

function certificate(der: Buffer): Certificate {
  const parsed = parseCertificate(der);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.value;
}

t.test('fields of an agency certificate', async (t) => {
  const leaf = certificate(pki.leaves.valid.der);
  t.equal(leaf.version, 3);
  t.equal(leaf.subject.text, 'CN=Văn thư Sở Nội vụ, O=000.00.15.H47, OU=Test CA — not for production, C=VN');
  t.same(attributeValues(leaf.subject, 'O'), ['000.00.15.H47']);
  t.same(attributeValues(leaf.subject, '2.5.4.3'), ['Văn thư Sở Nội vụ'], 'by OID too');
  t.equal(leaf.serialNumber, new X509Certificate(pki.leaves.valid.der).serialNumber.toUpperCase(), 'serial as OpenSSL prints it');
  t.equal(leaf.fingerprint256, pki.leaves.valid.fingerprint256);
  t.equal(leaf.fingerprint256, normaliseFingerprint(new X509Certificate(pki.leaves.valid.der).fingerprint256));
  t.same(leaf.notAfter, new Date(new X509Certificate(pki.leaves.valid.der).validTo));
  t.same([...(leaf.keyUsage ?? [])], ['digitalSignature', 'nonRepudiation']);
  t.same(leaf.basicConstraints, { ca: false, pathLength: undefined });
  t.same(leaf.crlDistributionPoints, [pki.crlUrls.intermediate]);
  t.equal(leaf.authorityKeyId, pki.intermediate.subjectKeyId.toString('hex'));
  t.equal(leaf.subjectKeyId, pki.leaves.valid.subjectKeyId.toString('hex'));
  t.same(leaf.unhandledCriticalExtensions, []);
  t.notOk(leaf.selfIssued);

  const intermediate = certificate(pki.intermediate.der);
  t.same(intermediate.basicConstraints, { ca: true, pathLength: 0 });
  t.same([...(intermediate.keyUsage ?? [])], ['keyCertSign', 'cRLSign']);
  t.ok(signedBy(leaf, intermediate));
  t.notOk(signedBy(leaf, certificate(pki.root.der)), 'names do not chain');
  t.notOk(signedBy(certificate(pki.leaves.brokenSignature.der), intermediate), 'names chain, signature does not');
  t.ok(isSelfSigned(certificate(pki.root.der)));
  t.ok(isSelfSigned(certificate(pki.leaves.selfSigned.der)));
  t.notOk(isSelfSigned(leaf));
});

t.test('PEM and DER input', async (t) => {
  t.ok(readCertificates(pki.root.der).ok, 'DER');
  const bundle = readCertificates(`# CA bundle\n${pki.root.pem}\n${pki.intermediate.pem}`);
  t.ok(bundle.ok && bundle.value.length === 2, 'several PEM blocks, with text around them');
  const keyAndCertificate = readCertificates(Buffer.from(pki.leaves.valid.keyPem + pki.leaves.valid.pem));
  t.ok(keyAndCertificate.ok && keyAndCertificate.value.length === 1, 'a key block is skipped');

  for (const [what, input, reason] of [
    ['empty', Buffer.alloc(0), /not an X\.509 certificate/],
    ['the official sample placeholder', Buffer.from('MIIFqTCCBJG', 'base64'), /not an X\.509 certificate/],
    ['a key only', pki.leaves.valid.keyPem, /no -----BEGIN CERTIFICATE/],
    ['bad base64', '-----BEGIN CERTIFICATE-----\nnot*base64\n-----END CERTIFICATE-----\n', /not valid base64/],
    ['mismatched labels', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END X509 CRL-----\n', /ends with END X509 CRL/],
    ['a CRL', pki.crls.root, /not an X\.509 certificate/],
    ['one bad certificate in a bundle', `${pki.root.pem}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`, /certificate 2:/],
  ] as const) {
    const parsed = readCertificates(input);
    t.notOk(parsed.ok, what);
    if (!parsed.ok) t.match(parsed.reason, reason, what);
  }
  const blobs = decodeCertificateBlobs(pki.root.pem);
  t.same(blobs.ok ? blobs.value : [], [pki.root.der]);
});

t.test('names', async (t) => {
  const key = await testKey('expiring-soon');
  const tricky = certificate(
    issueCertificate({
      subject: { CN: 'Nguyễn Văn A, Trưởng phòng', O: '#1 "Sở" + <test>', C: 'VN' },
      key,
      notBefore: pki.now,
      notAfter: new Date(pki.now.getTime() + 86_400_000),
    }).der,
  );
  t.equal(tricky.subject.text, 'CN=Nguyễn Văn A\\, Trưởng phòng, O=\\#1 \\"Sở\\" \\+ \\<test\\>, C=VN', 'RFC 4514 escaping');
  t.ok(tricky.selfIssued);

  // The same name encoded with PrintableString instead of UTF8String, and in other case, still
  // matches (RFC 5280 §7.1), while a different value does not.
  const asn1 = forge.asn1;
  const nameDer = (value: string, type: number): Buffer =>
    Buffer.from(
      asn1
        .toDer(
          asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
            asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SET, true, [
              asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
                asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer('2.5.4.10').getBytes()),
                asn1.create(asn1.Class.UNIVERSAL, type, false, value),
              ]),
            ]),
          ]),
        )
        .getBytes(),
      'binary',
    );
  const { readName } = await import('../../src/trust/pki/names.ts');
  const utf8 = readName(readRoot(nameDer('Ban Co yeu Chinh phu', asn1.Type.UTF8)));
  const printable = readName(readRoot(nameDer('BAN CO YEU  CHINH PHU', asn1.Type.PRINTABLESTRING)));
  const other = readName(readRoot(nameDer('Ban Co yeu Chinh phu 2', asn1.Type.UTF8)));
  t.ok(sameName(utf8, printable));
  t.notOk(sameName(utf8, other));
  t.equal(formatName(utf8.rdns), 'O=Ban Co yeu Chinh phu');
  const bmp = readName(readRoot(nameDer('Sở', asn1.Type.BMPSTRING)));
  t.equal(bmp.text, 'O=Sở', 'BMPString is read as UTF-16BE');
  t.equal(bmp.der.subarray(-4).toString('hex'), '00531edf', 'it was written as UTF-16BE (ở is U+1EDF)');
});

t.test('the DER reader refuses malformed input', async (t) => {
  const refuses = (bytes: number[], pattern: RegExp, what: string): void => {
    t.throws(() => readRoot(Buffer.from(bytes)), pattern, what);
  };
  refuses([0x30], /truncated/, 'one byte');
  refuses([0x30, 0x80, 0x00, 0x00], /indefinite length/, 'BER indefinite length');
  refuses([0x30, 0x05, 0x01], /runs past/, 'length beyond the data');
  refuses([0x30, 0x85, 1, 1, 1, 1, 1], /length of 5 octets/, 'absurd length');
  refuses([0x30, 0x00, 0x00], /trailing bytes/, 'trailing bytes');
  refuses([0x1f, 0x01, 0x00], /high tag/, 'high tag numbers');
  t.ok(new DerError('x') instanceof Error);

  const time = (tag: number, text: string): Date => readTime(readElement(Buffer.from([tag, text.length, ...Buffer.from(text)]), 0));
  t.same(time(0x17, '491231235959Z'), new Date('2049-12-31T23:59:59Z'), 'UTCTime 49 is 2049');
  t.same(time(0x17, '500101000000Z'), new Date('1950-01-01T00:00:00Z'), 'UTCTime 50 is 1950');
  t.same(time(0x17, '2501010000Z'), new Date('2025-01-01T00:00:00Z'), 'UTCTime without seconds');
  t.same(time(0x18, '20510101120000Z'), new Date('2051-01-01T12:00:00Z'), 'GeneralizedTime');
  t.throws(() => time(0x17, '250230000000Z'), /impossible date/, '30 February');
  t.throws(() => time(0x17, '250101000000+0700'), /malformed UTCTime/, 'local time offsets are not DER');

  const integer = (bytes: number[]): string => readIntegerHex(readElement(Buffer.from([0x02, bytes.length, ...bytes]), 0));
  t.equal(integer([0x00, 0x80, 0x01]), '8001', 'the sign byte is dropped');
  t.equal(integer([0x00, 0x00, 0x12]), '12', 'non-minimal encodings match minimal ones');
  t.equal(integer([0xff]), '-FF', 'negative values stay distinct');
});
