// `edxgate verify FILE...`: judges each packet's signature as the gateway's intake would — the
// XML-DSig check, the certificate chain against the configured trust store, revocation, the
// binding of the signer to the sending agency, under that agency's signature policy — and prints,
// per file, the verdict, the signer, the chain and the revocation status.
//
// The trust comes from the configuration (TRUST_*, SIGNATURE_POLICY) and, when a database is
// configured and can be opened, from the database too (anchors added at run time, certificates
// bound to agencies, per-agency policies). Without one the files alone are used, and the command
// says so: `withCliTrust` below is shared with `doctor`.

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } from 'kysely';

import type { Config } from '../config/schema.ts';
import { senderOf } from '../edxml/model.ts';
import { parsePacket } from '../edxml/parse.ts';
import { EdxError } from '../errors.ts';
import { createLogger } from '../observability/logger.ts';
import type { Database } from '../store/database.ts';
import type { Store } from '../store/open-store.ts';
import type { Certificate, CrlStatus } from '../trust/pki/index.ts';
import type { Judgement } from '../trust/policy.ts';
import type { TrustService } from '../trust/trust-service.ts';
import type { SignaturePolicy, SignatureVerdictStatus } from '../trust/types.ts';
import { EXIT_INVALID, EXIT_OK, UsageError, formatIssue, type CliIo, type Command } from './command.ts';
import { describeDatabase, formatError, loadCliConfig, withStore } from './with-store.ts';

// --- the trust of a CLI command (shared with doctor) ----------------------------------------------

/** Whether the database took part, and if not, why. */
export type DatabaseUse =
  | { readonly used: true; readonly description: string }
  | {
      readonly used: false;
      /** A database is configured (DATABASE_URL, or an embedded one in DATA_DIR) but could not be used. */
      readonly configured: boolean;
      readonly reason: string;
    };

/** What a trust command works with. */
export interface CliTrust {
  readonly config: Config;
  readonly trust: TrustService;
  readonly database: DatabaseUse;
  /** The database, or a stand-in without rows when it is not used. */
  readonly store: Pick<Store, 'db'>;
  /** Whether CRLs are fetched (false with --offline: only those kept in TRUST_CRL_DIR are used). */
  readonly fetchCrls: boolean;
}

/** Options of withCliTrust. */
export interface CliTrustOptions {
  /** The command's name, for messages. */
  readonly command: string;
  readonly fetchCrls: boolean;
  /** False with --no-database. */
  readonly useDatabase: boolean;
}

/**
 * Opens the trust service of the configuration, with the database when one is configured and can
 * be opened (read only: nothing here writes to it), runs `fn`, closes everything. A database that
 * is configured but cannot be used (unreachable, the embedded one locked by a running gateway,
 * migrations pending) is reported by withStore and then left out, with a warning saying what that
 * leaves out. Resolves to `fn`'s exit code, or 1 when the trust configuration cannot be loaded.
 */
export async function withCliTrust(io: CliIo, options: CliTrustOptions, fn: (trust: CliTrust) => Promise<number>): Promise<number> {
  const config = loadCliConfig(io);
  if (config === undefined) return EXIT_INVALID;
  const run = (store: Pick<Store, 'db'>, database: DatabaseUse): Promise<number> => runWithTrust(io, config, store, database, options, fn);

  if (!options.useDatabase) return run(emptyDirectory(), { used: false, configured: false, reason: '--no-database was given' });
  // Opening the embedded database creates it: a command that only reads must not leave an empty
  // database behind in a folder where no gateway ever ran.
  if (config.store.databaseUrl === undefined && !existsSync(join(config.store.dataDir, 'pglite'))) {
    return run(emptyDirectory(), {
      used: false,
      configured: false,
      reason: `DATABASE_URL is not set and ${config.store.dataDir} holds no embedded database`,
    });
  }
  let ran = false;
  const code = await withStore(io, { command: options.command }, (store, storeConfig) => {
    ran = true;
    return run(store, { used: true, description: describeDatabase(storeConfig) });
  });
  if (ran) return code;
  // withStore has printed why (with the running gateway's pid when the embedded database is locked).
  io.stderr(
    `edxgate: warning: ${options.command} continues without the database: the trust anchors, agency certificates and ` +
      'signature policies kept there are not taken into account, only the TRUST_* settings and SIGNATURE_POLICY. ' +
      'Pass --no-database to skip the database (and this warning).\n',
  );
  return run(emptyDirectory(), { used: false, configured: true, reason: `${describeDatabase(config)} could not be used` });
}

async function runWithTrust(
  io: CliIo,
  config: Config,
  store: Pick<Store, 'db'>,
  database: DatabaseUse,
  options: CliTrustOptions,
  fn: (trust: CliTrust) => Promise<number>,
): Promise<number> {
  // Loaded on use, as `serve` loads the server: node-forge and the XML-DSig code would otherwise
  // add to the start of every other command.
  const { TrustService } = await import('../trust/trust-service.ts');
  let trust: TrustService;
  try {
    // Silent: CRL fetch failures are reported by the commands themselves, not as log lines.
    trust = await TrustService.open(config.trust, store, createLogger({ log: { level: 'silent' } }), { fetchCrls: options.fetchCrls });
  } catch (error) {
    if (!(error instanceof EdxError)) throw error;
    io.stderr(formatError(error));
    return EXIT_INVALID;
  }
  try {
    return await fn({ config, trust, database, store, fetchCrls: options.fetchCrls });
  } finally {
    // Waits for CRL fetches still running; each is bounded by the CRL cache's request timeout.
    await trust.close();
  }
}

/**
 * A directory with no rows, for when there is no database: the trust service reads anchors,
 * agency certificates and policies from its store, and "no database" means exactly "none of
 * those". Kysely's DummyDriver answers every query with no rows and never connects anywhere.
 */
function emptyDirectory(): Pick<Store, 'db'> {
  return {
    db: new Kysely<Database>({
      dialect: {
        createAdapter: () => new PostgresAdapter(),
        createDriver: () => new DummyDriver(),
        createIntrospector: (db) => new PostgresIntrospector(db),
        createQueryCompiler: () => new PostgresQueryCompiler(),
      },
    }),
  };
}

/** A CRL source as the trust commands print it in JSON. */
export interface JsonCrl {
  readonly url: string;
  readonly stale: boolean;
  readonly issuer: string | null;
  readonly thisUpdate: string | null;
  readonly nextUpdate: string | null;
  readonly revoked: number | null;
  readonly signature: 'verified' | 'issuer-unknown' | 'bad-signature' | null;
  readonly fetchedAt: string | null;
  readonly lastAttemptAt: string | null;
  readonly lastError: string | null;
}

export function jsonCrl(status: CrlStatus): JsonCrl {
  const held = status.held;
  return {
    url: status.url,
    stale: status.stale,
    issuer: held?.issuer ?? null,
    thisUpdate: held?.thisUpdate.toISOString() ?? null,
    nextUpdate: held?.nextUpdate?.toISOString() ?? null,
    revoked: held?.revoked ?? null,
    signature: held?.signature ?? null,
    fetchedAt: status.fetchedAt?.toISOString() ?? null,
    lastAttemptAt: status.lastAttemptAt?.toISOString() ?? null,
    lastError: status.lastError ?? null,
  };
}

/** One line about a CRL source: what is held, and the last fetch error. */
export function describeCrl(status: CrlStatus): string {
  const held = status.held;
  const parts: string[] = [];
  if (held === undefined) parts.push('no CRL held');
  else {
    const next = held.nextUpdate === undefined ? 'no nextUpdate' : `next update ${held.nextUpdate.toISOString()}`;
    parts.push(`${held.issuer}, issued ${held.thisUpdate.toISOString()}, ${next}, ${held.revoked} revoked, signature ${held.signature}`);
  }
  if (status.fetchedAt !== undefined) parts.push(`fetched ${status.fetchedAt.toISOString()}`);
  if (status.lastError !== undefined) parts.push(`last fetch failed: ${status.lastError}`);
  return parts.join('; ');
}

/** Where the trust came from, for the last line of verify and the first of doctor. */
export function describeTrustSource(database: DatabaseUse): string {
  return database.used ? `the TRUST_* settings and ${database.description}` : `the TRUST_* settings only (no database: ${database.reason})`;
}

// --- verify ------------------------------------------------------------------------------------

/** One file's verdict as `--json` prints it (null: does not apply or is not known). */
export interface VerifyReport {
  readonly file: string;
  /** The gateway's verdict, or `error` when the file could not be judged at all. */
  readonly status: SignatureVerdictStatus | 'error';
  readonly code: string | null;
  readonly reason: string | null;
  /** The agency judged as the sender: --agency, else the packet's From. */
  readonly agency: string | null;
  readonly policy: SignaturePolicy | null;
  /** Whether the gateway's intake would admit the packet under that policy. */
  readonly accepted: boolean | null;
  /** The XML-DSig layer's own finding (apart from the certificate): valid, invalid, unsigned, placeholder. */
  readonly xmlDsig: 'valid' | 'invalid' | 'unsigned' | 'placeholder' | null;
  readonly subject: string | null;
  readonly issuer: string | null;
  readonly serialNumber: string | null;
  readonly notAfter: string | null;
  /** Subjects from the signer up to the trust anchor (valid verdicts only). */
  readonly chain: readonly string[];
  /** `good`: a current CRL covers every link; `unknown`: not (soft-fail accepted it). */
  readonly revocation: 'good' | 'unknown' | null;
}

const USAGE = `Usage: edxgate verify FILE... [--agency CODE] [--at TIME] [--offline] [--no-database] [--json]

Judges each packet's signature as the gateway's intake would: the XML-DSig signature, the
signer's certificate chain against the trust store (TRUST_ANCHORS, TRUST_INTERMEDIATES and the
database), revocation (CRLs), and the binding of the signer to the sending agency, under that
agency's signature policy. Prints, per file, the verdict (valid, invalid with its code and
reason, unsigned, placeholder, not-checked), the signer, the chain and the revocation status.

Options:
  --agency CODE   judge the packets as sent by CODE (default: each packet's From)
  --at TIME       judge the certificates at TIME (ISO 8601; default: now)
  --offline       do not fetch CRLs; use those kept in TRUST_CRL_DIR
  --no-database   use only the TRUST_* settings, not the database's anchors, agency
                  certificates and policies
  --json          print {trust, files: [...], crls: [...]} instead
  -h, --help      show this help

Exit status: 0 every signature is valid, 1 at least one is not (invalid, unsigned,
placeholder, not checked, or the file cannot be read), 2 the command line is wrong.
`;

/** The `verify` command. */
export const verifyCommand: Command = {
  summary: "check packets' signatures: verdict, signer, chain and revocation per file",
  usage: USAGE,
  async run(args: readonly string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      strict: true,
      options: {
        agency: { type: 'string' },
        at: { type: 'string' },
        offline: { type: 'boolean', default: false },
        'no-database': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
      },
    });
    if (positionals.length === 0) throw new UsageError('verify needs at least one FILE.');
    const agency = values.agency;
    if (agency !== undefined && agency.trim() === '') throw new UsageError('--agency needs an agency code.');
    const at = atOption(values.at);

    return withCliTrust(io, { command: 'verify', fetchCrls: !values.offline, useDatabase: !values['no-database'] }, async (context) => {
      if (context.fetchCrls) await context.trust.refreshCrls(); // the start's fetch, waited for
      const reports: VerifyReport[] = [];
      const inspect = await signerInspector();
      for (const file of positionals) reports.push(await verifyFile(context, inspect, file, io.cwd, agency, at ?? new Date()));
      const crls = context.trust.crlStatus();
      const expiry = await context.trust.expiry(0);
      const anchors = expiry.certificates.filter((c) => c.role === 'anchor').length;
      const intermediates = expiry.certificates.filter((c) => c.role === 'intermediate').length;
      if (values.json) {
        const trust = {
          database: context.database.used ? context.database.description : null,
          databaseNote: context.database.used ? null : context.database.reason,
          anchors,
          intermediates,
          revocation: context.config.trust.revocation,
          crlsFetched: context.fetchCrls,
        };
        // Each file's keys in a fixed order, file first, whatever order its report was assembled in.
        io.stdout(`${JSON.stringify({ trust, files: reports.map(inOrder), crls: crls.map(jsonCrl) }, null, 2)}\n`);
      } else {
        io.stdout(reports.map(formatReport).join(''));
        // The CRLs matter to whoever reads an `unknown` revocation (or a refusal for it).
        if (reports.some((r) => r.revocation === 'unknown' || r.code === 'EDX_ERR_SIGNATURE_CERT_REVOCATION_UNKNOWN')) {
          io.stdout(
            crls.length === 0
              ? 'CRLs: none known (TRUST_CRL_URLS is empty and no certificate names a distribution point)\n'
              : `CRLs${context.fetchCrls ? '' : ' (not fetched: --offline)'}:\n${crls.map((c) => `  ${c.url}: ${describeCrl(c)}\n`).join('')}`,
          );
        }
        const counts = `${plural(anchors, 'anchor')}, ${plural(intermediates, 'intermediate')}`;
        io.stdout(`Trust store: ${counts}, from ${describeTrustSource(context.database)}; revocation ${context.config.trust.revocation}.\n`);
      }
      return reports.every((r) => r.status === 'valid') ? EXIT_OK : EXIT_INVALID;
    });
  },
};

function atOption(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const at = new Date(value);
  if (Number.isNaN(at.getTime())) throw new UsageError(`--at must be an ISO 8601 time such as 2025-03-05T09:15:00+07:00, not "${value}".`);
  return at;
}

const EMPTY: Omit<VerifyReport, 'file' | 'status' | 'code' | 'reason'> = {
  agency: null,
  policy: null,
  accepted: null,
  xmlDsig: null,
  subject: null,
  issuer: null,
  serialNumber: null,
  notAfter: null,
  chain: [],
  revocation: null,
};

/** Judges one file; a file that cannot be read or whose sender cannot be told is an `error` report. */
async function verifyFile(context: CliTrust, inspect: SignerInspector, file: string, cwd: string, agencyOption: string | undefined, at: Date): Promise<VerifyReport> {
  let bytes: Buffer;
  try {
    bytes = await readFile(resolve(cwd, file));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { file, status: 'error', code: 'EDX_ERR_FILE_UNREADABLE', reason: `Cannot read the file: ${reason}.`, ...EMPTY };
  }
  let agency = agencyOption;
  if (agency === undefined) {
    const parsed = parsePacket(bytes);
    if (!parsed.ok) {
      const first = parsed.issues.find((i) => i.severity === 'error') ?? parsed.issues[0];
      const detail = first === undefined ? 'The packet cannot be read.' : formatIssue(first);
      const reason = `${detail} (the sender is unknown; give --agency CODE to verify the signature anyway)`;
      return { file, status: 'error', code: first?.code ?? 'EDX_ERR_PACKET_STRUCTURE', reason, ...EMPTY };
    }
    agency = senderOf(parsed.value);
  }

  const { trust } = context;
  const known = new Set(trust.crlStatus().map((s) => s.url));
  let judgement = await trust.judge(bytes, agency, at);
  // A chain names its CRLs only once it is built, and the cache starts fetching a URL it learns
  // that way; wait for those and judge again, so the revocation printed is the one the gateway
  // would reach once it knows this CA (fetches are bounded by the cache's request timeout).
  if (context.fetchCrls && trust.crlStatus().some((s) => !known.has(s.url))) {
    await trust.refreshCrls();
    judgement = await trust.judge(bytes, agency, at);
  }
  return reportOf(file, agency, judgement, () => inspect(bytes));
}

/** The XML-DSig layer's finding and the claimed signer's certificate, for verdicts that keep no signer. */
type SignerInspector = (bytes: Buffer) => { readonly status: VerifyReport['xmlDsig']; readonly signer: Certificate | undefined };

async function signerInspector(): Promise<SignerInspector> {
  const [{ verifySignature }, { parseCertificate }] = await Promise.all([import('../trust/dsig/index.ts'), import('../trust/pki/index.ts')]);
  return (bytes) => {
    const check = verifySignature(bytes);
    const der = check.status === 'valid' || check.status === 'invalid' ? check.certificates[0] : undefined;
    const parsed = der === undefined ? undefined : parseCertificate(der);
    return { status: check.status, signer: parsed?.ok ? parsed.value : undefined };
  };
}

function reportOf(file: string, agency: string, judgement: Judgement, inspect: () => ReturnType<SignerInspector>): VerifyReport {
  const { verdict } = judgement;
  const base: VerifyReport = {
    ...EMPTY,
    file,
    status: verdict.status,
    code: verdict.code ?? (judgement.accepted ? null : judgement.code),
    reason: verdict.reason ?? null,
    agency,
    policy: verdict.policy,
    accepted: judgement.accepted,
  };
  switch (verdict.status) {
    case 'valid': {
      const signer = verdict.signer;
      return {
        ...base,
        xmlDsig: 'valid',
        subject: signer?.subject ?? null,
        issuer: signer?.issuer ?? null,
        serialNumber: signer?.serialNumber ?? null,
        notAfter: signer?.notAfter ?? null,
        chain: signer?.chain ?? [],
        revocation: signer?.revocation ?? null,
      };
    }
    case 'unsigned':
    case 'placeholder':
      return { ...base, xmlDsig: verdict.status };
    case 'invalid':
    case 'not-checked': {
      // The verdict keeps no signer for these; the XML-DSig layer still says who claims to have
      // signed (and, under policy off, what it would have found).
      const { status, signer } = inspect();
      return {
        ...base,
        reason: verdict.status === 'not-checked' ? `the signature policy of ${agency} is off: the gateway does not check its signatures` : base.reason,
        xmlDsig: status,
        subject: signer?.subject.text ?? null,
        issuer: signer?.issuer.text ?? null,
        serialNumber: signer?.serialNumber ?? null,
        notAfter: signer?.notAfter.toISOString() ?? null,
      };
    }
  }
}

function inOrder(r: VerifyReport): VerifyReport {
  return {
    file: r.file,
    status: r.status,
    code: r.code,
    reason: r.reason,
    agency: r.agency,
    policy: r.policy,
    accepted: r.accepted,
    xmlDsig: r.xmlDsig,
    subject: r.subject,
    issuer: r.issuer,
    serialNumber: r.serialNumber,
    notAfter: r.notAfter,
    chain: r.chain,
    revocation: r.revocation,
  };
}

function formatReport(r: VerifyReport): string {
  const head = r.status === 'invalid' || r.status === 'error' ? `${r.file}: ${r.status} ${r.code ?? ''}`.trimEnd() : `${r.file}: ${r.status}`;
  const lines: [string, string][] = [];
  if (r.reason !== null && r.status !== 'valid') lines.push(['reason', r.reason]);
  if (r.status === 'not-checked' && r.xmlDsig !== null) lines.push(['xml-dsig', r.xmlDsig]);
  if (r.subject !== null) lines.push(['signer', r.subject]);
  // One subject per line: subjects of government certificates run long.
  if (r.chain.length > 0) lines.push(['chain', r.chain.join(`\n${' '.repeat(14)}→ `)]);
  if (r.notAfter !== null) lines.push(['not after', r.notAfter]);
  if (r.revocation !== null) {
    lines.push(['revocation', r.revocation === 'good' ? 'good (a current CRL covers every link)' : 'unknown (no current CRL covers every link; accepted under soft-fail)']);
  }
  if (r.agency !== null && r.policy !== null && r.accepted !== null) {
    const outcome = r.accepted ? 'the gateway would accept it' : `the gateway would refuse it${r.code === null ? '' : ` (${r.code})`}`;
    lines.push(['agency', `${r.agency}, policy ${r.policy}: ${outcome}`]);
  }
  return `${head}\n${lines.map(([label, value]) => `  ${label.padEnd(10)}  ${value}\n`).join('')}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
