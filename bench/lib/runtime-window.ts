// What the gateway's Node runtime did over one measured window, read from its own /metrics: time
// spent in garbage collection, how long callbacks waited for the event loop, and how much of the
// window the event loop was busy. CPU seconds say how much work a packet costs; these say why a
// tail is long when the CPU is not saturated — a scavenge or a busy loop holds every packet in
// flight behind it.
//
// prom-client's default metrics provide both: nodejs_gc_duration_seconds is a histogram since start
// (the window is the difference of two scrapes), and the event-loop delay gauges are read from
// perf_hooks.monitorEventLoopDelay, which prom-client resets at every scrape — so the scrape that
// opens the window discards what came before, and the one that closes it reports the window alone.
// The busy share is the gateway's own counter (edxgate_event_loop_busy_seconds_total) over the
// wall time between the two scrapes: near 100 %, every packet queues behind the others.

import { performance } from 'node:perf_hooks';
import { request } from 'undici';
import { eventLoopBusyShare } from '../../src/observability/metrics.ts';

/** Garbage-collection and event-loop figures of one window (undefined where /metrics did not tell). */
export interface RuntimeFigures {
  /** GC time per packet, ms, by kind (minor = scavenges of the young generation). */
  readonly gcMsPerPacket: { readonly minor: number; readonly major: number; readonly incremental: number } | undefined;
  /** GC pauses of at least 10 ms in the window (any kind). */
  readonly gcPausesOver10Ms: number | undefined;
  /** Event-loop delay over the window, ms: how late a timer callback ran. */
  readonly eventLoopDelayP99Ms: number | undefined;
  readonly eventLoopDelayMaxMs: number | undefined;
  /** Share of the window the event loop was busy running callbacks (0..1). */
  readonly eventLoopUtilization?: number | undefined;
}

/** A window that is running; `end(packets)` reads it. */
export interface RuntimeWindow {
  end(packets: number): Promise<RuntimeFigures>;
}

const GC_KINDS = ['minor', 'major', 'incremental'] as const;
type GcKind = (typeof GC_KINDS)[number];

interface Scrape {
  readonly gcSeconds: Readonly<Record<GcKind, number>>;
  /** GC pauses that fell in a bucket above 10 ms, all kinds. */
  readonly gcOver10Ms: number;
  readonly loopP99Seconds: number | undefined;
  readonly loopMaxSeconds: number | undefined;
  readonly loopBusySeconds: number | undefined;
}

/** One sample of a Prometheus text exposition: `name{labels} value`, labels as written. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    const value = Number(line.slice(space + 1));
    if (Number.isFinite(value)) out.set(line.slice(0, space), value);
  }
  return out;
}

/** Reads the figures this module needs from one /metrics exposition (exported for its test). */
export function readRuntimeMetrics(text: string, prefix = 'edxgate_'): Scrape | undefined {
  const s = samples(text);
  const sumOf = (kind: GcKind): number | undefined => s.get(`${prefix}nodejs_gc_duration_seconds_sum{kind="${kind}"}`);
  // Pauses above 10 ms: the count minus the cumulative 10 ms bucket, summed over the kinds.
  const over10Ms = (kind: GcKind): number => {
    const count = s.get(`${prefix}nodejs_gc_duration_seconds_count{kind="${kind}"}`) ?? 0;
    return count - (s.get(`${prefix}nodejs_gc_duration_seconds_bucket{le="0.01",kind="${kind}"}`) ?? count);
  };
  if (GC_KINDS.every((kind) => sumOf(kind) === undefined)) return undefined;
  return {
    gcSeconds: { minor: sumOf('minor') ?? 0, major: sumOf('major') ?? 0, incremental: sumOf('incremental') ?? 0 },
    gcOver10Ms: GC_KINDS.reduce((n, kind) => n + over10Ms(kind), 0),
    loopP99Seconds: s.get(`${prefix}nodejs_eventloop_lag_p99_seconds`),
    loopMaxSeconds: s.get(`${prefix}nodejs_eventloop_lag_max_seconds`),
    loopBusySeconds: s.get(`${prefix}event_loop_busy_seconds_total`),
  };
}

async function scrape(baseUrl: string): Promise<Scrape | undefined> {
  try {
    const response = await request(new URL('/metrics', baseUrl), { headersTimeout: 10_000, bodyTimeout: 10_000 });
    const text = await response.body.text();
    return response.statusCode === 200 ? readRuntimeMetrics(text) : undefined;
  } catch {
    // A gateway that cannot be scraped leaves the figures unknown; the run's other figures still stand.
    return undefined;
  }
}

/** Opens a window on the gateway at `baseUrl` (the scrape resets its event-loop delay record). */
export async function startRuntimeWindow(baseUrl: string): Promise<RuntimeWindow> {
  const before = await scrape(baseUrl);
  const openedAt = performance.now();
  return {
    async end(packets) {
      const after = await scrape(baseUrl);
      const windowS = (performance.now() - openedAt) / 1000;
      const unknown: RuntimeFigures = { gcMsPerPacket: undefined, gcPausesOver10Ms: undefined, eventLoopDelayP99Ms: undefined, eventLoopDelayMaxMs: undefined };
      if (after === undefined) return unknown;
      const toMs = (seconds: number | undefined): number | undefined => (seconds === undefined ? undefined : seconds * 1000);
      const perPacket = (from: Scrape, kind: GcKind): number => ((after.gcSeconds[kind] - from.gcSeconds[kind]) * 1000) / packets;
      return {
        gcMsPerPacket:
          before === undefined || packets <= 0 ? undefined : { minor: perPacket(before, 'minor'), major: perPacket(before, 'major'), incremental: perPacket(before, 'incremental') },
        gcPausesOver10Ms: before === undefined ? undefined : after.gcOver10Ms - before.gcOver10Ms,
        eventLoopDelayP99Ms: toMs(after.loopP99Seconds),
        eventLoopDelayMaxMs: toMs(after.loopMaxSeconds),
        eventLoopUtilization: eventLoopBusyShare(before?.loopBusySeconds, after.loopBusySeconds, windowS),
      };
    },
  };
}
