// Interop with xmlsec1 (libxmlsec1/OpenSSL, the reference implementation most XML-DSig stacks are
// checked against), both ways, for a small packet and one with a 1 MB attachment:
// - what signPacket writes verifies with `xmlsec1 --verify` (the test certificate as trust anchor);
// - what `xmlsec1 --sign` fills into a template (exc-c14n/RSA-SHA256/SHA-256, and c14n/RSA-SHA1/SHA-1
//   as the VNPT library defaults to) verifies with verifySignature.
//
// xmlsec1 must be installed (`apt-get install -y xmlsec1`; CI installs it). Without it this file
// fails, unless EDX_SKIP_XMLSEC=1 says the skip is deliberate.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { buildPacketBuffer } from '../../src/edxml/build.ts';
import type { DocumentPacket } from '../../src/edxml/model.ts';
import { signPacket, verifySignature } from '../../src/trust/dsig/index.ts';
import { scanCanonical } from '../../src/trust/dsig/canonical-scan.ts';
import { documentPacket, minimalDocument, statusPacket } from '../edxml/example-packets.ts';
import { testKey } from './helpers/keys.ts';

const XMLSEC = 'xmlsec1';
const probe = spawnSync(XMLSEC, ['--version'], { encoding: 'utf8' });
const installed = probe.error === undefined && probe.status === 0;

if (!installed && process.env['EDX_SKIP_XMLSEC'] === '1') {
  t.plan(0, 'xmlsec1 is not installed and EDX_SKIP_XMLSEC=1');
} else if (!installed) {
  t.fail(`xmlsec1 is not installed (${probe.error?.message ?? probe.stderr}): run \`apt-get install -y xmlsec1\`, or set EDX_SKIP_XMLSEC=1 to skip this interop test deliberately`);
} else {
  run();
}

function run(): void {
  t.comment(`using ${probe.stdout.trim()}`);
  const key = testKey('xmlsec interop signer');
  const dir = mkdtempSync(join(tmpdir(), 'edxgate-xmlsec-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const certificatePath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  writeFileSync(certificatePath, key.certificatePem);
  writeFileSync(keyPath, key.privateKeyPem);

  let fileNumber = 0;
  const xmlsec = (args: readonly string[], input: Buffer | string): { ok: boolean; output: string; out: Buffer | undefined } => {
    fileNumber += 1;
    const inputPath = join(dir, `in-${fileNumber}.xml`);
    const outputPath = join(dir, `out-${fileNumber}.xml`);
    writeFileSync(inputPath, input);
    const wantsOutput = args.includes('--sign');
    const result = spawnSync(XMLSEC, [...args, ...(wantsOutput ? ['--output', outputPath] : []), inputPath], { encoding: 'utf8', timeout: 60_000 });
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
    return { ok: result.status === 0, output, out: wantsOutput && result.status === 0 ? readFileSync(outputPath) : undefined };
  };

  const pseudoRandomBase64 = (size: number): string => {
    const bytes = Buffer.allocUnsafe(size);
    let x = 12345;
    for (let i = 0; i < size; i++) {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      bytes[i] = x >>> 16;
    }
    return bytes.toString('base64');
  };
  const large: DocumentPacket = {
    ...minimalDocument,
    manifest: [{ contentId: 'cid:1', contentType: 'application/pdf', attachmentName: 'big.pdf' }],
    attachments: [{ contentId: 'cid:1', contentType: 'application/pdf', attachmentName: 'big.pdf', content: pseudoRandomBase64(768 * 1024) }],
  };
  const packets: readonly [string, Buffer][] = [
    ['small document', buildPacketBuffer({ ...documentPacket, signature: undefined })],
    ['status', buildPacketBuffer(statusPacket)],
    ['1 MB attachment', buildPacketBuffer(large)],
  ];

  t.test('xmlsec1 --verify accepts what signPacket writes', async (t) => {
    for (const [name, unsigned] of packets) {
      for (const canonicalization of ['exc-c14n', 'c14n'] as const) {
        const signed = signPacket(unsigned, key, { canonicalization });
        const verified = xmlsec(['--verify', '--trusted-pem', certificatePath], signed);
        t.ok(verified.ok, `${name}, ${canonicalization}`, { output: verified.output });
        t.match(verified.output, /^OK$/m);
      }
    }
    // And refuses it once changed, so that the positive result above means something.
    const signed = signPacket(packets[0]?.[1] ?? Buffer.alloc(0), key).toString('utf8').replace('<edXML:Subject>', '<edXML:Subject>X');
    t.notOk(xmlsec(['--verify', '--trusted-pem', certificatePath], signed).ok, 'a changed packet fails xmlsec1 --verify');
  });

  // A template as another implementation would write it: self-closing elements, own indentation,
  // empty DigestValue/SignatureValue and X509Data for xmlsec1 to fill.
  const template = (c14n: string, signatureMethod: string, digestMethod: string, transforms: readonly string[]): string =>
    [
      '\n      <Signature xmlns="http://www.w3.org/2000/09/xmldsig#">',
      '  <SignedInfo>',
      `    <CanonicalizationMethod Algorithm="${c14n}"/>`,
      `    <SignatureMethod Algorithm="${signatureMethod}"/>`,
      '    <Reference URI="">',
      '      <Transforms>',
      ...transforms.map((a) => `        <Transform Algorithm="${a}"/>`),
      '      </Transforms>',
      `      <DigestMethod Algorithm="${digestMethod}"/>`,
      '      <DigestValue></DigestValue>',
      '    </Reference>',
      '  </SignedInfo>',
      '  <SignatureValue/>',
      '  <KeyInfo>',
      '    <X509Data/>',
      '  </KeyInfo>',
      '</Signature>',
    ].join('\n      ');

  const profiles = [
    {
      name: 'exc-c14n, RSA-SHA256, SHA-256',
      xml: template('http://www.w3.org/2001/10/xml-exc-c14n#', 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', 'http://www.w3.org/2001/04/xmlenc#sha256', [
        'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
        'http://www.w3.org/2001/10/xml-exc-c14n#',
      ]),
      expected: { status: 'valid', signatureAlgorithm: 'rsa-sha256', digestAlgorithm: 'sha256', canonicalization: 'exc-c14n' },
    },
    {
      name: 'c14n, RSA-SHA1, SHA-1, enveloped-signature only (the VNPT sample form)',
      xml: template('http://www.w3.org/TR/2001/REC-xml-c14n-20010315', 'http://www.w3.org/2000/09/xmldsig#rsa-sha1', 'http://www.w3.org/2000/09/xmldsig#sha1', [
        'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
      ]),
      expected: { status: 'valid', signatureAlgorithm: 'rsa-sha1', digestAlgorithm: 'sha1', canonicalization: 'c14n' },
    },
  ] as const;

  t.test('verifySignature accepts what xmlsec1 --sign fills in', async (t) => {
    for (const [name, unsigned] of packets) {
      const text = unsigned.toString('utf8');
      const anchor = text.includes('</edXML:TraceHeaderList>') ? '</edXML:TraceHeaderList>' : '</edXML:MessageHeader>';
      for (const profile of profiles) {
        const withTemplate = text.replace(anchor, `${anchor}${profile.xml}`);
        const signed = xmlsec(['--sign', '--privkey-pem', `${keyPath},${certificatePath}`], withTemplate);
        if (!signed.ok || signed.out === undefined) {
          t.fail(`${name}, ${profile.name}: xmlsec1 --sign failed`, { output: signed.output });
          continue;
        }
        // xmlsec1 (libxml2) writes the packet back as it was, except a CR, which it writes &#13;
        // where c14n writes &#xD;; otherwise only its Signature differs, and that keeps the fast path.
        if (!text.includes('&#xD;')) t.ok(scanCanonical(signed.out).canonical, `${name}, ${profile.name}: on the fast path`);
        const check = verifySignature(signed.out);
        t.match(check, profile.expected, `${name}, ${profile.name}`);
        if (check.status === 'valid') t.same(check.certificates, [key.certificates[0]], 'the certificate xmlsec1 put in KeyInfo');
        const tampered = Buffer.from(signed.out.toString('utf8').replace('<edXML:OrganId>', '<edXML:OrganId>9'), 'utf8');
        t.match(verifySignature(tampered), { status: 'invalid', code: 'EDX_ERR_SIGNATURE_DIGEST_MISMATCH' }, `${name}, ${profile.name}: changed after signing`);
      }
    }
  });

  t.test('a packet signed by xmlsec1 and re-signed by us verifies with both', async (t) => {
    const text = packets[0]?.[1].toString('utf8') ?? '';
    const first = profiles[0];
    const signed = xmlsec(['--sign', '--privkey-pem', `${keyPath},${certificatePath}`], text.replace('</edXML:TraceHeaderList>', `</edXML:TraceHeaderList>${first.xml}`));
    t.ok(signed.ok && signed.out !== undefined, 'xmlsec1 signed');
    const resigned = signPacket(signed.out ?? Buffer.alloc(0), testKey('edxgate gateway'));
    t.match(verifySignature(resigned), { status: 'valid' }, 'our verifier');
    const gatewayCertificate = join(dir, 'gateway.pem');
    writeFileSync(gatewayCertificate, testKey('edxgate gateway').certificatePem);
    const verified = xmlsec(['--verify', '--trusted-pem', gatewayCertificate], resigned);
    t.ok(verified.ok, 'xmlsec1', { output: verified.output });
  });
}
