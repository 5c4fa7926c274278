// A real gateway for a test: a fresh migrated database (Postgres when DATABASE_URL is set, else
// PGlite, or the kind asked for), the demo directory and its clients, the app built from config,
// optionally listening on loopback. Closed (app, then database) at the end of the test.

import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildApp } from '../../src/app.ts';
import type { EdxApp } from '../../src/app.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import { buildPacketBuffer } from '../../src/edxml/build.ts';
import type { DocumentPacket, Organization, StatusPacket } from '../../src/edxml/model.ts';
import type { Priority, StatusCode } from '../../src/edxml/codes.ts';
import { seedDemoIfEmpty } from '../../src/gateway/demo-seed.ts';
import { createLogger } from '../../src/observability/logger.ts';
import type { StoreDialect } from '../../src/store/open-store.ts';
import { testDatabase } from '../helpers/database.ts';
import type { TestDatabase, Teardown } from '../helpers/database.ts';
import { listenOnLoopback } from '../helpers/loopback.ts';

/** The admin token test gateways are configured with. */
export const ADMIN_TOKEN = 'test-admin-token-0123456789';
/** The default webhook signing secret of test gateways. */
export const WEBHOOK_SECRET = 'test-webhook-secret-0123456789';

/** Options of startTestGateway. */
export interface TestGatewayOptions {
  readonly kind?: StoreDialect;
  /** Config overrides on top of the test defaults (fast retries, admin token, webhook secret). */
  readonly config?: ConfigInput;
  /** Runs after the demo seed, before the app is built: add routes, agencies… */
  readonly setup?: (db: TestDatabase) => Promise<void>;
  /** Listen on 127.0.0.1:0 (default false: use app.inject). */
  readonly listen?: boolean;
  /** Start the delivery workers with the app (default true). */
  readonly startWorkers?: boolean;
}

/** A running test gateway. */
export interface TestGateway {
  readonly app: EdxApp;
  readonly db: TestDatabase;
  /** Base URL when listening. */
  readonly url: string | undefined;
  /** The demo client token of an agency. */
  token(agency: string): string;
}

const TEST_CONFIG: ConfigInput = {
  log: { level: 'silent' },
  admin: { token: ADMIN_TOKEN },
  webhook: { secret: WEBHOOK_SECRET },
  server: { shutdownTimeoutMs: 5000 },
  delivery: { workers: 2, retryBaseMs: 20, retryMaxMs: 200, sweepIntervalMs: 500, circuitFailureThreshold: 50, circuitCooldownMs: 500 },
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

/** Starts a gateway on a fresh database, seeded with the demo directory and clients. */
export async function startTestGateway(t: Teardown, options: TestGatewayOptions = {}): Promise<TestGateway> {
  const config = merge(TEST_CONFIG, options.config);
  const db = await testDatabase(t, { ...(options.kind === undefined ? {} : { kind: options.kind }), config });
  const seeded = await seedDemoIfEmpty(db.store.db);
  if (seeded === undefined) throw new Error('the fresh test database was not empty');
  await options.setup?.(db);
  const logger = createLogger({ log: { level: process.env.EDXGATE_TEST_LOG === '1' ? 'debug' : 'silent' } });
  const app = await buildApp(db.config, { store: db.store, logger, processMetrics: false, startWorkers: options.startWorkers ?? true });
  // Registered after the database's teardown, so it runs before it (teardowns run last-in first-out).
  t.teardown(() => app.close());
  let url: string | undefined;
  if (options.listen) {
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  } else {
    await app.ready();
  }
  const tokens = new Map(seeded.map((c) => [c.agency, c.token]));
  return {
    app,
    db,
    url,
    token(agency) {
      const token = tokens.get(agency);
      if (token === undefined) throw new Error(`no demo client for ${agency}`);
      return token;
    },
  };
}

/** Polls `check` until it returns a value other than undefined/false; fails after `timeoutMs` (a safety net, not a timing assertion). */
export async function waitFor<T>(
  description: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${description}`);
    await sleep(15);
  }
}

let serial = 0;

/** Options of makeDocument. */
export interface DocumentSpec {
  readonly from?: string;
  readonly to: readonly string[];
  /** Part of the DocumentId (unique per call by default). */
  readonly number?: string;
  readonly subject?: string;
  readonly priority?: Priority;
}

/** A small valid document packet, as bytes. */
export function makeDocument(spec: DocumentSpec): Buffer {
  const from = spec.from ?? '000.00.15.H47';
  const number = spec.number ?? `${process.pid % 10000}${++serial}`;
  const packet: DocumentPacket = {
    kind: 'document',
    header: {
      from: { organId: from, organName: 'Sở Lao động - Thương binh và Xã hội tỉnh Quảng Nam' },
      to: spec.to.map((organId): Organization => ({ organId })),
      documentId: `${from},2025/03/05,${number}/SLĐTBXH-VP`,
      code: { codeNumber: number, codeNotation: 'SLĐTBXH-VP' },
      promulgationInfo: { place: 'Quảng Nam', promulgationDate: '2025/03/05' },
      documentType: { type: 1, typeName: 'Công văn' },
      subject: spec.subject ?? 'V/v thử nghiệm liên thông văn bản',
      ...(spec.priority === undefined ? {} : { otherInfo: { priority: spec.priority, appendixes: [] } }),
      responseFor: [],
      toPlaces: [],
    },
    traceHeaders: [{ organId: from, timestamp: '2025/03/05 09:15:00' }],
    manifest: [],
    attachments: [],
  };
  return buildPacketBuffer(packet);
}

/** A status packet from `from` about the document `documentId` of `about`. */
export function makeStatus(from: string, about: string, documentId: string, statusCode: StatusCode = '03'): Buffer {
  const packet: StatusPacket = {
    kind: 'status',
    from: { organId: from },
    responseFor: { organId: about, documentId },
    statusCode,
    timestamp: '2025/03/05 10:02:41',
  };
  return buildPacketBuffer(packet);
}

/** Headers of a packet post by the demo client of `agency`. */
export function postHeaders(gateway: TestGateway, agency: string): Record<string, string> {
  return { authorization: `Bearer ${gateway.token(agency)}`, 'content-type': 'application/xml' };
}

/** One request a test webhook receiver got. */
export interface ReceivedRequest {
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** The status the receiver answered. */
  readonly status: number;
}

/** A webhook receiver on loopback whose answers the test decides. */
export interface TestReceiver {
  readonly url: string;
  readonly received: ReceivedRequest[];
  /** Changes how the next requests are answered (n counts from 1 over the receiver's life). */
  answerWith(answer: (n: number) => number): void;
}

/** Starts a node:http receiver on 127.0.0.1:0, closed at the end of the test. */
export async function startReceiver(t: Teardown, answer: (n: number) => number = () => 200): Promise<TestReceiver> {
  const received: ReceivedRequest[] = [];
  let decide = answer;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = decide(received.length + 1);
      received.push({ headers: req.headers, body: Buffer.concat(chunks), status });
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : `refused with ${status}`);
    });
  });
  const base = await listenOnLoopback(t, server);
  return {
    url: `${base}/hook`,
    received,
    answerWith(next) {
      decide = next;
    },
  };
}

/** Routes agency `code` to a webhook route `routeId` at `url` (inserted before the app starts, or reload the directory after). */
export async function routeToWebhook(db: TestDatabase, code: string, routeId: string, url: string, secret?: string): Promise<void> {
  await db.store.db.insertInto('routes').values({ id: routeId, kind: 'webhook', url, secret: secret ?? null }).execute();
  await db.store.db.updateTable('agencies').set({ route_id: routeId }).where('code', '=', code).execute();
}
