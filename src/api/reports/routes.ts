// Service-level and statistics routes (issue 4, items 6 and 7; docs/reports.md):
//
// - GET /v1/overdue: documents whose receipt is not confirmed by the end of the working day of
//   delivery, and urgent documents not delivered within the budget (QĐ 28 Điều 6, NĐ 30 Điều 18, 21).
// - GET /v1/reports/agencies?from=&to=: per-agency statistics for a period, JSON or CSV (seed 002
//   Điều 11, seed 000 Điều 9.8), and the agencies with no exchange in the last six months.
//
// Either token works: a client sees its own agencies only, the admin every agency. Days are Vietnam
// days; instants are Vietnam time (vietnamIso) like every timestamp of the API.
//
// The period parsing, the report's wire forms (JSON object, CSV text) and buildAgencyReport are
// exported: `edxgate report` takes the same parameters and prints the same.

import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { STATUS_MEANINGS, isStatusCode } from '../../edxml/codes.ts';
import { EdxError, issue } from '../../errors.ts';
import type { Issue } from '../../errors.ts';
import type { Principal } from '../../gateway/client-auth.ts';
import { NO_EXCHANGE_MONTHS, REPORT_STATUSES, agencyReport } from '../../store/queries/agency-report.ts';
import type { Database } from '../../store/database.ts';
import type { AgencyReport } from '../../store/queries/agency-report.ts';
import { listOverdue } from '../../store/queries/overdue.ts';
import { WorkingCalendar, formatVietnamDay, monthsBefore, parseVietnamDay, serviceLevelOf, vietnamDayOf, vietnamDayStart } from '../../tracking/working-day.ts';
import type { ServiceLevelOptions } from '../../tracking/working-day.ts';
import { assertActsFor, requireClientOrAdmin } from '../auth.ts';
import { NULLABLE_INTEGER, NULLABLE_STRING, PROBLEM_SCHEMA } from '../schemas.ts';
import { vietnamIso, vietnamIsoOrNull } from '../time.ts';
import { requestLogger } from '../types.ts';
import type { EdxApp } from '../types.ts';

/** Options of registerReportRoutes. */
export interface ReportRoutesOptions {
  /** The working-day calendar; default: the config's `tracking` group, else the defaults. */
  readonly serviceLevel?: ServiceLevelOptions | undefined;
  /** The clock "overdue" is judged by; default the system clock. Tests pass a fixed one. */
  readonly now?: (() => Date) | undefined;
}

const OVERDUE_ITEM_SCHEMA = {
  type: 'object',
  required: ['reason', 'documentId', 'sender', 'recipient', 'deliveryId', 'packetId', 'priority', 'deliveryState', 'sentAt', 'dueAt', 'recallState'],
  properties: {
    reason: { type: 'string', enum: ['unconfirmed', 'urgent_late'] },
    documentId: { type: 'string' },
    sender: { type: 'string' },
    recipient: { type: 'string' },
    deliveryId: { type: 'string' },
    packetId: { type: 'string' },
    subject: NULLABLE_STRING,
    priority: { type: 'integer' },
    deliveryState: { type: 'string' },
    sentAt: { type: 'string' },
    deliveredAt: NULLABLE_STRING,
    dueAt: { type: 'string' },
    statusCode: NULLABLE_STRING,
    statusMeaning: NULLABLE_STRING,
    recallState: { type: 'string' },
  },
} as const;

const OVERDUE_SCHEMA = {
  type: 'object',
  required: ['asOf', 'cutoff', 'counts', 'items', 'truncated'],
  properties: {
    asOf: { type: 'string' },
    cutoff: { type: 'string' },
    counts: {
      type: 'object',
      required: ['unconfirmed', 'urgentLate'],
      properties: { unconfirmed: { type: 'integer' }, urgentLate: { type: 'integer' } },
    },
    items: { type: 'array', items: OVERDUE_ITEM_SCHEMA },
    truncated: { type: 'boolean' },
  },
} as const;

const BY_STATUS_SCHEMA = {
  type: 'object',
  required: [...REPORT_STATUSES],
  properties: Object.fromEntries(REPORT_STATUSES.map((s) => [s, { type: 'integer' }])),
} as const;

const REPORT_ROW_SCHEMA = {
  type: 'object',
  required: [
    'code',
    'name',
    'documentsSent',
    'documentsReceived',
    'documentsUndelivered',
    'byStatus',
    'deliveries',
    'deliveriesLate',
    'latencyMedianMs',
    'latencyP99Ms',
    'overdueUnconfirmed',
    'overdueUrgentLate',
    'noExchange',
  ],
  properties: {
    code: { type: 'string' },
    name: NULLABLE_STRING,
    documentsSent: { type: 'integer' },
    documentsReceived: { type: 'integer' },
    documentsUndelivered: { type: 'integer' },
    byStatus: BY_STATUS_SCHEMA,
    deliveries: { type: 'integer' },
    deliveriesLate: { type: 'integer' },
    latencyMedianMs: NULLABLE_INTEGER,
    latencyP99Ms: NULLABLE_INTEGER,
    overdueUnconfirmed: { type: 'integer' },
    overdueUrgentLate: { type: 'integer' },
    noExchange: { type: 'boolean' },
  },
} as const;

const REPORT_SCHEMA = {
  type: 'object',
  required: ['period', 'generatedAt', 'serviceLevel', 'noExchangeSince', 'agencies', 'noExchange'],
  properties: {
    period: {
      type: 'object',
      required: ['from', 'to', 'fromInstant', 'toInstant'],
      properties: { from: { type: 'string' }, to: { type: 'string' }, fromInstant: { type: 'string' }, toInstant: { type: 'string' } },
    },
    generatedAt: { type: 'string' },
    serviceLevel: {
      type: 'object',
      required: ['workdayEnd', 'workingDays', 'holidays'],
      properties: {
        workdayEnd: { type: 'string' },
        workingDays: { type: 'array', items: { type: 'integer' } },
        holidays: { type: 'array', items: { type: 'string' } },
      },
    },
    noExchangeSince: { type: 'string' },
    agencies: { type: 'array', items: REPORT_ROW_SCHEMA },
    noExchange: {
      type: 'array',
      items: { type: 'object', required: ['code', 'name', 'state'], properties: { code: { type: 'string' }, name: { type: 'string' }, state: { type: 'string' } } },
    },
  },
} as const;

const AGENCY_PARAM = { type: 'string', minLength: 1, maxLength: 64 } as const;

interface OverdueQuerystring {
  readonly agency?: string;
  readonly limit?: number;
}

interface ReportQuerystring {
  readonly from?: string;
  readonly to?: string;
  readonly format?: 'json' | 'csv';
  readonly agency?: string;
}

/** Registers GET /v1/overdue and GET /v1/reports/agencies. */
export function registerReportRoutes(app: EdxApp, options: ReportRoutesOptions = {}): void {
  // Built once: a bad calendar fails the start, not the first request.
  const calendar = WorkingCalendar.of(options.serviceLevel ?? serviceLevelOf(app.gateway.config));
  const now = options.now ?? (() => new Date());

  app.get<{ Querystring: OverdueQuerystring }>(
    '/v1/overdue',
    {
      onRequest: requireClientOrAdmin(app),
      schema: {
        querystring: { type: 'object', properties: { agency: AGENCY_PARAM, limit: { type: 'integer', minimum: 1, maximum: 500 } } },
        response: { 200: OVERDUE_SCHEMA, '4xx': PROBLEM_SCHEMA, '5xx': PROBLEM_SCHEMA },
      },
    },
    async (request) => {
      const asOf = now();
      const list = await listOverdue(app.gateway.store.db, { now: asOf, calendar, agencies: scopeOf(request, request.query.agency), limit: request.query.limit });
      return {
        asOf: vietnamIso(asOf),
        cutoff: vietnamIso(list.cutoff),
        counts: list.counts,
        items: list.items.map((i) => ({
          reason: i.reason,
          documentId: i.documentId,
          sender: i.sender,
          recipient: i.recipient,
          deliveryId: i.deliveryId,
          packetId: i.packetId,
          subject: i.subject,
          priority: i.priority,
          deliveryState: i.deliveryState,
          sentAt: vietnamIso(i.sentAt),
          deliveredAt: vietnamIsoOrNull(i.deliveredAt),
          dueAt: vietnamIso(i.dueAt),
          statusCode: i.statusCode,
          statusMeaning: i.statusCode !== null && isStatusCode(i.statusCode) ? STATUS_MEANINGS[i.statusCode] : null,
          recallState: i.recallState,
        })),
        truncated: list.truncated,
      };
    },
  );

  app.get<{ Querystring: ReportQuerystring }>(
    '/v1/reports/agencies',
    {
      onRequest: requireClientOrAdmin(app),
      schema: {
        querystring: {
          type: 'object',
          required: ['from', 'to'],
          properties: {
            from: { type: 'string', maxLength: 40 },
            to: { type: 'string', maxLength: 40 },
            format: { type: 'string', enum: ['json', 'csv'] },
            agency: AGENCY_PARAM,
          },
        },
        response: { 200: REPORT_SCHEMA, '4xx': PROBLEM_SCHEMA, '5xx': PROBLEM_SCHEMA },
      },
    },
    async (request, reply) => {
      const { from, to, format, agency } = request.query;
      const period = reportPeriod(from, to, { from: 'querystring.from', to: 'querystring.to' });
      const report = await buildAgencyReport(app.gateway.store.db, period, { now: now(), calendar, agencies: scopeOf(request, agency) });
      if ((format ?? (prefersCsv(request.headers.accept) ? 'csv' : 'json')) === 'csv') {
        return reply
          .type('text/csv; charset=utf-8; header=present')
          .header('content-disposition', `attachment; filename="edxgate-agencies-${period.fromDay}_${period.toDay}.csv"`)
          .send(agencyReportCsv(report));
      }
      return agencyReportJson(report, period, calendar.options);
    },
  );
}

/** The agencies a request may see: a client its own (or the one it names), the admin all (or the one it names). */
function scopeOf(request: FastifyRequest, agency: string | undefined): readonly string[] | undefined {
  const p = request.principal;
  // requirePrincipal ran as the route's onRequest hook; reaching here without it is a wiring bug.
  if (p === null) throw new Error('route handler reached without requirePrincipal');
  if (p.kind === 'admin') return agency === undefined ? undefined : [agency];
  if (agency === undefined) return p.agencies;
  assertActsFor(p, agency, 'querystring.agency');
  return [agency];
}

/** Longest period one report covers: a year, leap day included (the seeds report monthly, every six months and yearly). */
export const MAX_REPORT_DAYS = 366;

/** A report period: Vietnam days [fromDay, toDay), and the instants they start. */
export interface ReportPeriod {
  /** `yyyy-mm-dd`, the first day. */
  readonly fromDay: string;
  /** `yyyy-mm-dd`, the day after the last day. */
  readonly toDay: string;
  /** 00:00 Vietnam time of fromDay. */
  readonly from: Date;
  /** 00:00 Vietnam time of toDay (exclusive). */
  readonly to: Date;
}

/**
 * Checks and converts `from`/`to` (`yyyy-mm-dd`, Vietnam days, `to` exclusive); EDX_ERR_REQUEST_INVALID
 * with an issue at `paths.from` / `paths.to` (e.g. `querystring.from`, `--from`) otherwise.
 */
export function reportPeriod(from: string | undefined, to: string | undefined, paths: { readonly from: string; readonly to: string }): ReportPeriod {
  const issues: Issue[] = [];
  const day = (text: string | undefined, path: string): number | undefined => {
    if (text === undefined || text === '') {
      issues.push(issue('EDX_ERR_REQUEST_INVALID', path, 'Give the day as yyyy-mm-dd (Vietnam calendar).'));
      return undefined;
    }
    const parsed = parseVietnamDay(text);
    if (parsed === undefined) issues.push(issue('EDX_ERR_REQUEST_INVALID', path, 'The value is not an existing day yyyy-mm-dd (Vietnam calendar).', text.slice(0, 40)));
    return parsed;
  };
  const f = day(from, paths.from);
  const t = day(to, paths.to);
  if (f !== undefined && t !== undefined) {
    if (t <= f) issues.push(issue('EDX_ERR_REQUEST_INVALID', paths.to, `The end (exclusive) must be after the start ${formatVietnamDay(f)}.`, formatVietnamDay(t)));
    else if (t - f > MAX_REPORT_DAYS) issues.push(issue('EDX_ERR_REQUEST_INVALID', paths.to, `A report covers at most ${MAX_REPORT_DAYS} days; this period has ${t - f}.`, formatVietnamDay(t)));
  }
  if (issues.length > 0 || f === undefined || t === undefined) {
    const first = issues[0];
    throw new EdxError('EDX_ERR_REQUEST_INVALID', first === undefined ? 'invalid period.' : `${first.path}: ${first.message}`, issues);
  }
  return { fromDay: formatVietnamDay(f), toDay: formatVietnamDay(t), from: vietnamDayStart(f), to: vietnamDayStart(t) };
}

/** The agency report of a period: the idle window is the NO_EXCHANGE_MONTHS calendar months before its end. */
export function buildAgencyReport(
  db: Kysely<Database>,
  period: ReportPeriod,
  options: { readonly now: Date; readonly calendar: WorkingCalendar; readonly agencies?: readonly string[] | undefined },
): Promise<AgencyReport> {
  return agencyReport(db, { from: period.from, to: period.to, noExchangeSince: monthsBefore(period.to, NO_EXCHANGE_MONTHS), ...options });
}

/**
 * Whether an Accept header asks for CSV over JSON: text/csv listed with a quality above 0 and at
 * least that of application/json (ties go to the one listed first). Wildcards alone mean JSON.
 */
export function prefersCsv(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  let csv: { q: number; at: number } | undefined;
  let json: { q: number; at: number } | undefined;
  accept.split(',').forEach((part, at) => {
    const [type, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    const qParam = params.find((p) => p.startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    if (!Number.isFinite(q)) return;
    if (type === 'text/csv') csv = { q, at };
    else if (type === 'application/json') json = { q, at };
  });
  if (csv === undefined || csv.q <= 0) return false;
  if (json === undefined) return true;
  return csv.q > json.q || (csv.q === json.q && csv.at < json.at);
}

/** The report as the API's JSON body. */
export function agencyReportJson(report: AgencyReport, period: ReportPeriod, serviceLevel: ServiceLevelOptions) {
  return {
    period: { from: period.fromDay, to: period.toDay, fromInstant: vietnamIso(report.from), toInstant: vietnamIso(report.to) },
    generatedAt: vietnamIso(report.generatedAt),
    serviceLevel: { workdayEnd: serviceLevel.workdayEnd, workingDays: [...serviceLevel.workingDays], holidays: [...serviceLevel.holidays] },
    noExchangeSince: formatVietnamDay(vietnamDayOf(report.noExchangeSince)),
    agencies: report.agencies.map((a) => ({ ...a, byStatus: { ...a.byStatus } })),
    noExchange: report.noExchange.map((a) => ({ ...a })),
  };
}

/** Column names of the CSV form, one row per agency. */
export const REPORT_CSV_COLUMNS = [
  'agency_code',
  'agency_name',
  'documents_sent',
  'documents_received',
  'documents_undelivered',
  ...REPORT_STATUSES.map((s) => `status_${s}` as const),
  'deliveries',
  'deliveries_late',
  'latency_median_ms',
  'latency_p99_ms',
  'overdue_unconfirmed',
  'overdue_urgent_late',
  'no_exchange_6_months',
] as const;

/** One CSV field, quoted when it must be (RFC 4180 §2: comma, quote, CR or LF inside). */
export function csvField(value: string | number | boolean | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * The report as CSV: a header row, one row per agency, CRLF line ends (RFC 4180), UTF-8 with a
 * byte order mark — without it Excel reads the file in the machine's ANSI code page and the
 * Vietnamese names come out garbled.
 */
export function agencyReportCsv(report: AgencyReport): string {
  const rows = report.agencies.map((a) =>
    [
      a.code,
      a.name,
      a.documentsSent,
      a.documentsReceived,
      a.documentsUndelivered,
      ...REPORT_STATUSES.map((s) => a.byStatus[s]),
      a.deliveries,
      a.deliveriesLate,
      a.latencyMedianMs,
      a.latencyP99Ms,
      a.overdueUnconfirmed,
      a.overdueUrgentLate,
      a.noExchange,
    ]
      .map(csvField)
      .join(','),
  );
  return `\uFEFF${[REPORT_CSV_COLUMNS.join(','), ...rows].map((line) => `${line}\r\n`).join('')}`;
}
