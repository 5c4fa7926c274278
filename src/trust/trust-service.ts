// The trust module of one gateway at run time: the trust store (config files + database rows,
// reloadable without a restart), the CRL cache fetched ahead of time, the agency bindings and
// signature policies (database + config), and the gateway's own signing key. Intake asks it to
// judge each packet; delivery asks it for the key to sign what it forwards; doctor and /metrics
// ask it what expires.

import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import { EdxError, issue } from '../errors.ts';
import type { Issue, Result } from '../errors.ts';
import type { Store } from '../store/open-store.ts';
import { verifySignature } from './dsig/index.ts';
import { checkAgencyBinding } from './pki/agency-binding.ts';
import type { AgencyBinding, AgencyCertificates } from './pki/agency-binding.ts';
import { CrlCache } from './pki/crl-cache.ts';
import type { CrlRefreshOutcome, CrlStatus } from './pki/crl-cache.ts';
import { certificateExpiry } from './pki/expiry.ts';
import type { ExpiryReport } from './pki/expiry.ts';
import { loadSigningKeyFiles } from './pki/signing-key.ts';
import { TrustStore, TrustStoreHolder, loadTrustStore } from './pki/trust-store.ts';
import { judgeSignature } from './policy.ts';
import type { Judgement } from './policy.ts';
import { SIGNATURE_POLICIES } from './types.ts';
import type { SignatureCheck, SignaturePolicy, SigningKey } from './types.ts';

/** What the database and the binding file say per agency, read together and cached briefly. */
interface AgencyTrust {
  readonly policies: ReadonlyMap<string, SignaturePolicy>;
  readonly binding: AgencyBinding;
  readonly at: number;
}

/** How long the agency policies and bindings are cached: an `edxgate agencies` change shows within it. */
const AGENCY_TRUST_TTL_MS = 5000;

/** Options beyond the config. */
export interface TrustServiceOptions {
  readonly clock?: (() => Date) | undefined;
  /** Do not fetch CRLs at start or periodically (tests and one-shot CLI commands that do not need them). */
  readonly fetchCrls?: boolean | undefined;
}

/** The trust module of one gateway. */
export class TrustService {
  readonly #config: Config['trust'];
  readonly #store: Pick<Store, 'db'>;
  readonly #log: Logger;
  readonly #clock: () => Date;
  readonly #holder: TrustStoreHolder;
  readonly #crls: CrlCache;
  readonly #signingKey: SigningKey | undefined;
  readonly #fileBinding: AgencyBinding | undefined;
  #agencyTrust: AgencyTrust | undefined;
  #loading: Promise<AgencyTrust> | undefined;
  #stopRefreshing: (() => void) | undefined;

  private constructor(
    config: Config['trust'],
    store: Pick<Store, 'db'>,
    logger: Logger,
    parts: { holder: TrustStoreHolder; crls: CrlCache; signingKey: SigningKey | undefined; fileBinding: AgencyBinding | undefined },
    clock: () => Date,
  ) {
    this.#config = config;
    this.#store = store;
    this.#log = logger;
    this.#holder = parts.holder;
    this.#crls = parts.crls;
    this.#signingKey = parts.signingKey;
    this.#fileBinding = parts.fileBinding;
    this.#clock = clock;
  }

  /** Loads everything the config names; throws EdxError (EDX_ERR_CONFIG_INVALID…) when it cannot be used. */
  static async open(config: Config['trust'], store: Pick<Store, 'db'>, logger: Logger, options: TrustServiceOptions = {}): Promise<TrustService> {
    const clock = options.clock ?? (() => new Date());
    const signingKey = await loadKey(config);
    const fileBinding = await loadBindingFile(config.binding);
    let holder: TrustStoreHolder | undefined;
    const crls = await CrlCache.open({
      urls: splitList(config.crlUrls),
      directory: config.crlDir,
      issuers: () => holder?.current(),
      fetchOnDiscovery: options.fetchCrls ?? true,
      clock,
    });
    const load = async (): Promise<Result<TrustStore>> => {
      const rows = await store.db.selectFrom('trust_certificates').select(['role', 'der', 'fingerprint_sha256']).execute();
      return loadTrustStore({
        anchorPaths: config.anchors === undefined ? [] : [config.anchors],
        intermediatePaths: config.intermediates === undefined ? [] : [config.intermediates],
        anchors: rows.filter((r) => r.role === 'anchor').map((r) => ({ source: `trust_certificates ${r.fingerprint_sha256}`, data: Buffer.from(r.der) })),
        intermediates: rows.filter((r) => r.role === 'intermediate').map((r) => ({ source: `trust_certificates ${r.fingerprint_sha256}`, data: Buffer.from(r.der) })),
        crls,
      });
    };
    const initial = await load();
    if (!initial.ok) throw EdxError.fromIssues(initial.issues);
    holder = new TrustStoreHolder(initial.value, load);
    const service = new TrustService(config, store, logger, { holder, crls, signingKey, fileBinding }, clock);
    if (options.fetchCrls ?? true) {
      // Fetched ahead of time, never inside a sender's request: a slow CA server must not eat the budget.
      void crls.refresh().then((outcomes) => service.#logCrlOutcomes(outcomes));
      service.#stopRefreshing = crls.startRefreshing(config.crlRefreshMs, (outcomes) => service.#logCrlOutcomes(outcomes));
    }
    return service;
  }

  /** A service that checks nothing (policy off everywhere) — for tools that never judge packets. */
  static disabled(store: Pick<Store, 'db'>, logger: Logger): TrustService {
    const crls = new CrlCache({ fetchOnDiscovery: false });
    const config: Config['trust'] = {
      signaturePolicy: 'off',
      anchors: undefined,
      intermediates: undefined,
      binding: undefined,
      revocation: 'soft-fail',
      crlUrls: undefined,
      crlDir: undefined,
      crlRefreshMs: 3_600_000,
      signingKey: undefined,
      signingCert: undefined,
      signingKeyPassword: undefined,
      gatewayAgency: undefined,
    };
    return new TrustService(config, store, logger, { holder: new TrustStoreHolder(TrustStore.empty(crls)), crls, signingKey: undefined, fileBinding: undefined }, () => new Date());
  }

  /** The gateway's signing key, when one is configured. */
  get signingKey(): SigningKey | undefined {
    return this.#signingKey;
  }

  /** The agency code the gateway writes in the TraceHeader it adds when it signs. */
  get gatewayAgency(): string | undefined {
    return this.#config.gatewayAgency;
  }

  /** The policy that applies to packets from `agency`. */
  async policyFor(agency: string): Promise<SignaturePolicy> {
    const trust = await this.#agencyTrustNow();
    return trust.policies.get(agency) ?? this.#config.signaturePolicy;
  }

  /**
   * Judges a packet from `sender` under its policy, at `at`. `hasSignature: false` — the parser
   * found no Signature in edXMLHeader — skips the scan of the bytes: such a packet is unsigned
   * whatever else it holds (a Signature elsewhere signs nothing the gateway would honour).
   */
  async judge(
    bytes: Buffer,
    sender: string,
    at: Date,
    options: {
      readonly hasSignature?: boolean | undefined;
      /** The XML-DSig check, already made (intake's decode pass, on an offload thread); made here otherwise. */
      readonly check?: SignatureCheck | undefined;
    } = {},
  ): Promise<Judgement> {
    const trust = await this.#agencyTrustNow();
    const policy = trust.policies.get(sender) ?? this.#config.signaturePolicy;
    const store = this.#holder.current();
    return judgeSignature(
      policy,
      () => (options.hasSignature === false ? { status: 'unsigned' } : (options.check ?? verifySignature(bytes))),
      (certificates) => store.evaluate(certificates, { at, agency: sender, binding: trust.binding, revocation: this.#config.revocation }),
    );
  }

  /** Re-reads the trust store (files + database) and the agency bindings; the old snapshot stays on failure. */
  async reload(): Promise<Result<{ readonly anchors: number }>> {
    const reloaded = await this.#holder.reload();
    this.#agencyTrust = undefined;
    if (!reloaded.ok) return { ok: false, issues: reloaded.issues };
    return { ok: true, value: { anchors: reloaded.value.caCertificates().length }, warnings: [] };
  }

  /** Certificates (trust anchors, the signing key, bound agency certificates) expiring within `withinDays`. */
  async expiry(withinDays: number, at: Date = this.#clock()): Promise<ExpiryReport> {
    const rows = await this.#store.db.selectFrom('agency_certificates').select(['agency_code', 'der']).where('der', 'is not', null).execute();
    return certificateExpiry(
      {
        trustStore: this.#holder.current(),
        signingKey: this.#signingKey,
        agencyCertificates: rows.flatMap((r) => (r.der === null ? [] : [{ agency: r.agency_code, certificate: Buffer.from(r.der) }])),
      },
      { at, withinDays },
    );
  }

  /** The CRLs held, with their freshness. */
  crlStatus(at: Date = this.#clock()): CrlStatus[] {
    return this.#crls.status(at);
  }

  /** CRLs past their nextUpdate. */
  staleCrls(at: Date = this.#clock()): CrlStatus[] {
    return this.#crls.staleCrls(at);
  }

  /** Fetches every CRL now. */
  refreshCrls(): ReturnType<CrlCache['refresh']> {
    return this.#crls.refresh();
  }

  /** Stops the periodic CRL refresh and waits for fetches in flight. */
  async close(): Promise<void> {
    this.#stopRefreshing?.();
    await this.#crls.idle();
  }

  #logCrlOutcomes(outcomes: readonly CrlRefreshOutcome[]): void {
    for (const o of outcomes) {
      if (o.status === 'failed') this.#log.warn({ url: o.url, reason: o.detail }, 'CRL fetch failed; the previous list (if any) is kept');
    }
  }

  async #agencyTrustNow(): Promise<AgencyTrust> {
    const cached = this.#agencyTrust;
    if (cached !== undefined && Date.now() - cached.at < AGENCY_TRUST_TTL_MS) return cached;
    this.#loading ??= this.#loadAgencyTrust().finally(() => {
      this.#loading = undefined;
    });
    const loaded = await this.#loading;
    this.#agencyTrust = loaded;
    return loaded;
  }

  async #loadAgencyTrust(): Promise<AgencyTrust> {
    const db = this.#store.db;
    const [agencies, certificates] = await Promise.all([
      db
        .selectFrom('agencies')
        .leftJoin('routes', 'routes.id', 'agencies.route_id')
        .select(['agencies.code', 'agencies.signature_policy as own', 'routes.signature_policy as via_route'])
        .where((eb) => eb.or([eb('agencies.signature_policy', 'is not', null), eb('routes.signature_policy', 'is not', null)]))
        .execute(),
      db.selectFrom('agency_certificates').select(['agency_code', 'fingerprint_sha256']).execute(),
    ]);
    const policies = new Map<string, SignaturePolicy>();
    for (const a of agencies) {
      const policy = a.own ?? a.via_route;
      if (isPolicy(policy)) policies.set(a.code, policy);
    }
    const entries = new Map<string, AgencyCertificates>();
    const fromFile = this.#fileBinding?.agencies;
    const fileEntries: Iterable<[string, AgencyCertificates]> = fromFile instanceof Map ? fromFile.entries() : Object.entries(fromFile ?? {});
    for (const [code, entry] of fileEntries) entries.set(code, entry);
    for (const row of certificates) {
      const entry = entries.get(row.agency_code);
      entries.set(row.agency_code, { ...entry, fingerprints: [...(entry?.fingerprints ?? []), row.fingerprint_sha256] });
    }
    return { policies, binding: { agencies: entries, fallback: this.#fileBinding?.fallback }, at: Date.now() };
  }
}

function isPolicy(value: unknown): value is SignaturePolicy {
  return typeof value === 'string' && (SIGNATURE_POLICIES as readonly string[]).includes(value);
}

function splitList(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

async function loadKey(config: Config['trust']): Promise<SigningKey | undefined> {
  if (config.signingKey === undefined) return undefined;
  const loaded = await loadSigningKeyFiles({ keyPath: config.signingKey, certPath: config.signingCert, password: config.signingKeyPassword });
  if (!loaded.ok) throw EdxError.fromIssues(loaded.issues.map((i) => ({ ...i, path: `SIGNING_KEY (${i.path})` })));
  return loaded.value;
}

/** Reads the TRUST_BINDING file: {agencies: {code: {fingerprints, subjects}}, fallback}. */
async function loadBindingFile(path: string | undefined): Promise<AgencyBinding | undefined> {
  if (path === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw EdxError.fromIssues([bindingIssue(path, `cannot be read as JSON: ${error instanceof Error ? error.message : String(error)}`)]);
  }
  if (typeof parsed !== 'object' || parsed === null || !('agencies' in parsed) || typeof parsed.agencies !== 'object' || parsed.agencies === null) {
    throw EdxError.fromIssues([bindingIssue(path, 'must be an object with an "agencies" object (and optionally "fallback").')]);
  }
  const checked = checkAgencyBinding(parsed as AgencyBinding);
  if (!checked.ok) throw EdxError.fromIssues(checked.issues.map((i) => ({ ...i, path: `TRUST_BINDING ${path}: ${i.path}` })));
  return checked.value;
}

function bindingIssue(path: string, detail: string): Issue {
  return issue('EDX_ERR_CONFIG_INVALID', 'TRUST_BINDING', `The binding file ${path} ${detail}`, path);
}
