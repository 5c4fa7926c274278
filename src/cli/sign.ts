// `edxgate sign FILE --key KEY [--cert CERT]`: signs a packet as the gateway signs what it
// forwards — an enveloped XML-DSig signature over the whole packet, RSA-SHA256, the signer's
// certificate in KeyInfo — with a key from files (PKCS#12, or a PEM key and its certificate).
// For agencies testing their own signing against a gateway, and for making signed test packets.

import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { issue, type Issue } from '../errors.ts';
import type { Canonicalization } from '../trust/types.ts';
import { EXIT_INVALID, EXIT_OK, UsageError, formatIssue, type CliIo, type Command } from './command.ts';

const USAGE = `Usage: edxgate sign FILE --key KEY [--cert CERT] [--password PASSWORD] [-o OUT]
                    [--c14n exc-c14n|c14n]

Signs an edXML packet: an enveloped XML-DSig signature over the whole packet (RSA-SHA256,
SHA-256 digest), put last in edXMLHeader, with the signing certificate in KeyInfo. A
Signature already there (a real one, or the official samples' placeholder) is replaced.
The signed packet goes to OUT, or to standard output.

Options:
  --key KEY            a PKCS#12 file (.p12/.pfx), or a PEM private key (PKCS#8 or PKCS#1),
                       told apart by content
  --cert CERT          the PEM certificate (and chain) of a PEM key, unless the key file
                       holds it
  --password PASSWORD  the PKCS#12 password, or the passphrase of an encrypted PEM key;
                       default: the SIGNING_KEY_PASSWORD environment variable, which keeps
                       it out of the process list
  -o, --output OUT     write the signed packet to OUT instead of standard output
  --c14n ALGORITHM     canonicalization: exc-c14n (the default) or c14n
  -h, --help           show this help

Exit status: 0 signed, 1 the key or the packet cannot be used (EDX_ERR_SIGNATURE_KEY_INVALID,
EDX_ERR_FILE_UNREADABLE, …; nothing is written), 2 the command line is wrong.
`;

/** The `sign` command. */
export const signCommand: Command = {
  summary: 'sign an edXML packet with a key and certificate (XML-DSig)',
  usage: USAGE,
  async run(args: readonly string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      strict: true,
      options: {
        key: { type: 'string' },
        cert: { type: 'string' },
        password: { type: 'string' },
        output: { type: 'string', short: 'o' },
        c14n: { type: 'string' },
      },
    });
    if (positionals.length !== 1) throw new UsageError(`sign needs exactly one FILE, got ${positionals.length}.`);
    if (values.key === undefined) throw new UsageError('sign needs --key KEY (a PKCS#12 file or a PEM private key).');
    const canonicalization = c14nOption(values.c14n);
    const file = positionals[0] as string;
    const report = (issues: readonly Issue[]): void => io.stderr(issues.map((i) => `edxgate: ${formatIssue(i)}\n`).join(''));

    let bytes: Buffer;
    try {
      bytes = await readFile(resolve(io.cwd, file));
    } catch (error) {
      report([issue('EDX_ERR_FILE_UNREADABLE', file, `Cannot read the packet: ${errorText(error)}.`)]);
      return EXIT_INVALID;
    }
    // Loaded on use: node-forge and the XML-DSig code would otherwise add to every command's start.
    const [{ loadSigningKeyFiles }, { trySignPacket }] = await Promise.all([import('../trust/pki/index.ts'), import('../trust/dsig/index.ts')]);
    const env = io.env ?? process.env;
    // An empty variable counts as unset, as everywhere in the configuration.
    const password = values.password ?? (env['SIGNING_KEY_PASSWORD'] === '' ? undefined : env['SIGNING_KEY_PASSWORD']);
    const key = await loadSigningKeyFiles({
      keyPath: resolve(io.cwd, values.key),
      certPath: values.cert === undefined ? undefined : resolve(io.cwd, values.cert),
      password,
    });
    if (!key.ok) {
      report(key.issues);
      return EXIT_INVALID;
    }
    // An expired certificate still signs, but receivers will refuse it: say so.
    report(key.warnings);

    const signed = trySignPacket(bytes, key.value, { canonicalization });
    if (!signed.ok) {
      report(signed.issues);
      return EXIT_INVALID;
    }
    if (values.output === undefined) {
      // edXML is UTF-8 and the signer writes UTF-8, so the text round-trips byte for byte.
      io.stdout(signed.value.toString('utf8'));
      return EXIT_OK;
    }
    try {
      await writeFile(resolve(io.cwd, values.output), signed.value);
    } catch (error) {
      report([issue('EDX_ERR_FILE_UNREADABLE', values.output, `Cannot write the signed packet: ${errorText(error)}.`)]);
      return EXIT_INVALID;
    }
    return EXIT_OK;
  },
};

function c14nOption(value: string | undefined): Canonicalization | undefined {
  if (value === undefined) return undefined;
  if (value !== 'exc-c14n' && value !== 'c14n') throw new UsageError(`--c14n must be exc-c14n or c14n, not "${value}".`);
  return value;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
