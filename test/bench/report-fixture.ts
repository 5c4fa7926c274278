// A BenchReport built by hand for the tests of the pure parts (compare, docs, machine limit):
// every figure is chosen, so the tests can say what each output must be.

import type { BenchReport, CeilingFigures, CpuFigures, StepFigures } from '../../bench/lib/report.ts';
import { machineLimit } from '../../bench/lib/report.ts';
import type { PhaseSummary } from '../../bench/lib/phase-summary.ts';
import type { LatencySummary } from '../../bench/lib/stats.ts';

export function latency(p50: number, p90: number, p99: number, max: number, count = 1000): LatencySummary {
  return { count, mean: p50, p50, p90, p99, p999: max, max };
}

export function phaseSummary(endToEnd: LatencySummary, answer: LatencySummary = latency(1, 2, 3, 4)): PhaseSummary {
  return {
    sent: endToEnd.count,
    accepted: endToEnd.count,
    failed: 0,
    failures: {},
    completed: endToEnd.count,
    missing: 0,
    redelivered: 0,
    endToEnd,
    perDelivery: endToEnd,
    answer,
    generatorLag: latency(0.1, 0.2, 0.5, 1),
    offeredPerSecond: 100,
    completedPerSecond: 100,
    servedPerSecond: 100,
    perSecond: [{ second: 0, p50: endToEnd.p50, p99: endToEnd.p99, max: endToEnd.max }],
  };
}

export function cpu(server: number | undefined, postgres: number | undefined): CpuFigures {
  return { serverMsPerPacket: server, serverCoreShare: 0.5, postgresMsPerPacket: postgres, benchMsPerPacket: 1, machineBusyShare: 0.6, otherShare: 0.02 };
}

function step(summary: PhaseSummary, c: CpuFigures): StepFigures {
  return { rate: 100, durationS: 30, summary, cpu: c, peakRssMiB: 300 };
}

/** A medium run on Postgres: end to end 20/40/80/120 ms, post → 202 10/15/30/40, gateway 8 ms + Postgres 2 ms of CPU. */
export function sampleReport(overrides: Partial<BenchReport> = {}): BenchReport {
  const gateway = { ...step(phaseSummary(latency(20, 40, 80, 120), latency(10, 15, 30, 40)), cpu(8, 2)), record: { delivered: 1000, p50: 18, p99: 75, late: 0 } };
  const http: CeilingFigures = { ...step(phaseSummary(latency(1, 1.5, 2, 5)), cpu(0.5, undefined)), kind: 'http', what: 'bare Fastify' };
  const store: CeilingFigures = { ...step(phaseSummary(latency(2, 3, 4, 9)), cpu(1, 1.5)), kind: 'store', what: 'bare inserts' };
  const base: BenchReport = {
    bench: 'edxgate-suite',
    version: 1,
    scenario: 'medium',
    label: '',
    at: '2026-12-05T12:00:00.000Z',
    database: 'postgres',
    databaseVersion: 'Postgres 15.20',
    machine: { cpus: 2, model: 'Test CPU', memoryGiB: 4, os: 'linux', node: 'v20.0.0' },
    load: { loadAverage: 0.5, busyBefore: 0.05 },
    options: { mode: 'fixed', rate: 100, durationS: 30, warmupS: 5, ceilingDurationS: 10, sizeBytes: 106_547, recipients: 1, signed: true, urgentRate: undefined, logLevel: 'info', env: {} },
    gateway,
    ceilings: { http, store },
    limit: machineLimit({ cores: 2, gateway, http, store }),
    targets: [{ name: 'p99 ≤ 50 ms', applies: true, met: false, measured: 'p99 80 ms' }],
  };
  return { ...base, ...overrides };
}
