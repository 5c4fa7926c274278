// The operators' dashboard (issue 7, item 5; docs/dashboard.md):
//
// - GET /dashboard, /dashboard/app.js, /dashboard/app.css: one static page, a vanilla ES module
//   and a stylesheet, all served from strings compiled into the gateway (no CDN, no build step, no
//   file to copy next to dist/). They hold no data, so they need no token. The page is served with
//   a Content-Security-Policy that allows nothing but this origin's script, style and fetch.
// - GET /v1/dashboard: the figures (src/observability/dashboard-snapshot.ts), admin token only —
//   they show every agency's traffic and the trust store. The page asks for the token once and
//   keeps it in sessionStorage (this tab, until it closes), sending it as `Authorization: Bearer`;
//   it never goes in a URL, so neither access logs nor the Referer carry it. A "loopback needs no
//   token" rule was rejected: behind a reverse proxy on the same host every request is loopback.

import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DashboardSnapshots } from '../../observability/dashboard-snapshot.ts';
import type { DashboardSnapshot, DashboardSnapshotOptions, Percentiles } from '../../observability/dashboard-snapshot.ts';
import { DELIVERY_STATES } from '../../store/database.ts';
import { requireAdmin } from '../auth.ts';
import { NULLABLE_STRING, PROBLEM_SCHEMA } from '../schemas.ts';
import { vietnamIso } from '../time.ts';
import type { EdxApp } from '../types.ts';
import { DASHBOARD_CSS } from './assets/app-css.ts';
import { DASHBOARD_JS } from './assets/app-js.ts';
import { DASHBOARD_HTML } from './assets/page-html.ts';

/**
 * The page's policy: its own script, style and JSON only; no inline script or style (the script
 * draws SVG through DOM calls and sets no style attribute), no framing, no form submission (the
 * token form is handled in script and must never be submitted, lest the token land in a URL).
 * `img-src data:` is for the empty favicon, which keeps the browser from asking for /favicon.ico.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Options of registerDashboardRoutes. */
export interface DashboardRoutesOptions {
  /** Sampling, windows and caches of the figures (defaults suit a page refreshing every 3 s). */
  readonly snapshot?: DashboardSnapshotOptions | undefined;
}

interface Asset {
  readonly body: string;
  readonly type: string;
  readonly etag: string;
}

function asset(body: string, type: string): Asset {
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

const PAGE = asset(DASHBOARD_HTML, 'text/html; charset=utf-8');
const SCRIPT = asset(DASHBOARD_JS, 'text/javascript; charset=utf-8');
const STYLE = asset(DASHBOARD_CSS, 'text/css; charset=utf-8');

/** Sends a static asset: revalidated on every load (no-cache + ETag), so an upgrade shows at once. */
function sendAsset(request: FastifyRequest, reply: FastifyReply, a: Asset): FastifyReply {
  reply.header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer').header('cache-control', 'no-cache').header('etag', a.etag);
  if (request.headers['if-none-match'] === a.etag) return reply.code(304).send();
  return reply.type(a.type).send(a.body);
}

const NUMBER_OR_NULL = { type: ['number', 'null'] } as const;

const PERCENTILES_PROPERTIES = {
  count: { type: 'integer' },
  p50Ms: NUMBER_OR_NULL,
  p90Ms: NUMBER_OR_NULL,
  p99Ms: NUMBER_OR_NULL,
  meanMs: NUMBER_OR_NULL,
} as const;

const PERCENTILES_SCHEMA = { type: 'object', required: Object.keys(PERCENTILES_PROPERTIES), properties: PERCENTILES_PROPERTIES } as const;

const LATENCY_SUMMARY_SCHEMA = {
  type: 'object',
  required: [...Object.keys(PERCENTILES_PROPERTIES), 'overBudget'],
  properties: { ...PERCENTILES_PROPERTIES, overBudget: { type: 'integer' } },
} as const;

const nullable = <T extends { readonly type: 'object' }>(schema: T) => ({ ...schema, type: ['object', 'null'] }) as const;

/** The reply of GET /v1/dashboard; docs/dashboard.md describes each field. */
export const DASHBOARD_SCHEMA = {
  type: 'object',
  required: [
    'generatedAt',
    'budgetMs',
    'windowSeconds',
    'sampleIntervalSeconds',
    'historySeconds',
    'latency',
    'stages',
    'throughput',
    'totals',
    'deadlineMisses',
    'queue',
    'deliveries',
    'deadLetters',
    'topAgencies',
    'certificates',
    'errors',
  ],
  properties: {
    generatedAt: { type: 'string' },
    budgetMs: { type: 'number' },
    windowSeconds: { type: 'number' },
    sampleIntervalSeconds: { type: 'number' },
    historySeconds: { type: 'number' },
    latency: {
      type: 'object',
      required: ['window', 'total', 'series'],
      properties: {
        window: LATENCY_SUMMARY_SCHEMA,
        total: LATENCY_SUMMARY_SCHEMA,
        series: {
          type: 'array',
          items: {
            type: 'object',
            required: ['t', 'count', 'p50Ms', 'p90Ms', 'p99Ms'],
            properties: { t: { type: 'number' }, count: { type: 'integer' }, p50Ms: NUMBER_OR_NULL, p90Ms: NUMBER_OR_NULL, p99Ms: NUMBER_OR_NULL },
          },
        },
      },
    },
    stages: {
      type: 'array',
      items: {
        type: 'object',
        required: ['stage', 'window', 'total'],
        properties: { stage: { type: 'string' }, window: PERCENTILES_SCHEMA, total: PERCENTILES_SCHEMA },
      },
    },
    throughput: {
      type: 'object',
      required: ['admittedPerSecond', 'deliveredPerSecond', 'rejectedPerSecond', 'eventLoopBusyShare', 'series'],
      properties: {
        admittedPerSecond: { type: 'number' },
        deliveredPerSecond: { type: 'number' },
        rejectedPerSecond: { type: 'number' },
        eventLoopBusyShare: { type: 'number', minimum: 0, maximum: 1 },
        series: {
          type: 'array',
          items: {
            type: 'object',
            required: ['t', 'admitted', 'delivered', 'rejected'],
            properties: { t: { type: 'number' }, admitted: { type: 'number' }, delivered: { type: 'number' }, rejected: { type: 'number' } },
          },
        },
      },
    },
    totals: {
      type: 'object',
      required: ['admitted', 'rejected', 'duplicate', 'delivered', 'deadlineMisses'],
      properties: {
        admitted: { type: 'integer' },
        rejected: { type: 'integer' },
        duplicate: { type: 'integer' },
        delivered: { type: 'integer' },
        deadlineMisses: { type: 'integer' },
      },
    },
    deadlineMisses: { type: 'object', required: ['total', 'window'], properties: { total: { type: 'integer' }, window: { type: 'integer' } } },
    queue: nullable({
      type: 'object',
      required: ['depth', 'oldestUndeliveredAgeSeconds', 'queued', 'delivering', 'dead'],
      properties: {
        depth: { type: 'integer' },
        oldestUndeliveredAgeSeconds: { type: 'number' },
        queued: { type: 'integer' },
        delivering: { type: 'integer' },
        dead: { type: 'integer' },
      },
    }),
    deliveries: nullable({
      type: 'object',
      required: ['sinceHours', 'byState'],
      properties: {
        sinceHours: { type: 'number' },
        byState: { type: 'object', required: [...DELIVERY_STATES], properties: Object.fromEntries(DELIVERY_STATES.map((s) => [s, { type: 'integer' }])) },
      },
    }),
    deadLetters: nullable({
      type: 'object',
      required: ['total', 'latest'],
      properties: {
        total: { type: 'integer' },
        latest: {
          type: 'array',
          items: {
            type: 'object',
            required: ['deliveryId', 'packetId', 'sender', 'recipient', 'attempts', 'lastError', 'lastAttemptAt'],
            properties: {
              deliveryId: { type: 'string' },
              packetId: { type: 'string' },
              sender: { type: 'string' },
              recipient: { type: 'string' },
              attempts: { type: 'integer' },
              lastError: NULLABLE_STRING,
              lastAttemptAt: { type: 'string' },
            },
          },
        },
      },
    }),
    topAgencies: nullable({
      type: 'object',
      required: ['sinceHours', 'items'],
      properties: {
        sinceHours: { type: 'number' },
        items: {
          type: 'array',
          items: {
            type: 'object',
            required: ['code', 'name', 'sent', 'received'],
            properties: { code: { type: 'string' }, name: NULLABLE_STRING, sent: { type: 'integer' }, received: { type: 'integer' } },
          },
        },
      },
    }),
    certificates: nullable({
      type: 'object',
      required: ['withinDays', 'expiring', 'unreadable'],
      properties: {
        withinDays: { type: 'integer' },
        unreadable: { type: 'integer' },
        expiring: {
          type: 'array',
          items: {
            type: 'object',
            required: ['role', 'agency', 'subject', 'fingerprint256', 'notAfter', 'daysToExpiry', 'expired'],
            properties: {
              role: { type: 'string' },
              agency: NULLABLE_STRING,
              subject: { type: 'string' },
              fingerprint256: { type: 'string' },
              notAfter: { type: 'string' },
              daysToExpiry: { type: 'integer' },
              expired: { type: 'boolean' },
            },
          },
        },
      },
    }),
    errors: { type: 'array', items: { type: 'string' } },
  },
} as const;

/** The snapshot on the wire: instants in Vietnam time like every timestamp of the API; chart points stay epoch ms. */
export function dashboardJson(s: DashboardSnapshot) {
  const copy = (p: Percentiles) => ({ ...p });
  return {
    ...s,
    generatedAt: vietnamIso(s.generatedAt),
    stages: s.stages.map((st) => ({ stage: st.stage, window: copy(st.window), total: copy(st.total) })),
    deadLetters: s.deadLetters === null ? null : { total: s.deadLetters.total, latest: s.deadLetters.latest.map((d) => ({ ...d, lastAttemptAt: vietnamIso(d.lastAttemptAt) })) },
    certificates:
      s.certificates === null
        ? null
        : { ...s.certificates, expiring: s.certificates.expiring.map((c) => ({ ...c, notAfter: vietnamIso(c.notAfter) })) },
  };
}

/** Registers the dashboard page, its script and stylesheet, and GET /v1/dashboard; samples metrics while the app runs. */
export function registerDashboardRoutes(app: EdxApp, options: DashboardRoutesOptions = {}): DashboardSnapshots {
  const gateway = app.gateway;
  const snapshots = new DashboardSnapshots(
    {
      metrics: gateway.metrics,
      db: gateway.store.db,
      expiry: (withinDays) => gateway.trust.expiry(withinDays),
      budgetMs: gateway.config.budgetMs,
      onError: (part, err) => app.log.warn({ err, part }, 'dashboard: a part of the figures could not be read'),
    },
    options.snapshot,
  );
  app.addHook('onReady', () => snapshots.start());
  app.addHook('onClose', async () => snapshots.stop());

  app.get('/dashboard', async (request, reply) => {
    reply.header('content-security-policy', DASHBOARD_CSP).header('x-frame-options', 'DENY');
    return sendAsset(request, reply, PAGE);
  });
  app.get('/dashboard/app.js', async (request, reply) => sendAsset(request, reply, SCRIPT));
  app.get('/dashboard/app.css', async (request, reply) => sendAsset(request, reply, STYLE));

  app.get(
    '/v1/dashboard',
    { onRequest: requireAdmin(app), schema: { response: { 200: DASHBOARD_SCHEMA, '4xx': PROBLEM_SCHEMA, '5xx': PROBLEM_SCHEMA } } },
    async (_request, reply) => {
      // Live figures: no cache on the way, and nothing a shared cache may keep (they are the admin's).
      reply.header('cache-control', 'no-store');
      return dashboardJson(await snapshots.snapshot());
    },
  );
  return snapshots;
}
