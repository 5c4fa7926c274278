// CRLs fetched ahead of time and kept in memory (and optionally in a folder, so a restart does not
// start with nothing while a CA's web server is down). The evaluation never waits on the network:
// it reads whatever is held, and refresh() — run at start and on a timer by the caller — brings
// the lists up to date and reports per URL what happened, for logs and `edxgate doctor`.

import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import type { Dispatcher } from 'undici';
import { errorText } from './certificate.ts';
import type { Certificate } from './certificate.ts';
import { crlIsStale, crlSignedBy, parseCrl } from './crl.ts';
import type { Crl, RevocationSource } from './crl.ts';
import { nameKey, sameName } from './names.ts';
import type { DistinguishedName } from './names.ts';

/** The CAs a cache checks arriving CRLs against and asks for URLs; a TrustStore fits. */
export interface CrlIssuers {
  caCertificates(): readonly Certificate[];
  distributionPoints(): readonly string[];
}

export interface CrlCacheOptions {
  /** CRL URLs to fetch besides those the trust store and verified chains name. */
  readonly urls?: readonly string[] | undefined;
  /** The current CA certificates (e.g. `() => holder.current()`), read at every refresh. */
  readonly issuers?: (() => CrlIssuers | undefined) | undefined;
  /** Folder to persist fetched CRLs in; read back by CrlCache.open(). */
  readonly directory?: string | undefined;
  /** Per-request limit (connect, headers and body). Default 15 s. */
  readonly timeoutMs?: number | undefined;
  /** Largest CRL accepted. Default 64 MiB (a national CA's full CRL runs to megabytes). */
  readonly maxBytes?: number | undefined;
  /**
   * Fetch a URL as soon as a verified chain names one not yet known, rather than at the next
   * refresh, so that under hard-fail a sender whose CA partition is new is refused only until
   * the list arrives. Default true.
   */
  readonly fetchOnDiscovery?: boolean | undefined;
  /** Cap on URLs learnt from chains. Default 256. */
  readonly maxDiscovered?: number | undefined;
  readonly clock?: (() => Date) | undefined;
  readonly dispatcher?: Dispatcher | undefined;
}

/** A held CRL as reported to operators. */
export interface CrlSummary {
  readonly issuer: string;
  readonly thisUpdate: Date;
  readonly nextUpdate?: Date | undefined;
  readonly crlNumber?: string | undefined;
  readonly revoked: number;
  /**
   * Checked against the trust store's CAs of the CRL's issuer name. `issuer-unknown`: the store
   * has none (yet); the CRL is still used for chains whose KeyInfo brings the issuer, because
   * every evaluation checks the signature against the actual chain. `bad-signature`: the store's
   * CA changed since the CRL was fetched; evaluations ignore it.
   */
  readonly signature: 'verified' | 'issuer-unknown' | 'bad-signature';
  readonly stale: boolean;
}

export interface CrlRefreshOutcome {
  readonly url: string;
  /**
   * `updated`: a newer CRL is held now; `unchanged`: the same or an older CRL came back (an older
   * one is not taken: a replayed old CRL must not un-revoke); `not-modified`: HTTP 304;
   * `failed`: nothing usable came back (the previous CRL, if any, is kept); `skipped`: not an
   * http(s) URL.
   */
  readonly status: 'updated' | 'unchanged' | 'not-modified' | 'failed' | 'skipped';
  readonly detail?: string | undefined;
  /** The CRL held for the URL after this refresh. */
  readonly held?: CrlSummary | undefined;
}

/** What `edxgate doctor` shows per CRL source. */
export interface CrlStatus {
  readonly url: string;
  readonly held?: CrlSummary | undefined;
  readonly fetchedAt?: Date | undefined;
  readonly lastAttemptAt?: Date | undefined;
  readonly lastError?: string | undefined;
  /** No CRL held, or the held one is past its nextUpdate. */
  readonly stale: boolean;
}

interface Held {
  readonly url: string;
  readonly crl?: Crl | undefined;
  readonly fetchedAt?: Date | undefined;
  readonly etag?: string | undefined;
  readonly lastModified?: string | undefined;
  readonly lastAttemptAt?: Date | undefined;
  readonly lastError?: string | undefined;
}

interface PersistedIndex {
  readonly version: 1;
  readonly entries: readonly {
    readonly url: string;
    readonly file: string;
    readonly fetchedAt: string;
    readonly etag?: string | undefined;
    readonly lastModified?: string | undefined;
  }[];
}

const DEFAULT_TIMEOUT_MS = 15_000;
const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
const DEFAULT_MAX_DISCOVERED = 256;
const REFRESH_CONCURRENCY = 4;
const INDEX_FILE = 'index.json';

export class CrlCache implements RevocationSource {
  readonly #configured: readonly string[];
  readonly #issuers: (() => CrlIssuers | undefined) | undefined;
  readonly #directory: string | undefined;
  readonly #timeoutMs: number;
  readonly #maxBytes: number;
  readonly #fetchOnDiscovery: boolean;
  readonly #maxDiscovered: number;
  readonly #clock: () => Date;
  readonly #dispatcher: Dispatcher | undefined;
  readonly #held = new Map<string, Held>();
  readonly #discovered = new Set<string>();
  readonly #inFlight = new Map<string, Promise<CrlRefreshOutcome>>();
  /** Rebuilt whole on every change, so a reader never sees a half-updated index. */
  #byIssuer: ReadonlyMap<string, readonly Crl[]> = new Map();
  #persisting: Promise<void> = Promise.resolve();

  constructor(options: CrlCacheOptions = {}) {
    this.#configured = [...new Set(options.urls ?? [])];
    this.#issuers = options.issuers;
    this.#directory = options.directory;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    this.#fetchOnDiscovery = options.fetchOnDiscovery ?? true;
    this.#maxDiscovered = options.maxDiscovered ?? DEFAULT_MAX_DISCOVERED;
    this.#clock = options.clock ?? (() => new Date());
    this.#dispatcher = options.dispatcher;
  }

  /** A cache with the CRLs persisted in `options.directory` (if any) already loaded. */
  static async open(options: CrlCacheOptions = {}): Promise<CrlCache> {
    const cache = new CrlCache(options);
    await cache.#loadPersisted();
    return cache;
  }

  // --- RevocationSource --------------------------------------------------------------------------

  crlsIssuedBy(issuer: DistinguishedName): readonly Crl[] {
    return this.#byIssuer.get(nameKey(issuer)) ?? [];
  }

  noteDistributionPoints(uris: readonly string[]): void {
    for (const uri of uris) {
      if (!isHttpUrl(uri) || this.#isKnown(uri)) continue;
      if (this.#discovered.size >= this.#maxDiscovered) return;
      this.#discovered.add(uri);
      if (this.#fetchOnDiscovery) void this.refreshUrl(uri);
    }
  }

  // --- fetching ----------------------------------------------------------------------------------

  /** Every URL a refresh fetches: configured, named by the trust store's CAs, learnt from chains. */
  urls(): string[] {
    const fromStore = this.#issuers?.()?.distributionPoints() ?? [];
    return [...new Set([...this.#configured, ...fromStore, ...this.#discovered])];
  }

  /** Fetches every URL (a few at a time) and reports each outcome; never rejects. */
  async refresh(): Promise<CrlRefreshOutcome[]> {
    const urls = this.urls();
    const outcomes: CrlRefreshOutcome[] = new Array<CrlRefreshOutcome>(urls.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < urls.length) {
        const index = next;
        next += 1;
        outcomes[index] = await this.refreshUrl(urls[index] as string);
      }
    };
    await Promise.all(Array.from({ length: Math.min(REFRESH_CONCURRENCY, urls.length) }, worker));
    return outcomes;
  }

  /** Fetches one URL; concurrent calls for the same URL share one request. Never rejects. */
  refreshUrl(url: string): Promise<CrlRefreshOutcome> {
    const running = this.#inFlight.get(url);
    if (running) return running;
    const started = this.#fetch(url)
      .catch((error: unknown): CrlRefreshOutcome => this.#failed(url, `unexpected failure: ${errorText(error)}`))
      .finally(() => this.#inFlight.delete(url));
    this.#inFlight.set(url, started);
    return started;
  }

  /** Resolves once no fetch (including discovery fetches) and no write to the folder is running. */
  async idle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight.values());
    await this.#persisting;
  }

  /**
   * Adds a CRL that did not come from a URL (a file named in the configuration). `source` labels
   * it in status(); a later add() with the same source replaces it.
   */
  add(input: Buffer | string, source: string): { ok: true; crl: Crl } | { ok: false; reason: string } {
    const parsed = parseCrl(input);
    if (!parsed.ok) return { ok: false, reason: parsed.reason };
    if (this.#verify(parsed.value) === 'bad-signature') {
      return { ok: false, reason: `the CRL's signature does not verify with the key of ${parsed.value.issuer.text}` };
    }
    this.#store({ url: source, crl: parsed.value, fetchedAt: this.#clock() });
    return { ok: true, crl: parsed.value };
  }

  /**
   * Refreshes every `intervalMs` (a tick is skipped while the previous refresh still runs) and
   * hands each round's outcomes to `onOutcomes`, e.g. for the log. The timer does not keep the
   * process alive. Returns the function that stops it. The first refresh is the caller's, at start.
   */
  startRefreshing(intervalMs: number, onOutcomes?: (outcomes: readonly CrlRefreshOutcome[]) => void): () => void {
    let running = false;
    let stopped = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      void this.refresh()
        .then((outcomes) => {
          if (!stopped) onOutcomes?.(outcomes); // a round finishing after stop() is not reported
        })
        .catch(() => undefined) // refresh() never rejects; a throwing onOutcomes must not kill the timer
        .finally(() => {
          running = false;
        });
    }, intervalMs);
    timer.unref();
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }

  // --- reporting ---------------------------------------------------------------------------------

  /** One line per URL (and per added CRL): what is held and whether it is stale at `at`. */
  status(at: Date = this.#clock()): CrlStatus[] {
    const urls = new Set([...this.urls(), ...this.#held.keys()]);
    return [...urls].map((url) => {
      const held = this.#held.get(url);
      const summary = held?.crl ? this.#summary(held.crl, at) : undefined;
      return {
        url,
        held: summary,
        fetchedAt: held?.fetchedAt,
        lastAttemptAt: held?.lastAttemptAt,
        lastError: held?.lastError,
        stale: summary === undefined || summary.stale,
      };
    });
  }

  /** The sources without a current CRL at `at`: what doctor warns about. */
  staleCrls(at: Date = this.#clock()): CrlStatus[] {
    return this.status(at).filter((entry) => entry.stale);
  }

  // --- internals ---------------------------------------------------------------------------------

  #isKnown(url: string): boolean {
    return this.#configured.includes(url) || this.#discovered.has(url) || this.#held.has(url) || this.urls().includes(url);
  }

  async #fetch(url: string): Promise<CrlRefreshOutcome> {
    if (!isHttpUrl(url)) {
      return { url, status: 'skipped', detail: 'only http:// and https:// CRL URLs are fetched' };
    }
    const previous = this.#held.get(url);
    const headers: Record<string, string> = { accept: 'application/pkix-crl, application/x-pkcs7-crl;q=0.9, */*;q=0.5' };
    if (previous?.crl && previous.etag) headers['if-none-match'] = previous.etag;
    if (previous?.crl && previous.lastModified) headers['if-modified-since'] = previous.lastModified;
    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, {
        method: 'GET',
        headers,
        dispatcher: this.#dispatcher,
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      return this.#failed(url, `request failed: ${errorText(error)}`);
    }
    if (response.statusCode === 304 && previous?.crl) {
      await response.body.dump();
      this.#store({ ...previous, lastAttemptAt: this.#clock(), lastError: undefined });
      return { url, status: 'not-modified', held: this.#summary(previous.crl, this.#clock()) };
    }
    if (response.statusCode !== 200) {
      await response.body.dump().catch(() => undefined);
      return this.#failed(url, `HTTP ${response.statusCode}`);
    }
    let body: Buffer | undefined;
    try {
      body = await readLimited(response.body, this.#maxBytes);
    } catch (error) {
      return this.#failed(url, `reading the body failed: ${errorText(error)}`);
    }
    if (!body) return this.#failed(url, `the CRL is larger than ${this.#maxBytes} bytes`);
    const parsed = parseCrl(body);
    if (!parsed.ok) return this.#failed(url, `not a CRL: ${parsed.reason}`);
    const crl = parsed.value;
    if (this.#verify(crl) === 'bad-signature') {
      return this.#failed(url, `the CRL's signature does not verify with the key of ${crl.issuer.text}`);
    }
    const now = this.#clock();
    if (previous?.crl && (previous.crl.fingerprint256 === crl.fingerprint256 || isOlder(crl, previous.crl))) {
      const detail = previous.crl.fingerprint256 === crl.fingerprint256 ? undefined : 'the server sent an older CRL than the one held; kept the held one';
      this.#store({ ...previous, lastAttemptAt: now, lastError: undefined });
      return { url, status: 'unchanged', detail, held: this.#summary(previous.crl, now) };
    }
    this.#store({
      url,
      crl,
      fetchedAt: now,
      lastAttemptAt: now,
      etag: response.headers['etag'] === undefined ? undefined : String(response.headers['etag']),
      lastModified: response.headers['last-modified'] === undefined ? undefined : String(response.headers['last-modified']),
    });
    this.#persist(url);
    return { url, status: 'updated', held: this.#summary(crl, now) };
  }

  #failed(url: string, reason: string): CrlRefreshOutcome {
    const previous = this.#held.get(url);
    const now = this.#clock();
    this.#store({ ...(previous ?? { url }), lastAttemptAt: now, lastError: reason });
    return { url, status: 'failed', detail: reason, held: previous?.crl ? this.#summary(previous.crl, now) : undefined };
  }

  /** Checks a CRL against the trust store's CAs of that name, when there are any. */
  #verify(crl: Crl): 'verified' | 'issuer-unknown' | 'bad-signature' {
    const candidates = (this.#issuers?.()?.caCertificates() ?? []).filter((ca) => sameName(ca.subject, crl.issuer));
    if (candidates.length === 0) return 'issuer-unknown';
    return candidates.some((ca) => crlSignedBy(crl, ca)) ? 'verified' : 'bad-signature';
  }

  #summary(crl: Crl, at: Date): CrlSummary {
    return {
      issuer: crl.issuer.text,
      thisUpdate: crl.thisUpdate,
      nextUpdate: crl.nextUpdate,
      crlNumber: crl.crlNumber,
      revoked: crl.entries.size,
      signature: this.#verify(crl),
      stale: crlIsStale(crl, at),
    };
  }

  #store(held: Held): void {
    const before = this.#held.get(held.url)?.crl;
    this.#held.set(held.url, held);
    if (before !== held.crl) this.#reindex();
  }

  #reindex(): void {
    const byIssuer = new Map<string, Crl[]>();
    for (const { crl } of this.#held.values()) {
      if (!crl) continue;
      const key = nameKey(crl.issuer);
      byIssuer.set(key, [...(byIssuer.get(key) ?? []), crl]);
    }
    this.#byIssuer = byIssuer;
  }

  /**
   * Queues writing the CRL just fetched from `url`, then the index of every persisted CRL. Writes
   * never overlap, and each file is replaced atomically, so a crash leaves the previous copy.
   */
  #persist(url: string): void {
    const directory = this.#directory;
    if (directory === undefined) return;
    this.#persisting = this.#persisting.then(async () => {
      try {
        await mkdir(directory, { recursive: true });
        const held = this.#held.get(url);
        if (held?.crl) await writeAtomically(join(directory, persistedFileName(url)), held.crl.der);
        const entries: PersistedIndex['entries'][number][] = [];
        for (const entry of this.#held.values()) {
          if (!entry.crl || !entry.fetchedAt || !isHttpUrl(entry.url)) continue;
          entries.push({
            url: entry.url,
            file: persistedFileName(entry.url),
            fetchedAt: entry.fetchedAt.toISOString(),
            etag: entry.etag,
            lastModified: entry.lastModified,
          });
        }
        const index: PersistedIndex = { version: 1, entries };
        await writeAtomically(join(directory, INDEX_FILE), Buffer.from(`${JSON.stringify(index, null, 2)}\n`));
      } catch (error) {
        // Evaluations use the copy in memory; a failed write only costs a refetch after a restart,
        // so it is reported on the URL rather than thrown.
        const held = this.#held.get(url);
        if (held) this.#held.set(url, { ...held, lastError: `persisting failed: ${errorText(error)}` });
      }
    });
  }

  async #loadPersisted(): Promise<void> {
    const directory = this.#directory;
    if (directory === undefined) return;
    let index: unknown;
    try {
      index = JSON.parse(await readFile(join(directory, INDEX_FILE), 'utf8'));
    } catch {
      return; // nothing persisted yet, or an unreadable index: start empty and fetch
    }
    if (!isPersistedIndex(index)) return;
    for (const entry of index.entries) {
      try {
        const parsed = parseCrl(await readFile(join(directory, entry.file)));
        if (!parsed.ok || this.#verify(parsed.value) === 'bad-signature') continue;
        const fetchedAt = new Date(entry.fetchedAt);
        this.#held.set(entry.url, {
          url: entry.url,
          crl: parsed.value,
          fetchedAt: Number.isNaN(fetchedAt.getTime()) ? undefined : fetchedAt,
          etag: entry.etag,
          lastModified: entry.lastModified,
        });
        // A persisted URL is fetched again on refresh even if nothing names it any more this run.
        if (!this.#configured.includes(entry.url)) this.#discovered.add(entry.url);
      } catch {
        continue; // a missing file: the URL is fetched again at the next refresh
      }
    }
    this.#reindex();
  }
}

/** One file per URL, named by its hash (URLs are not file names). */
function persistedFileName(url: string): string {
  return `${createHash('sha256').update(url).digest('hex').slice(0, 32)}.crl`;
}

function isHttpUrl(url: string): boolean {
  return /^https?:\/\//i.test(url);
}

/** Whether `candidate` is an older issue of the same CA's CRL than `held`. */
function isOlder(candidate: Crl, held: Crl): boolean {
  if (!sameName(candidate.issuer, held.issuer)) return false;
  const numbered = (crl: Crl): boolean => crl.crlNumber !== undefined && !crl.crlNumber.startsWith('-');
  if (numbered(candidate) && numbered(held)) {
    return BigInt(`0x${candidate.crlNumber}`) < BigInt(`0x${held.crlNumber}`);
  }
  return candidate.thisUpdate.getTime() < held.thisUpdate.getTime();
}

async function readLimited(body: Dispatcher.ResponseData['body'], maxBytes: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    total += bytes.length;
    if (total > maxBytes) {
      body.destroy();
      return undefined;
    }
    chunks.push(bytes);
  }
  return Buffer.concat(chunks);
}

async function writeAtomically(path: string, data: Buffer): Promise<void> {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temporary, data);
  await rename(temporary, path);
}

function isPersistedIndex(value: unknown): value is PersistedIndex {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { version?: unknown; entries?: unknown };
  return (
    candidate.version === 1 &&
    Array.isArray(candidate.entries) &&
    candidate.entries.every((entry: unknown) => {
      if (typeof entry !== 'object' || entry === null) return false;
      const fields = entry as Record<string, unknown>;
      return (
        typeof fields['url'] === 'string' &&
        typeof fields['file'] === 'string' &&
        /^[0-9a-f]{32}\.crl$/.test(fields['file']) &&
        typeof fields['fetchedAt'] === 'string'
      );
    })
  );
}
