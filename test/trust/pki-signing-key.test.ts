// Loading the gateway's signing key: PKCS#12 with the right and a wrong password, PEM key and
// certificate, and every reason a key is refused.

import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, sign, verify, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { loadSigningKey, loadSigningKeyFiles } from '../../src/trust/pki/signing-key.ts';
import { createTestPki, issueCertificate, makePkcs12, testKey } from './helpers/test-pki.ts';

const pki = await createTestPki();
const DAY = 86_400_000;

function codes(result: ReturnType<typeof loadSigningKey>): string[] {
  return result.ok ? [] : result.issues.map((issue) => issue.code);
}

function messages(result: ReturnType<typeof loadSigningKey>): string {
  return result.ok ? '' : result.issues.map((issue) => issue.message).join(' | ');
}

t.test('PKCS#12 with the right password', async (t) => {
  const loaded = loadSigningKey({ pkcs12: pki.pkcs12, password: pki.p12Password });
  t.ok(loaded.ok, messages(loaded));
  if (!loaded.ok) return;
  const [signer, ...chain] = loaded.value.certificates;
  t.ok(signer?.equals(pki.leaves.valid.der), 'the signer comes first, byte for byte as issued');
  t.same(chain.map((der) => der.toString('hex')), [pki.intermediate.der.toString('hex')], 'then the intermediate; the root is left out');
  t.same(loaded.warnings, []);
  const data = Buffer.from('<SignedInfo/>');
  const signature = sign('sha256', data, loaded.value.privateKey);
  t.ok(verify('sha256', data, new X509Certificate(pki.leaves.valid.der).publicKey, signature), 'the key signs for the certificate');
});

t.test('PKCS#12 with a wrong or missing password', async (t) => {
  const wrong = loadSigningKey({ pkcs12: pki.pkcs12, password: 'not-the-password' });
  t.same(codes(wrong), ['EDX_ERR_SIGNATURE_KEY_INVALID']);
  t.match(messages(wrong), /password is wrong/);
  t.same(codes(loadSigningKey({ pkcs12: pki.pkcs12 })), ['EDX_ERR_SIGNATURE_KEY_INVALID']);
});

t.test('unreadable PKCS#12', async (t) => {
  const garbage = loadSigningKey({ pkcs12: Buffer.from('definitely not PKCS#12'), password: 'x' });
  t.same(codes(garbage), ['EDX_ERR_SIGNATURE_KEY_INVALID']);
  t.match(messages(garbage), /not a readable PKCS#12/);
  t.same(codes(loadSigningKey({ pkcs12: pki.root.der, password: 'x' })), ['EDX_ERR_SIGNATURE_KEY_INVALID']);
});

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// The p12 files operators get come from OpenSSL or Windows, not from forge; the password has
// diacritics on purpose (PBES2 takes it as UTF-8, the MAC as UTF-16).
t.test('PKCS#12 written by OpenSSL (AES-256, PBKDF2, SHA-256 MAC, a Vietnamese password)', { skip: hasOpenssl() ? false : 'no openssl binary' }, async (t) => {
  const directory = await mkdtemp(join(tmpdir(), 'edxgate-p12-'));
  t.teardown(() => rm(directory, { recursive: true, force: true }));
  await writeFile(join(directory, 'key.pem'), pki.leaves.valid.keyPem);
  await writeFile(join(directory, 'chain.pem'), pki.leaves.valid.pem + pki.intermediate.pem);
  execFileSync('openssl', [
    'pkcs12', '-export', '-inkey', join(directory, 'key.pem'), '-in', join(directory, 'chain.pem'),
    '-out', join(directory, 'signing.p12'), '-passout', 'pass:mật khẩu',
    '-keypbe', 'AES-256-CBC', '-certpbe', 'AES-256-CBC', '-macalg', 'sha256',
  ]);
  const loaded = loadSigningKey({ pkcs12: await readFile(join(directory, 'signing.p12')), password: 'mật khẩu' });
  t.ok(loaded.ok, messages(loaded));
  if (loaded.ok) t.ok(loaded.value.certificates[0]?.equals(pki.leaves.valid.der));
});

t.test('PEM key and certificate', async (t) => {
  const loaded = loadSigningKey({ keyPem: pki.leaves.valid.keyPem, certPem: pki.leaves.valid.pem + pki.intermediate.pem });
  t.ok(loaded.ok, messages(loaded));
  if (loaded.ok) t.equal(loaded.value.certificates.length, 2);

  const combined = loadSigningKey({ keyPem: Buffer.from(pki.leaves.valid.keyPem + pki.leaves.valid.pem) });
  t.ok(combined.ok, 'a combined key + certificate file is enough');

  const chainFirst = loadSigningKey({ keyPem: pki.leaves.valid.keyPem, certPem: pki.intermediate.pem + pki.root.pem + pki.leaves.valid.pem });
  t.ok(chainFirst.ok);
  if (chainFirst.ok) {
    t.ok(chainFirst.value.certificates[0]?.equals(pki.leaves.valid.der), 'the signer is found wherever it is in the file');
    t.equal(chainFirst.value.certificates.length, 2);
  }

  const unrelated = loadSigningKey({ keyPem: pki.leaves.valid.keyPem, certPem: pki.leaves.valid.pem + pki.unknownRoot.pem + pki.leaves.wrongAgency.pem });
  t.ok(unrelated.ok);
  if (unrelated.ok) t.match(unrelated.warnings.map((w) => w.message).join(' '), /Sở Tài chính.*not in the signer's chain/);
});

t.test('refused keys', async (t) => {
  t.test('the key does not match the certificate', async (t) => {
    const mismatch = loadSigningKey({ keyPem: pki.leaves.wrongAgency.keyPem, certPem: pki.leaves.valid.pem });
    t.same(codes(mismatch), ['EDX_ERR_SIGNATURE_KEY_INVALID']);
    t.match(messages(mismatch), /does not match the certificate CN=Văn thư Sở Nội vụ/);
    const p12 = makePkcs12({ ...pki.leaves.valid, privateKey: pki.leaves.wrongAgency.privateKey }, [], 'pw');
    t.match(messages(loadSigningKey({ pkcs12: p12, password: 'pw' })), /does not match/);
  });

  t.test('not RSA', async (t) => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const ecPem = String(privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const refused = loadSigningKey({ keyPem: ecPem, certPem: pki.leaves.valid.pem });
    t.same(codes(refused), ['EDX_ERR_SIGNATURE_KEY_INVALID']);
    t.match(messages(refused), /The key is ec, not RSA/);
  });

  t.test('RSA below 2048 bits', async (t) => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const small = issueCertificate({
      subject: { CN: 'small key', O: '000.00.15.H47', C: 'VN' },
      key: { privateKey, publicKey },
      issuer: pki.intermediate,
      notBefore: pki.now,
      notAfter: new Date(pki.now.getTime() + DAY),
    });
    t.match(messages(loadSigningKey({ keyPem: small.keyPem, certPem: small.pem })), /1024 bits; at least 2048/);
  });

  t.test('unreadable PEM, encrypted PEM without its password, no input', async (t) => {
    t.match(messages(loadSigningKey({ keyPem: 'not a key', certPem: pki.leaves.valid.pem })), /private key cannot be read/);
    const key = (await testKey('valid')).privateKey;
    const encrypted = String(key.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' }));
    t.match(messages(loadSigningKey({ keyPem: encrypted, certPem: pki.leaves.valid.pem })), /cannot be read/);
    t.ok(loadSigningKey({ keyPem: encrypted, certPem: pki.leaves.valid.pem, password: 'secret' }).ok, 'with its password it loads');
    t.match(messages(loadSigningKey({ keyPem: pki.leaves.valid.keyPem, certPem: 'no certificate here' })), /certificate cannot be read/);
    t.match(messages(loadSigningKey({})), /No signing key/);
    t.match(messages(loadSigningKey({ pkcs12: pki.pkcs12, keyPem: pki.leaves.valid.keyPem })), /not both/);
  });

  t.test('a certificate whose keyUsage does not allow signing', async (t) => {
    const key = await testKey('expiring-soon');
    const encipherOnly = issueCertificate({
      subject: { CN: 'encryption only', O: '000.00.15.H47', C: 'VN' },
      key,
      issuer: pki.intermediate,
      keyUsage: ['keyEncipherment'],
      notBefore: pki.now,
      notAfter: new Date(pki.now.getTime() + DAY),
    });
    t.match(messages(loadSigningKey({ keyPem: encipherOnly.keyPem, certPem: encipherOnly.pem })), /allows neither digitalSignature/);
  });
});

t.test('an expired signing certificate loads with a warning', async (t) => {
  const loaded = loadSigningKey({ keyPem: pki.leaves.expired.keyPem, certPem: pki.leaves.expired.pem });
  t.ok(loaded.ok);
  if (loaded.ok) t.same(loaded.warnings.map((w) => w.code), ['EDX_ERR_SIGNATURE_CERT_EXPIRED']);
});

t.test('from the configured files (SIGNING_KEY, SIGNING_CERT, SIGNING_KEY_PASSWORD)', async (t) => {
  const directory = await mkdtemp(join(tmpdir(), 'edxgate-key-files-'));
  t.teardown(() => rm(directory, { recursive: true, force: true }));
  await writeFile(join(directory, 'gateway.pfx'), pki.pkcs12);
  await writeFile(join(directory, 'gateway.key'), pki.leaves.valid.keyPem);
  await writeFile(join(directory, 'gateway.crt'), pki.leaves.valid.pem + pki.intermediate.pem);

  const fromP12 = await loadSigningKeyFiles({ keyPath: join(directory, 'gateway.pfx'), password: pki.p12Password });
  t.ok(fromP12.ok, 'a PKCS#12 whatever its name');
  const fromPem = await loadSigningKeyFiles({ keyPath: join(directory, 'gateway.key'), certPath: join(directory, 'gateway.crt') });
  t.ok(fromPem.ok && fromPem.value.certificates.length === 2, 'a PEM key with its chain');

  const missing = await loadSigningKeyFiles({ keyPath: join(directory, 'missing.p12') });
  t.same(missing.ok ? [] : missing.issues.map((issue) => [issue.code, issue.path]), [['EDX_ERR_FILE_UNREADABLE', join(directory, 'missing.p12')]]);
  const both = await loadSigningKeyFiles({ keyPath: join(directory, 'gateway.pfx'), certPath: join(directory, 'gateway.crt'), password: pki.p12Password });
  t.same(codes(both), ['EDX_ERR_SIGNATURE_KEY_INVALID'], 'a separate certificate with a PKCS#12 is a configuration mistake');
});
