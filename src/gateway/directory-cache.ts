// The agency directory and the routes as this node sees them: a snapshot read from the store and
// kept for a few seconds, so intake and delivery do not query the directory on every packet while
// changes made by `edxgate agencies …` (another process) still show up within seconds. A code the
// snapshot does not know triggers an early re-read before a packet is refused for it.

import type { Logger } from 'pino';
import type { RouteConfig } from '../adapters/contract.ts';
import { AgencyDirectory } from '../agency/directory.ts';
import type { AgencyRecord, DirectoryRouting } from '../agency/directory.ts';
import { RoutePatterns } from '../agency/route-patterns.ts';
import type { RouteSource } from '../delivery/delivery-service.ts';
import { EdxError } from '../errors.ts';
import type { Issue } from '../errors.ts';
import { INBOX_ROUTE_ID } from '../pipeline/recipients.ts';
import type { DirectorySource } from '../pipeline/recipients.ts';
import type { AgencyRow, RouteRow } from '../store/database.ts';
import type { Store } from '../store/open-store.ts';
import { loadDirectory } from '../store/queries/load-directory.ts';
import type { PeerSystemRow, RoutePatternRow } from '../store/queries/load-directory.ts';

/** One consistent read of the directory and the routes. */
export interface DirectorySnapshot {
  readonly directory: AgencyDirectory;
  readonly routes: ReadonlyMap<string, RouteConfig>;
  /**
   * The client each link to another gateway (axis and peer routes) admits its packets as: the
   * upstream route's client, or the peer's axis system's. A link without one cannot deliver here.
   */
  readonly linkClients: ReadonlyMap<string, string>;
  /** Date.now() when it was read. */
  readonly loadedAt: number;
}

/** Options of a DirectoryCache. */
export interface DirectoryCacheOptions {
  /** How long a snapshot is used before it is read again; default 5 s. */
  readonly ttlMs?: number | undefined;
  /** Least age of a snapshot before an unknown code may force a re-read; default 1 s (bounds the reads bad requests can cause). */
  readonly minRefreshMs?: number | undefined;
  readonly logger: Logger;
}

const DEFAULT_TTL_MS = 5000;
const DEFAULT_MIN_REFRESH_MS = 1000;
/** The route of agencies without one, when the routes table does not define `inbox` itself. */
const BUILTIN_INBOX_ROUTE: RouteConfig = Object.freeze({ id: INBOX_ROUTE_ID, kind: 'inbox' });

/** The cached directory of one gateway; serves intake (DirectorySource) and delivery (RouteSource). */
export class DirectoryCache implements DirectorySource, RouteSource {
  readonly #store: Pick<Store, 'db'>;
  readonly #ttlMs: number;
  readonly #minRefreshMs: number;
  readonly #log: Logger;
  #snapshot: DirectorySnapshot | undefined;
  #loading: Promise<DirectorySnapshot> | undefined;

  constructor(store: Pick<Store, 'db'>, options: DirectoryCacheOptions) {
    this.#store = store;
    this.#ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
    this.#minRefreshMs = options.minRefreshMs ?? DEFAULT_MIN_REFRESH_MS;
    this.#log = options.logger;
  }

  /** The current snapshot: the cached one while fresh, else a new read (a stale one if the read fails). */
  async snapshot(): Promise<DirectorySnapshot> {
    const cached = this.#snapshot;
    if (cached !== undefined && Date.now() - cached.loadedAt < this.#ttlMs) return cached;
    return this.#read(cached);
  }

  /** Reads the directory now (one read at a time; concurrent callers share it). */
  reload(): Promise<DirectorySnapshot> {
    return this.#read(undefined);
  }

  /** DirectorySource: the cached directory. */
  async directory(): Promise<AgencyDirectory> {
    return (await this.snapshot()).directory;
  }

  /** DirectorySource: a fresh directory, unless the cached one is younger than the refresh floor. */
  async refreshDirectory(): Promise<AgencyDirectory> {
    const cached = this.#snapshot;
    if (cached !== undefined && Date.now() - cached.loadedAt < this.#minRefreshMs) return cached.directory;
    return (await this.#read(cached)).directory;
  }

  /** RouteSource: the route reaching `recipient` now; agencies without a route pull from their inbox. */
  async routeFor(recipient: string, admittedRouteId: string): Promise<RouteConfig | undefined> {
    const { directory, routes } = await this.snapshot();
    const agency = directory.get(recipient);
    const routeId = agency === undefined ? admittedRouteId : (agency.route ?? INBOX_ROUTE_ID);
    return routes.get(routeId) ?? (routeId === INBOX_ROUTE_ID ? BUILTIN_INBOX_ROUTE : undefined);
  }

  /** Reads; when `fallback` is given, a failed read logs and returns it instead of throwing. */
  #read(fallback: DirectorySnapshot | undefined): Promise<DirectorySnapshot> {
    this.#loading ??= this.#load().finally(() => {
      this.#loading = undefined;
    });
    if (fallback === undefined) return this.#loading;
    return this.#loading.catch((error: unknown) => {
      this.#log.warn({ err: error }, 'reading the agency directory failed; using the previous snapshot');
      return fallback;
    });
  }

  async #load(): Promise<DirectorySnapshot> {
    const rows = await loadDirectory(this.#store.db);
    const peers = new Map(rows.peerSystems.map((p) => [p.routeId, p]));
    const routing: DirectoryRouting = {
      patterns: this.#patterns(rows.patterns),
      gatewayRoutes: new Set(rows.routes.filter((r) => r.kind === 'axis' || r.kind === 'peer').map((r) => r.id)),
    };
    const linkClients = new Map<string, string>();
    for (const r of rows.routes) {
      const clientId = r.kind === 'axis' ? r.client_id : r.kind === 'peer' ? peers.get(r.id)?.clientId : undefined;
      if (clientId !== undefined && clientId !== null) linkClients.set(r.id, clientId);
    }
    const snapshot: DirectorySnapshot = {
      directory: this.#build(rows.agencies.map(recordOf), routing),
      routes: new Map(rows.routes.map((r) => [r.id, routeOf(r, peers.get(r.id))])),
      linkClients,
      loadedAt: Date.now(),
    };
    this.#snapshot = snapshot;
    return snapshot;
  }

  /**
   * The directory from stored records. A record that breaks a directory rule (written by hand, or by
   * an older version) is left out with an error in the log, rather than letting one bad row stop
   * every agency from sending and receiving.
   */
  #build(records: readonly AgencyRecord[], routing: DirectoryRouting): AgencyDirectory {
    let current = records;
    // Leaving a record out can break a successor reference to it; a few rounds settle that.
    for (let round = 0; round < 5; round++) {
      const built = AgencyDirectory.fromRecords(current, routing);
      if (built.ok) return built.value;
      const bad = badRecordIndexes(built.issues);
      this.#log.error(
        { issues: built.issues.map((i) => ({ code: i.code, path: i.path, value: i.value })), skipped: [...bad].map((i) => current[i]?.code) },
        'agency directory records break directory rules; those agencies are left out until fixed',
      );
      if (bad.size === 0) throw EdxError.fromIssues(built.issues);
      current = current.filter((_, i) => !bad.has(i));
    }
    return AgencyDirectory.create(current, routing);
  }

  /** The stored patterns (the table's CHECK keeps their shape; a bad one is logged and left out). */
  #patterns(rows: readonly RoutePatternRow[]): RoutePatterns {
    const patterns = rows.map((p) => ({ pattern: p.pattern, ...(p.routeId === null ? {} : { route: p.routeId }) }));
    const compiled = RoutePatterns.from(patterns);
    if (compiled.ok) return compiled.value;
    this.#log.error({ issues: compiled.issues.map((i) => ({ path: i.path, value: i.value })) }, 'route patterns are malformed; those are left out');
    const good = RoutePatterns.from(patterns.filter((p) => RoutePatterns.from([p]).ok));
    return good.ok ? good.value : RoutePatterns.none;
  }
}

function badRecordIndexes(issues: readonly Issue[]): Set<number> {
  const bad = new Set<number>();
  for (const i of issues) {
    const match = /^records\[(\d+)\]/.exec(i.path);
    if (match?.[1] !== undefined) bad.add(Number(match[1]));
  }
  return bad;
}

function recordOf(row: AgencyRow): AgencyRecord {
  return {
    code: row.code,
    name: row.name,
    state: row.state,
    ...(row.parent_code === null ? {} : { parent: row.parent_code }),
    ...(row.successor_code === null ? {} : { successor: row.successor_code }),
    ...(row.route_id === null ? {} : { route: row.route_id }),
  };
}

/** A route as adapters see it; a peer route signs with its peer's axis system (one credential per link). */
function routeOf(row: RouteRow, peer: PeerSystemRow | undefined): RouteConfig {
  const credential = row.kind === 'peer' ? (peer === undefined ? {} : { systemid: peer.systemid, secret: peer.secret }) : {
    ...(row.secret === null ? {} : { secret: row.secret }),
    ...(row.systemid === null ? {} : { systemid: row.systemid }),
  };
  return {
    id: row.id,
    kind: row.kind,
    ...(row.url === null ? {} : { url: row.url }),
    ...credential,
    signOutgoing: row.sign_outgoing,
  };
}
