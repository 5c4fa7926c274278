// The dashboard (issue 7, item 5; docs/dashboard.md): the page and its assets (public, strict CSP,
// no external resource, both languages complete), GET /v1/dashboard (admin token only, its shape,
// figures that follow the traffic), and the snapshot arithmetic (src/observability/
// dashboard-snapshot.ts: percentiles from buckets, sliding windows, a database that cannot be read).
// The browser side is test/e2e/dashboard.test.ts.

import { Script } from 'node:vm';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import t from 'tap';
import { DASHBOARD_CSS } from '../../src/api/dashboard/assets/app-css.ts';
import { DASHBOARD_JS } from '../../src/api/dashboard/assets/app-js.ts';
import { DASHBOARD_HTML } from '../../src/api/dashboard/assets/page-html.ts';
import { DASHBOARD_CSP } from '../../src/api/dashboard/routes.ts';
import { DashboardSnapshots, countAbove, histogramQuantile } from '../../src/observability/dashboard-snapshot.ts';
import type { BucketCounts } from '../../src/observability/dashboard-snapshot.ts';
import { STAGES, createMetrics } from '../../src/observability/metrics.ts';
import { DELIVERY_STATES } from '../../src/store/database.ts';
import type { Database } from '../../src/store/database.ts';
import type { ExpiryReport } from '../../src/trust/pki/expiry.ts';
import { ADMIN_TOKEN, makeDocument, postHeaders, routeToWebhook, startReceiver, startTestGateway, waitFor } from './gateway-fixture.ts';

const A = '000.00.15.H47';
const B = '000.01.15.H47';
const C = '000.02.15.H47';
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

/** The parts of the reply the tests read. */
interface DashboardReply {
  generatedAt: string;
  budgetMs: number;
  latency: {
    window: { count: number; p50Ms: number | null; p90Ms: number | null; p99Ms: number | null; overBudget: number };
    total: { count: number };
    series: { t: number; count: number; p50Ms: number | null }[];
  };
  stages: { stage: string; window: { count: number; p50Ms: number | null }; total: { count: number } }[];
  throughput: { admittedPerSecond: number; eventLoopBusyShare: number; series: { t: number; admitted: number }[] };
  totals: { admitted: number; rejected: number; duplicate: number; delivered: number; deadlineMisses: number };
  deadlineMisses: { total: number; window: number };
  queue: { depth: number; oldestUndeliveredAgeSeconds: number; queued: number; delivering: number; dead: number } | null;
  deliveries: { sinceHours: number; byState: Record<string, number> } | null;
  deadLetters: { total: number; latest: { recipient: string; sender: string; attempts: number; lastError: string | null; lastAttemptAt: string }[] } | null;
  topAgencies: { sinceHours: number; items: { code: string; name: string | null; sent: number; received: number }[] } | null;
  certificates: { withinDays: number; expiring: unknown[]; unreadable: number } | null;
  errors: string[];
}

t.test('the page, its script and stylesheet: public, self-contained, under a strict policy', async (t) => {
  const gw = await startTestGateway(t, { startWorkers: false });
  const page = await gw.app.inject({ method: 'GET', url: '/dashboard' });
  t.equal(page.statusCode, 200, 'no token needed for the page');
  t.match(page.headers['content-type'], /^text\/html; charset=utf-8/);
  t.equal(page.headers['content-security-policy'], DASHBOARD_CSP);
  t.match(DASHBOARD_CSP, /default-src 'none'/);
  t.notMatch(DASHBOARD_CSP, /unsafe-inline|unsafe-eval|\*|https?:/, 'self only');
  t.equal(page.headers['x-frame-options'], 'DENY');
  t.equal(page.headers['x-content-type-options'], 'nosniff');
  t.equal(page.headers['referrer-policy'], 'no-referrer');
  t.equal(page.body, DASHBOARD_HTML);

  // Nothing the CSP would block, nothing from elsewhere.
  t.notMatch(DASHBOARD_HTML, /<script(?![^>]*\ssrc=)/, 'no inline script');
  t.notMatch(DASHBOARD_HTML, /\sstyle=|<style/, 'no inline style');
  t.notMatch(DASHBOARD_HTML, /https?:\/\//, 'no external URL in the page');
  t.notMatch(DASHBOARD_CSS, /url\(|@import/, 'the stylesheet loads nothing');
  t.notMatch(DASHBOARD_JS, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/, 'text goes in through textContent only');
  t.notMatch(DASHBOARD_JS, /setAttribute\('style'|\.style\./, 'no inline style from the script either');
  t.notMatch(DASHBOARD_JS, /localStorage/, 'the token is kept for the tab session only');
  t.match(DASHBOARD_HTML, /<input id="token" type="password"[^>]*>/);
  t.notMatch(DASHBOARD_HTML, /<input[^>]*\sname=/, 'the token field has no name: even a real form submission would not send it');

  const script = await gw.app.inject({ method: 'GET', url: '/dashboard/app.js' });
  t.equal(script.statusCode, 200);
  t.match(script.headers['content-type'], /^text\/javascript; charset=utf-8/);
  t.equal(script.body, DASHBOARD_JS);
  t.doesNotThrow(() => new Script(DASHBOARD_JS, { filename: 'app.js' }), 'the script parses');
  const style = await gw.app.inject({ method: 'GET', url: '/dashboard/app.css' });
  t.equal(style.statusCode, 200);
  t.match(style.headers['content-type'], /^text\/css; charset=utf-8/);

  // Revalidated by ETag: an upgrade shows at once, an unchanged asset costs a 304.
  const etag = script.headers.etag;
  t.type(etag, 'string');
  const again = await gw.app.inject({ method: 'GET', url: '/dashboard/app.js', headers: { 'if-none-match': String(etag) } });
  t.equal(again.statusCode, 304);
  t.equal(again.body, '');
});

t.test('both languages have every text the page uses', async (t) => {
  // Each dictionary entry is one line `    key: '…',` (or `'key': …`); every key appears once per language.
  const entries = (key: string): number => DASHBOARD_JS.split('\n').filter((line) => line.startsWith(`    ${key}: `) || line.startsWith(`    '${key}': `)).length;
  const keys = new Set<string>();
  for (const m of DASHBOARD_HTML.matchAll(/data-i18n="([\w-]+)"/g)) keys.add(m[1] ?? '');
  // Literal keys only; prefixed ones (`t('stage_' + name)`) are listed below from their closed sets.
  for (const m of DASHBOARD_JS.matchAll(/\bt\('([\w-]+)'(?!\s*\+)/g)) keys.add(m[1] ?? '');
  for (const stage of STAGES) keys.add(`stage_${stage}`);
  for (const state of DELIVERY_STATES) keys.add(`state_${state}`);
  for (const role of ['anchor', 'intermediate', 'signing', 'signing-chain', 'agency']) keys.add(`role_${role}`);
  for (const part of ['database', 'certificates']) keys.add(`part_${part}`);
  for (const series of ['p50', 'p90', 'p99', 'admitted', 'delivered', 'rejected']) keys.add(`series_${series}`);
  t.ok(keys.size > 60, `${keys.size} texts`);
  for (const key of keys) t.equal(entries(key), 2, `"${key}" in Vietnamese and English`);
});

t.test('GET /v1/dashboard needs the admin token', async (t) => {
  const gw = await startTestGateway(t, { startWorkers: false });
  const anonymous = await gw.app.inject({ method: 'GET', url: '/v1/dashboard' });
  t.equal(anonymous.statusCode, 401);
  t.equal(JSON.parse(anonymous.body).code, 'EDX_ERR_AUTH_REQUIRED');
  const client = await gw.app.inject({ method: 'GET', url: '/v1/dashboard', headers: { authorization: `Bearer ${gw.token(A)}` } });
  t.equal(client.statusCode, 403, 'a client token is not enough: the figures cover every agency');
  t.equal(JSON.parse(client.body).code, 'EDX_ERR_AUTH_FORBIDDEN');
  const ok = await gw.app.inject({ method: 'GET', url: '/v1/dashboard', headers: admin });
  t.equal(ok.statusCode, 200);
  t.equal(ok.headers['cache-control'], 'no-store');
  t.match(ok.headers['content-type'], /^application\/json/);
});

t.test('the figures follow the traffic', async (t) => {
  const refusing = await startReceiver(t, () => 400);
  const gw = await startTestGateway(t, { setup: (db) => routeToWebhook(db, C, 'webhook-c', refusing.url) });
  const read = async (): Promise<DashboardReply> => {
    const r = await gw.app.inject({ method: 'GET', url: '/v1/dashboard', headers: admin });
    t.equal(r.statusCode, 200);
    return JSON.parse(r.body) as DashboardReply;
  };

  const before = await read();
  t.match(before.generatedAt, /\+07:00$/);
  t.equal(before.budgetMs, 5000);
  t.same(before.totals, { admitted: 0, rejected: 0, duplicate: 0, delivered: 0, deadlineMisses: 0 });
  t.same(before.latency.window, { count: 0, p50Ms: null, p90Ms: null, p99Ms: null, meanMs: null, overBudget: 0 });
  t.same(
    before.stages.map((s) => s.stage),
    [...STAGES],
  );
  t.same(before.queue, { depth: 0, oldestUndeliveredAgeSeconds: 0, queued: 0, delivering: 0, dead: 0 });
  t.same(before.deliveries, { sinceHours: 1, byState: Object.fromEntries(DELIVERY_STATES.map((s) => [s, 0])) });
  t.same(before.deadLetters, { total: 0, latest: [] });
  t.same(before.topAgencies, { sinceHours: 1, items: [] });
  t.same(before.certificates, { withinDays: 30, expiring: [], unreadable: 0 });
  t.same(before.errors, []);

  for (const to of [B, B, C]) {
    const posted = await gw.app.inject({ method: 'POST', url: '/v1/packets', headers: postHeaders(gw, A), payload: makeDocument({ from: A, to: [to] }) });
    t.equal(posted.statusCode, 202);
  }
  const bad = await gw.app.inject({ method: 'POST', url: '/v1/packets', headers: postHeaders(gw, A), payload: '<not-edxml' });
  t.equal(bad.statusCode, 400);

  // The database figures are cached for 2 s: poll until the deliveries have settled.
  const after = await waitFor('two deliveries delivered and one dead letter', async () => {
    const d = await read();
    return d.deliveries?.byState['delivered'] === 2 && d.deliveries.byState['dead'] === 1 && d.totals.delivered === 2 ? d : undefined;
  });
  t.match(after.totals, { admitted: 3, rejected: 1, delivered: 2 });
  const w = after.latency.window;
  t.equal(w.count, 2, 'two end-to-end latencies in the window');
  t.ok(w.p50Ms !== null && w.p90Ms !== null && w.p99Ms !== null && w.p50Ms > 0 && w.p50Ms <= w.p90Ms && w.p90Ms <= w.p99Ms, 'ordered percentiles');
  t.equal(w.overBudget, 0);
  t.equal(after.latency.series.at(-1)?.count, 2, 'the chart ends now');
  t.equal(after.stages.find((s) => s.stage === 'decode')?.window.count, 4, 'every post was decoded, the malformed one too');
  t.equal(after.stages.find((s) => s.stage === 'admit')?.window.count, 3);
  t.ok(after.throughput.admittedPerSecond > 0);
  t.ok(after.throughput.eventLoopBusyShare > 0 && after.throughput.eventLoopBusyShare <= 1, `event loop busy ${after.throughput.eventLoopBusyShare} of the window`);
  t.same(after.queue, { depth: 0, oldestUndeliveredAgeSeconds: 0, queued: 0, delivering: 0, dead: 1 });
  t.equal(after.deadLetters?.total, 1);
  t.match(after.deadLetters?.latest, [{ recipient: C, sender: A, attempts: 1, lastError: /400/, lastAttemptAt: /\+07:00$/ }]);
  t.same(after.topAgencies?.items, [
    { code: A, name: 'Sở Lao động - Thương binh và Xã hội tỉnh Quảng Nam', sent: 3, received: 0 },
    { code: B, name: 'Văn phòng Sở', sent: 0, received: 2 },
    { code: C, name: 'Thanh tra Sở', sent: 0, received: 1 },
  ]);
});

t.test('percentiles from histogram buckets, as Prometheus estimates them', async (t) => {
  const h: BucketCounts = { bounds: [1, 2, 4, Number.POSITIVE_INFINITY], cumulative: [10, 20, 40, 40], sum: 90 };
  t.equal(histogramQuantile(0.25, h), 1);
  t.equal(histogramQuantile(0.5, h), 2);
  t.equal(histogramQuantile(0.75, h), 3, 'interpolated inside (2, 4]');
  t.equal(countAbove(h, 2), 20);
  t.equal(countAbove(h, 3), 20, 'counted at the largest bound below the limit');
  t.equal(histogramQuantile(0.5, { bounds: [1, 2, Number.POSITIVE_INFINITY], cumulative: [0, 0, 5], sum: 50 }), 2, 'beyond the last bound: that bound');
  t.equal(histogramQuantile(0.5, { bounds: [1, Number.POSITIVE_INFINITY], cumulative: [0, 0], sum: 0 }), undefined, 'no observation: no estimate');
});

t.test('sliding windows over in-memory samples; a database that cannot be read leaves its parts null', async (t) => {
  // Nothing listens on port 1: every query fails at once, as with a database that is down.
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool({ host: '127.0.0.1', port: 1, connectionTimeoutMillis: 1000 }) }) });
  t.teardown(() => db.destroy());
  const metrics = createMetrics({ processMetrics: false });
  let clock = 1_000_000;
  let busySeconds = 0;
  let expiryReads = 0;
  const notAfter = new Date(clock + 10 * 86_400_000);
  const report: ExpiryReport = {
    certificates: [],
    expiring: [
      { role: 'agency', agency: A, subject: 'CN=Văn thư', serialNumber: '01', fingerprint256: 'ab'.repeat(32), notAfter, daysToExpiry: 10, expired: false },
    ],
    unreadable: [],
  };
  const errors: string[] = [];
  const snapshots = new DashboardSnapshots(
    {
      metrics,
      db,
      expiry: async () => {
        expiryReads++;
        return report;
      },
      budgetMs: 5000,
      onError: (part) => errors.push(part),
      eventLoopBusySeconds: () => busySeconds,
    },
    { now: () => clock, sampleIntervalMs: 0, windowMs: 60_000, historyMs: 600_000 },
  );
  await snapshots.start(); // the zero sample, at t0

  for (let i = 0; i < 10; i++) metrics.endToEndLatency.observe({ route_kind: 'inbox' }, 0.1);
  metrics.packetsAdmitted.inc({ kind: 'document' }, 10);
  clock += 60_000;
  busySeconds += 30;
  await snapshots.sample(); // t0 + 60 s
  for (let i = 0; i < 5; i++) metrics.endToEndLatency.observe({ route_kind: 'webhook' }, 8);
  metrics.packetsAdmitted.inc({ kind: 'document' }, 5);
  metrics.deadlineMisses.inc(5);
  clock += 70_000;
  busySeconds += 49;

  const s = await snapshots.snapshot(); // t0 + 130 s: the window starts at the t0 + 60 s sample
  t.same(s.errors, ['database']);
  t.same(errors, ['database']);
  t.equal(s.queue, null);
  t.equal(s.deliveries, null);
  t.equal(s.deadLetters, null);
  t.equal(s.topAgencies, null);
  t.match(s.latency.window, { count: 5, overBudget: 5, p50Ms: 8750 }, 'only the late ones: 7.5 s + 2.5 s × 2.5/5');
  t.match(s.latency.total, { count: 15, overBudget: 5, p50Ms: 87.5 }, 'all of them: rank 7.5 of 10 in (50 ms, 100 ms]');
  t.same(s.deadlineMisses, { total: 5, window: 5 });
  t.ok(Math.abs(s.throughput.admittedPerSecond - 5 / 70) < 0.001, '5 packets in 70 s');
  t.equal(s.throughput.eventLoopBusyShare, 0.7, 'busy 49 s of the 70 s window');
  t.same(
    s.latency.series.map((p) => [p.t, p.count, p.p50Ms]),
    [
      [1_060_000, 10, 75],
      [1_130_000, 5, 8750],
    ],
    'one point per sample and one for now, each over its own window',
  );
  t.same(s.certificates, {
    withinDays: 30,
    unreadable: 0,
    expiring: [{ role: 'agency', agency: A, subject: 'CN=Văn thư', fingerprint256: 'ab'.repeat(32), notAfter, daysToExpiry: 10, expired: false }],
  });
  await snapshots.snapshot();
  t.equal(expiryReads, 1, 'the certificate report is reused for a minute');

  // The history is bounded: ten minutes of points (plus the base of the oldest one's window).
  for (let i = 0; i < 400; i++) {
    clock += 5000;
    await snapshots.sample();
  }
  const later = await snapshots.snapshot();
  t.ok(later.latency.series.length <= 600_000 / 5000 + 1, `${later.latency.series.length} points`);
  t.ok((later.latency.series[0]?.t ?? 0) >= clock - 600_000, 'none older than the history');
});
