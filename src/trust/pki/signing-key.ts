// The gateway's (or the CLI's) own signing key: from a PKCS#12 file with its password, or a PEM
// private key with its PEM certificate chain. Node reads PEM keys but not PKCS#12, so node-forge
// opens PKCS#12 and the key is handed straight to Node as a KeyObject (signing happens in Node).

import { createPrivateKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import forge from 'node-forge';
import { issue, warning } from '../../errors.ts';
import type { Issue, Result } from '../../errors.ts';
import type { SigningKey } from '../types.ts';
import { errorText, isSelfSigned, isValidAt, looksLikePem, parseCertificate, readCertificates, signedBy } from './certificate.ts';
import type { Certificate } from './certificate.ts';

export interface SigningKeyInput {
  /** A PKCS#12 (.p12/.pfx) file holding the key and its certificate (and usually the chain). */
  readonly pkcs12?: Buffer | undefined;
  /** The PKCS#12 password, or the passphrase of an encrypted PEM key. */
  readonly password?: string | undefined;
  /** PKCS#8 or PKCS#1 PEM private key; may also hold the certificates. */
  readonly keyPem?: string | Buffer | undefined;
  /** The certificate, optionally followed by intermediates, as PEM. */
  readonly certPem?: string | Buffer | undefined;
}

/** Smaller RSA keys are refused for signing: receivers following current guidance refuse them. */
export const MIN_RSA_BITS = 2048;

const INVALID = 'EDX_ERR_SIGNATURE_KEY_INVALID';

/**
 * Loads a signing key and orders its certificates signer first, then the intermediates up to (not
 * including) the self-signed root, which receivers must hold as their own anchor anyway.
 * Refuses (EDX_ERR_SIGNATURE_KEY_INVALID) an unreadable or non-RSA key, a wrong password, and a
 * key that matches no certificate; warns about an expired certificate and unrelated ones.
 */
export function loadSigningKey(input: SigningKeyInput): Result<SigningKey> {
  if (input.pkcs12 !== undefined && input.keyPem !== undefined) {
    return refuse('signingKey', 'Give either a PKCS#12 file or a PEM key with its certificate, not both.');
  }
  let material: { privateKey: KeyObject; certificates: Certificate[]; path: string } | Issue;
  if (input.pkcs12 !== undefined) material = openPkcs12(input.pkcs12, input.password);
  else if (input.keyPem !== undefined) material = openPem(input.keyPem, input.certPem, input.password);
  else return refuse('signingKey', 'No signing key was given.');
  if (!('privateKey' in material)) return { ok: false, issues: [material] };
  return assemble(material.privateKey, material.certificates, material.path);
}

export interface SigningKeyFiles {
  /** A PKCS#12 file, or a PEM private key (told apart by content, not by name). */
  readonly keyPath: string;
  /** PEM certificate (and chain) of a PEM key; not used with PKCS#12. */
  readonly certPath?: string | undefined;
  readonly password?: string | undefined;
}

/**
 * loadSigningKey() for the configuration's file names (SIGNING_KEY, SIGNING_CERT,
 * SIGNING_KEY_PASSWORD). Unreadable files are EDX_ERR_FILE_UNREADABLE, naming the file.
 */
export async function loadSigningKeyFiles(files: SigningKeyFiles): Promise<Result<SigningKey>> {
  const read = async (path: string): Promise<Buffer | Issue> => {
    try {
      return await readFile(path);
    } catch (error) {
      return issue('EDX_ERR_FILE_UNREADABLE', path, `The signing key file cannot be read (${errorText(error)}).`);
    }
  };
  const key = await read(files.keyPath);
  if (!Buffer.isBuffer(key)) return { ok: false, issues: [key] };
  const certificate = files.certPath === undefined ? undefined : await read(files.certPath);
  if (certificate !== undefined && !Buffer.isBuffer(certificate)) return { ok: false, issues: [certificate] };
  if (!looksLikePem(key)) {
    if (certificate !== undefined) {
      return refuse(files.certPath ?? 'certPath', 'A PKCS#12 file carries its own certificates; give a separate certificate only with a PEM key.');
    }
    return loadSigningKey({ pkcs12: key, password: files.password });
  }
  return loadSigningKey({ keyPem: key, certPem: certificate, password: files.password });
}

function openPkcs12(bytes: Buffer, password: string | undefined): { privateKey: KeyObject; certificates: Certificate[]; path: string } | Issue {
  const path = 'pkcs12';
  let pfx: forge.pkcs12.Pkcs12Pfx;
  try {
    pfx = decodePfx(bytes, password);
  } catch (error) {
    const message = errorText(error);
    if (/MAC could not be verified|wrong password|Invalid password|Failed to decrypt/i.test(message)) {
      return issue(INVALID, path, 'The PKCS#12 password is wrong (or the file is damaged).');
    }
    return issue(INVALID, path, `The file is not a readable PKCS#12 (${message}).`);
  }
  const keys: KeyObject[] = [];
  const certificates: Certificate[] = [];
  for (const safeContents of pfx.safeContents) {
    for (const bag of safeContents.safeBags) {
      if (bag.type === forge.pki.oids['pkcs8ShroudedKeyBag'] || bag.type === forge.pki.oids['keyBag']) {
        const key = keyFromBag(bag);
        if (!key.ok) return issue(INVALID, path, key.reason);
        keys.push(key.value);
      } else if (bag.type === forge.pki.oids['certBag']) {
        const der = certificateDerFromBag(bag);
        const parsed = der === undefined ? undefined : parseCertificate(der);
        if (!parsed?.ok) return issue(INVALID, path, `A certificate in the PKCS#12 cannot be read${parsed ? `: ${parsed.reason}` : ''}.`);
        certificates.push(parsed.value);
      }
    }
  }
  const [privateKey, ...extraKeys] = keys;
  if (!privateKey) return issue(INVALID, path, 'The PKCS#12 holds no private key.');
  if (extraKeys.length > 0) return issue(INVALID, path, 'The PKCS#12 holds several private keys; export the signing key alone.');
  return { privateKey, certificates, path };
}

/**
 * Opens the PFX. OpenSSL 3 encrypts with PBES2, which takes the password as UTF-8 bytes, while the
 * MAC (and the older PKCS#12 ciphers) take it as UTF-16; forge passes one string to both, so a
 * password with diacritics (mật khẩu) verifies the MAC and then fails to decrypt. In that case
 * only, decryption is retried with the UTF-8 form, without the MAC, which the first pass checked.
 */
function decodePfx(bytes: Buffer, password: string | undefined): forge.pkcs12.Pkcs12Pfx {
  const parse = (): forge.asn1.Asn1 => forge.asn1.fromDer(forge.util.createBuffer(bytes.toString('binary')));
  try {
    return forge.pkcs12.pkcs12FromAsn1(parse(), false, password);
  } catch (error) {
    const macPassed = /Failed to decrypt|Unable to decrypt/i.test(errorText(error));
    if (password === undefined || /^[\x00-\x7f]*$/.test(password) || !macPassed) throw error;
    const withoutMac = parse();
    if (Array.isArray(withoutMac.value)) withoutMac.value = withoutMac.value.slice(0, 2);
    return forge.pkcs12.pkcs12FromAsn1(withoutMac, false, Buffer.from(password, 'utf8').toString('binary'));
  }
}

/**
 * forge decodes RSA keys itself and leaves others as ASN.1 (PrivateKeyInfo); either way the DER
 * goes to Node, which then tells the key type.
 */
function keyFromBag(bag: forge.pkcs12.Bag): { ok: true; value: KeyObject } | { ok: false; reason: string } {
  try {
    if (bag.key) {
      const der = forge.asn1.toDer(forge.pki.privateKeyToAsn1(bag.key)).getBytes();
      return { ok: true, value: createPrivateKey({ key: Buffer.from(der, 'binary'), format: 'der', type: 'pkcs1' }) };
    }
    const der = forge.asn1.toDer(bag.asn1).getBytes();
    return { ok: true, value: createPrivateKey({ key: Buffer.from(der, 'binary'), format: 'der', type: 'pkcs8' }) };
  } catch (error) {
    return { ok: false, reason: `The private key in the PKCS#12 cannot be read (${errorText(error)}).` };
  }
}

/**
 * The certificate's DER. forge parses certBags into its own certificate object; re-encoding that
 * object reproduces the original bytes for DER input (forge keeps the signed part as parsed), and
 * assemble() checks the signer against the key and its issuer, so a mangled encoding cannot pass
 * unnoticed.
 */
function certificateDerFromBag(bag: forge.pkcs12.Bag): Buffer | undefined {
  try {
    const asn1 = bag.cert ? forge.pki.certificateToAsn1(bag.cert) : bag.asn1;
    return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
  } catch {
    return undefined;
  }
}

function openPem(
  keyPem: string | Buffer,
  certPem: string | Buffer | undefined,
  password: string | undefined,
): { privateKey: KeyObject; certificates: Certificate[]; path: string } | Issue {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: keyPem, format: 'pem', passphrase: password });
  } catch (error) {
    const message = errorText(error);
    const hint = /passphrase|decrypt|bad decrypt/i.test(message) ? ' (an encrypted key needs its password)' : '';
    return issue(INVALID, 'keyPem', `The private key cannot be read${hint}: ${message}.`);
  }
  // A combined PEM file (key and certificates together) is common; use it when no certPem is given.
  const source = certPem ?? keyPem;
  const certificates = readCertificates(source);
  if (!certificates.ok) {
    return issue(INVALID, certPem === undefined ? 'keyPem' : 'certPem', `The certificate cannot be read: ${certificates.reason}.`);
  }
  return { privateKey, certificates: certificates.value, path: certPem === undefined ? 'keyPem' : 'certPem' };
}

function assemble(privateKey: KeyObject, certificates: readonly Certificate[], path: string): Result<SigningKey> {
  if (privateKey.asymmetricKeyType !== 'rsa') {
    return refuse(path, `The key is ${privateKey.asymmetricKeyType ?? 'of an unknown type'}, not RSA; edXML signatures use RSA-SHA256.`);
  }
  const bits = privateKey.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS) return refuse(path, `The RSA key has ${bits} bits; at least ${MIN_RSA_BITS} are required.`);
  if (certificates.length === 0) return refuse(path, 'No certificate was given with the key.');
  const signer = certificates.find((certificate) => matchesKey(certificate, privateKey));
  if (!signer) {
    return refuse(
      path,
      certificates.length === 1
        ? `The private key does not match the certificate ${certificates[0]?.subject.text}.`
        : 'The private key matches none of the certificates given.',
    );
  }
  if (signer.keyUsage !== undefined && !signer.keyUsage.has('digitalSignature') && !signer.keyUsage.has('nonRepudiation')) {
    return refuse(path, `The keyUsage of ${signer.subject.text} allows neither digitalSignature nor nonRepudiation.`);
  }
  const warnings: Issue[] = [];
  const chain = [signer];
  const remaining = certificates.filter((certificate) => certificate !== signer);
  for (;;) {
    const current = chain[chain.length - 1] as Certificate;
    const issuerIndex = remaining.findIndex((candidate) => signedBy(current, candidate));
    if (issuerIndex === -1) break;
    const [issuer] = remaining.splice(issuerIndex, 1) as [Certificate];
    if (isSelfSigned(issuer)) break; // the root: receivers hold it as their anchor
    chain.push(issuer);
  }
  for (const unrelated of remaining.filter((certificate) => !isSelfSigned(certificate))) {
    warnings.push(warning(INVALID, path, `The certificate ${unrelated.subject.text} is not in the signer's chain and is left out.`));
  }
  const now = new Date();
  if (!isValidAt(signer, now)) {
    warnings.push(
      warning(
        'EDX_ERR_SIGNATURE_CERT_EXPIRED',
        path,
        `The signing certificate ${signer.subject.text} is valid from ${signer.notBefore.toISOString()} to ${signer.notAfter.toISOString()}; receivers will refuse its signatures now.`,
      ),
    );
  }
  return { ok: true, value: { privateKey, certificates: chain.map((certificate) => certificate.der) }, warnings };
}

function matchesKey(certificate: Certificate, privateKey: KeyObject): boolean {
  try {
    return certificate.x509.checkPrivateKey(privateKey);
  } catch {
    return false;
  }
}

function refuse(path: string, detail: string): Result<SigningKey> {
  return { ok: false, issues: [issue(INVALID, path, detail)] };
}
