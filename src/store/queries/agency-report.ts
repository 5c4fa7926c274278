// The exchange statistics of each agency for a period (seed 002 Điều 11: "tổng hợp, trích xuất thông
// tin, dữ liệu về tình hình gửi nhận văn bản điện tử"; seed 000 Điều 9.8–9.9: periodic reports to the
// province), and the agencies with no exchange in the six months before the period's end (seed 000
// Điều 8.4.b: an account "trong 06 tháng không phát sinh giao dịch gửi nhận" is suspended).
// docs/reports.md says what each figure counts and why.
//
// The period is [from, to) and every figure is anchored on when the sender's packet reached the
// gateway (`received_at`), so a document is in exactly one period for its sender and for each of its
// recipients. Each figure is one grouped query; the rows are merged here by agency code.
//
// The due time of each receipt (end of the working day of delivery) is the first working-day end
// at or after its delivery. The calendar lives in TS (tracking/working-day.ts); the query gets the
// list of working-day ends covering the period as one array parameter and picks the first one
// per row, so the calendar rules are written once.

import { sql } from 'kysely';
import type { Kysely, RawBuilder } from 'kysely';
import type { AgencyState, Database } from '../database.ts';

/** Processing statuses a received document can be at, plus none yet and recalled (cancelled at the recipient). */
export const REPORT_STATUSES = ['none', '01', '02', '03', '04', '05', '06', 'recalled'] as const;
export type ReportStatus = (typeof REPORT_STATUSES)[number];

/** The idle window, in months before the period's end: seed 000 Điều 8.4.b. */
export const NO_EXCHANGE_MONTHS = 6;

/**
 * The working-day rule the report needs (tracking/working-day.ts's WorkingCalendar has it); an
 * interface, so that the store depends on nothing above it.
 */
export interface ReportCalendar {
  /** Every working-day end from the first at or after `from` to the first at or after `to`. */
  endsCovering(from: Date, to: Date): readonly Date[];
}

/** What the report covers and at which instant overdue is judged. */
export interface AgencyReportQuery {
  /** Start of the period (inclusive). */
  readonly from: Date;
  /** End of the period (exclusive). */
  readonly to: Date;
  /** Start of the idle window (it ends at `to`): NO_EXCHANGE_MONTHS before it. */
  readonly noExchangeSince: Date;
  /** When the report is made: unconfirmed receipts due before it count as overdue. */
  readonly now: Date;
  readonly calendar: ReportCalendar;
  /** Only these agencies; undefined = every agency. */
  readonly agencies?: readonly string[] | undefined;
}

/** One agency's figures for the period. */
export interface AgencyReportRow {
  readonly code: string;
  /** From the directory; null for a code the directory does not hold (e.g. an upstream sender). */
  readonly name: string | null;
  /** Documents (business types 0, 2, 3) the agency sent. */
  readonly documentsSent: number;
  /** Documents delivered to the agency. */
  readonly documentsReceived: number;
  /** Documents addressed to it and not delivered (queued, in delivery or dead). */
  readonly documentsUndelivered: number;
  /** The received documents by the agency's current status; sums to documentsReceived. */
  readonly byStatus: Readonly<Record<ReportStatus, number>>;
  /** Packets of any kind delivered to the agency (the 5 s budget applies to each). */
  readonly deliveries: number;
  /** Of them, delivered after their deadline. */
  readonly deliveriesLate: number;
  /** Median end-to-end latency of the deliveries, whole ms; null without deliveries. */
  readonly latencyMedianMs: number | null;
  readonly latencyP99Ms: number | null;
  /** Received documents whose receipt was not confirmed (03/02) by the end of the working day of delivery. */
  readonly overdueUnconfirmed: number;
  /** Urgent documents addressed to the agency that were not delivered within the budget. */
  readonly overdueUrgentLate: number;
  /** In the directory, and neither sent nor received any packet in the idle window. */
  readonly noExchange: boolean;
}

/** A directory agency with no exchange in the idle window. */
export interface IdleAgency {
  readonly code: string;
  readonly name: string;
  readonly state: AgencyState;
}

/** The report. */
export interface AgencyReport {
  readonly from: Date;
  readonly to: Date;
  readonly generatedAt: Date;
  /** Start of the idle window. */
  readonly noExchangeSince: Date;
  /** By code; directory agencies (closed ones only with activity) and any other code with activity. */
  readonly agencies: readonly AgencyReportRow[];
  readonly noExchange: readonly IdleAgency[];
}

function inList(column: RawBuilder<unknown>, agencies: readonly string[] | undefined): RawBuilder<unknown> {
  if (agencies === undefined) return sql``;
  if (agencies.length === 0) return sql`AND false`;
  return sql`AND ${column} IN (${sql.join(agencies.map((a) => sql`${a}`))})`;
}

interface Mutable {
  documentsSent: number;
  documentsReceived: number;
  documentsUndelivered: number;
  byStatus: Record<ReportStatus, number>;
  deliveries: number;
  deliveriesLate: number;
  latencyMedianMs: number | null;
  latencyP99Ms: number | null;
  overdueUnconfirmed: number;
  overdueUrgentLate: number;
}

function emptyFigures(): Mutable {
  return {
    documentsSent: 0,
    documentsReceived: 0,
    documentsUndelivered: 0,
    byStatus: { none: 0, '01': 0, '02': 0, '03': 0, '04': 0, '05': 0, '06': 0, recalled: 0 },
    deliveries: 0,
    deliveriesLate: 0,
    latencyMedianMs: null,
    latencyP99Ms: null,
    overdueUnconfirmed: 0,
    overdueUrgentLate: 0,
  };
}

interface ReceivedRow {
  agency: string;
  received: number;
  undelivered: number;
  s_none: number;
  s01: number;
  s02: number;
  s03: number;
  s04: number;
  s05: number;
  s06: number;
  recalled: number;
  overdue: number;
}

interface DeliveryRow {
  agency: string;
  deliveries: number;
  late: number;
  p50: number | null;
  p99: number | null;
  urgent_late: number;
}

/** Builds the agency report. */
export async function agencyReport(db: Kysely<Database>, q: AgencyReportQuery): Promise<AgencyReport> {
  const { from, to } = q;
  const since = q.noExchangeSince;
  // Due times of receipts delivered in the period and a while after it (a document sent just before
  // `to` may be delivered after; a dead delivery re-queued much later is judged against a due time
  // past this range as not overdue — it was the gateway's fault, not the recipient's).
  const ends = q.calendar.endsCovering(from, new Date(to.getTime() + 31 * 86_400_000)).map((d) => d.toISOString());

  const sent = await sql<{ agency: string; n: number }>`
    SELECT sender AS agency, count(*)::integer AS n
    FROM documents
    WHERE received_at >= ${from} AND received_at < ${to} ${inList(sql`sender`, q.agencies)}
    GROUP BY sender`.execute(db);

  // A row is "recalled" when the recipient cancelled it (15) or the copy was withdrawn; otherwise it
  // counts under its status. Received = the delivery reached the recipient (delivered_at is kept
  // when a delivered copy is withdrawn later).
  const received = await sql<ReceivedRow>`
    SELECT dr.recipient AS agency,
      count(*) FILTER (WHERE r.got)::integer AS received,
      count(*) FILTER (WHERE NOT r.got AND d.state <> 'withdrawn')::integer AS undelivered,
      count(*) FILTER (WHERE r.got AND NOT r.recalled AND dr.status_code IS NULL)::integer AS s_none,
      count(*) FILTER (WHERE r.got AND NOT r.recalled AND dr.status_code = '01')::integer AS s01,
      count(*) FILTER (WHERE r.got AND NOT r.recalled AND dr.status_code = '02')::integer AS s02,
      count(*) FILTER (WHERE r.got AND NOT r.recalled AND dr.status_code = '03')::integer AS s03,
      count(*) FILTER (WHERE r.got AND NOT r.recalled AND dr.status_code = '04')::integer AS s04,
      count(*) FILTER (WHERE r.got AND NOT r.recalled AND dr.status_code = '05')::integer AS s05,
      count(*) FILTER (WHERE r.got AND NOT r.recalled AND dr.status_code = '06')::integer AS s06,
      count(*) FILTER (WHERE r.got AND r.recalled)::integer AS recalled,
      count(*) FILTER (WHERE r.got AND NOT r.recalled AND doc.revoked_at IS NULL
                         AND coalesce(dr.confirmed_at, ${q.now}) > due.at)::integer AS overdue
    FROM document_recipients AS dr
    JOIN documents AS doc ON doc.document_id = dr.document_id AND doc.sender = dr.sender
    JOIN deliveries AS d ON d.id = dr.delivery_id
    CROSS JOIN LATERAL (SELECT d.delivered_at IS NOT NULL AS got,
                               (dr.recall_state = 'recalled' OR d.state = 'withdrawn') AS recalled) AS r
    CROSS JOIN LATERAL (SELECT min(e) AS at FROM unnest(${ends}::timestamptz[]) AS e WHERE e >= d.delivered_at) AS due
    WHERE doc.received_at >= ${from} AND doc.received_at < ${to} ${inList(sql`dr.recipient`, q.agencies)}
    GROUP BY dr.recipient`.execute(db);

  // Every packet delivered to the agency (documents and statuses alike: the budget applies to each
  // send/receive). percentile_cont ignores the NULL latency of undelivered rows; it runs the same
  // on Postgres and PGlite (checked).
  const deliveries = await sql<DeliveryRow>`
    SELECT d.recipient AS agency,
      count(*) FILTER (WHERE d.delivered_at IS NOT NULL)::integer AS deliveries,
      count(*) FILTER (WHERE d.delivered_at IS NOT NULL AND d.late)::integer AS late,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY d.latency_ms) AS p50,
      percentile_cont(0.99) WITHIN GROUP (ORDER BY d.latency_ms) AS p99,
      count(*) FILTER (WHERE p.kind = 'document' AND d.priority >= 1 AND d.state <> 'withdrawn'
                         AND coalesce(dr.recall_state, 'none') <> 'recalled'
                         AND (d.late OR (d.state IN ('queued', 'delivering', 'dead') AND d.deadline_at < ${q.now})))::integer AS urgent_late
    FROM deliveries AS d
    JOIN packets AS p ON p.id = d.packet_id
    LEFT JOIN document_recipients AS dr ON dr.delivery_id = d.id
    WHERE p.received_at >= ${from} AND p.received_at < ${to} ${inList(sql`d.recipient`, q.agencies)}
    GROUP BY d.recipient`.execute(db);

  // The idle window: any packet sent, or any packet delivered, counts as an exchange.
  const active = await sql<{ agency: string }>`
    SELECT sender AS agency FROM packets WHERE received_at >= ${since} AND received_at < ${to} ${inList(sql`sender`, q.agencies)}
    UNION
    SELECT recipient FROM deliveries WHERE delivered_at >= ${since} AND delivered_at < ${to} ${inList(sql`recipient`, q.agencies)}`.execute(db);

  let directoryQuery = db.selectFrom('agencies').select(['code', 'name', 'state', 'created_at']);
  if (q.agencies !== undefined) directoryQuery = q.agencies.length === 0 ? directoryQuery.where(sql<boolean>`false`) : directoryQuery.where('code', 'in', [...q.agencies]);
  const directory = await directoryQuery.orderBy('code').execute();

  const figures = new Map<string, Mutable>();
  const of = (code: string): Mutable => {
    let f = figures.get(code);
    if (f === undefined) {
      f = emptyFigures();
      figures.set(code, f);
    }
    return f;
  };
  for (const a of directory) if (a.state !== 'closed') of(a.code);
  for (const r of sent.rows) of(r.agency).documentsSent = r.n;
  for (const r of received.rows) {
    const f = of(r.agency);
    f.documentsReceived = r.received;
    f.documentsUndelivered = r.undelivered;
    f.byStatus = { none: r.s_none, '01': r.s01, '02': r.s02, '03': r.s03, '04': r.s04, '05': r.s05, '06': r.s06, recalled: r.recalled };
    f.overdueUnconfirmed = r.overdue;
  }
  for (const r of deliveries.rows) {
    const f = of(r.agency);
    f.deliveries = r.deliveries;
    f.deliveriesLate = r.late;
    // Whole milliseconds: percentile_cont interpolates, and a fraction of a millisecond says nothing here.
    f.latencyMedianMs = r.p50 === null ? null : Math.round(Number(r.p50));
    f.latencyP99Ms = r.p99 === null ? null : Math.round(Number(r.p99));
    f.overdueUrgentLate = r.urgent_late;
  }

  const activeCodes = new Set(active.rows.map((r) => r.agency));
  // An agency added to the directory inside the window has not had six months to be idle.
  const idle = directory.filter((a) => a.state !== 'closed' && a.created_at.getTime() <= since.getTime() && !activeCodes.has(a.code));
  const idleCodes = new Set(idle.map((a) => a.code));
  const names = new Map(directory.map((a) => [a.code, a.name]));

  return {
    from,
    to,
    generatedAt: q.now,
    noExchangeSince: since,
    agencies: [...figures.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([code, f]) => ({ code, name: names.get(code) ?? null, ...f, noExchange: idleCodes.has(code) })),
    noExchange: idle.map((a) => ({ code: a.code, name: a.name, state: a.state })),
  };
}
