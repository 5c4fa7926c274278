// Prometheus metrics of one gateway. Each gateway owns its Registry (never prom-client's global one)
// so several gateways can run in one process, as the end-to-end tests do.

import { performance } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Intake and delivery stages whose duration is observed (DESIGN: "Each stage records its elapsed time"). */
export const STAGES = ['decode', 'validate', 'verify', 'admit', 'wait_to_claim', 'deliver'] as const;
export type Stage = (typeof STAGES)[number];

/** Delivery states reported by the state gauge; `delivered` is left out on purpose (see queueStats). */
export const GAUGED_DELIVERY_STATES = ['queued', 'delivering', 'dead'] as const;
export type GaugedDeliveryState = (typeof GAUGED_DELIVERY_STATES)[number];

/** A snapshot of the delivery queue, read from the database at scrape time. */
export interface QueueSnapshot {
  readonly byState: Readonly<Record<GaugedDeliveryState, number>>;
  /** Deliveries not yet delivered nor dead (queued + delivering). */
  readonly depth: number;
  /** Age in seconds of the oldest delivery not yet delivered nor dead; 0 when none. */
  readonly oldestUndeliveredAgeSeconds: number;
  /** Seconds the longest-waiting due delivery has waited for a worker; 0 when none is due. */
  readonly oldestDueWaitSeconds: number;
}

// The event loop is the one server every packet of a node queues for: once it is busy most of the
// time, latency climbs (each packet waits behind the others' parsing and signing) well before CPU
// or the queue say the node is full. /metrics, the dashboard and the bench all read it this way.

/** Seconds this process's event loop has spent running callbacks since it started. */
export function eventLoopBusySeconds(): number {
  return performance.eventLoopUtilization().active / 1000;
}

/** The share (0..1) of `windowSeconds` the loop was busy, from two readings of eventLoopBusySeconds; undefined without both. */
export function eventLoopBusyShare(beforeSeconds: number | undefined, afterSeconds: number | undefined, windowSeconds: number): number | undefined {
  if (beforeSeconds === undefined || afterSeconds === undefined || windowSeconds <= 0) return undefined;
  return Math.min(1, Math.max(0, (afterSeconds - beforeSeconds) / windowSeconds));
}

/** Options of `createMetrics`. */
export interface MetricsOptions {
  /** Reads the queue for the gauges at scrape time; without it those gauges stay at 0. */
  readonly queueSnapshot?: () => Promise<QueueSnapshot>;
  /** Also export Node process metrics (CPU, memory, event loop lag); default true. */
  readonly processMetrics?: boolean;
}

// End-to-end latency is judged against the 5 s budget: fine buckets below it so p50/p99 are readable,
// and buckets beyond it so a late delivery is counted by how late it was.
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 3, 4, 5, 7.5, 10, 30, 60, 300];
// Stages cost from tens of microseconds (validate) to seconds (a slow adapter).
const STAGE_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The metric set of one gateway. */
export interface Metrics {
  readonly registry: Registry;
  readonly packetsAdmitted: Counter<'kind'>;
  readonly packetsRejected: Counter<'code'>;
  readonly packetsDuplicate: Counter<'kind'>;
  readonly deliveriesByState: Gauge<'state'>;
  readonly endToEndLatency: Histogram<'route_kind'>;
  readonly deadlineMisses: Counter;
  readonly queueDepth: Gauge;
  readonly queueWait: Gauge;
  readonly oldestUndeliveredAge: Gauge;
  readonly stageDuration: Histogram<'stage'>;
  readonly deliveryAttempts: Counter<'route_kind' | 'outcome'>;
  /** Records one stage's elapsed time in milliseconds. */
  observeStage(stage: Stage, elapsedMs: number): void;
}

/** Creates the metrics of one gateway in a registry of its own. */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  const registers = [registry];

  // One database read serves all queue gauges of a scrape: prom-client collects metrics concurrently,
  // so the gauges share the promise in flight instead of each running the query.
  let inflight: Promise<QueueSnapshot | undefined> | undefined;
  const snapshot = (): Promise<QueueSnapshot | undefined> => {
    const read = options.queueSnapshot;
    if (read === undefined) return Promise.resolve(undefined);
    inflight ??= read()
      .catch(() => undefined) // a failing scrape must not fail /metrics; /health reports the database
      .finally(() => {
        inflight = undefined;
      });
    return inflight;
  };

  const deliveriesByState = new Gauge({
    name: 'edxgate_deliveries',
    help: 'Deliveries by state (queued, delivering, dead), read from the database at scrape time',
    labelNames: ['state'] as const,
    registers,
    async collect() {
      const s = await snapshot();
      if (s) for (const state of GAUGED_DELIVERY_STATES) this.set({ state }, s.byState[state]);
    },
  });
  /** A gauge set from one number of the scrape's queue snapshot. */
  const snapshotGauge = (name: string, help: string, value: (s: QueueSnapshot) => number): Gauge =>
    new Gauge({
      name,
      help,
      registers,
      async collect() {
        const s = await snapshot();
        if (s) this.set(value(s));
      },
    });
  const queueDepth = snapshotGauge('edxgate_queue_depth', 'Deliveries waiting or in progress (queued + delivering)', (s) => s.depth);
  const queueWait = snapshotGauge(
    'edxgate_queue_wait_seconds',
    'How long the longest-waiting due delivery has waited for a worker (all nodes); over QUEUE_WAIT_BUDGET_MS new packets are refused with 503',
    (s) => s.oldestDueWaitSeconds,
  );
  const oldestUndeliveredAge = snapshotGauge(
    'edxgate_oldest_undelivered_age_seconds',
    'Age of the oldest delivery neither delivered nor dead',
    (s) => s.oldestUndeliveredAgeSeconds,
  );

  // A counter of busy seconds, not a gauge of utilization, so that rate() over any window gives the
  // utilization of that window, whatever the scrape interval.
  new Counter({
    name: 'edxgate_event_loop_busy_seconds_total',
    help: "Seconds this process's event loop spent running callbacks rather than waiting for I/O; its rate() is the event-loop utilization (0-1)",
    registers,
    collect() {
      this.reset();
      this.inc(eventLoopBusySeconds());
    },
  });

  const stageDuration = new Histogram({
    name: 'edxgate_stage_duration_seconds',
    help: 'Time spent in each stage of intake and delivery',
    labelNames: ['stage'] as const,
    buckets: STAGE_BUCKETS,
    registers,
  });
  // Every stage is listed from the first scrape, at count 0: a stage not yet run (no push delivery
  // yet: no wait_to_claim, no deliver) reads as "none so far", not as a series that does not exist.
  for (const stage of STAGES) stageDuration.zero({ stage });

  const metrics: Metrics = {
    registry,
    packetsAdmitted: new Counter({ name: 'edxgate_packets_admitted_total', help: 'Packets admitted, by kind (document, status)', labelNames: ['kind'] as const, registers }),
    packetsRejected: new Counter({ name: 'edxgate_packets_rejected_total', help: 'Packets refused, by error code', labelNames: ['code'] as const, registers }),
    packetsDuplicate: new Counter({
      name: 'edxgate_packets_duplicate_total',
      help: 'Re-posted packets answered with the original result',
      labelNames: ['kind'] as const,
      registers,
    }),
    deliveriesByState,
    endToEndLatency: new Histogram({
      name: 'edxgate_end_to_end_latency_seconds',
      help: 'From the sender request arriving to the recipient adapter acknowledging (push) or the packet being in the inbox (pull)',
      labelNames: ['route_kind'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    deadlineMisses: new Counter({ name: 'edxgate_deadline_misses_total', help: 'Deliveries that passed their deadline (admission + budget)', registers }),
    queueDepth,
    queueWait,
    oldestUndeliveredAge,
    stageDuration,
    deliveryAttempts: new Counter({
      name: 'edxgate_delivery_attempts_total',
      help: 'Delivery attempts, by route kind and outcome (accepted, rejected, retry, error)',
      labelNames: ['route_kind', 'outcome'] as const,
      registers,
    }),
    observeStage(stage, elapsedMs) {
      stageDuration.observe({ stage }, elapsedMs / 1000);
    },
  };

  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'edxgate_' });
  return metrics;
}
