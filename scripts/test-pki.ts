// Writes the throwaway test PKI (test/trust/helpers/test-pki.ts) into a folder, for trying the
// trust store, CRLs and signing by hand:
//
//   node --import tsx scripts/test-pki.ts OUT_DIR [--crl-base-url http://127.0.0.1:8089]
//
// Certificates name CRL URLs under --crl-base-url (default: an .invalid host that never
// resolves); serve OUT_DIR/crl/ there to exercise CRL fetching. Nothing here is secret or
// trusted anywhere: every subject says "Test CA — not for production".

import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createTestPki, writeTestPki } from '../test/trust/helpers/test-pki.ts';

const usage = 'usage: node --import tsx scripts/test-pki.ts OUT_DIR [--crl-base-url URL]';

async function main(argv: readonly string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${usage}\n`);
    return 2;
  }
  const [outDir, ...extra] = parsed.positionals;
  if (outDir === undefined || extra.length > 0 || parsed.values.help) {
    process.stderr.write(`${usage}\n`);
    return parsed.values.help ? 0 : 2;
  }
  const crlBaseUrl = parsed.values['crl-base-url'];
  if (crlBaseUrl !== undefined && !/^https?:\/\/[^/]/.test(crlBaseUrl)) {
    process.stderr.write(`--crl-base-url must be an http(s) URL, not ${crlBaseUrl}\n`);
    return 2;
  }
  const directory = resolve(outDir);
  const pki = await createTestPki({ crlBaseUrl });
  const written = await writeTestPki(directory, pki);
  process.stdout.write(`Wrote ${written.length} files of TEST PKI material (not for production) to ${directory}\n`);
  for (const file of written) process.stdout.write(`  ${file}\n`);
  return 0;
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { 'crl-base-url': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
}

process.exitCode = await main(process.argv.slice(2));
