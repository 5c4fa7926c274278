// `edxgate doctor`: what in the trust configuration needs the operator's attention before it
// refuses packets — certificates that expire (trust anchors, intermediates, the gateway's signing
// certificate and chain, certificates bound to agencies), CRLs that are stale or cannot be
// fetched, and what a trust store load warns about (docs/trust.md, "What edxgate doctor checks").
// The same expiry figures are the edxgate_certificate_expiry_days gauge of /metrics.

import { parseArgs } from 'node:util';

import type { Issue } from '../errors.ts';
import type { CertificateExpiry, CrlStatus, ExpiryReport } from '../trust/pki/index.ts';
import { EXIT_INVALID, EXIT_OK, UsageError, formatTable, type CliIo, type Command } from './command.ts';
import { describeCrl, describeTrustSource, jsonCrl, withCliTrust } from './verify.ts';
import type { CliTrust, JsonCrl } from './verify.ts';

const DEFAULT_DAYS = 30;
const MAX_DAYS = 3650;

const USAGE = `Usage: edxgate doctor [--days N] [--offline] [--no-database] [--json]

Checks the trust configuration and lists:
  - the trust anchors and intermediates (files and database), the gateway's signing
    certificate and its chain: subject, SHA-256 fingerprint, expiry, days left;
  - the certificates bound to agencies (database) that expire within N days;
  - every CRL source: what is held, whether it is stale, whether the last fetch failed;
  - the trust store's load warnings (CA certificates expired or not CAs, no anchors).

Options:
  --days N        warn about certificates expiring within N days (default ${DEFAULT_DAYS})
  --offline       do not fetch CRLs; report those kept in TRUST_CRL_DIR
  --no-database   use only the TRUST_* settings (agency certificates are then not checked)
  --json          print one JSON object instead
  -h, --help      show this help

Exit status: 0 nothing needs attention, 1 something does (a certificate expired or expiring
within N days, an unreadable certificate, a stale CRL or a failed fetch, a load warning, a
configured database that cannot be used, a trust configuration that does not load), 2 the
command line is wrong.
`;

/** How a listed certificate stands. */
type CertificateState = 'ok' | 'expiring' | 'expired';

/** How a CRL source stands: `skipped` for URLs that are not fetched (ldap:…). */
type CrlState = 'current' | 'stale' | 'failed' | 'skipped';

interface JsonCertificate {
  readonly role: CertificateExpiry['role'];
  readonly agency: string | null;
  readonly subject: string;
  readonly serialNumber: string;
  readonly fingerprint: string;
  readonly notAfter: string;
  readonly daysToExpiry: number;
  readonly state: CertificateState;
}

/** What `doctor --json` prints. */
export interface DoctorReport {
  /** True when nothing needs attention (exit 0). */
  readonly ok: boolean;
  readonly days: number;
  readonly trust: {
    readonly database: string | null;
    readonly databaseNote: string | null;
    readonly revocation: string;
    readonly signaturePolicy: string;
    readonly crlsFetched: boolean;
  };
  /** Anchors, intermediates, the signing certificate and chain; agency certificates expiring within `days`. */
  readonly certificates: readonly JsonCertificate[];
  readonly signingKey: boolean;
  /** False when there is no database to read the bound certificates from. */
  readonly agencyCertificatesChecked: boolean;
  readonly unreadable: ExpiryReport['unreadable'];
  readonly crls: readonly (JsonCrl & { readonly state: CrlState })[];
  readonly warnings: readonly { readonly code: string; readonly path: string; readonly message: string }[];
  /** One sentence per thing to look at; empty when `ok`. */
  readonly attention: readonly string[];
}

/** The `doctor` command. */
export const doctorCommand: Command = {
  summary: 'check the trust setup: expiring certificates, stale CRLs, trust store warnings',
  usage: USAGE,
  async run(args: readonly string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      strict: true,
      options: {
        days: { type: 'string' },
        offline: { type: 'boolean', default: false },
        'no-database': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
      },
    });
    if (positionals.length > 0) throw new UsageError(`doctor takes no arguments, got "${positionals.join(' ')}".`);
    const days = daysOption(values.days);

    return withCliTrust(io, { command: 'doctor', fetchCrls: !values.offline, useDatabase: !values['no-database'] }, async (context) => {
      const report = await examine(context, days);
      io.stdout(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report, context));
      return report.ok ? EXIT_OK : EXIT_INVALID;
    });
  },
};

function daysOption(value: string | undefined): number {
  if (value === undefined) return DEFAULT_DAYS;
  const days = /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
  if (!(days <= MAX_DAYS)) throw new UsageError(`--days must be a whole number of days from 0 to ${MAX_DAYS}, not "${value}".`);
  return days;
}

/** Gathers everything doctor reports and decides what needs attention. */
async function examine(context: CliTrust, days: number): Promise<DoctorReport> {
  const { trust, config, database } = context;
  // Fetch now, so that "failed" means the CA's server fails today, not at the gateway's last start.
  if (context.fetchCrls) await trust.refreshCrls();
  const now = new Date();
  const expiry = await trust.expiry(days, now);
  const expiring = new Set(expiry.expiring);
  const stateOf = (c: CertificateExpiry): CertificateState => (c.expired ? 'expired' : expiring.has(c) ? 'expiring' : 'ok');
  // Agency certificates can be many: only those that need attention are listed.
  const listed = expiry.certificates.filter((c) => c.role !== 'agency' || expiring.has(c));
  const certificates = listed.map((c) => jsonCertificate(c, stateOf(c)));
  const crls = trust.crlStatus(now).map((status) => ({ ...jsonCrl(status), state: crlState(status) }));
  const warnings = await trustStoreWarnings(context);

  const attention: string[] = [];
  for (const c of certificates) {
    if (c.state === 'ok') continue;
    const who = c.role === 'agency' ? `The certificate bound to ${c.agency ?? '?'}` : `The ${ROLE_TEXT[c.role]} certificate`;
    attention.push(
      c.state === 'expired'
        ? `${who} ${c.subject} expired on ${c.notAfter}.`
        : `${who} ${c.subject} expires on ${c.notAfter} (in ${c.daysToExpiry} day${c.daysToExpiry === 1 ? '' : 's'}).`,
    );
  }
  for (const u of expiry.unreadable) {
    attention.push(`A ${u.role === 'agency' ? `certificate bound to ${u.agency ?? '?'}` : `${ROLE_TEXT[u.role]} certificate`} cannot be read: ${u.reason}.`);
  }
  for (const crl of crls) {
    if (crl.state === 'stale') {
      attention.push(`The CRL from ${crl.url} is stale (${crl.nextUpdate === null ? 'none is held' : `its next update was due ${crl.nextUpdate}`}).`);
    }
    if (crl.state === 'failed') {
      const held = crl.stale ? 'no current CRL is held' : 'the CRL held is still current';
      attention.push(`Fetching the CRL from ${crl.url} failed: ${crl.lastError ?? 'unknown error'}; ${held}.`);
    }
  }
  for (const w of warnings) attention.push(`Trust store: ${w.path}: ${w.message}`);
  if (!database.used && database.configured) {
    attention.push(`${capitalised(database.reason)} (see the error above): the certificates bound to agencies were not checked.`);
  }

  return {
    ok: attention.length === 0,
    days,
    trust: {
      database: database.used ? database.description : null,
      databaseNote: database.used ? null : database.reason,
      revocation: config.trust.revocation,
      signaturePolicy: config.trust.signaturePolicy,
      crlsFetched: context.fetchCrls,
    },
    certificates,
    signingKey: trust.signingKey !== undefined,
    agencyCertificatesChecked: database.used,
    unreadable: expiry.unreadable,
    crls,
    warnings: warnings.map((w) => ({ code: w.code, path: w.path, message: w.message })),
    attention,
  };
}

const ROLE_TEXT: Readonly<Record<CertificateExpiry['role'], string>> = {
  anchor: 'trust anchor',
  intermediate: 'intermediate CA',
  signing: 'gateway signing',
  'signing-chain': "gateway signing key's chain",
  agency: 'agency',
};

function jsonCertificate(c: CertificateExpiry, state: CertificateState): JsonCertificate {
  return {
    role: c.role,
    agency: c.agency ?? null,
    subject: c.subject,
    serialNumber: c.serialNumber,
    fingerprint: c.fingerprint256,
    notAfter: c.notAfter.toISOString(),
    daysToExpiry: c.daysToExpiry,
    state,
  };
}

function crlState(status: CrlStatus): CrlState {
  // Only http(s) URLs are fetched (docs/trust.md); an ldap: distribution point is listed, not judged.
  if (!/^https?:\/\//i.test(status.url) && status.held === undefined) return 'skipped';
  if (status.lastError !== undefined) return 'failed';
  return status.stale ? 'stale' : 'current';
}

/**
 * The warnings a trust store load gives (expired CA certificates, intermediates that are not CAs,
 * no anchors). The service keeps only the store, so the same sources are read again here: the
 * configured files and the database's rows, as TrustService.open reads them.
 */
async function trustStoreWarnings(context: CliTrust): Promise<readonly Issue[]> {
  const { config, store } = context;
  const { loadTrustStore } = await import('../trust/pki/index.ts'); // loaded already by the trust service
  const rows = await store.db.selectFrom('trust_certificates').select(['role', 'der', 'fingerprint_sha256']).execute();
  const labelled = (role: 'anchor' | 'intermediate'): { source: string; data: Buffer }[] =>
    rows.filter((r) => r.role === role).map((r) => ({ source: `trust_certificates ${r.fingerprint_sha256}`, data: Buffer.from(r.der) }));
  const loaded = await loadTrustStore({
    anchorPaths: config.trust.anchors === undefined ? [] : [config.trust.anchors],
    intermediatePaths: config.trust.intermediates === undefined ? [] : [config.trust.intermediates],
    anchors: labelled('anchor'),
    intermediates: labelled('intermediate'),
  });
  // The service loaded the same sources a moment ago; if they changed since, that is news too.
  return loaded.ok ? loaded.warnings : loaded.issues;
}

function formatReport(report: DoctorReport, context: CliTrust): string {
  const out: string[] = [];
  out.push(
    `Trust from ${describeTrustSource(context.database)}; revocation ${report.trust.revocation}; default signature policy ${report.trust.signaturePolicy}.\n`,
  );

  out.push(`\nCertificates (anchors, intermediates, the signing key; agency certificates expiring within ${report.days} days):\n`);
  if (report.certificates.length === 0) out.push('  none\n');
  else {
    const rows = report.certificates.map((c) => [
      c.state === 'ok' ? 'ok' : c.state.toUpperCase(),
      String(c.daysToExpiry),
      c.notAfter,
      c.role === 'agency' ? `agency ${c.agency ?? '?'}` : c.role,
      c.fingerprint,
      c.subject,
    ]);
    out.push(indent(formatTable(['STATE', 'DAYS', 'NOT AFTER', 'ROLE', 'SHA-256', 'SUBJECT'], rows)));
  }
  if (!report.signingKey) out.push('  (no signing key: SIGNING_KEY is not set, so the gateway does not sign what it forwards)\n');
  if (!report.agencyCertificatesChecked) out.push(`  (agency certificates not checked: ${report.trust.databaseNote ?? 'no database'})\n`);
  for (const u of report.unreadable) out.push(`  UNREADABLE ${u.role}${u.agency === undefined ? '' : ` ${u.agency}`}: ${u.reason}\n`);

  out.push(`\nCRLs${report.trust.crlsFetched ? '' : ' (not fetched: --offline)'}:\n`);
  const statuses = context.trust.crlStatus();
  if (report.crls.length === 0) out.push('  none known (TRUST_CRL_URLS is empty and no CA in the trust store names a distribution point)\n');
  for (const crl of report.crls) {
    const status = statuses.find((s) => s.url === crl.url);
    const detail = crl.state === 'skipped' ? 'only http:// and https:// CRLs are fetched' : status === undefined ? '' : describeCrl(status);
    out.push(`  ${crl.state === 'current' ? 'current' : crl.state.toUpperCase()}  ${crl.url}\n      ${detail}\n`);
  }

  if (report.warnings.length > 0) {
    out.push('\nTrust store warnings:\n');
    for (const w of report.warnings) out.push(`  warning ${w.code} ${w.path}: ${w.message}\n`);
  }

  out.push(
    report.ok
      ? '\nNothing needs attention.\n'
      : `\nNeeds attention (${report.attention.length}):\n${report.attention.map((a) => `  - ${a}\n`).join('')}`,
  );
  return out.join('');
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => (line === '' ? line : `  ${line}`))
    .join('\n');
}
