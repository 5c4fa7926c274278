// Federation of one node: the links to other gateways, seen from this side (docs/federation.md).
//
// - Admission over a link (`admitFromLink`): a packet pulled from an upstream, pushed by an upstream
//   to /v1/callbacks/axis, or sent by a peer gateway's system to the axis-compatible API goes
//   through the SAME intake as /v1, as the link's client. A link acts only for the agencies the
//   directory routes through it: the national axis may bring a document from a ministry, never one
//   "from" a local agency of this gateway. Each admission adds a `received` event, the hop.
// - The pollers: for every upstream (axis route), one edoc and one status loop, run by one node at
//   a time across the cluster (a Postgres advisory lock per upstream; PGlite is one node).
//
// Nothing here knows HTTP: the API hands bytes and who sent them; refusals are EdxErrors.

import type { Logger } from 'pino';
import { AxisClient } from '../adapters/axis/axis-client.ts';
import type { ReceivedEdoc } from '../adapters/axis/axis-client.ts';
import { AxisPoller } from '../adapters/axis/axis-poller.ts';
import type { AdmitVerdict } from '../adapters/axis/axis-poller.ts';
import type { RouteConfig } from '../adapters/contract.ts';
import { MESSAGE_TYPES } from '../axis/wire.ts';
import { senderOf } from '../edxml/model.ts';
import { parsePacket } from '../edxml/parse.ts';
import { EdxError, issue } from '../errors.ts';
import type { ErrorCode } from '../errors.ts';
import type { Intake, IntakeResult } from '../pipeline/intake.ts';
import { INBOX_ROUTE_ID } from '../pipeline/recipients.ts';
import { tryAdvisoryLock } from '../store/advisory-lock.ts';
import type { AdvisoryLease } from '../store/advisory-lock.ts';
import type { Store } from '../store/open-store.ts';
import { insertReceivedEvent } from '../store/queries/received-event.ts';
import type { ReceivedVia } from '../store/queries/received-event.ts';
import type { DirectoryCache } from './directory-cache.ts';

/** Settings of the pollers (config.axisClient). */
export interface FederationOptions {
  readonly poll: boolean;
  readonly pollIntervalMs: number;
  readonly callTimeoutMs: number;
}

/** What federation needs. */
export interface FederationDeps {
  readonly store: Pick<Store, 'db' | 'dialect'>;
  readonly directory: DirectoryCache;
  readonly intake: Pick<Intake, 'submit'>;
  readonly logger: Logger;
  /** False while this node must not take packets (backpressure): polls are skipped. */
  readonly canAdmit?: (() => boolean) | undefined;
  readonly clock?: (() => Date) | undefined;
}

/** The credential of an upstream, as the callback endpoint verifies it. */
export interface UpstreamCredential {
  readonly systemid: string;
  /** The HMAC key (the route's secret). */
  readonly secret: string;
  readonly routeId: string;
}

/** One packet arriving over a link. */
export interface LinkAdmission {
  /** The link's route (axis: the upstream; peer: the peer gateway). */
  readonly routeId: string;
  /** The packet bytes as the far side sent them. */
  readonly bytes: Buffer;
  readonly via: ReceivedVia;
  /** The far side's id of the message, when it has one (the upstream's docId). */
  readonly remoteId: string | null;
  /** The systemid of the credential it came with. */
  readonly systemid: string;
  readonly receivedAt: Date;
  readonly log: Logger;
}

/** Codes of our own that say "not now": an item polled with them stays listed for the next poll. */
const OWN_TRANSIENT: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['EDX_ERR_STORE_UNAVAILABLE', 'EDX_ERR_SERVER_OVERLOADED', 'EDX_ERR_SERVER_INTERNAL', 'EDX_ERR_ROUTE_UNKNOWN']);
/**
 * How long a polled status about a document not here yet is kept listed: the document is normally
 * in the other loop's next poll; ten minutes covers an upstream that delivers it late.
 */
const STATUS_BEFORE_DOCUMENT_WAIT_MS = 10 * 60_000;
/** How often a node without the lock of an upstream tries it again, and a holder checks it still has it. */
const LOCK_CHECK_MS = 5000;
/** How often the set of upstreams is compared with the directory (routes added or changed at run time). */
const RECONCILE_MS = 5000;

/** The federation of one gateway node. */
export class Federation {
  readonly #deps: FederationDeps;
  readonly #options: FederationOptions;
  readonly #log: Logger;
  readonly #links = new Map<string, UpstreamLink>();
  #timer: NodeJS.Timeout | undefined;
  #reconciling: Promise<void> | undefined;
  #stopped = false;

  constructor(deps: FederationDeps, options: FederationOptions) {
    this.#deps = deps;
    this.#options = options;
    this.#log = deps.logger.child({ job: 'federation' });
  }

  /** Starts polling the upstreams (unless polling is off). */
  async start(): Promise<void> {
    if (!this.#options.poll || this.#timer !== undefined || this.#stopped) return;
    await this.#reconcile();
    this.#timer = setInterval(() => {
      this.#reconciling ??= this.#reconcile().finally(() => {
        this.#reconciling = undefined;
      });
    }, RECONCILE_MS);
    this.#timer.unref();
  }

  /** Stops the pollers (each after the item in hand) and releases the locks. Idempotent. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#reconciling;
    await Promise.all([...this.#links.values()].map((l) => l.stop()));
    this.#links.clear();
  }

  /**
   * Compares the upstreams with the directory now rather than at the next check (every 5 s): after
   * `edxgate routes add-upstream` on this node, or in tests. The directory is read as cached.
   */
  async refresh(): Promise<void> {
    if (!this.#options.poll || this.#stopped) return;
    await this.#reconciling;
    this.#reconciling ??= this.#reconcile().finally(() => {
      this.#reconciling = undefined;
    });
    await this.#reconciling;
  }

  /** Which upstreams this node polls now (it holds their lock), for health and tests. */
  polling(): readonly string[] {
    return [...this.#links.values()].filter((l) => l.holding).map((l) => l.routeId);
  }

  /** Polls the upstream at once in both loops (a callback or a test knows there is something). */
  wake(routeId: string): void {
    this.#links.get(routeId)?.wake();
  }

  /**
   * The upstream that signs with `systemid` (an axis route's own credential there): who may push to
   * /v1/callbacks/axis, verified with the route's secret. One credential per link, both ways.
   */
  async upstreamOf(systemid: string): Promise<UpstreamCredential | undefined> {
    const { routes } = await this.#deps.directory.snapshot();
    for (const route of routes.values()) {
      if (route.kind === 'axis' && route.systemid === systemid && route.secret !== undefined && route.secret !== '') {
        return { systemid, secret: route.secret, routeId: route.id };
      }
    }
    return undefined;
  }

  /**
   * Admits a packet that came over a link, as the link's client, for a sender the directory routes
   * through that link. Throws EdxError (intake's refusals, EDX_ERR_AUTH_FORBIDDEN for a sender the
   * link does not act for, EDX_ERR_ROUTE_UNKNOWN for a link no longer configured).
   */
  async admitFromLink(input: LinkAdmission): Promise<IntakeResult> {
    const snapshot = await this.#deps.directory.snapshot();
    const clientId = snapshot.linkClients.get(input.routeId);
    if (clientId === undefined) {
      throw new EdxError('EDX_ERR_ROUTE_UNKNOWN', `route ${input.routeId} is no longer a configured link.`, [
        issue('EDX_ERR_ROUTE_UNKNOWN', 'route', `Route ${input.routeId} is not an upstream or peer with a client here.`, input.routeId),
      ]);
    }
    // The sender decides who may bring the packet; a packet that does not parse goes to intake as
    // is, which refuses it with the same issues as /v1 (and no agency to act for).
    const parsed = parsePacket(input.bytes);
    let agencies: readonly string[] = [];
    if (parsed.ok) {
      const sender = senderOf(parsed.value);
      // The sender's own record (closed codes included), or the one a gateway pattern implies for a code unknown here.
      const resolution = snapshot.directory.resolve(sender);
      const record = snapshot.directory.get(sender) ?? (resolution.kind === 'unknown' ? undefined : resolution.agency);
      const route = record === undefined ? undefined : (record.route ?? INBOX_ROUTE_ID);
      if (route !== input.routeId) {
        const where = route === undefined ? 'is not in the directory and no pattern routes it there' : `is routed through ${route === INBOX_ROUTE_ID ? 'the local inbox' : `route ${route}`}`;
        throw new EdxError('EDX_ERR_AUTH_FORBIDDEN', `${sender} ${where}, not through ${input.routeId}; a link acts only for the agencies the directory routes through it.`, [
          issue('EDX_ERR_AUTH_FORBIDDEN', 'MessageHeader/From/OrganId', `The link ${input.routeId} may not send as ${sender}: it ${where}.`, sender),
        ]);
      }
      agencies = [sender];
    }
    const result = await this.#deps.intake.submit({ bytes: input.bytes, client: { clientId, agencies }, receivedAt: input.receivedAt, log: input.log, fromRoute: input.routeId });
    if (result.outcome === 'admitted') {
      const { receipt } = result;
      try {
        await insertReceivedEvent(this.#deps.store.db, {
          packetId: receipt.packetId,
          documentId: receipt.documentId,
          agency: agencies[0] ?? '',
          routeId: input.routeId,
          via: input.via,
          remoteId: input.remoteId,
          systemid: input.systemid,
        });
      } catch (error) {
        // The packet is admitted and will be delivered; only the timeline misses this hop's detail.
        input.log.warn({ err: error, packetId: receipt.packetId }, 'the received event was not recorded');
      }
    }
    return result;
  }

  /** What the poller makes of an admission's outcome. */
  async #admitPolled(routeId: string, systemid: string, item: ReceivedEdoc, edxml: Buffer): Promise<AdmitVerdict> {
    const log = this.#log.child({ route: routeId, docId: item.docId });
    try {
      const result = await this.admitFromLink({ routeId, bytes: edxml, via: 'poll', remoteId: item.docId, systemid, receivedAt: this.#now(), log });
      return { outcome: result.outcome, packetId: result.receipt.packetId };
    } catch (error) {
      if (!(error instanceof EdxError)) throw error;
      if (OWN_TRANSIENT.has(error.code)) return { outcome: 'later', code: error.code, reason: error.message };
      if (error.code === 'EDX_ERR_STATUS_UNKNOWN_DOCUMENT') return { outcome: 'later', code: error.code, reason: error.message, maxWaitMs: STATUS_BEFORE_DOCUMENT_WAIT_MS };
      return { outcome: 'refused', code: error.code, reason: error.message };
    }
  }

  #now(): Date {
    return (this.#deps.clock ?? (() => new Date()))();
  }

  /** Starts links for new upstreams, restarts changed ones, stops removed ones. */
  async #reconcile(): Promise<void> {
    if (this.#stopped) return;
    let routes: readonly RouteConfig[];
    try {
      routes = [...(await this.#deps.directory.snapshot()).routes.values()].filter((r) => r.kind === 'axis');
    } catch (error) {
      this.#log.warn({ err: error }, 'reading the upstream routes failed; the pollers keep their last set');
      return;
    }
    const wanted = new Map(routes.map((r) => [r.id, r]));
    for (const [id, link] of this.#links) {
      const route = wanted.get(id);
      if (route === undefined || link.ended || fingerprint(route) !== link.fingerprint) {
        this.#links.delete(id);
        await link.stop();
      }
    }
    for (const route of wanted.values()) {
      if (this.#links.has(route.id) || this.#stopped) continue;
      if (route.url === undefined || route.systemid === undefined || route.secret === undefined) {
        this.#log.error({ route: route.id }, 'an axis route without URL, systemid or secret cannot be polled');
        continue;
      }
      const link = new UpstreamLink(route, { url: route.url, systemid: route.systemid, secret: route.secret }, this.#deps, this.#options, (item, edxml) => this.#admitPolled(route.id, route.systemid ?? '', item, edxml));
      this.#links.set(route.id, link);
      link.start();
    }
  }
}

function fingerprint(route: RouteConfig): string {
  return JSON.stringify([route.url ?? '', route.systemid ?? '', route.secret ?? '']);
}

/** One upstream: its lock, its client and its two pollers. */
class UpstreamLink {
  readonly routeId: string;
  readonly fingerprint: string;
  readonly #deps: FederationDeps;
  readonly #client: AxisClient;
  readonly #pollers: readonly AxisPoller[];
  readonly #log: Logger;
  #lease: AdvisoryLease | undefined;
  #loop: Promise<void> | undefined;
  #stopping = false;
  #ended = false;
  #wakeLoop: (() => void) | undefined;

  constructor(
    route: RouteConfig,
    link: { readonly url: string; readonly systemid: string; readonly secret: string },
    deps: FederationDeps,
    options: FederationOptions,
    admit: (item: ReceivedEdoc, edxml: Buffer) => Promise<AdmitVerdict>,
  ) {
    this.routeId = route.id;
    this.fingerprint = fingerprint(route);
    this.#deps = deps;
    this.#log = deps.logger.child({ job: 'axis-link', route: route.id });
    this.#client = new AxisClient({ endpoint: link.url, systemid: link.systemid, secret: link.secret, clock: deps.clock ?? (() => new Date()) });
    this.#pollers = MESSAGE_TYPES.map(
      (messageType) =>
        new AxisPoller({
          routeId: route.id,
          messageType,
          client: this.#client,
          intervalMs: options.pollIntervalMs,
          callTimeoutMs: options.callTimeoutMs,
          admit,
          canAdmit: deps.canAdmit,
          logger: deps.logger,
          clock: deps.clock,
        }),
    );
  }

  get holding(): boolean {
    return this.#lease !== undefined;
  }

  /** The lock was lost: this link is over, the federation builds a new one (pollers do not restart). */
  get ended(): boolean {
    return this.#ended;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  wake(): void {
    for (const p of this.#pollers) p.wake();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wakeLoop?.();
    await this.#loop;
    this.#client.close();
  }

  /** Takes the upstream's lock, polls while holding it, and tries again when it is lost or taken. */
  async #run(): Promise<void> {
    while (!this.#stopping) {
      try {
        this.#lease = await tryAdvisoryLock(this.#deps.store, `edxgate:axis-poller:${this.routeId}`);
      } catch (error) {
        this.#log.warn({ err: error }, 'taking the poller lock failed');
        this.#lease = undefined;
      }
      if (this.#lease !== undefined) {
        this.#log.info('polling the upstream (this node holds its lock)');
        for (const p of this.#pollers) p.start();
        while (!this.#stopping && (await this.#lease.stillHeld())) await this.#pause(LOCK_CHECK_MS);
        await Promise.all(this.#pollers.map((p) => p.stop()));
        await this.#lease.release();
        this.#lease = undefined;
        if (!this.#stopping) {
          this.#log.warn('the poller lock was lost (database connection); a new link will try to take it again');
          this.#ended = true;
          return;
        }
      }
      if (!this.#stopping) await this.#pause(LOCK_CHECK_MS);
    }
  }

  #pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#wakeLoop = undefined;
        resolve();
      }, ms);
      this.#wakeLoop = () => {
        clearTimeout(timer);
        this.#wakeLoop = undefined;
        resolve();
      };
    });
  }
}
