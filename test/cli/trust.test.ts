// `edxgate sign`, `verify` and `doctor`, run as real child processes against a throwaway PKI
// written to a temp folder (test/trust/helpers/test-pki.ts), with its CRLs served on loopback.

import { createServer } from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { Test } from 'tap';

import { loadConfig } from '../../src/config/load.ts';
import type { Kysely } from 'kysely';
import type { Database } from '../../src/store/database.ts';
import { migrateToLatest } from '../../src/store/migrate.ts';
import { openStore } from '../../src/store/open-store.ts';
import { postgresAvailable, testDatabase } from '../helpers/database.ts';
import { listenOnLoopback } from '../helpers/loopback.ts';
import { P12_PASSWORD, TEST_AGENCY, createTestPki, writeTestPki } from '../trust/helpers/test-pki.ts';
import { runCli } from './run-cli.ts';
import type { CliRun } from './run-cli.ts';

// Every run is a process that loads the CLI (and, for the database cases, opens a database).
t.setTimeout(300_000);

const PACKET = 'fixtures/packets/valid/minimal-document.edxml';
const PLACEHOLDER_SAMPLE = '/work/shared/interop/vpcp-samples/edoc_update.edxml';

// The CA's web server: what it serves is chosen per path; anything else is a 404.
const served = new Map<string, Buffer>();
const server = createServer((request, response) => {
  const body = served.get(request.url ?? '');
  if (body === undefined) response.writeHead(404).end();
  else response.writeHead(200, { 'content-type': 'application/pkix-crl' }).end(body);
});
const crlBase = await listenOnLoopback(t, server);
const pki = await createTestPki({ crlBaseUrl: crlBase });
served.set('/root.crl', pki.crls.root);
served.set('/intermediate.crl', pki.crls.intermediate);
served.set('/intermediate-stale.crl', pki.crls.staleIntermediate);

const dir = await mkdtemp(join(tmpdir(), 'edxgate-trust-cli-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
await writeTestPki(join(dir, 'pki'), pki);
const PKI = join(dir, 'pki');

/**
 * The environment of every run: the test PKI as trust store and binding, no database (an empty
 * DATA_DIR: verify and doctor must not create one there), and every other gateway setting the
 * parent may have unset (an empty value counts as unset).
 */
const BASE_ENV: Readonly<Record<string, string>> = {
  EDXGATE_CONFIG: '',
  LOG_LEVEL: '',
  DATABASE_URL: '',
  DATA_DIR: join(dir, 'data'),
  TRUST_ANCHORS: join(PKI, 'anchors'),
  TRUST_INTERMEDIATES: join(PKI, 'intermediates'),
  TRUST_BINDING: join(PKI, 'binding.json'),
  TRUST_REVOCATION: '',
  TRUST_CRL_URLS: '',
  TRUST_CRL_DIR: '',
  SIGNATURE_POLICY: '',
  SIGNING_KEY: '',
  SIGNING_CERT: '',
  SIGNING_KEY_PASSWORD: '',
  GATEWAY_AGENCY_CODE: '',
};

function cli(args: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<CliRun> {
  return runCli(args, undefined, { ...BASE_ENV, ...env });
}

const signedFile = join(dir, 'signed.edxml');

t.test('sign writes a signed packet; verify says valid, with signer, chain and revocation', async (t) => {
  const signed = await cli(['sign', PACKET, '--key', join(PKI, 'valid.p12'), '-o', signedFile], { SIGNING_KEY_PASSWORD: P12_PASSWORD });
  t.equal(signed.code, 0, signed.stderr);
  t.equal(signed.stdout, '', 'the packet went to the file');
  t.equal(signed.stderr, '');
  const bytes = await readFile(signedFile, 'utf8');
  t.match(bytes, /<Signature xmlns="http:\/\/www\.w3\.org\/2000\/09\/xmldsig#">/);

  // The same key as a PEM key with its certificate, to stdout: the same bytes (RSA PKCS#1 v1.5 is deterministic).
  const pem = await cli(['sign', PACKET, '--key', join(PKI, 'certs/valid.key.pem'), '--cert', join(PKI, 'certs/valid.chain.pem')]);
  t.equal(pem.code, 0, pem.stderr);
  t.equal(pem.stdout, bytes);

  const run = await cli(['verify', signedFile]);
  t.equal(run.code, 0, run.stdout + run.stderr);
  t.equal(run.stderr, '');
  t.match(run.stdout, `${signedFile}: valid\n`);
  t.match(run.stdout, /\n {2}signer {6}CN=Văn thư Sở Nội vụ, O=000\.00\.15\.H47, OU=Test CA — not for production, C=VN\n/);
  t.match(run.stdout, /\n {2}chain {7}CN=Văn thư Sở Nội vụ.*\n {14}→ CN=edxgate Test Intermediate CA.*\n {14}→ CN=edxgate Test Root CA/);
  // The leaf's CRL is learnt from its chain, fetched, and the packet judged again.
  t.match(run.stdout, /\n {2}revocation {2}good /);
  t.match(run.stdout, `agency      ${TEST_AGENCY}, policy verify-if-present: the gateway would accept it`);
  t.match(run.stdout, /Trust store: 1 anchor, 1 intermediate, from the TRUST_\* settings only \(no database: DATABASE_URL is not set and .* holds no embedded database\)/);
});

t.test('a tampered packet is invalid (digest mismatch), exit 1', async (t) => {
  const tampered = join(dir, 'tampered.edxml');
  const text = await readFile(signedFile, 'utf8');
  const changed = text.replace('<edXML:CodeNumber>124</edXML:CodeNumber>', '<edXML:CodeNumber>125</edXML:CodeNumber>');
  t.not(changed, text, 'the packet was changed');
  await writeFile(tampered, changed);
  const run = await cli(['verify', tampered]);
  t.equal(run.code, 1);
  t.match(run.stdout, `${tampered}: invalid EDX_ERR_SIGNATURE_DIGEST_MISMATCH\n`);
  t.match(run.stdout, /\n {2}signer {6}CN=Văn thư Sở Nội vụ/, 'the claimed signer is still shown');
  t.match(run.stdout, 'the gateway would refuse it (EDX_ERR_SIGNATURE_DIGEST_MISMATCH)');
});

t.test("the official samples' placeholder, an unsigned packet, an unreadable file: exit 1", async (t) => {
  const run = await cli(['verify', signedFile, PLACEHOLDER_SAMPLE, PACKET, 'khong-ton-tai.edxml']);
  t.equal(run.code, 1, 'not every signature is valid');
  t.match(run.stdout, `${signedFile}: valid\n`);
  t.match(run.stdout, new RegExp(`${PLACEHOLDER_SAMPLE}: placeholder\\n {2}reason {6}placeholder signature: .*XML-DSig namespace`));
  t.match(run.stdout, `${PACKET}: unsigned\n  reason      the packet carries no Signature\n`);
  t.match(run.stdout, /khong-ton-tai\.edxml: error EDX_ERR_FILE_UNREADABLE\n/);
});

t.test('--json, --agency and --offline', async (t) => {
  const run = await cli(['verify', '--json', '--offline', '--agency', '000.00.16.H47', signedFile, PLACEHOLDER_SAMPLE]);
  t.equal(run.code, 1);
  const out = JSON.parse(run.stdout) as { trust: Record<string, unknown>; files: Record<string, unknown>[]; crls: unknown[] };
  t.same(Object.keys(out), ['trust', 'files', 'crls']);
  t.match(out.trust, { database: null, anchors: 1, intermediates: 1, revocation: 'soft-fail', crlsFetched: false });
  // Offline: the URL the trust store names and the one learnt from the chain, neither fetched.
  t.match(out.crls, [
    { url: `${crlBase}/root.crl`, stale: true, issuer: null, lastAttemptAt: null },
    { url: `${crlBase}/intermediate.crl`, stale: true, issuer: null, lastAttemptAt: null },
  ]);
  t.equal(out.crls.length, 2);
  t.same(Object.keys(out.files[0] ?? {}), [
    'file', 'status', 'code', 'reason', 'agency', 'policy', 'accepted', 'xmlDsig', 'subject', 'issuer', 'serialNumber', 'notAfter', 'chain', 'revocation',
  ]);
  // Another agency than the signer's: the signature verifies, the certificate is not bound to it.
  t.match(out.files[0], {
    file: signedFile,
    status: 'invalid',
    code: 'EDX_ERR_SIGNATURE_CERT_WRONG_AGENCY',
    agency: '000.00.16.H47',
    policy: 'verify-if-present',
    accepted: true,
    xmlDsig: 'valid',
    subject: /^CN=Văn thư Sở Nội vụ/,
    serialNumber: pki.leaves.valid.serialNumber,
    chain: [],
    revocation: null,
  });
  t.match(out.files[1], { status: 'placeholder', code: null, agency: '000.00.16.H47', accepted: true, xmlDsig: 'placeholder', subject: null });
});

t.test('sign refuses unusable keys and packets with their code, exit 1; usage errors exit 2', async (t) => {
  const out = join(dir, 'not-written.edxml');
  const wrongPassword = await cli(['sign', PACKET, '--key', join(PKI, 'valid.p12'), '--password', 'sai-mat-khau', '-o', out]);
  t.equal(wrongPassword.code, 1);
  t.match(wrongPassword.stderr, /^edxgate: EDX_ERR_SIGNATURE_KEY_INVALID pkcs12: The PKCS#12 password is wrong/);
  t.equal(wrongPassword.stdout, '');

  const mismatch = await cli(['sign', PACKET, '--key', join(PKI, 'certs/valid.key.pem'), '--cert', join(PKI, 'certs/expiring-soon.pem'), '-o', out]);
  t.equal(mismatch.code, 1);
  t.match(mismatch.stderr, /^edxgate: EDX_ERR_SIGNATURE_KEY_INVALID /);

  const missing = await cli(['sign', PACKET, '--key', join(PKI, 'khong-co.p12')]);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /^edxgate: EDX_ERR_FILE_UNREADABLE .*khong-co\.p12/);

  const notPacket = await cli(['sign', join(PKI, 'binding.json'), '--key', join(PKI, 'valid.p12'), '--password', P12_PASSWORD, '-o', out]);
  t.equal(notPacket.code, 1);
  t.match(notPacket.stderr, /^edxgate: EDX_ERR_XML_MALFORMED /);
  await t.rejects(readFile(out), 'nothing was written');

  const usage: readonly (readonly string[])[] = [
    ['sign', PACKET],
    ['sign', '--key', 'k.p12'],
    ['sign', PACKET, PACKET, '--key', 'k'],
    ['sign', PACKET, '--key', 'k', '--c14n', 'c14n11'],
    ['verify'],
    ['verify', PACKET, '--at', 'hôm qua'],
    ['doctor', '--days', '-1'],
    ['doctor', 'extra'],
  ];
  for (const args of usage) {
    const run = await cli(args);
    t.equal(run.code, 2, args.join(' '));
    t.match(run.stderr, /^edxgate: EDX_ERR_CLI_USAGE /, args.join(' '));
  }
  const help = await cli(['help']);
  t.match(help.stdout, /\n {2}verify {4}.*\n {2}sign {6}.*\n {2}doctor {4}/);
});

t.test('doctor flags an expiring signing certificate and a stale CRL', async (t) => {
  const env = {
    SIGNING_KEY: join(PKI, 'certs/expiring-soon.key.pem'),
    SIGNING_CERT: join(PKI, 'certs/expiring-soon.chain.pem'),
    TRUST_CRL_URLS: `${crlBase}/intermediate-stale.crl`,
  };
  const run = await cli(['doctor'], env);
  t.equal(run.code, 1, run.stdout + run.stderr);
  t.equal(run.stderr, '');
  t.match(run.stdout, /\n {2}EXPIRING +(9|10) +\S+ +signing +[0-9a-f]{64} +CN=Văn thư Sở Nội vụ/);
  t.match(run.stdout, new RegExp(`\\n {2}ok +\\d+ +\\S+ +anchor +${pki.root.fingerprint256} +CN=edxgate Test Root CA`));
  t.match(run.stdout, /\n {2}ok +\d+ +\S+ +intermediate +[0-9a-f]{64} +CN=edxgate Test Intermediate CA/);
  t.match(run.stdout, `STALE  ${crlBase}/intermediate-stale.crl`);
  t.match(run.stdout, `current  ${crlBase}/root.crl`);
  t.match(run.stdout, '(agency certificates not checked: DATABASE_URL is not set');
  t.match(run.stdout, /Needs attention \(2\):\n {2}- The gateway signing certificate CN=Văn thư .* expires on .* \(in (9|10) days\)\.\n {2}- The CRL from .*intermediate-stale\.crl is stale \(its next update was due /);

  const json = await cli(['doctor', '--json', '--days', '5'], env);
  t.equal(json.code, 1, 'the stale CRL still needs attention');
  const report = JSON.parse(json.stdout) as { ok: boolean; days: number; certificates: { role: string; state: string }[]; crls: { url: string; state: string }[]; attention: string[] };
  t.match(report, { ok: false, days: 5, signingKey: true, agencyCertificatesChecked: false });
  t.same(report.certificates.find((c) => c.role === 'signing')?.state, 'ok', 'not within 5 days');
  t.same(
    report.crls.map((c) => [c.url, c.state]).sort(),
    [[`${crlBase}/intermediate-stale.crl`, 'stale'], [`${crlBase}/root.crl`, 'current']],
  );
  t.equal(report.attention.length, 1);

  const failing = await cli(['doctor', '--json'], { TRUST_CRL_URLS: `${crlBase}/gone.crl` });
  t.equal(failing.code, 1);
  t.match(JSON.parse(failing.stdout), { crls: [{ url: `${crlBase}/gone.crl`, state: 'failed', lastError: 'HTTP 404' }], attention: [/gone\.crl failed: HTTP 404; no current CRL is held/] });
});

t.test('doctor: nothing to report, exit 0', async (t) => {
  const run = await cli(['doctor'], {
    SIGNING_KEY: join(PKI, 'valid.p12'),
    SIGNING_KEY_PASSWORD: P12_PASSWORD,
    TRUST_CRL_URLS: `${crlBase}/intermediate.crl`,
  });
  t.equal(run.code, 0, run.stdout + run.stderr);
  t.match(run.stdout, /\n {2}ok +\d+ +\S+ +signing +/);
  t.match(run.stdout, /\nNothing needs attention\.\n$/);
  const broken = await cli(['doctor'], { SIGNING_KEY: join(PKI, 'valid.p12'), SIGNING_KEY_PASSWORD: 'sai' });
  t.equal(broken.code, 1, 'a signing key that does not load');
  t.match(broken.stderr, /^edxgate: EDX_ERR_SIGNATURE_KEY_INVALID SIGNING_KEY \(pkcs12\): /);
});

/** A migrated database holding an agency with its own policy and a bound certificate; the env that points at it. */
async function seededDatabase(t: Test): Promise<Record<string, string>> {
  const seed = async (db: Kysely<Database>): Promise<void> => {
    await db
      .insertInto('agencies')
      .values({ code: TEST_AGENCY, name: 'Sở Nội vụ (test)', parent_code: null, state: 'active', successor_code: null, route_id: null, signature_policy: 'require' })
      .execute();
    const soon = pki.leaves.expiringSoon;
    await db
      .insertInto('agency_certificates')
      .values({ agency_code: TEST_AGENCY, fingerprint_sha256: soon.fingerprint256, subject: soon.name.CN, not_after: new Date(pki.now.getTime() + 10 * 86_400_000), der: soon.der })
      .execute();
  };
  if (postgresAvailable()) {
    const db = await testDatabase(t);
    await seed(db.store.db);
    return { DATABASE_URL: db.databaseUrl ?? '', DATA_DIR: db.dataDir };
  }
  // PGlite: opened, seeded and closed again here, since the CLI's process must open the folder.
  const dataDir = await mkdtemp(join(tmpdir(), 'edxgate-trust-db-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const loaded = loadConfig({ env: { DATA_DIR: dataDir }, files: [] });
  if (!loaded.ok) throw new Error(loaded.issues.map((i) => i.message).join('; '));
  const store = await openStore(loaded.value);
  try {
    await migrateToLatest(store.db);
    await seed(store.db);
  } finally {
    await store.close();
  }
  return { DATABASE_URL: '', DATA_DIR: dataDir };
}

t.test('with a database: its agency policies and bound certificates count', async (t) => {
  const env = await seededDatabase(t);
  const verify = await cli(['verify', signedFile, PACKET], env);
  t.equal(verify.code, 1, verify.stdout + verify.stderr);
  t.equal(verify.stderr, '');
  t.match(verify.stdout, `agency      ${TEST_AGENCY}, policy require: the gateway would accept it`);
  t.match(verify.stdout, `${PACKET}: unsigned\n`);
  t.match(verify.stdout, `agency      ${TEST_AGENCY}, policy require: the gateway would refuse it (EDX_ERR_SIGNATURE_REQUIRED)`);
  t.match(verify.stdout, /from the TRUST_\* settings and (Postgres|the embedded database)/);

  const doctor = await cli(['doctor'], env);
  t.equal(doctor.code, 1);
  t.match(doctor.stdout, new RegExp(`\\n {2}EXPIRING +(9|10) +\\S+ +agency ${TEST_AGENCY.replace(/\./g, '\\.')} +${pki.leaves.expiringSoon.fingerprint256} +CN=Văn thư`));
  t.match(doctor.stdout, `- The certificate bound to ${TEST_AGENCY} CN=Văn thư`);
});

t.test('an embedded database locked by a running gateway: a clear message, then the files alone', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'edxgate-trust-locked-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const loaded = loadConfig({ env: { DATA_DIR: dataDir }, files: [] });
  if (!loaded.ok) throw new Error('config');
  const store = await openStore(loaded.value); // this process plays the running gateway
  t.teardown(() => store.close());

  const run = await cli(['verify', signedFile, '--offline'], { DATA_DIR: dataDir });
  t.equal(run.code, 0, 'verified against the TRUST_* files');
  t.match(run.stderr, /^edxgate: EDX_ERR_STORE_UNAVAILABLE .*in use by process \d+/);
  t.match(run.stderr, /edxgate `verify` works on the embedded database only while the gateway is stopped|Only one process may open it/);
  t.match(run.stderr, /edxgate: warning: verify continues without the database: .*Pass --no-database/);
  t.match(run.stdout, `${signedFile}: valid\n`);
  t.match(run.stdout, /from the TRUST_\* settings only \(no database: the embedded database in .* could not be used\)/);

  const quiet = await cli(['verify', signedFile, '--offline', '--no-database'], { DATA_DIR: dataDir });
  t.equal(quiet.code, 0);
  t.equal(quiet.stderr, '', '--no-database does not try');

  const doctor = await cli(['doctor', '--offline'], { DATA_DIR: dataDir });
  t.equal(doctor.code, 1, 'doctor could not check the agency certificates');
  t.match(doctor.stdout, /- The embedded database in .* could not be used \(see the error above\): the certificates bound to agencies were not checked\./);
});
