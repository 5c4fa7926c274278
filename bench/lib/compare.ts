// `--compare BASELINE.json`: the current report's figures over an earlier report's, metric by
// metric. A ratio below 1 is better for latencies and CPU, above 1 for rates. The gateway-over-
// ceiling fractions are compared too: measured in the same run, they move less with the machine's
// load than absolute times do (DESIGN, Conventions: ratios, not absolute times).

import type { BenchReport } from './report.ts';

/** One compared metric. */
export interface CompareRow {
  readonly metric: string;
  readonly baseline: number | undefined;
  readonly current: number | undefined;
  /** current / baseline. */
  readonly ratio: number | undefined;
  readonly better: 'lower' | 'higher';
}

/** The comparison, and what makes it less meaningful (other scenario, database, rate…). */
export interface Comparison {
  readonly rows: readonly CompareRow[];
  readonly warnings: readonly string[];
}

interface Metric {
  readonly name: string;
  readonly better: 'lower' | 'higher';
  get(report: BenchReport): number | undefined;
}

const METRICS: readonly Metric[] = [
  { name: 'end to end p50 (ms)', better: 'lower', get: (r) => r.gateway.summary.endToEnd.p50 },
  { name: 'end to end p90 (ms)', better: 'lower', get: (r) => r.gateway.summary.endToEnd.p90 },
  { name: 'end to end p99 (ms)', better: 'lower', get: (r) => r.gateway.summary.endToEnd.p99 },
  { name: 'end to end max (ms)', better: 'lower', get: (r) => r.gateway.summary.endToEnd.max },
  { name: 'post → 202 p99 (ms)', better: 'lower', get: (r) => r.gateway.summary.answer.p99 },
  { name: 'urgent end to end p99 (ms)', better: 'lower', get: (r) => r.gateway.streams?.urgent?.endToEnd.p99 },
  { name: 'completed (packets/s)', better: 'higher', get: (r) => r.gateway.summary.completedPerSecond },
  { name: 'failed', better: 'lower', get: (r) => r.gateway.summary.failed },
  { name: 'gateway CPU (ms/packet)', better: 'lower', get: (r) => r.gateway.cpu.serverMsPerPacket },
  { name: 'Postgres CPU (ms/packet)', better: 'lower', get: (r) => r.gateway.cpu.postgresMsPerPacket },
  { name: 'gateway peak RSS (MiB)', better: 'lower', get: (r) => r.gateway.peakRssMiB },
  { name: 'max sustained rate (packets/s)', better: 'higher', get: (r) => r.saturation?.maxSustainedRate },
  { name: 'ceiling: bare Fastify p99 (ms)', better: 'lower', get: (r) => r.ceilings.http?.summary.endToEnd.p99 },
  { name: 'ceiling: bare Fastify CPU (ms/packet)', better: 'lower', get: (r) => r.ceilings.http?.cpu.serverMsPerPacket },
  { name: 'ceiling: bare store p99 (ms)', better: 'lower', get: (r) => r.ceilings.store?.summary.endToEnd.p99 },
  { name: 'ceiling: bare store CPU, client + Postgres (ms/packet)', better: 'lower', get: (r) => sumOf(r.ceilings.store?.cpu.serverMsPerPacket, r.ceilings.store?.cpu.postgresMsPerPacket) },
  { name: 'gateway share of the CPU-bound rate', better: 'higher', get: (r) => r.limit.cpuFraction },
  { name: 'post → 202 p50 over bare receive + store', better: 'lower', get: (r) => r.limit.admitP50Ratio },
  { name: 'post → 202 p99 over bare receive + store', better: 'lower', get: (r) => r.limit.admitP99Ratio },
  { name: 'machine speed check, after the window (ms of CPU)', better: 'lower', get: (r) => r.cpuSpeed?.after?.bestMs },
  { name: 'machine busy (share)', better: 'lower', get: (r) => r.gateway.cpu.machineBusyShare },
  { name: 'other processes (share)', better: 'lower', get: (r) => r.gateway.cpu.otherShare },
];

function sumOf(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? undefined : a + (b ?? 0);
}

/** Speed checks further apart than this make a comparison partly one of machines (noise between rounds is ~5 %). */
const SPEED_TOLERANCE = 0.1;

const finite = (v: number | undefined): number | undefined => (v === undefined || !Number.isFinite(v) ? undefined : v);

/** Checks that `value` is a suite report (not, say, a bench/gateway.ts one); throws with what it is instead. */
export function asReport(value: unknown, source: string): BenchReport {
  if (typeof value !== 'object' || value === null || !('bench' in value) || value.bench !== 'edxgate-suite' || !('version' in value) || value.version !== 1) {
    const bench = typeof value === 'object' && value !== null && 'bench' in value ? JSON.stringify(value.bench) : 'none';
    throw new Error(`${source} is not a report of npm run bench (version 1): its "bench" is ${bench}`);
  }
  return value as BenchReport;
}

/** Compares `current` with `baseline`. */
export function compareReports(current: BenchReport, baseline: BenchReport): Comparison {
  const warnings: string[] = [];
  const differs = (what: string, a: unknown, b: unknown): void => {
    if (JSON.stringify(a) !== JSON.stringify(b)) warnings.push(`${what} differs: baseline ${JSON.stringify(b)}, now ${JSON.stringify(a)}`);
  };
  differs('scenario', current.scenario, baseline.scenario);
  differs('database', current.database, baseline.database);
  differs('mode', current.options.mode, baseline.options.mode);
  differs('rate', current.options.rate, baseline.options.rate);
  differs('signed', current.options.signed, baseline.options.signed);
  differs('packet size', current.options.sizeBytes, baseline.options.sizeBytes);
  differs('machine', `${current.machine.cpus} × ${current.machine.model}`, `${baseline.machine.cpus} × ${baseline.machine.model}`);
  const speedNow = current.cpuSpeed?.after?.bestMs;
  const speedThen = baseline.cpuSpeed?.after?.bestMs;
  const drift = speedNow === undefined || speedThen === undefined || speedThen <= 0 ? 0 : speedNow / speedThen - 1;
  if (Math.abs(drift) >= SPEED_TOLERANCE) {
    warnings.push(
      `the machine was ${(Math.abs(drift) * 100).toFixed(0)} % ${drift > 0 ? 'slower' : 'faster'} in this run (speed check ${speedNow} ms against ${speedThen} ms): the CPU and latency ratios measure the machine as well as the gateway`,
    );
  }
  const rows = METRICS.flatMap((m): CompareRow[] => {
    const b = finite(m.get(baseline));
    const c = finite(m.get(current));
    if (b === undefined && c === undefined) return [];
    const ratio = b === undefined || c === undefined || b === 0 ? undefined : c / b;
    return [{ metric: m.name, baseline: b, current: c, ratio, better: m.better }];
  });
  return { rows, warnings };
}

const figure = (v: number | undefined): string =>
  v === undefined ? '–' : Number.isInteger(v) || Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toFixed(3);

/** The comparison as a table. */
export function renderComparison(comparison: Comparison, baselineName: string): string {
  const lines = [`\ncompared with ${baselineName} (ratio = now / baseline):`, '', '| metric | baseline | now | ratio | |', '|---|---:|---:|---:|---|'];
  for (const row of comparison.rows) {
    const verdict =
      row.ratio === undefined || Math.abs(row.ratio - 1) < 0.05 ? '' : (row.ratio < 1) === (row.better === 'lower') ? 'better' : 'worse';
    lines.push(`| ${row.metric} | ${figure(row.baseline)} | ${figure(row.current)} | ${row.ratio === undefined ? '–' : `${row.ratio.toFixed(2)}×`} |${verdict === '' ? '' : ` ${verdict}`} |`);
  }
  for (const warning of comparison.warnings) lines.push(`note: ${warning}`);
  return `${lines.join('\n')}\n`;
}
