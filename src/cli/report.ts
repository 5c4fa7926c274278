// `edxgate report --from D --to D [--format table|json|csv] [--agency CODE]`: the per-agency exchange
// statistics of GET /v1/reports/agencies, read straight from the configured database, for operators
// who compile the monthly, six-monthly or yearly reports (seed 002 Điều 11, seed 000 Điều 9.8–9.9).
// json and csv print exactly what the API returns; table is for a terminal.

import { parseArgs } from 'node:util';

import { agencyReportCsv, agencyReportJson, buildAgencyReport, reportPeriod } from '../api/reports/routes.ts';
import type { ReportPeriod } from '../api/reports/routes.ts';
import { vietnamIso } from '../api/time.ts';
import { EdxError } from '../errors.ts';
import { NO_EXCHANGE_MONTHS } from '../store/queries/agency-report.ts';
import type { AgencyReport, AgencyReportRow } from '../store/queries/agency-report.ts';
import { WorkingCalendar, formatVietnamDay, serviceLevelOf, vietnamDayOf } from '../tracking/working-day.ts';
import type { ServiceLevelOptions } from '../tracking/working-day.ts';
import { EXIT_OK, UsageError, formatTable, type CliIo, type Command } from './command.ts';
import { withStore } from './with-store.ts';

const USAGE = `Usage: edxgate report --from YYYY-MM-DD --to YYYY-MM-DD [--format table|json|csv]
                      [--agency CODE ...]

Prints the exchange statistics of every agency for the period, from the configured database
(Postgres when DATABASE_URL is set, else the embedded database in DATA_DIR, which only works
while the gateway is stopped). The same report as GET /v1/reports/agencies; docs/reports.md
says what each figure counts.

Days are Vietnam days; --to is exclusive: --from 2025-03-01 --to 2025-04-01 is March 2025.
A report covers at most 366 days.

Per agency: documents sent and received, received documents by current status (none yet,
01–06, recalled), documents not delivered, deliveries and the late ones, median and p99
end-to-end latency, receipts not confirmed by the end of the working day of delivery, urgent
documents not delivered in time; then the agencies with no exchange in the ${NO_EXCHANGE_MONTHS} months
before --to.

Options:
  --from DAY        first day of the period (yyyy-mm-dd)
  --to DAY          day after the last day of the period (yyyy-mm-dd)
  --format FORMAT   table (default), json, or csv (UTF-8 with a byte order mark, for Excel)
  --agency CODE     only this agency (repeat for several)
  -h, --help        show this help

Exit status: 0 done, 1 the database is unreachable or locked, 2 the command line is wrong.
`;

const FORMATS = ['table', 'json', 'csv'] as const;
type Format = (typeof FORMATS)[number];

/** What the report command depends on, for tests. */
export interface ReportCommandOptions {
  /** The clock overdue is judged by; default the system clock. */
  readonly now?: (() => Date) | undefined;
}

/** The `report` command with its dependencies. */
export function createReportCommand(options: ReportCommandOptions = {}): Command {
  const now = options.now ?? (() => new Date());
  return {
    summary: 'print per-agency exchange statistics for a period (table, JSON or CSV)',
    usage: USAGE,
    async run(args: readonly string[], io: CliIo): Promise<number> {
      const { values, positionals } = parseArgs({
        args: [...args],
        allowPositionals: true,
        strict: true,
        options: {
          from: { type: 'string' },
          to: { type: 'string' },
          format: { type: 'string', default: 'table' },
          agency: { type: 'string', multiple: true },
        },
      });
      if (positionals.length > 0) throw new UsageError(`report takes no arguments, got "${positionals.join(' ')}"; give the period with --from and --to.`);
      const format = values.format;
      if (!isFormat(format)) throw new UsageError(`--format must be ${FORMATS.join(', ')}, not "${format}".`);
      const period = periodOf(values.from, values.to);
      const agencies = values.agency === undefined ? undefined : [...new Set(values.agency)];

      return withStore(io, { command: 'report' }, async (store, config) => {
        const serviceLevel = serviceLevelOf(config);
        const calendar = WorkingCalendar.of(serviceLevel);
        const report = await buildAgencyReport(store.db, period, { now: now(), calendar, agencies });
        if (format === 'json') io.stdout(`${JSON.stringify(agencyReportJson(report, period, serviceLevel), null, 2)}\n`);
        else if (format === 'csv') io.stdout(agencyReportCsv(report));
        else io.stdout(reportTable(report, period, serviceLevel));
        return EXIT_OK;
      });
    },
  };
}

/** The `report` command. */
export const reportCommand: Command = createReportCommand();

function isFormat(value: string): value is Format {
  return (FORMATS as readonly string[]).includes(value);
}

/** The period of --from/--to; a malformed one is a command-line error (exit 2), named by its option. */
function periodOf(from: string | undefined, to: string | undefined): ReportPeriod {
  try {
    return reportPeriod(from, to, { from: '--from', to: '--to' });
  } catch (error) {
    if (!(error instanceof EdxError)) throw error;
    const messages = error.issues.map((i) => `${i.path}: ${i.message}${i.value === undefined ? '' : ` (got "${i.value}")`}`);
    throw new UsageError(messages.join(' '));
  }
}

const TABLE_HEADER = [
  'CODE',
  'SENT',
  'RECEIVED',
  'UNDELIVERED',
  'NONE',
  '01',
  '02',
  '03',
  '04',
  '05',
  '06',
  'RECALLED',
  'DELIVERIES',
  'LATE',
  'P50_MS',
  'P99_MS',
  'UNCONFIRMED',
  'URGENT_LATE',
  'IDLE',
  'NAME',
];

function tableRow(a: AgencyReportRow): string[] {
  const n = (v: number | null): string => (v === null ? '-' : String(v));
  return [
    a.code,
    n(a.documentsSent),
    n(a.documentsReceived),
    n(a.documentsUndelivered),
    n(a.byStatus.none),
    n(a.byStatus['01']),
    n(a.byStatus['02']),
    n(a.byStatus['03']),
    n(a.byStatus['04']),
    n(a.byStatus['05']),
    n(a.byStatus['06']),
    n(a.byStatus.recalled),
    n(a.deliveries),
    n(a.deliveriesLate),
    n(a.latencyMedianMs),
    n(a.latencyP99Ms),
    n(a.overdueUnconfirmed),
    n(a.overdueUrgentLate),
    a.noExchange ? 'yes' : '',
    a.name ?? '(not in the directory)',
  ];
}

/** The report for a terminal: the period and the rules, the table, then the idle agencies. */
export function reportTable(report: AgencyReport, period: ReportPeriod, serviceLevel: ServiceLevelOptions): string {
  const last = formatVietnamDay(vietnamDayOf(report.to) - 1);
  const holidays = serviceLevel.holidays.length === 0 ? 'no holidays configured' : `${serviceLevel.holidays.length} holiday(s) configured`;
  const head =
    `Agency report ${period.fromDay} – ${last} (Vietnam days), made ${vietnamIso(report.generatedAt)}\n` +
    `Receipt is due by ${serviceLevel.workdayEnd} of the working day of delivery (weekdays ${serviceLevel.workingDays.join(',')}; ${holidays}).\n\n`;
  const table = report.agencies.length === 0 ? 'No agency to report on.\n' : formatTable(TABLE_HEADER, report.agencies.map(tableRow));
  const since = formatVietnamDay(vietnamDayOf(report.noExchangeSince));
  const idle =
    report.noExchange.length === 0
      ? `\nEvery agency listed has sent or received packets since ${since} (${NO_EXCHANGE_MONTHS} months before ${period.toDay}).\n`
      : `\nNo exchange since ${since} (${NO_EXCHANGE_MONTHS} months before ${period.toDay}):\n` +
        formatTable(
          ['CODE', 'STATE', 'NAME'],
          report.noExchange.map((a) => [a.code, a.state, a.name]),
        );
  return head + table + idle;
}
