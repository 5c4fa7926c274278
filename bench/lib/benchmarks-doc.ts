// `--docs`: the generated part of docs/benchmarks.md. The latest report of each scenario × database
// (× saturation) is kept in docs/benchmarks/results.json — committed, so a later run of one
// scenario regenerates the whole section without re-running the others — and the section between
// the markers, with the chart docs/benchmarks/latency.svg, is written from it. Everything outside
// the markers is hand-written analysis and is left alone.

import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { latencyChartSvg } from './latency-chart.ts';
import type { ChartRow } from './latency-chart.ts';
import type { BenchReport, StepFigures } from './report.ts';
import { ms } from './stats.ts';

export const BEGIN_MARKER = '<!-- bench:generated:begin — written by `npm run bench -- … --docs`; edit outside the markers -->';
export const END_MARKER = '<!-- bench:generated:end -->';
const BEGIN_PREFIX = '<!-- bench:generated:begin';

/** docs/benchmarks/results.json. */
export interface ResultsFile {
  readonly version: 1;
  /** By reportKey. */
  readonly reports: Readonly<Record<string, BenchReport>>;
}

/** Which slot of results.json a report fills: one per scenario, database and mode. */
export function reportKey(report: BenchReport): string {
  return `${report.scenario}/${report.database}${report.options.mode === 'saturate' ? '/saturate' : ''}`;
}

function slimStep<T extends StepFigures>(step: T): T {
  const streams = step.streams === undefined ? undefined : Object.fromEntries(Object.entries(step.streams).map(([k, s]) => [k, { ...s, perSecond: [] }]));
  return { ...step, summary: { ...step.summary, perSecond: [] }, streams };
}

/** The report without its per-second breakdowns (kept in bench/results/, not in the docs). */
export function slimReport(report: BenchReport): BenchReport {
  return {
    ...report,
    gateway: slimStep(report.gateway),
    ceilings: {
      http: report.ceilings.http === undefined ? undefined : slimStep(report.ceilings.http),
      store: report.ceilings.store === undefined ? undefined : slimStep(report.ceilings.store),
    },
  };
}

/** `results` with `report` in its slot. */
export function mergeReport(results: ResultsFile, report: BenchReport): ResultsFile {
  return { version: 1, reports: { ...results.reports, [reportKey(report)]: slimReport(report) } };
}

/** Reports in the docs' order: scenarios as `scenarioOrder` lists them, Postgres first, fixed before saturate. */
export function orderedReports(results: ResultsFile, scenarioOrder: readonly string[]): BenchReport[] {
  const rank = (r: BenchReport): number[] => {
    const s = scenarioOrder.indexOf(r.scenario);
    return [s === -1 ? scenarioOrder.length : s, r.database === 'postgres' ? 0 : 1, r.options.mode === 'saturate' ? 1 : 0];
  };
  return Object.values(results.reports).sort((a, b) => {
    const ra = rank(a);
    const rb = rank(b);
    for (let i = 0; i < ra.length; i++) if ((ra[i] ?? 0) !== (rb[i] ?? 0)) return (ra[i] ?? 0) - (rb[i] ?? 0);
    return a.scenario.localeCompare(b.scenario);
  });
}

const num = (v: number | undefined, digits = 2): string => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));
const pct = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '–' : `${(v * 100).toFixed(0)} %`);
const times = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '–' : `${v.toFixed(v < 10 ? 2 : 1)}×`);
const kb = (bytes: number): string => (bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(0)} MB` : `${(bytes / 1024).toFixed(0)} KB`);
const db = (r: BenchReport): string => (r.database === 'postgres' ? 'Postgres' : 'embedded');
const when = (r: BenchReport): string => r.at.slice(0, 16).replace('T', ' ');

function runLabel(r: BenchReport): string {
  return `${r.scenario}${r.options.mode === 'saturate' ? ' (saturation)' : ''}, ${db(r)}`;
}

/** The chart's rows. */
export function chartRows(reports: readonly BenchReport[]): ChartRow[] {
  return reports.map((r) => {
    const e = r.gateway.summary.endToEnd;
    const rate = r.options.mode === 'saturate' ? `${r.gateway.rate}/s max held` : `${r.options.rate}/s`;
    return { label: `${runLabel(r)}, ${rate}`, p50: e.p50, p90: e.p90, p99: e.p99, max: e.max, floor: r.limit.admitFloorP99 };
  });
}

/** The generated section (between and including the markers). */
export function renderSection(reports: readonly BenchReport[], chartPath: string): string {
  const lines: string[] = [BEGIN_MARKER, ''];
  if (reports.length === 0) {
    lines.push('No runs recorded yet: `npm run bench -- --scenario medium --duration 30 --docs`.', '', END_MARKER);
    return lines.join('\n');
  }
  lines.push(`![End-to-end latency per scenario against the 5 s budget](${chartPath})`, '');
  lines.push('Latest run of each scenario (ms from the scheduled send; CPU in ms per packet; "machine busy / other" is the whole machine during the run and the part of it no process of the run used).', '');
  lines.push(
    '| scenario | database | packets | rate/s | served/s | e2e p50 | p90 | p99 | max | post → 202 p99 | failed / missing | gateway CPU | Postgres CPU | bench CPU | gateway peak RSS MiB | machine busy / other | run (UTC) |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  );
  for (const r of reports) {
    const g = r.gateway;
    const s = g.summary;
    const packets = `${kb(r.options.sizeBytes)} ${r.options.signed ? 'signed' : 'unsigned'}${r.options.recipients > 1 ? ` → ${r.options.recipients}` : ''}${r.options.urgentRate === undefined ? '' : ` + ${r.options.urgentRate}/s urgent`}`;
    const rate = r.options.mode === 'saturate' ? `${g.rate} (max held)` : String(r.options.rate);
    lines.push(
      `| ${r.scenario} | ${db(r)} | ${packets} | ${rate} | ${s.servedPerSecond.toFixed(1)} | ${ms(s.endToEnd.p50)} | ${ms(s.endToEnd.p90)} | ${ms(s.endToEnd.p99)} | ${ms(s.endToEnd.max)} | ${ms(s.answer.p99)} | ${s.failed} / ${s.missing} | ${num(g.cpu.serverMsPerPacket)} | ${num(g.cpu.postgresMsPerPacket)} | ${num(g.cpu.benchMsPerPacket)} | ${num(g.peakRssMiB, 0)} | ${pct(g.cpu.machineBusyShare)} / ${pct(g.cpu.otherShare)} | ${when(r)} |`,
    );
  }
  const urgent = reports.filter((r) => r.gateway.streams?.urgent !== undefined);
  if (urgent.length > 0) {
    lines.push('', 'Urgent and ordinary packets of the same run (end to end, ms):', '');
    lines.push('| scenario | database | stream | offered/s | completed/s in the span | p50 | p99 | max | missing |', '|---|---|---|---:|---:|---:|---:|---:|---:|');
    for (const r of urgent) {
      for (const [name, s] of Object.entries(r.gateway.streams ?? {})) {
        lines.push(`| ${r.scenario} | ${db(r)} | ${name} | ${s.offeredPerSecond.toFixed(1)} | ${s.completedPerSecond.toFixed(1)} | ${ms(s.endToEnd.p50)} | ${ms(s.endToEnd.p99)} | ${ms(s.endToEnd.max)} | ${s.missing} |`);
      }
    }
  }
  const withRuntime = reports.filter((r) => r.gateway.runtime !== undefined);
  if (withRuntime.length > 0) {
    lines.push('', "The gateway's runtime in the same runs, from its /metrics (GC time per packet; GC pauses of 10 ms or more; how late the event loop ran a timer, ms; the share of the window the event loop was busy), and the machine speed check (ms of CPU for a fixed workload before the run / after the gateway's window: lower is a faster machine):", '');
    lines.push(
      '| scenario | database | node flags | GC ms per packet: scavenges / mark-compact | GC pauses ≥ 10 ms | event-loop delay p99 | max | event loop busy | speed check before / after |',
      '|---|---|---|---:|---:|---:|---:|---:|---:|',
    );
    for (const r of withRuntime) {
      const rt = r.gateway.runtime;
      const gc = rt?.gcMsPerPacket;
      const flags = (r.options.nodeFlags ?? []).map((f) => `\`${f}\``).join(' ') || '–';
      lines.push(
        `| ${r.scenario} | ${db(r)} | ${flags} | ${num(gc?.minor)} / ${num(gc === undefined ? undefined : gc.major + gc.incremental)} | ${rt?.gcPausesOver10Ms ?? '–'} | ${num(rt?.eventLoopDelayP99Ms, 1)} | ${num(rt?.eventLoopDelayMaxMs, 1)} | ${pct(rt?.eventLoopUtilization)} | ${num(r.cpuSpeed?.before.bestMs, 1)} / ${num(r.cpuSpeed?.after?.bestMs, 1)} |`,
      );
    }
  }
  lines.push('', "Against this machine's ceilings, measured in the same run with the same bodies at the same rate: a bare Fastify route, and bare inserts of the same rows (packet, payload, deliveries, event; one statement per packet).", '');
  lines.push(
    '| scenario | database | bare Fastify p99 / CPU | bare store p99 / CPU (client + Postgres) | gateway + Postgres CPU | bare CPU | gateway share of the CPU-bound rate | CPU-bound rate gateway / bare | one gateway event loop, a core to itself | post → 202 p99 over bare receive + store |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const r of reports) {
    const h = r.ceilings.http;
    const st = r.ceilings.store;
    const l = r.limit;
    const storeCpu = st === undefined ? undefined : (st.cpu.serverMsPerPacket ?? 0) + (st.cpu.postgresMsPerPacket ?? 0);
    lines.push(
      `| ${r.scenario}${r.options.mode === 'saturate' ? ' (saturation)' : ''} | ${db(r)} | ${h === undefined ? '–' : `${ms(h.summary.endToEnd.p99)} / ${num(h.cpu.serverMsPerPacket)}`} | ${st === undefined ? '–' : `${ms(st.summary.endToEnd.p99)} / ${num(storeCpu)}`} | ${num(l.gatewayCpuMs)} | ${num(l.ceilingCpuMs)} | ${pct(l.cpuFraction)} | ${num(l.gatewayCpuBoundRate, 0)} / ${num(l.ceilingCpuBoundRate, 0)} | ${num(l.gatewayOneCoreRate, 0)}/s | ${times(l.admitP99Ratio)} |`,
    );
  }
  const saturated = reports.filter((r) => r.saturation !== undefined);
  if (saturated.length > 0) {
    lines.push('', 'Saturation ramps (highest rate whose step held: nothing failed, completions kept up, p99 within the limit):', '');
    lines.push('| scenario | database | p99 limit | gateway max held | limited by | bare Fastify max held | bare store max held | steps (✓ held, ✗ not) |', '|---|---|---:|---:|---|---:|---:|---|');
    for (const r of saturated) {
      const sat = r.saturation;
      if (sat === undefined) continue;
      const max = (v: number | undefined): string => (v === undefined ? 'none' : `${v}/s`);
      lines.push(
        `| ${r.scenario} | ${db(r)} | ${sat.p99LimitMs} ms | ${max(sat.maxSustainedRate)} | ${sat.limitedBy} | ${max(r.ceilings.http?.saturation?.maxSustainedRate)} | ${max(r.ceilings.store?.saturation?.maxSustainedRate)} | ${sat.steps.map((s) => `${s.rate}${s.verdict?.sustained ? '✓' : '✗'}`).join(' ')} |`,
      );
    }
  }
  const targets = reports.flatMap((r) => r.targets.filter((t) => t.applies).map((t) => ({ r, t })));
  if (targets.length > 0) {
    lines.push('', 'Targets of issues 3 and 7 that these runs check:', '');
    lines.push('| target | run | met | measured |', '|---|---|---|---|');
    for (const { r, t } of targets) lines.push(`| ${t.name} | ${runLabel(r)} | ${t.met ? 'yes' : '**no**'} | ${t.measured} |`);
  }
  const machines = [...new Set(reports.map((r) => `${r.machine.cpus} × ${r.machine.model}, ${r.machine.memoryGiB} GiB, ${r.machine.os}, Node ${r.machine.node}; ${r.databaseVersion}`))];
  lines.push('', `Machine${machines.length > 1 ? 's' : ''}: ${machines.join(' · ')}.`, '', END_MARKER);
  return lines.join('\n');
}

/** `markdown` with its generated section replaced by `section` (appended when it has none). */
export function replaceSection(markdown: string, section: string): string {
  const begin = markdown.indexOf(BEGIN_PREFIX);
  const end = markdown.indexOf(END_MARKER);
  if (begin === -1 && end === -1) return `${markdown.trimEnd()}\n\n${section}\n`;
  if (begin === -1 || end === -1 || end < begin) throw new Error('docs/benchmarks.md has one generated-section marker without the other, or in the wrong order');
  return markdown.slice(0, begin) + section + markdown.slice(end + END_MARKER.length);
}

/** Where the docs live, relative to the repository root. */
export interface DocPaths {
  readonly markdown: string;
  readonly results: string;
  readonly chart: string;
  /** The chart's path as the markdown links it. */
  readonly chartLink: string;
}

/** The repository's docs paths under `root`. */
export function docPaths(root: string): DocPaths {
  return {
    markdown: join(root, 'docs', 'benchmarks.md'),
    results: join(root, 'docs', 'benchmarks', 'results.json'),
    chart: join(root, 'docs', 'benchmarks', 'latency.svg'),
    chartLink: 'benchmarks/latency.svg',
  };
}

async function readResults(path: string): Promise<ResultsFile> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as ResultsFile;
    return parsed.version === 1 ? parsed : { version: 1, reports: {} };
  } catch (error) {
    if (typeof error === 'object' && error !== null && 'code' in error && error.code === 'ENOENT') return { version: 1, reports: {} };
    throw error;
  }
}

/** Folds `report` (if any) into results.json and rewrites the chart and the generated section. */
export async function updateDocs(paths: DocPaths, report: BenchReport | undefined, scenarioOrder: readonly string[]): Promise<void> {
  let results = await readResults(paths.results);
  if (report !== undefined) results = mergeReport(results, report);
  const reports = orderedReports(results, scenarioOrder);
  await mkdir(dirname(paths.results), { recursive: true });
  await writeFile(paths.results, `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(paths.chart, latencyChartSvg(chartRows(reports)));
  const markdown = await readFile(paths.markdown, 'utf8');
  await writeFile(paths.markdown, replaceSection(markdown, renderSection(reports, paths.chartLink)));
}
