// Three gateways on loopback, each with its own database (a Postgres database each when
// DATABASE_URL is set, else a PGlite each): province P1 (`*.H47`), province P2 (`*.H41`) and the
// national gateway N (`*.G22`), which routes `*.H47` to P1 and `*.H41` to P2. The provinces reach
// everything else through N, their upstream (an axis route to N's axis-compatible API); N reaches
// them as peers — pushed to their /v1/callbacks/axis (`callback` mode) or polled by them
// (`poll` mode). Used by the federation tests, `npm run demo:federation` and bench/federation.ts.
//
// Everything is set up through the same store queries `edxgate routes` and `edxgate agencies` use,
// and office systems talk /v1 over real HTTP. A node can be stopped and started again on the same
// port and database (the outage test).

import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { buildApp } from '../../src/app.ts';
import type { EdxApp } from '../../src/app.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import { buildPacketBuffer } from '../../src/edxml/build.ts';
import type { DocumentPacket, StatusPacket } from '../../src/edxml/model.ts';
import type { StatusCode } from '../../src/edxml/codes.ts';
import { newClientToken } from '../../src/gateway/demo-seed.ts';
import { createLogger } from '../../src/observability/logger.ts';
import type { StoreDialect } from '../../src/store/open-store.ts';
import type { DeliveryState } from '../../src/store/database.ts';
import { insertPeerRoute, putRoutePattern, putUpstreamRoute } from '../../src/store/queries/federation-links.ts';
import { listDeliveries } from '../../src/store/queries/list-deliveries.ts';
import type { DeliverySummary } from '../../src/store/queries/list-deliveries.ts';
import { testDatabase } from '../helpers/database.ts';
import type { TestDatabase, Teardown } from '../helpers/database.ts';

/** How N reaches the provinces: pushes to their callbacks, or they poll it. */
export type LinkMode = 'callback' | 'poll';

/** The three gateways. */
export type NodeName = 'P1' | 'P2' | 'N';

/** Agencies of the scenario. */
export const AGENCIES = {
  /** Sở LĐTBXH Quảng Nam, on P1: the sender. */
  P1_SENDER: '000.00.15.H47',
  /** Sở LĐTBXH Nghệ An, on P2. */
  P2_RECIPIENT: '000.00.15.H41',
  /** Văn phòng Chính phủ, on N. */
  N_RECIPIENT: '000.00.00.G22',
} as const;

/** Options of startFederation. */
export interface FederationHarnessOptions {
  readonly kind?: StoreDialect;
  readonly mode?: LinkMode;
  /** The provinces' poll interval (default 100 ms, the floor). */
  readonly pollIntervalMs?: number;
  /** Extra config for every node. */
  readonly config?: ConfigInput;
}

/** One gateway of the federation. */
export interface FederationNode {
  readonly name: NodeName;
  readonly db: TestDatabase;
  /** http://127.0.0.1:PORT (the same across a stop and a start). */
  readonly url: string;
  /** The running app; throws while stopped. */
  app(): EdxApp;
  /** Closes the app (the database stays); idempotent. Clean by default; see StopOptions for `abrupt`. */
  stop(options?: StopOptions): Promise<void>;
  /** Builds and starts the app again on the same port and database (its links are rows there, so they come back with it). */
  start(): Promise<void>;
  /** True between a start and a stop. */
  readonly running: boolean;
  /** The /v1 bearer token of an office system acting for `agency` on this node. */
  token(agency: string): string;
}

/**
 * How a node stops. Clean (the default) is the gateway's own shutdown, an operator's restart: it
 * stops listening, answers requests arriving meanwhile with 503 (transient for the far side), lets
 * the requests in flight finish and drains its deliveries. `abrupt` first cuts every open connection
 * to it, so the callers' requests in flight fail as they do when the process dies or the network
 * drops — with the work behind them possibly committed (an admission whose OK never reached P1, an
 * updateStatus that never reached the poller): the far side must retry, and the receiver must find
 * the duplicate. It is not a crash of N's own process: its handlers and workers still finish what
 * they had begun in this process (a crash's expired leases are delivery-service tests' business).
 */
export interface StopOptions {
  readonly abrupt?: boolean;
}

/** How long start() waits for its old port to be free again (another process may hold it briefly). */
const SAME_PORT_WAIT_MS = 10_000;

function isAddressInUse(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === 'EADDRINUSE';
}

/** The running federation. */
export interface FederationHarness {
  readonly mode: LinkMode;
  readonly p1: FederationNode;
  readonly p2: FederationNode;
  readonly n: FederationNode;
  readonly nodes: readonly FederationNode[];
  /** Stops every node (also done at teardown). */
  close(): Promise<void>;
}

/** Test-speed delivery settings; a long retry horizon, so an outage of a minute dead-letters nothing. */
const NODE_CONFIG: ConfigInput = {
  log: { level: 'silent' },
  server: { shutdownTimeoutMs: 5000 },
  delivery: { workers: 2, retryBaseMs: 50, retryMaxMs: 2000, maxAttempts: 1000, sweepIntervalMs: 500, circuitFailureThreshold: 1000, circuitCooldownMs: 500 },
};

function merge(base: ConfigInput, extra: ConfigInput | undefined): ConfigInput {
  if (extra === undefined) return base;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const prior = out[key];
    out[key] = typeof value === 'object' && value !== null && typeof prior === 'object' && prior !== null ? { ...prior, ...value } : value;
  }
  return out as ConfigInput;
}

/** The agencies each node holds (its own province, or the national office). */
const DIRECTORIES: Readonly<Record<NodeName, readonly { readonly code: string; readonly name: string }[]>> = {
  P1: [
    { code: '000.00.00.H47', name: 'UBND tỉnh Quảng Nam' },
    { code: '000.00.15.H47', name: 'Sở Lao động - Thương binh và Xã hội tỉnh Quảng Nam' },
    { code: '000.01.15.H47', name: 'Văn phòng Sở Lao động - Thương binh và Xã hội tỉnh Quảng Nam' },
  ],
  P2: [
    { code: '000.00.00.H41', name: 'UBND tỉnh Nghệ An' },
    { code: '000.00.15.H41', name: 'Sở Lao động - Thương binh và Xã hội tỉnh Nghệ An' },
  ],
  N: [{ code: '000.00.00.G22', name: 'Văn phòng Chính phủ' }],
};

/** The office systems: one client per agency that sends or receives in the scenario. */
const OFFICES: Readonly<Record<NodeName, readonly string[]>> = {
  P1: [AGENCIES.P1_SENDER],
  P2: [AGENCIES.P2_RECIPIENT],
  N: [AGENCIES.N_RECIPIENT],
};

async function seedNode(db: TestDatabase, name: NodeName): Promise<Map<string, string>> {
  const tokens = new Map<string, string>();
  await db.store.db
    .insertInto('agencies')
    .values(DIRECTORIES[name].map((a) => ({ code: a.code, name: a.name, parent_code: null, state: 'active' as const, successor_code: null, route_id: null })))
    .execute();
  for (const agency of OFFICES[name]) {
    const { token, hash } = newClientToken();
    await db.store.db.insertInto('clients').values({ id: crypto.randomUUID(), name: `Office system of ${agency}`, token_hash: hash, agency_codes: [agency] }).execute();
    tokens.set(agency, token);
  }
  return tokens;
}

/** Starts the three gateways, links them, and waits until the provinces poll N (poll mode). */
export async function startFederation(t: Teardown, options: FederationHarnessOptions = {}): Promise<FederationHarness> {
  const mode = options.mode ?? 'callback';
  const config = merge(merge(NODE_CONFIG, options.config), {
    axisClient: { poll: true, pollIntervalMs: options.pollIntervalMs ?? 100, callTimeoutMs: 5000 },
  });
  const logLevel = process.env.EDXGATE_TEST_LOG === '1' ? 'debug' : 'silent';

  const make = async (name: NodeName): Promise<FederationNode & { listen(port: number): Promise<void> }> => {
    const db = await testDatabase(t, { ...(options.kind === undefined ? {} : { kind: options.kind }), name: `federation_${name}`, config });
    const tokens = await seedNode(db, name);
    let app: EdxApp | undefined;
    let port = 0;
    const node = {
      name,
      db,
      get url(): string {
        return `http://127.0.0.1:${port}`;
      },
      app(): EdxApp {
        if (app === undefined) throw new Error(`${name} is stopped`);
        return app;
      },
      get running(): boolean {
        return app !== undefined;
      },
      async stop(stopOptions: StopOptions = {}): Promise<void> {
        const running = app;
        app = undefined;
        if (running === undefined) return;
        if (stopOptions.abrupt === true) {
          // No new connections first, so a caller whose request is cut cannot reconnect and be
          // served; Fastify's own server.close() later tolerates the server being closed already.
          running.server.close();
          running.server.closeAllConnections();
        }
        await running.close();
      },
      async listen(at: number): Promise<void> {
        if (app !== undefined) return;
        const logger = createLogger({ log: { level: logLevel } }).child({ node: name });
        // The same port as before a stop: the links name it. Another process may have taken it as an
        // ephemeral port meanwhile; it is usually free again within a moment. A Fastify app whose
        // listen failed is not listened again: each try builds its own.
        const deadline = Date.now() + SAME_PORT_WAIT_MS;
        for (;;) {
          const built = await buildApp(db.config, { store: db.store, logger, processMetrics: false, startWorkers: true });
          try {
            await built.listen({ host: '127.0.0.1', port: at });
          } catch (error) {
            await built.close();
            if (at === 0 || !isAddressInUse(error) || Date.now() > deadline) throw error;
            await new Promise((resolve) => setTimeout(resolve, 200));
            continue;
          }
          port = (built.server.address() as AddressInfo).port;
          app = built;
          return;
        }
      },
      async start(): Promise<void> {
        await node.listen(port);
      },
      token(agency: string): string {
        const token = tokens.get(agency);
        if (token === undefined) throw new Error(`no office system of ${agency} on ${name}`);
        return token;
      },
    };
    return node;
  };

  const p1 = await make('P1');
  const p2 = await make('P2');
  const n = await make('N');
  const nodes = [p1, p2, n];
  // Registered after the databases' teardowns, so it runs before them (last in, first out).
  const close = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => node.stop()));
  };
  t.teardown(close);
  for (const node of nodes) await node.listen(0);

  // The links: one credential per province, held by N (a peer's axis system) and by the province (its upstream route).
  const credentials = { P1: { systemid: 'p1.gateway', secret: randomBytes(33).toString('base64') }, P2: { systemid: 'p2.gateway', secret: randomBytes(33).toString('base64') } };
  for (const [province, pattern] of [
    [p1, '*.H47'],
    [p2, '*.H41'],
  ] as const) {
    const credential = credentials[province.name as 'P1' | 'P2'];
    const peerId = province.name.toLowerCase();
    const callback = mode === 'callback' ? `${province.url}/v1/callbacks/axis` : undefined;
    if (!(await insertPeerRoute(n.db.store.db, { id: peerId, url: callback, ...credential, tokenHash: newClientToken().hash }))) throw new Error(`peer ${peerId} exists`);
    await putRoutePattern(n.db.store.db, { pattern, routeId: peerId });
    await putUpstreamRoute(province.db.store.db, { id: 'national', url: `${n.url}/axis`, ...credential, tokenHash: newClientToken().hash });
    await putRoutePattern(province.db.store.db, { pattern, routeId: null });
    await putRoutePattern(province.db.store.db, { pattern: '*', routeId: 'national' });
  }
  await putRoutePattern(n.db.store.db, { pattern: '*.G22', routeId: null });
  for (const node of nodes) {
    const gateway = node.app().gateway;
    await gateway.directory.reload();
    await gateway.federation.refresh();
  }
  return { mode, p1, p2, n, nodes, close };
}

// --- Office systems: /v1 over HTTP ---------------------------------------------------------------

/** A /v1 call's status and JSON body. */
export interface V1Reply<T = Record<string, unknown>> {
  readonly status: number;
  readonly body: T;
}

/** One inbox item as GET /v1/inbox lists it. */
export interface InboxItem {
  readonly deliveryId: string;
  readonly packetId: string;
  readonly kind: string;
  readonly sender: string;
  readonly recipient: string;
  readonly documentId: string;
  readonly businessType: number | null;
  readonly statusCode: string | null;
  readonly state: 'available' | 'acknowledged';
}

/** A timeline entry as GET /v1/documents/{id}/timeline answers it. */
export interface TimelineItem {
  readonly at: string;
  readonly type: string;
  readonly agency: string | null;
  readonly packetId: string | null;
  readonly deliveryId: string | null;
  readonly code?: string;
  readonly change?: string;
  readonly recipient?: string;
  readonly route?: string | null;
  readonly via?: string;
  readonly remoteId?: string | null;
  readonly automatic?: boolean;
  readonly recallKind?: string;
  readonly packetKind?: string;
}

/** The office system of `agency` on `node`. */
export function office(node: FederationNode, agency: string) {
  const headers = (): Record<string, string> => ({ authorization: `Bearer ${node.token(agency)}` });
  const json = async <T>(response: Response): Promise<V1Reply<T>> => ({ status: response.status, body: (await response.json()) as T });
  return {
    agency,
    /** POST /v1/packets. */
    async post(bytes: Buffer): Promise<V1Reply<{ packetId: string; documentId: string; deliveries: { to: string; deliveryId: string }[] }>> {
      return json(await fetch(`${node.url}/v1/packets`, { method: 'POST', headers: { ...headers(), 'content-type': 'application/xml' }, body: new Uint8Array(bytes) }));
    },
    /** GET /v1/inbox, every page; with `all`, acknowledged items too. */
    async inbox(options: { readonly all?: boolean } = {}): Promise<readonly InboxItem[]> {
      const items: InboxItem[] = [];
      let cursor: string | null = null;
      do {
        const query = `agency=${encodeURIComponent(agency)}&limit=500${options.all === true ? '&includeAcknowledged=true' : ''}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`;
        const reply: V1Reply<{ items: InboxItem[]; nextCursor: string | null; hasMore: boolean }> = await json(await fetch(`${node.url}/v1/inbox?${query}`, { headers: headers() }));
        if (reply.status !== 200) throw new Error(`inbox of ${agency} on ${node.name}: HTTP ${reply.status} ${JSON.stringify(reply.body)}`);
        items.push(...reply.body.items);
        cursor = reply.body.hasMore ? reply.body.nextCursor : null;
      } while (cursor !== null);
      return items;
    },
    /** POST /v1/inbox/{id}/ack. */
    async ack(deliveryId: string): Promise<number> {
      const response = await fetch(`${node.url}/v1/inbox/${deliveryId}/ack`, { method: 'POST', headers: headers() });
      await response.arrayBuffer();
      return response.status;
    },
    /** GET /v1/documents/{id}/timeline?sender=… */
    async timeline(documentId: string, sender: string): Promise<readonly TimelineItem[]> {
      const url = `${node.url}/v1/documents/${encodeURIComponent(documentId)}/timeline?sender=${encodeURIComponent(sender)}`;
      const reply = await json<{ events: TimelineItem[] }>(await fetch(url, { headers: headers() }));
      if (reply.status !== 200) throw new Error(`timeline of ${documentId} on ${node.name}: HTTP ${reply.status} ${JSON.stringify(reply.body)}`);
      return reply.body.events;
    },
    /** GET /v1/documents/{id}?sender=… */
    async document(documentId: string, sender: string): Promise<V1Reply<{ recipients: { recipient: string; deliveryState: string; status: { code: string } | null; recall: { state: string; kind: string | null } }[]; revokedAt: string | null }>> {
      const url = `${node.url}/v1/documents/${encodeURIComponent(documentId)}?sender=${encodeURIComponent(sender)}`;
      return json(await fetch(url, { headers: headers() }));
    },
  };
}

/** An office system (the return type of `office`). */
export type Office = ReturnType<typeof office>;

// --- Deliveries: what a node's store holds ----------------------------------------------------------

/** Filters of deliveriesOf. */
export interface DeliveryFilter {
  readonly state?: DeliveryState;
  readonly recipient?: string;
}

/**
 * Every delivery of `node` matching `filter`, oldest first, as GET /v1/deliveries lists them (the same
 * query; the harness sets no admin token). Read from the store, so it answers while the node is stopped.
 */
export async function deliveriesOf(node: FederationNode, filter: DeliveryFilter = {}): Promise<readonly DeliverySummary[]> {
  const all: DeliverySummary[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await listDeliveries(node.db.store.db, { ...filter, cursor, limit: 500 });
    all.push(...page.items);
    if (!page.hasMore || page.nextCursor === null) return all;
    cursor = page.nextCursor;
  }
}

// --- Packets ---------------------------------------------------------------------------------------

let serial = 0;
/**
 * The default CodeNumber: this process's start and a serial, fixed width, 11 characters (the
 * standard's limit) — unique for a million documents per process. The pid, the time and a bare
 * serial run together used to pass 11 characters at the hundredth document (refused with
 * EDX_ERR_FIELD_TOO_LONG: the outage test posts ~120) and could repeat one (time 5 then serial 12,
 * and time 51 then serial 2, run together the same).
 */
const NUMBER_PREFIX = String(Date.now() % 100_000).padStart(5, '0');

/** A document from `from` to `to`; `number` makes its DocumentId (unique per call by default). */
export function federationDocument(from: string, to: readonly string[], options: { readonly number?: string; readonly subject?: string; readonly revokes?: boolean } = {}): Buffer {
  const number = options.number ?? `${NUMBER_PREFIX}${String(++serial % 1_000_000).padStart(6, '0')}`;
  const documentId = `${from},2025/03/05,${number}/SLĐTBXH-VP`;
  const packet: DocumentPacket = {
    kind: 'document',
    header: {
      from: { organId: from, organName: 'Sở Lao động - Thương binh và Xã hội tỉnh Quảng Nam' },
      to: to.map((organId) => ({ organId })),
      documentId,
      code: { codeNumber: number, codeNotation: 'SLĐTBXH-VP' },
      promulgationInfo: { place: 'Quảng Nam', promulgationDate: '2025/03/05' },
      documentType: { type: 1, typeName: 'Công văn' },
      subject: options.subject ?? 'V/v liên thông văn bản giữa các tỉnh qua trục quốc gia',
      // A revocation names the document it revokes (the same id, as the official samples do).
      responseFor: options.revokes === true ? [{ organId: from, code: `${number}/SLĐTBXH-VP`, promulgationDate: '2025/03/05', documentId }] : [],
      toPlaces: [],
    },
    traceHeaders: [{ organId: from, timestamp: '2025/03/05 09:15:00' }],
    ...(options.revokes === true ? { business: { businessDocType: 1, businessDocReason: 'Thu hồi văn bản điện tử', replacements: [] } } : {}),
    manifest: [],
    attachments: [],
  };
  return buildPacketBuffer(packet);
}

/** A status packet from `from` about document `documentId` of `about`. */
export function federationStatus(from: string, about: string, documentId: string, statusCode: StatusCode, description?: string): Buffer {
  const packet: StatusPacket = {
    kind: 'status',
    from: { organId: from },
    responseFor: { organId: about, documentId },
    statusCode,
    timestamp: '2025/03/05 10:02:41',
    ...(description === undefined ? {} : { description }),
  };
  return buildPacketBuffer(packet);
}

/** The timeline as a demo prints it: one line per event, hops named. */
export function formatTimeline(node: NodeName, events: readonly TimelineItem[]): string {
  return events
    .map((e) => {
      const parts = [e.at.slice(11, 23), node.padEnd(2), e.type.padEnd(15), e.agency ?? ''];
      if (e.code !== undefined) parts.push(`code ${e.code}${e.change === undefined ? '' : ` (${e.change})`}${e.automatic === true ? ' automatic' : ''}`);
      if (e.recallKind !== undefined && e.code === undefined) parts.push(`recall ${e.recallKind}`);
      if (e.type === 'received') parts.push(`via ${e.via ?? '?'} over ${e.route ?? '?'}${e.remoteId ? ` (far id ${e.remoteId})` : ''}`);
      if (e.type === 'delivered') parts.push(`to ${e.recipient ?? '?'} on route ${e.route ?? '?'}`);
      if (e.type === 'acked' || e.type === 'withdrawn') parts.push(`${e.recipient ?? ''}`);
      if (e.packetKind !== undefined) parts.push(`[${e.packetKind}]`);
      return `  ${parts.join('  ')}`;
    })
    .join('\n');
}
