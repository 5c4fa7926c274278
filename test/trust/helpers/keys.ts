// Throwaway signing keys for the tests: an RSA key pair from node:crypto (native, fast) and a
// self-signed certificate made with node-forge (node:crypto cannot issue certificates). Made once per
// process and per label; nothing is written to disk unless a test asks for PEM files.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import forge from 'node-forge';
import type { SigningKey } from '../../../src/trust/types.ts';

export interface TestKey extends SigningKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** PKCS#8 PEM of the private key (xmlsec1 --privkey-pem, xml-crypto). */
  readonly privateKeyPem: string;
  /** PEM of the certificate. */
  readonly certificatePem: string;
  readonly certificates: readonly Buffer[];
}

const made = new Map<string, TestKey>();

/** A 2048-bit RSA key with a self-signed certificate `CN=<label>`; the same object for the same label. */
export function testKey(label = 'edxgate test signer', bits = 2048): TestKey {
  const id = `${label}/${bits}`;
  const known = made.get(id);
  if (known !== undefined) return known;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();

  const certificate = forge.pki.createCertificate();
  certificate.publicKey = forge.pki.publicKeyFromPem(publicKeyPem);
  certificate.serialNumber = `01${randomBytes(8).toString('hex')}`;
  certificate.validity.notBefore = new Date(Date.now() - 24 * 3600 * 1000);
  certificate.validity.notAfter = new Date(Date.now() + 365 * 24 * 3600 * 1000);
  const name = [
    { name: 'commonName', value: label },
    { name: 'organizationName', value: 'edxgate tests' },
    { name: 'countryName', value: 'VN' },
  ];
  certificate.setSubject(name);
  certificate.setIssuer(name);
  certificate.setExtensions([{ name: 'basicConstraints', cA: true }, { name: 'keyUsage', digitalSignature: true, keyCertSign: true }]);
  certificate.sign(forge.pki.privateKeyFromPem(privateKeyPem), forge.md.sha256.create());
  const certificatePem = forge.pki.certificateToPem(certificate);
  const der = Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(certificate)).getBytes(), 'binary');

  const key: TestKey = { privateKey, publicKey, privateKeyPem, certificatePem, certificates: [der] };
  made.set(id, key);
  return key;
}
