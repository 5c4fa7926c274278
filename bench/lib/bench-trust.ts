// The PKI of a signed run: the throwaway test PKI the tests generate (test/trust/helpers/test-pki.ts,
// "Test CA — not for production"), written to a temp folder, with its CRLs served from a loopback
// server here. The sender (TEST_AGENCY, 000.00.15.H47) signs with the valid test certificate; the
// gateway trusts the test root, binds certificates to agencies by subject O, checks revocation
// against the served CRLs (hard-fail, as an agency whose signatures must hold up would), and signs
// what it forwards with the PKCS#12 of that certificate (SIGNING_KEY).

import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SigningKey } from '../../src/trust/types.ts';
import { TEST_AGENCY, createTestPki, writeTestPki } from '../../test/trust/helpers/test-pki.ts';
import type { TestPki } from '../../test/trust/helpers/test-pki.ts';

/** The agency whose certificate signs the bench's packets. */
export const SIGNING_SENDER = TEST_AGENCY;

/** A run's PKI. */
export interface BenchTrust {
  /** The gateway's trust and signing settings. */
  readonly env: Readonly<Record<string, string>>;
  /** The sender's key and chain. */
  readonly senderKey: SigningKey;
  /** Resolves once the gateway has fetched both CRLs (it fetches them ahead, at start); throws after `timeoutMs`. */
  waitForCrlFetches(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/** Generates the test PKI (2–4 s: RSA keys), writes it and starts its CRL server. */
export async function createBenchTrust(gatewayAgency: string): Promise<BenchTrust> {
  // The CRL server exists before the PKI: the certificates carry its URL.
  let pki: TestPki | undefined;
  const fetched = new Set<string>();
  const server = createServer((req, res) => {
    const crl = req.url === '/root.crl' ? pki?.crls.root : req.url === '/intermediate.crl' ? pki?.crls.intermediate : undefined;
    if (crl === undefined) {
      res.writeHead(404).end();
      return;
    }
    fetched.add(req.url ?? '');
    res.writeHead(200, { 'content-type': 'application/pkix-crl' }).end(crl);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const created = await createTestPki({ crlBaseUrl: base });
  pki = created;
  const dir = await mkdtemp(join(tmpdir(), 'edxgate-bench-pki-'));
  await writeTestPki(dir, created);
  return {
    env: {
      TRUST_ANCHORS: join(dir, 'anchors'),
      TRUST_INTERMEDIATES: join(dir, 'intermediates'),
      TRUST_BINDING: join(dir, 'binding.json'),
      TRUST_CRL_URLS: `${created.crlUrls.intermediate},${created.crlUrls.root}`,
      TRUST_REVOCATION: 'hard-fail',
      SIGNING_KEY: join(dir, 'valid.p12'),
      SIGNING_KEY_PASSWORD: created.p12Password,
      GATEWAY_AGENCY_CODE: gatewayAgency,
    },
    senderKey: { privateKey: created.leaves.valid.privateKey, certificates: created.chainOf(created.leaves.valid) },
    async waitForCrlFetches(timeoutMs) {
      const deadline = performance.now() + timeoutMs;
      while (fetched.size < 2) {
        if (performance.now() > deadline) throw new Error(`the gateway fetched ${fetched.size} of the 2 test CRLs within ${timeoutMs} ms`);
        await sleep(50);
      }
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
