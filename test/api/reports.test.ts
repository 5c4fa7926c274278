// GET /v1/overdue and GET /v1/reports/agencies (JSON and CSV). Documents are posted through a real
// gateway (workers off, so nothing moves on its own); what the delivery worker and the tracking
// write side would record is then set with SQL at fixed instants of March 2025. The routes are
// mounted on an app of their own over the same database with a fixed clock, so the figures do not
// depend on the day the test runs nor on how registerApi mounts them.

import Fastify from 'fastify';
import { sql } from 'kysely';
import t from 'tap';
import { Gateway } from '../../src/app.ts';
import type { EdxApp } from '../../src/app.ts';
import { installProblemHandlers } from '../../src/api/problem.ts';
import { REPORT_CSV_COLUMNS, csvField, prefersCsv, registerReportRoutes } from '../../src/api/reports/routes.ts';
import { monthsBefore } from '../../src/tracking/working-day.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { ADMIN_TOKEN, makeDocument, postHeaders, startTestGateway } from './gateway-fixture.ts';
import type { TestGateway } from './gateway-fixture.ts';
import type { Teardown } from '../helpers/database.ts';

const A = '000.00.15.H47'; // Sở LĐTBXH: the sender
const B = '000.01.15.H47';
const C = '000.02.15.H47';
const NEW = '000.10.15.H47'; // added to the directory inside the idle window
const QUOTED = '000.09.15.H47'; // renamed with a comma and quotes, for the CSV

const vn = (text: string): Date => new Date(`${text}+07:00`);
/** The report is made on Wednesday 2 April 2025, 10:00. */
const NOW = vn('2025-04-02T10:00:00');
const MARCH = 'from=2025-03-01&to=2025-04-01';

/** The report routes on an app of their own, over the test gateway's database, with a fixed clock. */
async function reportApp(t: Teardown, gw: TestGateway, now: Date = NOW): Promise<EdxApp> {
  const logger = createLogger({ log: { level: 'silent' } });
  const gateway = await Gateway.open(gw.db.config, { store: gw.db.store, logger, migrate: false, processMetrics: false });
  const app: EdxApp = Fastify({ loggerInstance: logger });
  app.decorate('gateway', gateway);
  app.decorateRequest('principal', null);
  app.decorateRequest('receivedAtMs', 0);
  installProblemHandlers(app);
  registerReportRoutes(app, { now: () => now });
  t.teardown(async () => {
    await app.close();
    await gateway.close();
  });
  await app.ready();
  return app;
}

interface Posted {
  readonly packetId: string;
  readonly documentId: string;
  readonly to: Readonly<Record<string, string>>;
}

/**
 * Posts a document from A, then sets its arrival at `sentAt` and tracks it as the write side does
 * (idempotent: admission may already have written the rows).
 */
async function post(gw: TestGateway, to: readonly string[], sentAt: Date, priority: 0 | 1 | 2 | 3 | 4 = 0): Promise<Posted> {
  const res = await gw.app.inject({ method: 'POST', url: '/v1/packets', headers: postHeaders(gw, A), payload: makeDocument({ to, priority }) });
  if (res.statusCode !== 202) throw new Error(`post failed: ${res.body}`);
  const body = JSON.parse(res.body) as { packetId: string; documentId: string; deliveries: { to: string; deliveryId: string }[] };
  const db = gw.db.store.db;
  await sql`UPDATE packets SET received_at = ${sentAt}, deadline_at = ${new Date(sentAt.getTime() + 5000)} WHERE id = ${body.packetId}`.execute(db);
  // Queued, as a pushed delivery would be until deliver() below: the scenario sets each delivery's outcome
  // itself, and an inbox delivery is otherwise available on admission.
  await sql`UPDATE deliveries SET deadline_at = ${new Date(sentAt.getTime() + 5000)}, created_at = ${sentAt},
                                  state = 'queued', attempts = 0, delivered_at = NULL, latency_ms = NULL, late = false
            WHERE packet_id = ${body.packetId}`.execute(db);
  await db
    .insertInto('documents')
    .values({ document_id: body.documentId, sender: A, packet_id: body.packetId, business_type: 0, subject: null, priority, received_at: sentAt })
    .onConflict((oc) => oc.doNothing())
    .execute();
  await db.updateTable('documents').set({ received_at: sentAt, priority }).where('document_id', '=', body.documentId).where('sender', '=', A).execute();
  for (const d of body.deliveries) {
    await db
      .insertInto('document_recipients')
      .values({ document_id: body.documentId, sender: A, recipient: d.to, delivery_id: d.deliveryId })
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
  return { packetId: body.packetId, documentId: body.documentId, to: Object.fromEntries(body.deliveries.map((d) => [d.to, d.deliveryId])) };
}

/** What the worker records for a delivery that succeeded `latencyMs` after the packet arrived. */
async function deliver(gw: TestGateway, deliveryId: string, latencyMs: number): Promise<void> {
  await sql`
    UPDATE deliveries AS d
    SET state = 'delivered', delivered_at = p.received_at + ${`${latencyMs} milliseconds`}::interval,
        attempts = d.attempts + 1, latency_ms = ${latencyMs}, late = ${latencyMs > 5000}
    FROM packets AS p
    WHERE d.id = ${deliveryId} AND p.id = d.packet_id`.execute(gw.db.store.db);
}

async function status(gw: TestGateway, p: Posted, recipient: string, code: string, at: Date): Promise<void> {
  await gw.db.store.db
    .updateTable('document_recipients')
    .set({ status_code: code, status_at: at, confirmed_at: code === '01' ? null : at })
    .where('document_id', '=', p.documentId)
    .where('recipient', '=', recipient)
    .execute();
}

/**
 * March 2025, from A:
 * - p1 Mon 10th 09:00 to B (120 ms, accepted 03 at 10:00) and C (300 ms, only 01: overdue);
 * - p2 Tue 11th urgent to B, delivered after 7 s (late), refused 02 the same hour;
 * - p3 Wed 12th to C, still queued (ordinary: not late in the legal sense);
 * - p5 Wed 12th urgent to C, still queued past its deadline;
 * and p0 in February to B (outside the period).
 */
async function scenario(gw: TestGateway): Promise<{ p1: Posted; p2: Posted; p5: Posted }> {
  const db = gw.db.store.db;
  await db.updateTable('agencies').set({ created_at: vn('2024-01-01T00:00:00') }).execute();
  await db.updateTable('agencies').set({ created_at: vn('2025-03-15T00:00:00') }).where('code', '=', NEW).execute();
  await db.updateTable('agencies').set({ name: 'Trường "Thử", Quảng Nam' }).where('code', '=', QUOTED).execute();

  const p0 = await post(gw, [B], vn('2025-02-20T09:00:00'));
  await deliver(gw, p0.to[B] ?? '', 50);
  await status(gw, p0, B, '03', vn('2025-02-20T10:00:00'));
  const p1 = await post(gw, [B, C], vn('2025-03-10T09:00:00'));
  await deliver(gw, p1.to[B] ?? '', 120);
  await deliver(gw, p1.to[C] ?? '', 300);
  await status(gw, p1, B, '03', vn('2025-03-10T10:00:00'));
  await status(gw, p1, C, '01', vn('2025-03-10T09:00:01'));
  const p2 = await post(gw, [B], vn('2025-03-11T10:00:00'), 2);
  await deliver(gw, p2.to[B] ?? '', 7000);
  await status(gw, p2, B, '02', vn('2025-03-11T11:00:00'));
  await post(gw, [C], vn('2025-03-12T09:00:00'));
  const p5 = await post(gw, [C], vn('2025-03-12T10:00:00'), 1);
  return { p1, p2, p5 };
}

interface ReportRow {
  code: string;
  name: string | null;
  documentsSent: number;
  documentsReceived: number;
  documentsUndelivered: number;
  byStatus: Record<string, number>;
  deliveries: number;
  deliveriesLate: number;
  latencyMedianMs: number | null;
  latencyP99Ms: number | null;
  overdueUnconfirmed: number;
  overdueUrgentLate: number;
  noExchange: boolean;
}

interface ReportBody {
  period: { from: string; to: string; fromInstant: string; toInstant: string };
  generatedAt: string;
  serviceLevel: { workdayEnd: string; workingDays: number[]; holidays: string[] };
  noExchangeSince: string;
  agencies: ReportRow[];
  noExchange: { code: string; name: string; state: string }[];
}

const ZERO_STATUS = { none: 0, '01': 0, '02': 0, '03': 0, '04': 0, '05': 0, '06': 0, recalled: 0 };

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });
const admin = bearer(ADMIN_TOKEN);

// One gateway and one scenario for the whole file: a fresh PGlite costs seconds, and every test only reads.
const gw = await startTestGateway(t, { startWorkers: false });
const { p1, p5 } = await scenario(gw);
const app = await reportApp(t, gw);

t.test('the agency report: per-agency figures for March, and the agencies idle for six months', async (t) => {
  const res = await app.inject({ method: 'GET', url: `/v1/reports/agencies?${MARCH}`, headers: admin });
  t.equal(res.statusCode, 200, res.body);
  t.match(res.headers['content-type'], /^application\/json/);
  const report = JSON.parse(res.body) as ReportBody;
  t.same(report.period, { from: '2025-03-01', to: '2025-04-01', fromInstant: '2025-03-01T00:00:00.000+07:00', toInstant: '2025-04-01T00:00:00.000+07:00' });
  t.equal(report.generatedAt, '2025-04-02T10:00:00.000+07:00');
  t.same(report.serviceLevel, { workdayEnd: '17:00', workingDays: [1, 2, 3, 4, 5], holidays: [] });
  t.equal(report.noExchangeSince, '2024-10-01', 'six months before 1 April');

  const row = (code: string): ReportRow | undefined => report.agencies.find((a) => a.code === code);
  t.same(row(A), {
    code: A,
    name: 'Sở Lao động - Thương binh và Xã hội tỉnh Quảng Nam',
    documentsSent: 4,
    documentsReceived: 0,
    documentsUndelivered: 0,
    byStatus: ZERO_STATUS,
    deliveries: 0,
    deliveriesLate: 0,
    latencyMedianMs: null,
    latencyP99Ms: null,
    overdueUnconfirmed: 0,
    overdueUrgentLate: 0,
    noExchange: false,
  });
  t.match(row(B), {
    documentsSent: 0,
    documentsReceived: 2,
    documentsUndelivered: 0,
    byStatus: { ...ZERO_STATUS, '02': 1, '03': 1 },
    deliveries: 2,
    deliveriesLate: 1,
    // percentile_cont over {120, 7000}: 3560 and 120 + 0.99 × 6880 = 6931.2.
    latencyMedianMs: 3560,
    latencyP99Ms: 6931,
    overdueUnconfirmed: 0,
    overdueUrgentLate: 1,
    noExchange: false,
  });
  t.match(row(C), {
    documentsReceived: 1,
    documentsUndelivered: 2,
    byStatus: { ...ZERO_STATUS, '01': 1 },
    deliveries: 1,
    deliveriesLate: 0,
    latencyMedianMs: 300,
    latencyP99Ms: 300,
    overdueUnconfirmed: 1,
    overdueUrgentLate: 1,
  });
  t.same(
    report.agencies.map((a) => a.code),
    [...report.agencies.map((a) => a.code)].sort(),
    'by code',
  );

  const directory = await gw.db.store.db.selectFrom('agencies').select('code').where('state', '<>', 'closed').execute();
  const idle = directory.map((a) => a.code).filter((code) => ![A, B, C, NEW].includes(code)).sort();
  t.same(report.noExchange.map((a) => a.code), idle, 'every agency but the three that exchanged and the one added in the window');
  t.ok(report.noExchange.every((a) => a.state === 'active' && a.name.length > 0));
  t.equal(row(NEW)?.noExchange, false, 'an agency in the directory for two weeks is not idle');
  t.equal(row(idle[0] ?? '')?.noExchange, true, 'the flag is on the agency rows too');
});

t.test('the report as CSV: header, RFC 4180 quoting, CRLF, UTF-8 with a BOM', async (t) => {
  const res = await app.inject({ method: 'GET', url: `/v1/reports/agencies?${MARCH}&format=csv`, headers: admin });
  t.equal(res.statusCode, 200, res.body);
  t.equal(res.headers['content-type'], 'text/csv; charset=utf-8; header=present');
  t.equal(res.headers['content-disposition'], 'attachment; filename="edxgate-agencies-2025-03-01_2025-04-01.csv"');
  const bytes = res.rawPayload;
  t.same([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'starts with the UTF-8 byte order mark');
  const text = bytes.subarray(3).toString('utf8');
  t.ok(text.endsWith('\r\n'), 'every line ends with CRLF');
  const lines = text.slice(0, -2).split('\r\n');
  t.equal(lines[0], REPORT_CSV_COLUMNS.join(','));
  t.equal(
    lines[0],
    'agency_code,agency_name,documents_sent,documents_received,documents_undelivered,status_none,status_01,status_02,status_03,status_04,status_05,status_06,status_recalled,deliveries,deliveries_late,latency_median_ms,latency_p99_ms,overdue_unconfirmed,overdue_urgent_late,no_exchange_6_months',
  );
  t.ok(lines.some((l) => l.startsWith(`${B},`) && l.endsWith(',0,2,0,0,0,1,1,0,0,0,0,2,1,3560,6931,0,1,false')), 'B\'s row');
  t.ok(lines.some((l) => l.startsWith(`${A},Sở Lao động - Thương binh và Xã hội tỉnh Quảng Nam,4,0,0,`) && l.includes(',0,0,,,0,0,false')), 'A\'s row, empty latency cells');
  t.ok(lines.includes(`${QUOTED},"Trường ""Thử"", Quảng Nam",0,0,0,0,0,0,0,0,0,0,0,0,0,,,0,0,true`), 'a name with a comma and quotes is quoted, quotes doubled');
  t.equal(lines.length, 1 + (JSON.parse((await app.inject({ method: 'GET', url: `/v1/reports/agencies?${MARCH}`, headers: admin })).body) as ReportBody).agencies.length, 'one row per agency');

  const byAccept = await app.inject({ method: 'GET', url: `/v1/reports/agencies?${MARCH}`, headers: { ...admin, accept: 'text/csv' } });
  t.match(byAccept.headers['content-type'], /^text\/csv/, 'Accept: text/csv is honoured');
  t.equal(byAccept.body, res.body);
  const explicit = await app.inject({ method: 'GET', url: `/v1/reports/agencies?${MARCH}&format=json`, headers: { ...admin, accept: 'text/csv' } });
  t.match(explicit.headers['content-type'], /^application\/json/, 'format= wins over Accept');
  const wildcard = await app.inject({ method: 'GET', url: `/v1/reports/agencies?${MARCH}`, headers: { ...admin, accept: '*/*' } });
  t.match(wildcard.headers['content-type'], /^application\/json/, 'JSON by default');
});

t.test('a client sees its own agencies only; the admin sees all', async (t) => {
  const own = JSON.parse((await app.inject({ method: 'GET', url: `/v1/reports/agencies?${MARCH}`, headers: bearer(gw.token(B)) })).body) as ReportBody;
  t.same(own.agencies.map((a) => a.code), [B]);
  t.same(own.noExchange, []);
  const named = await app.inject({ method: 'GET', url: `/v1/reports/agencies?${MARCH}&agency=${B}`, headers: bearer(gw.token(B)) });
  t.equal(named.statusCode, 200);
  const foreign = await app.inject({ method: 'GET', url: `/v1/reports/agencies?${MARCH}&agency=${C}`, headers: bearer(gw.token(B)) });
  t.equal(foreign.statusCode, 403);
  t.equal(JSON.parse(foreign.body).code, 'EDX_ERR_AUTH_FORBIDDEN');
  const adminOne = JSON.parse((await app.inject({ method: 'GET', url: `/v1/reports/agencies?${MARCH}&agency=${C}`, headers: admin })).body) as ReportBody;
  t.same(adminOne.agencies.map((a) => a.code), [C], 'the admin may narrow to one agency');

  // GET /v1/overdue: C owes the confirmation of p1; p5 (urgent) was never delivered.
  const all = await app.inject({ method: 'GET', url: '/v1/overdue', headers: admin });
  t.equal(all.statusCode, 200, all.body);
  const body = JSON.parse(all.body) as {
    asOf: string;
    cutoff: string;
    counts: { unconfirmed: number; urgentLate: number };
    items: { reason: string; documentId: string; recipient: string; dueAt: string; deliveredAt: string | null; statusCode: string | null; statusMeaning: string | null; deliveryState: string; sentAt: string; priority: number }[];
    truncated: boolean;
  };
  t.equal(body.asOf, '2025-04-02T10:00:00.000+07:00');
  t.equal(body.cutoff, '2025-04-01T17:00:00.000+07:00', 'Tuesday\'s end');
  t.same(body.counts, { unconfirmed: 1, urgentLate: 1 });
  t.same(
    body.items.map((i) => [i.reason, i.documentId, i.recipient]),
    [
      ['unconfirmed', p1.documentId, C],
      ['urgent_late', p5.documentId, C],
    ],
  );
  t.match(body.items[0], { dueAt: '2025-03-10T17:00:00.000+07:00', deliveredAt: '2025-03-10T09:00:00.300+07:00', statusCode: '01', statusMeaning: 'Đã đến', deliveryState: 'delivered', sentAt: '2025-03-10T09:00:00.000+07:00' });
  t.match(body.items[1], { dueAt: '2025-03-12T10:00:05.000+07:00', deliveredAt: null, statusCode: null, statusMeaning: null, deliveryState: 'queued', priority: 1 });
  t.equal(body.truncated, false);

  const ofB = JSON.parse((await app.inject({ method: 'GET', url: '/v1/overdue', headers: bearer(gw.token(B)) })).body) as typeof body;
  t.same(ofB.counts, { unconfirmed: 0, urgentLate: 0 }, 'B owes nothing');
  const ofA = JSON.parse((await app.inject({ method: 'GET', url: '/v1/overdue', headers: bearer(gw.token(A)) })).body) as typeof body;
  t.same(ofA.counts, { unconfirmed: 1, urgentLate: 1 }, 'the sender sees what is overdue on its documents');
  const limited = JSON.parse((await app.inject({ method: 'GET', url: `/v1/overdue?agency=${C}&limit=1`, headers: bearer(gw.token(C)) })).body) as typeof body;
  t.equal(limited.items.length, 1);
  t.equal(limited.truncated, true);
  const foreignOverdue = await app.inject({ method: 'GET', url: `/v1/overdue?agency=${C}`, headers: bearer(gw.token(B)) });
  t.equal(foreignOverdue.statusCode, 403);

  // The same data judged on the Monday evening: only p1 at C (due Monday 17:00) was overdue.
  const monday = await reportApp(t, gw, vn('2025-03-10T17:00:01'));
  const then = JSON.parse((await monday.inject({ method: 'GET', url: '/v1/overdue', headers: admin })).body) as typeof body;
  t.same(then.counts, { unconfirmed: 1, urgentLate: 0 });
});

t.test('refusals: missing or malformed parameters name the parameter; a token is required', async (t) => {
  const refusal = async (url: string, headers: Record<string, string> = admin): Promise<{ status: number; code: string; paths: string[] }> => {
    const res = await app.inject({ method: 'GET', url, headers });
    const body = JSON.parse(res.body) as { code: string; issues: { path: string }[] };
    t.match(res.headers['content-type'], /^application\/problem\+json/);
    return { status: res.statusCode, code: body.code, paths: body.issues.map((i) => i.path) };
  };
  const invalid = (...paths: string[]) => ({ status: 400, code: 'EDX_ERR_REQUEST_INVALID', paths });

  t.same(await refusal('/v1/reports/agencies?to=2025-04-01'), invalid('querystring.from'));
  t.same(await refusal('/v1/reports/agencies?from=2025-02-30&to=2025-04-01'), invalid('querystring.from'), 'no 30 February');
  t.same(await refusal('/v1/reports/agencies?from=2025/03/01&to=2025-04-01'), invalid('querystring.from'));
  t.same(await refusal('/v1/reports/agencies?from=2025-03-01&to=2025-03-01'), invalid('querystring.to'), 'an empty period');
  t.same(await refusal('/v1/reports/agencies?from=2025-04-01&to=2025-03-01'), invalid('querystring.to'));
  t.same(await refusal('/v1/reports/agencies?from=2024-01-01&to=2025-04-01'), invalid('querystring.to'), 'more than 366 days');
  t.same(await refusal('/v1/reports/agencies?from=x&to=y'), invalid('querystring.from', 'querystring.to'), 'both named');
  t.same(await refusal(`/v1/reports/agencies?${MARCH}&format=xml`), invalid('querystring.format'));
  t.same(await refusal('/v1/overdue?limit=0'), invalid('querystring.limit'));
  t.same(await refusal('/v1/overdue', {}), { status: 401, code: 'EDX_ERR_AUTH_REQUIRED', paths: ['header:authorization'] });
  t.same(await refusal(`/v1/reports/agencies?${MARCH}`, bearer('not-a-token')), { status: 401, code: 'EDX_ERR_AUTH_REQUIRED', paths: ['header:authorization'] });
  const leap = await app.inject({ method: 'GET', url: '/v1/reports/agencies?from=2024-01-01&to=2025-01-01', headers: admin });
  t.equal(leap.statusCode, 200, 'a leap year is 366 days');
});

t.test('six months before the end of the period, by calendar months', async (t) => {
  const before = (day: string): string => monthsBefore(vn(`${day}T00:00:00`), 6).toISOString();
  t.equal(before('2025-04-01'), vn('2024-10-01T00:00:00').toISOString());
  t.equal(before('2025-08-31'), vn('2025-02-28T00:00:00').toISOString(), 'clamped to the end of February');
  t.equal(before('2024-08-31'), vn('2024-02-29T00:00:00').toISOString(), 'a leap year');
  t.equal(before('2025-01-15'), vn('2024-07-15T00:00:00').toISOString(), 'across the new year');
});

t.test('Accept negotiation and CSV fields', async (t) => {
  t.equal(prefersCsv(undefined), false);
  t.equal(prefersCsv('text/csv'), true);
  t.equal(prefersCsv('application/json'), false);
  t.equal(prefersCsv('*/*'), false);
  t.equal(prefersCsv('text/csv;q=0'), false);
  t.equal(prefersCsv('application/json;q=0.5, text/csv'), true);
  t.equal(prefersCsv('text/csv;q=0.5, application/json'), false);
  t.equal(prefersCsv('text/csv, application/json'), true, 'a tie goes to the first listed');
  t.equal(csvField('a,b'), '"a,b"');
  t.equal(csvField('say "hi"'), '"say ""hi"""');
  t.equal(csvField('two\nlines'), '"two\nlines"');
  t.equal(csvField('Sở Nội vụ'), 'Sở Nội vụ');
  t.equal(csvField(null), '');
  t.equal(csvField(12), '12');
  t.equal(csvField(false), 'false');
});

t.test('once wired into the gateway app, the routes answer there too', async (t) => {
  const wired = gw.app.hasRoute({ method: 'GET', url: '/v1/overdue' });
  await t.test('GET /v1/overdue and GET /v1/reports/agencies on the gateway app', { skip: wired ? false : 'not registered by registerApi yet' }, async (t) => {
    const res = await gw.app.inject({ method: 'GET', url: '/v1/overdue', headers: admin });
    t.equal(res.statusCode, 200);
    const report = await gw.app.inject({ method: 'GET', url: `/v1/reports/agencies?${MARCH}`, headers: bearer(gw.token(B)) });
    t.equal(report.statusCode, 200);
    t.same((JSON.parse(report.body) as ReportBody).agencies.map((a) => a.code), [B]);
  });
});
