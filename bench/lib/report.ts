// The suite's report: what `npm run bench` writes as JSON (bench/results/, `--json`), prints as a
// table, compares (`--compare`) and folds into docs/benchmarks.md. One shape for every scenario.
// The pure parts — the machine-limit fractions and the table — live here so they can be tested.

import type { StoreDialect } from '../../src/store/open-store.ts';
import type { GatewayRecord } from './bench-database.ts';
import { describeCpuSpeed } from './cpu-speed.ts';
import type { CpuSpeed } from './cpu-speed.ts';
import type { MachineInfo } from './machine.ts';
import type { PhaseSummary } from './phase-summary.ts';
import type { RuntimeFigures } from './runtime-window.ts';
import type { RampResult, StepVerdict } from './saturation.ts';
import { ms } from './stats.ts';
import type { LatencySummary } from './stats.ts';

/** CPU over a measured window, in ms per packet and shares (0..1). */
export interface CpuFigures {
  /** The process under test: the gateway, the bare Fastify child, or (store ceiling) the client. */
  readonly serverMsPerPacket: number | undefined;
  /** Its share of one core. */
  readonly serverCoreShare: number | undefined;
  /** The Postgres server processes working for the run (undefined on the embedded database). */
  readonly postgresMsPerPacket: number | undefined;
  /** This bench process: load generator, webhook receiver, signature checks. */
  readonly benchMsPerPacket: number | undefined;
  readonly machineBusyShare: number | undefined;
  /** The share of the machine none of the above used: other work, which makes the figures unclean. */
  readonly otherShare: number | undefined;
}

/** One fixed-rate measurement. */
export interface StepFigures {
  /** Offered packets/s (all streams). */
  readonly rate: number;
  readonly durationS: number;
  readonly summary: PhaseSummary;
  /** Per stream when there are several (urgent-under-load: ordinary, urgent, priority-1 … priority-4). */
  readonly streams?: Readonly<Record<string, PhaseSummary>> | undefined;
  readonly cpu: CpuFigures;
  readonly peakRssMiB: number | undefined;
  /** The gateway's GC time and event-loop delay over the window (gateway steps only). */
  readonly runtime?: RuntimeFigures | undefined;
  /** Saturation steps only. */
  readonly verdict?: StepVerdict | undefined;
}

/** A ramp to saturation. */
export interface SaturationFigures extends RampResult {
  readonly p99LimitMs: number;
  readonly steps: readonly StepFigures[];
}

/** The gateway's part of a run. */
export interface GatewayFigures extends StepFigures {
  /** The gateway's own record: request arrival → delivery recorded (deliveries.latency_ms). */
  readonly record?: GatewayRecord | undefined;
  /** Forwarded packets whose XML-DSig the bench verified (a sample), and how many were valid. */
  readonly forwardedSignatures?: { readonly checked: number; readonly valid: number } | undefined;
}

/** A ceiling's part of a run. */
export interface CeilingFigures extends StepFigures {
  readonly kind: 'http' | 'store';
  /** What was measured, in words. */
  readonly what: string;
  readonly saturation?: SaturationFigures | undefined;
}

/** The gateway as a fraction of what this machine's bare parts allow. */
export interface MachineLimit {
  /** gateway + Postgres CPU per packet, ms. */
  readonly gatewayCpuMs: number | undefined;
  /** bare Fastify + bare store (client and server) CPU per packet, ms. */
  readonly ceilingCpuMs: number | undefined;
  /** ceilingCpuMs / gatewayCpuMs: the share of the machine's CPU-bound rate the gateway reaches. */
  readonly cpuFraction: number | undefined;
  /** cores / gatewayCpuMs: packets/s the machine would do at full CPU (the bench's own CPU left out). */
  readonly gatewayCpuBoundRate: number | undefined;
  /** cores / ceilingCpuMs. */
  readonly ceilingCpuBoundRate: number | undefined;
  /**
   * 1000 / the gateway process's own ms per packet: what one node's event loop can do when it has
   * a core to itself. Its JavaScript runs on one thread, so this, not the machine, is where one
   * node stops (Postgres and other nodes use the other cores).
   */
  readonly gatewayOneCoreRate: number | undefined;
  /** bare Fastify answer + bare store commit, p50 and p99 (a floor of post → 202), ms. */
  readonly admitFloorP50: number | undefined;
  readonly admitFloorP99: number | undefined;
  /** gateway post → 202 over that floor. */
  readonly admitP50Ratio: number | undefined;
  readonly admitP99Ratio: number | undefined;
  /** Saturation only: gateway's max sustained rate over the lower of the two ceilings'. */
  readonly rateFraction: number | undefined;
}

/** An acceptance target of the issue, checked when it applies to the run. */
export interface TargetCheck {
  readonly name: string;
  readonly applies: boolean;
  readonly met: boolean;
  /** The measured figure, in words. */
  readonly measured: string;
}

/** The report of one run. */
export interface BenchReport {
  readonly bench: 'edxgate-suite';
  readonly version: 1;
  readonly scenario: string;
  readonly label: string;
  /** Start of the measured window, ISO. */
  readonly at: string;
  readonly database: StoreDialect;
  readonly databaseVersion: string;
  readonly machine: MachineInfo;
  /** The machine before the run: 1-minute load average and busy share (other work). */
  readonly load: { readonly loadAverage: number; readonly busyBefore: number | undefined };
  /** The fixed workload's CPU time before the run and after the gateway's window (absent in reports made before it). */
  readonly cpuSpeed?: CpuSpeed | undefined;
  readonly options: {
    readonly mode: 'fixed' | 'saturate';
    readonly rate: number;
    readonly durationS: number;
    readonly warmupS: number;
    readonly ceilingDurationS: number;
    readonly sizeBytes: number;
    readonly recipients: number;
    readonly signed: boolean;
    readonly urgentRate: number | undefined;
    readonly logLevel: string;
    /** Node flags given to the gateway with --node-flag (absent in reports made before them). */
    readonly nodeFlags?: readonly string[] | undefined;
    readonly env: Readonly<Record<string, string>>;
  };
  readonly gateway: GatewayFigures;
  readonly saturation?: SaturationFigures | undefined;
  readonly ceilings: { readonly http?: CeilingFigures | undefined; readonly store?: CeilingFigures | undefined };
  readonly limit: MachineLimit;
  readonly targets: readonly TargetCheck[];
}

const sum = (...values: (number | undefined)[]): number | undefined =>
  values.some((v) => v === undefined || !Number.isFinite(v)) ? undefined : values.reduce<number>((a, v) => a + (v ?? 0), 0);
const ratio = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b <= 0 ? undefined : a / b;

/** The machine-limit figures from the gateway's and the ceilings' measurements. */
export function machineLimit(input: {
  readonly cores: number;
  readonly gateway: StepFigures;
  readonly http?: StepFigures | undefined;
  readonly store?: StepFigures | undefined;
  readonly gatewayMaxRate?: number | undefined;
  readonly httpMaxRate?: number | undefined;
  readonly storeMaxRate?: number | undefined;
}): MachineLimit {
  const { gateway, http, store } = input;
  // On the embedded database Postgres runs inside the gateway (and inside the store ceiling's
  // client), so its share is already in the process figures: count what was measured.
  const gatewayCpuMs = sum(gateway.cpu.serverMsPerPacket, gateway.cpu.postgresMsPerPacket ?? 0);
  const ceilingCpuMs =
    http === undefined || store === undefined ? undefined : sum(http.cpu.serverMsPerPacket, store.cpu.serverMsPerPacket, store.cpu.postgresMsPerPacket ?? 0);
  const admitFloorP50 = http === undefined || store === undefined ? undefined : sum(http.summary.endToEnd.p50, store.summary.endToEnd.p50);
  const admitFloorP99 = http === undefined || store === undefined ? undefined : sum(http.summary.endToEnd.p99, store.summary.endToEnd.p99);
  const ceilingRates = [input.httpMaxRate, input.storeMaxRate].filter((r): r is number => r !== undefined);
  return {
    gatewayCpuMs,
    ceilingCpuMs,
    cpuFraction: ratio(ceilingCpuMs, gatewayCpuMs),
    gatewayCpuBoundRate: ratio(input.cores * 1000, gatewayCpuMs),
    ceilingCpuBoundRate: ratio(input.cores * 1000, ceilingCpuMs),
    gatewayOneCoreRate: ratio(1000, gateway.cpu.serverMsPerPacket),
    admitFloorP50,
    admitFloorP99,
    admitP50Ratio: ratio(gateway.summary.answer.p50, admitFloorP50),
    admitP99Ratio: ratio(gateway.summary.answer.p99, admitFloorP99),
    rateFraction: ceilingRates.length === 2 ? ratio(input.gatewayMaxRate, Math.min(...ceilingRates)) : undefined,
  };
}

const num = (v: number | undefined, digits = 2): string => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));
const pct = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '–' : `${(v * 100).toFixed(0)} %`);
const times = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '–' : `${v.toFixed(v < 10 ? 2 : 1)}×`);

function latencyRow(name: string, s: LatencySummary | undefined): string {
  return s === undefined || s.count === 0 ? '' : `| ${name} | ${ms(s.p50)} | ${ms(s.p90)} | ${ms(s.p99)} | ${ms(s.max)} | ${s.count} |\n`;
}

function stepLine(step: StepFigures): string {
  const s = step.summary;
  const failures = Object.entries(s.failures).map(([k, n]) => `${k}: ${n}`).join(', ');
  return (
    `throughput: offered ${s.offeredPerSecond.toFixed(1)}/s, completed ${s.completedPerSecond.toFixed(1)}/s in the span, served ${s.servedPerSecond.toFixed(1)}/s with the drain; ` +
    `${s.accepted} of ${s.sent} accepted, ${s.failed} failed${failures === '' ? '' : ` (${failures})`}, ${s.missing} missing, ${s.redelivered} redelivered`
  );
}

function cpuLine(cpu: CpuFigures, server: string): string {
  return (
    `CPU per packet: ${server} ${num(cpu.serverMsPerPacket)} ms (${pct(cpu.serverCoreShare)} of one core), ` +
    `Postgres ${num(cpu.postgresMsPerPacket)} ms, bench ${num(cpu.benchMsPerPacket)} ms; machine ${pct(cpu.machineBusyShare)} busy, other processes ${pct(cpu.otherShare)}`
  );
}

function runtimeLine(r: RuntimeFigures): string {
  const gc = r.gcMsPerPacket;
  const gcTotal = gc === undefined ? undefined : gc.minor + gc.major + gc.incremental;
  return (
    `gateway runtime: GC ${num(gcTotal)} ms per packet (scavenges ${num(gc?.minor)}, mark-compact ${num(gc === undefined ? undefined : gc.major + gc.incremental)}), ` +
    `${r.gcPausesOver10Ms ?? '–'} pauses ≥ 10 ms; event-loop delay p99 ${num(r.eventLoopDelayP99Ms, 1)} ms, max ${num(r.eventLoopDelayMaxMs, 1)} ms` +
    (r.eventLoopUtilization === undefined ? '' : `; event loop busy ${pct(r.eventLoopUtilization)} of the window`)
  );
}

/** The report as the terminal table. */
export function renderReport(report: BenchReport): string {
  const o = report.options;
  const g = report.gateway;
  const lines: string[] = [];
  lines.push(
    `\nedxgate bench — scenario ${report.scenario}${report.label ? ` (${report.label})` : ''}: ${o.sizeBytes.toLocaleString('en-US')}-byte ${o.signed ? 'signed' : 'unsigned'} packets, ` +
      `${o.recipients} recipient${o.recipients === 1 ? '' : 's'}, ${o.mode === 'saturate' ? `saturation ramp from ${o.rate}/s, ${o.durationS} s a step` : `open loop at ${o.rate}/s for ${o.durationS} s`}` +
      `${o.urgentRate === undefined ? '' : ` + urgent ${o.urgentRate}/s`} (warm-up ${o.warmupS} s)`,
  );
  lines.push(
    `${report.machine.cpus} × ${report.machine.model}, ${report.machine.memoryGiB} GiB, ${report.machine.os}, Node ${report.machine.node}, ${report.databaseVersion}; ` +
      `load average ${report.load.loadAverage} and ${pct(report.load.busyBefore)} busy before the run`,
  );
  const speed = describeCpuSpeed(report.cpuSpeed);
  if (speed !== undefined) lines.push(speed);
  if ((o.nodeFlags ?? []).length > 0) lines.push(`gateway started with node ${(o.nodeFlags ?? []).join(' ')}`);
  lines.push('');
  lines.push('| ms, from the scheduled send | p50 | p90 | p99 | max | n |\n|---|---:|---:|---:|---:|---:|');
  let table = latencyRow('gateway: post → delivered to every recipient (end to end)', g.summary.endToEnd);
  if (o.recipients > 1) table += latencyRow('gateway: post → each delivery', g.summary.perDelivery);
  table += latencyRow('gateway: post → 202', g.summary.answer);
  for (const [name, s] of Object.entries(g.streams ?? {})) table += latencyRow(`  ${name}: end to end`, s.endToEnd);
  if (g.record !== undefined) table += `| gateway's record: request → delivered | ${ms(g.record.p50)} | | ${ms(g.record.p99)} | | ${g.record.delivered} |\n`;
  table += latencyRow('ceiling: bare Fastify, post → 202', report.ceilings.http?.summary.endToEnd);
  table += latencyRow(`ceiling: bare ${report.database === 'postgres' ? 'pg' : 'PGlite'} insert of the same rows, → commit`, report.ceilings.store?.summary.endToEnd);
  lines.push(table.trimEnd());
  lines.push('');
  lines.push(`gateway ${stepLine(g)}; ${g.record?.late ?? '–'} late (> budget)`);
  lines.push(`generator lag p99 ${ms(g.summary.generatorLag.p99)} ms`);
  lines.push(cpuLine(g.cpu, 'gateway'));
  lines.push(`gateway memory: peak RSS ${num(g.peakRssMiB, 0)} MiB`);
  if (g.runtime !== undefined) lines.push(runtimeLine(g.runtime));
  if (g.forwardedSignatures !== undefined) lines.push(`forwarded packets' XML-DSig checked: ${g.forwardedSignatures.valid} of ${g.forwardedSignatures.checked} valid`);
  for (const ceiling of [report.ceilings.http, report.ceilings.store]) {
    if (ceiling === undefined) continue;
    lines.push(`ceiling ${ceiling.kind} (${ceiling.what}) at ${ceiling.rate}/s for ${ceiling.durationS} s: ${stepLine(ceiling)}`);
    lines.push(`  ${cpuLine(ceiling.cpu, ceiling.kind === 'http' ? 'bare Fastify' : 'client')}`);
  }
  const l = report.limit;
  lines.push('');
  lines.push(
    `against this machine's ceilings: CPU per packet gateway + Postgres ${num(l.gatewayCpuMs)} ms vs bare ${num(l.ceilingCpuMs)} ms → the gateway reaches ${pct(l.cpuFraction)} ` +
      `of the CPU-bound rate (${num(l.gatewayCpuBoundRate, 0)}/s vs ${num(l.ceilingCpuBoundRate, 0)}/s on ${report.machine.cpus} cores; one gateway event loop on a core of its own: ${num(l.gatewayOneCoreRate, 0)}/s); ` +
      `post → 202 p50 ${times(l.admitP50Ratio)} and p99 ${times(l.admitP99Ratio)} the bare receive + store (${ms(l.admitFloorP50 ?? Number.NaN)} / ${ms(l.admitFloorP99 ?? Number.NaN)} ms)` +
      (l.rateFraction === undefined ? '' : `; max sustained rate ${pct(l.rateFraction)} of the lower ceiling's`),
  );
  const sat = report.saturation;
  if (sat !== undefined) {
    lines.push('');
    lines.push(`saturation (p99 ≤ ${sat.p99LimitMs} ms): max sustained ${sat.maxSustainedRate ?? 'none'}/s, limited by the ${sat.limitedBy}`);
    lines.push('| rate/s | completed/s | p50 | p99 | max | failed | gateway CPU ms | Postgres CPU ms | held | why not |\n|---:|---:|---:|---:|---:|---:|---:|---:|---|---|');
    for (const step of sat.steps) {
      const s = step.summary;
      lines.push(
        `| ${step.rate} | ${s.completedPerSecond.toFixed(1)} | ${ms(s.endToEnd.p50)} | ${ms(s.endToEnd.p99)} | ${ms(s.endToEnd.max)} | ${s.failed} | ${num(step.cpu.serverMsPerPacket)} | ${num(step.cpu.postgresMsPerPacket)} | ${step.verdict?.sustained ? 'yes' : 'no'} | ${step.verdict?.reasons.join('; ') ?? ''} |`,
      );
    }
    for (const ceiling of [report.ceilings.http, report.ceilings.store]) {
      if (ceiling?.saturation === undefined) continue;
      lines.push(`ceiling ${ceiling.kind}: max sustained ${ceiling.saturation.maxSustainedRate ?? 'none'}/s (limited by the ${ceiling.saturation.limitedBy}; steps ${ceiling.saturation.steps.map((s) => `${s.rate}${s.verdict?.sustained ? '✓' : '✗'}`).join(' ')})`);
    }
  }
  const targets = report.targets.filter((t) => t.applies);
  if (targets.length > 0) {
    lines.push('');
    for (const t of targets) lines.push(`target ${t.name}: ${t.met ? 'met' : 'NOT met'} (${t.measured})`);
  }
  if ((g.cpu.otherShare ?? 0) > 0.25) lines.push(`WARNING: other processes used ${pct(g.cpu.otherShare)} of the machine during the run; the figures are not clean`);
  return `${lines.join('\n')}\n`;
}
