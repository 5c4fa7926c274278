// What the operators' dashboard (/dashboard, its JSON at /v1/dashboard) shows, built from two
// sources:
//
// - this node's metrics (the prom-client registry of its gateway): end-to-end latency and stage
//   histograms, admission and deadline counters. Histograms and counters only ever grow, so a figure
//   "over the last minute" is the difference between now and a sample taken a minute ago — what
//   Prometheus's rate()/histogram_quantile() do. The samples are kept in memory (a ring of about
//   ten minutes), which also gives the charts their history the moment a page opens.
// - the database, for what every node shares: the queue, deliveries by state, dead letters and the
//   busiest agencies of the last hour; and the trust service for certificates about to expire.
//   Those reads are cached briefly, so any number of open dashboards cost one set of queries per
//   cache period.
//
// Nothing here knows HTTP; src/api/dashboard/ serves it. The database and the certificate report
// come in as narrow dependencies (a kysely handle, an expiry function) so that observability does
// not reach into the gateway's composition.

import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Histogram } from 'prom-client';
import { DELIVERY_STATES } from '../store/database.ts';
import type { Database, DeliveryState } from '../store/database.ts';
import { queueStats } from '../store/queries/queue-stats.ts';
import type { ExpiryReport } from '../trust/pki/expiry.ts';
import { STAGES, eventLoopBusySeconds, eventLoopBusyShare } from './metrics.ts';
import type { Metrics, Stage } from './metrics.ts';

// --- histogram arithmetic --------------------------------------------------------------------------

/** A histogram's cumulative bucket counts (Prometheus `le` semantics); the last bound is +Infinity. */
export interface BucketCounts {
  readonly bounds: readonly number[];
  /** cumulative[i] = observations ≤ bounds[i]; the last one is the total count. */
  readonly cumulative: readonly number[];
  /** Sum of the observed values. */
  readonly sum: number;
}

const EMPTY_COUNTS: BucketCounts = { bounds: [Number.POSITIVE_INFINITY], cumulative: [0], sum: 0 };

/** Observations counted by a histogram. */
export function countOf(h: BucketCounts): number {
  return h.cumulative.at(-1) ?? 0;
}

/**
 * The q-quantile (0 < q < 1) estimated from bucket counts, interpolating linearly inside the bucket
 * the rank falls in — Prometheus's histogram_quantile(), so the dashboard and a Grafana panel on
 * /metrics agree. A rank in the +Inf bucket answers the highest finite bound (the estimate cannot
 * say more). Undefined when the histogram is empty.
 */
export function histogramQuantile(q: number, h: BucketCounts): number | undefined {
  const total = countOf(h);
  if (!(total > 0)) return undefined;
  const rank = q * total;
  for (let i = 0; i < h.bounds.length; i++) {
    const upTo = h.cumulative[i] ?? 0;
    if (upTo < rank) continue;
    const upper = h.bounds[i] ?? Number.POSITIVE_INFINITY;
    const lower = i === 0 ? 0 : (h.bounds[i - 1] ?? 0);
    if (upper === Number.POSITIVE_INFINITY) return i === 0 ? undefined : lower;
    const before = i === 0 ? 0 : (h.cumulative[i - 1] ?? 0);
    const inBucket = upTo - before;
    if (inBucket <= 0) return upper;
    return lower + ((upper - lower) * (rank - before)) / inBucket;
  }
  return undefined;
}

/** `current - base`, bucket by bucket; `current` alone when the bounds differ or a count went down (a reset). */
export function subtractCounts(current: BucketCounts, base: BucketCounts): BucketCounts {
  if (base.bounds.length !== current.bounds.length || countOf(base) === 0) return current;
  const cumulative = current.cumulative.map((c, i) => c - (base.cumulative[i] ?? 0));
  if (cumulative.some((c) => c < 0)) return current;
  return { bounds: current.bounds, cumulative, sum: current.sum - base.sum };
}

/** Observations above `limit` (in the histogram's unit), counted at the largest bucket bound ≤ limit. */
export function countAbove(h: BucketCounts, limit: number): number {
  let within = 0;
  h.bounds.forEach((bound, i) => {
    if (bound <= limit) within = h.cumulative[i] ?? within;
  });
  return countOf(h) - within;
}

type LabelValues = Readonly<Record<string, string | number | undefined>>;

/**
 * Reads a prom-client histogram as bucket counts, summed over every label set — or one entry per
 * value of `groupBy` (e.g. `stage`). prom-client reports `le` as a number, or '+Inf'.
 */
async function readHistogram(histogram: Histogram<string>, groupBy?: string): Promise<Map<string, BucketCounts>> {
  const groups = new Map<string, { bounds: Map<number, number>; sum: number }>();
  const group = (labels: LabelValues) => {
    const key = groupBy === undefined ? '' : String(labels[groupBy] ?? '');
    let g = groups.get(key);
    if (g === undefined) {
      g = { bounds: new Map(), sum: 0 };
      groups.set(key, g);
    }
    return g;
  };
  for (const value of (await histogram.get()).values) {
    // The label type prom-client declares omits `le`, which it adds to every bucket.
    const labels = value.labels as LabelValues;
    if (value.metricName?.endsWith('_bucket')) {
      const le = labels['le'];
      const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
      if (Number.isNaN(bound)) continue;
      const g = group(labels);
      g.bounds.set(bound, (g.bounds.get(bound) ?? 0) + value.value);
    } else if (value.metricName?.endsWith('_sum')) {
      group(labels).sum += value.value;
    }
  }
  const out = new Map<string, BucketCounts>();
  for (const [key, g] of groups) {
    const bounds = [...g.bounds.keys()].sort((a, b) => a - b);
    out.set(key, { bounds, cumulative: bounds.map((b) => g.bounds.get(b) ?? 0), sum: g.sum });
  }
  return out;
}

// --- the snapshot ----------------------------------------------------------------------------------

/** p50/p90/p99 (ms) of a set of observations, with how many there were; null percentiles when none. */
export interface Percentiles {
  readonly count: number;
  readonly p50Ms: number | null;
  readonly p90Ms: number | null;
  readonly p99Ms: number | null;
  /** sum / count, ms; null when none. */
  readonly meanMs: number | null;
}

/** One point of the latency chart: the percentiles of the window ending at `t`. */
export interface LatencyPoint {
  /** Epoch ms. */
  readonly t: number;
  readonly count: number;
  readonly p50Ms: number | null;
  readonly p90Ms: number | null;
  readonly p99Ms: number | null;
}

/** One point of the throughput chart: per-second rates over the window ending at `t`. */
export interface ThroughputPoint {
  readonly t: number;
  readonly admitted: number;
  readonly delivered: number;
  readonly rejected: number;
}

/** A dead-lettered delivery, as the dashboard lists it. */
export interface DeadLetter {
  readonly deliveryId: string;
  readonly packetId: string;
  readonly sender: string;
  readonly recipient: string;
  readonly attempts: number;
  /** Clipped: enough to tell what went wrong; the full text is in GET /v1/deliveries?state=dead. */
  readonly lastError: string | null;
  /** When it was last tried. */
  readonly lastAttemptAt: Date;
}

/** An agency's traffic over the last hour. */
export interface AgencyTraffic {
  readonly code: string;
  /** From the directory; null for a code it does not hold (an upstream sender). */
  readonly name: string | null;
  /** Packets it sent. */
  readonly sent: number;
  /** Deliveries addressed to it, whatever their state. */
  readonly received: number;
}

/** A certificate expiring within the warning horizon (or expired). */
export interface CertificateWarning {
  readonly role: string;
  readonly agency: string | null;
  readonly subject: string;
  readonly fingerprint256: string;
  readonly notAfter: Date;
  readonly daysToExpiry: number;
  readonly expired: boolean;
}

/** Everything the dashboard shows, at one instant. */
export interface DashboardSnapshot {
  readonly generatedAt: Date;
  readonly budgetMs: number;
  /** The sliding window of rates and "recent" percentiles. */
  readonly windowSeconds: number;
  readonly sampleIntervalSeconds: number;
  /** How far back the series go. */
  readonly historySeconds: number;
  /** End-to-end latency (sender's request → recipient has it), this node's deliveries. */
  readonly latency: {
    readonly window: Percentiles & { readonly overBudget: number };
    readonly total: Percentiles & { readonly overBudget: number };
    readonly series: readonly LatencyPoint[];
  };
  /** Per stage of intake and delivery, in flow order. */
  readonly stages: readonly { readonly stage: Stage; readonly window: Percentiles; readonly total: Percentiles }[];
  readonly throughput: {
    readonly admittedPerSecond: number;
    readonly deliveredPerSecond: number;
    readonly rejectedPerSecond: number;
    /**
     * Share of the window (0..1) this node's event loop was busy running callbacks. Every packet of
     * the node waits for that loop, so the latency tail climbs with it long before the CPU is full.
     */
    readonly eventLoopBusyShare: number;
    readonly series: readonly ThroughputPoint[];
  };
  /** This node's counters since it started. */
  readonly totals: { readonly admitted: number; readonly rejected: number; readonly duplicate: number; readonly delivered: number; readonly deadlineMisses: number };
  readonly deadlineMisses: { readonly total: number; readonly window: number };
  /** The shared queue (every node); null when the database could not be read. */
  readonly queue: {
    readonly depth: number;
    readonly oldestUndeliveredAgeSeconds: number;
    readonly queued: number;
    readonly delivering: number;
    readonly dead: number;
  } | null;
  /** Deliveries of the packets received in the last `sinceHours`, by state. */
  readonly deliveries: { readonly sinceHours: number; readonly byState: Readonly<Record<DeliveryState, number>> } | null;
  readonly deadLetters: { readonly total: number; readonly latest: readonly DeadLetter[] } | null;
  readonly topAgencies: { readonly sinceHours: number; readonly items: readonly AgencyTraffic[] } | null;
  readonly certificates: { readonly withinDays: number; readonly expiring: readonly CertificateWarning[]; readonly unreadable: number } | null;
  /** The parts that could not be read this time ('database', 'certificates'); the reason is logged, not shown. */
  readonly errors: readonly string[];
}

/** What a snapshot is built from. */
export interface DashboardSnapshotDeps {
  readonly metrics: Pick<Metrics, 'endToEndLatency' | 'stageDuration' | 'packetsAdmitted' | 'packetsRejected' | 'packetsDuplicate' | 'deadlineMisses'>;
  readonly db: Kysely<Database>;
  /** Certificates expiring within `withinDays` (the gateway's `trust.expiry`). */
  readonly expiry: (withinDays: number) => Promise<ExpiryReport>;
  /** The 5 s budget the latency is judged against (config BUDGET_MS). */
  readonly budgetMs: number;
  /** Told why a part could not be read (the JSON only names the part). */
  readonly onError?: ((part: string, error: unknown) => void) | undefined;
  /** Seconds the event loop has been busy since the process started (default eventLoopBusySeconds); tests pass a fake with their fake clock. */
  readonly eventLoopBusySeconds?: (() => number) | undefined;
}

/** Tuning; the defaults suit a page refreshing every 3 s. */
export interface DashboardSnapshotOptions {
  /** Epoch ms; tests pass a fake clock. */
  readonly now?: (() => number) | undefined;
  /** How often the metrics are sampled in the background (default 5 s; 0: only when asked, tests). */
  readonly sampleIntervalMs?: number | undefined;
  /** How much history the charts get (default 10 min). */
  readonly historyMs?: number | undefined;
  /** The window of rates and recent percentiles (default 60 s, as a Prometheus rate(…[1m])). */
  readonly windowMs?: number | undefined;
  /** How long database figures are reused (default 2 s). */
  readonly databaseCacheMs?: number | undefined;
  /** How long the certificate report is reused (default 60 s: it parses every certificate). */
  readonly certificatesCacheMs?: number | undefined;
  /** Warn about certificates expiring within this many days (default 30). */
  readonly expiryWarningDays?: number | undefined;
  /** How far back "traffic" and "deliveries by state" look (default 1 h; packets_received_at_idx serves it). */
  readonly trafficHours?: number | undefined;
  /** Rows of the top-agencies table (default 10). */
  readonly topAgencies?: number | undefined;
}

/** The metrics at one instant (all cumulative since the node started). */
interface Sample {
  readonly at: number;
  readonly latency: BucketCounts;
  readonly stages: ReadonlyMap<string, BucketCounts>;
  readonly admitted: number;
  readonly rejected: number;
  readonly duplicate: number;
  readonly deadlineMisses: number;
  readonly eventLoopBusySeconds: number;
}

interface DatabasePart {
  readonly queue: NonNullable<DashboardSnapshot['queue']>;
  readonly deliveries: NonNullable<DashboardSnapshot['deliveries']>;
  readonly deadLetters: NonNullable<DashboardSnapshot['deadLetters']>;
  readonly topAgencies: NonNullable<DashboardSnapshot['topAgencies']>;
}

const LAST_ERROR_CHARS = 200;
const DEAD_LETTERS_SHOWN = 5;

async function counterTotal(counter: { get(): Promise<{ values: readonly { value: number }[] }> }): Promise<number> {
  return (await counter.get()).values.reduce((sum, v) => sum + v.value, 0);
}

/** Seconds histograms → ms percentiles. */
function percentiles(h: BucketCounts): Percentiles {
  const count = countOf(h);
  const ms = (q: number): number | null => {
    const v = histogramQuantile(q, h);
    return v === undefined ? null : round(v * 1000);
  };
  return { count, p50Ms: ms(0.5), p90Ms: ms(0.9), p99Ms: ms(0.99), meanMs: count > 0 ? round((h.sum / count) * 1000) : null };
}

/** Three significant decimals of a millisecond are below any bucket's resolution. */
function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** The dashboard figures of one gateway node: samples its metrics in the background, reads the database on demand. */
export class DashboardSnapshots {
  readonly #deps: DashboardSnapshotDeps;
  readonly #now: () => number;
  readonly #sampleIntervalMs: number;
  readonly #historyMs: number;
  readonly #windowMs: number;
  readonly #databaseCacheMs: number;
  readonly #certificatesCacheMs: number;
  readonly #expiryWarningDays: number;
  readonly #trafficHours: number;
  readonly #topAgencies: number;
  readonly #samples: Sample[] = [];
  #timer: NodeJS.Timeout | undefined;
  #database: { readonly at: number; readonly value: Promise<DatabasePart> } | undefined;
  #certificates: { readonly at: number; readonly value: Promise<NonNullable<DashboardSnapshot['certificates']>> } | undefined;

  constructor(deps: DashboardSnapshotDeps, options: DashboardSnapshotOptions = {}) {
    this.#deps = deps;
    this.#now = options.now ?? Date.now;
    this.#sampleIntervalMs = options.sampleIntervalMs ?? 5000;
    this.#historyMs = options.historyMs ?? 10 * 60_000;
    this.#windowMs = options.windowMs ?? 60_000;
    this.#databaseCacheMs = options.databaseCacheMs ?? 2000;
    this.#certificatesCacheMs = options.certificatesCacheMs ?? 60_000;
    this.#expiryWarningDays = options.expiryWarningDays ?? 30;
    this.#trafficHours = options.trafficHours ?? 1;
    this.#topAgencies = options.topAgencies ?? 10;
  }

  /** Takes a first sample and samples every interval until stop(); the timer does not keep the process alive. */
  async start(): Promise<void> {
    await this.sample();
    if (this.#sampleIntervalMs <= 0 || this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      // Reading an in-process registry does not fail in practice; a failure only costs one point.
      this.sample().catch((error: unknown) => this.#deps.onError?.('metrics', error));
    }, this.#sampleIntervalMs);
    this.#timer.unref();
  }

  /** Stops the background sampling. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Records the metrics now into the history (the timer calls it; tests call it with a fake clock). */
  async sample(): Promise<void> {
    const sample = await this.#read();
    this.#samples.push(sample);
    // One sample older than the history is kept, as the base of the oldest point's window.
    const horizon = sample.at - this.#historyMs - this.#windowMs;
    while (this.#samples.length > 2 && (this.#samples[1]?.at ?? Number.POSITIVE_INFINITY) <= horizon) this.#samples.shift();
  }

  /** The figures now. Database or certificate failures leave their parts null and name them in `errors`. */
  async snapshot(): Promise<DashboardSnapshot> {
    const errors: string[] = [];
    const [current, database, certificates] = await Promise.all([
      this.#read(),
      this.#databasePart().catch((error: unknown) => {
        errors.push('database');
        this.#deps.onError?.('database', error);
        return undefined;
      }),
      this.#certificatesPart().catch((error: unknown) => {
        errors.push('certificates');
        this.#deps.onError?.('certificates', error);
        return undefined;
      }),
    ]);
    // The stored history plus the reading of this instant, so the charts end now.
    const points = [...this.#samples.filter((s) => s.at < current.at), current];
    const windowOf = (end: Sample): { base: Sample; seconds: number } => {
      const base = this.#baseFor(points, end);
      return { base, seconds: Math.max((end.at - base.at) / 1000, 0.001) };
    };
    const { base, seconds } = windowOf(current);
    const firstShown = current.at - this.#historyMs;
    const shown = points.filter((p) => p.at >= firstShown && p !== points[0]);
    const latencyWindow = subtractCounts(current.latency, base.latency);
    const budgetSeconds = this.#deps.budgetMs / 1000;
    const delivered = (s: Sample) => countOf(s.latency);

    return {
      generatedAt: new Date(current.at),
      budgetMs: this.#deps.budgetMs,
      windowSeconds: this.#windowMs / 1000,
      sampleIntervalSeconds: this.#sampleIntervalMs / 1000,
      historySeconds: this.#historyMs / 1000,
      latency: {
        window: { ...percentiles(latencyWindow), overBudget: countAbove(latencyWindow, budgetSeconds) },
        total: { ...percentiles(current.latency), overBudget: countAbove(current.latency, budgetSeconds) },
        series: shown.map((end) => {
          const p = percentiles(subtractCounts(end.latency, windowOf(end).base.latency));
          return { t: end.at, count: p.count, p50Ms: p.p50Ms, p90Ms: p.p90Ms, p99Ms: p.p99Ms };
        }),
      },
      stages: STAGES.map((stage) => {
        const total = current.stages.get(stage) ?? EMPTY_COUNTS;
        return { stage, window: percentiles(subtractCounts(total, base.stages.get(stage) ?? EMPTY_COUNTS)), total: percentiles(total) };
      }),
      throughput: {
        admittedPerSecond: round((current.admitted - base.admitted) / seconds),
        deliveredPerSecond: round((delivered(current) - delivered(base)) / seconds),
        rejectedPerSecond: round((current.rejected - base.rejected) / seconds),
        eventLoopBusyShare: round(eventLoopBusyShare(base.eventLoopBusySeconds, current.eventLoopBusySeconds, seconds) ?? 0),
        series: shown.map((end) => {
          const w = windowOf(end);
          return {
            t: end.at,
            admitted: round((end.admitted - w.base.admitted) / w.seconds),
            delivered: round((delivered(end) - delivered(w.base)) / w.seconds),
            rejected: round((end.rejected - w.base.rejected) / w.seconds),
          };
        }),
      },
      totals: {
        admitted: current.admitted,
        rejected: current.rejected,
        duplicate: current.duplicate,
        delivered: delivered(current),
        deadlineMisses: current.deadlineMisses,
      },
      deadlineMisses: { total: current.deadlineMisses, window: current.deadlineMisses - base.deadlineMisses },
      queue: database?.queue ?? null,
      deliveries: database?.deliveries ?? null,
      deadLetters: database?.deadLetters ?? null,
      topAgencies: database?.topAgencies ?? null,
      certificates: certificates ?? null,
      errors,
    };
  }

  /** The base of the window ending at `end`: the latest point at least a window earlier, else the oldest. */
  #baseFor(points: readonly Sample[], end: Sample): Sample {
    let base = points[0] ?? end;
    for (const p of points) {
      if (p.at <= end.at - this.#windowMs) base = p;
      else break;
    }
    return base;
  }

  async #read(): Promise<Sample> {
    const m = this.#deps.metrics;
    const at = this.#now();
    const [latency, stages, admitted, rejected, duplicate, deadlineMisses] = await Promise.all([
      readHistogram(m.endToEndLatency),
      readHistogram(m.stageDuration, 'stage'),
      counterTotal(m.packetsAdmitted),
      counterTotal(m.packetsRejected),
      counterTotal(m.packetsDuplicate),
      counterTotal(m.deadlineMisses),
    ]);
    const busySeconds = (this.#deps.eventLoopBusySeconds ?? eventLoopBusySeconds)();
    return { at, latency: latency.get('') ?? EMPTY_COUNTS, stages, admitted, rejected, duplicate, deadlineMisses, eventLoopBusySeconds: busySeconds };
  }

  #databasePart(): Promise<DatabasePart> {
    const now = this.#now();
    const cached = this.#database;
    if (cached !== undefined && now - cached.at < this.#databaseCacheMs) return cached.value;
    const value = this.#readDatabase(new Date(now - this.#trafficHours * 3_600_000));
    this.#database = { at: now, value };
    // A failed read is not reused: the next refresh tries again.
    value.catch(() => {
      if (this.#database?.value === value) this.#database = undefined;
    });
    return value;
  }

  async #readDatabase(since: Date): Promise<DatabasePart> {
    const db = this.#deps.db;
    const [queue, byState, traffic, dead] = await Promise.all([
      queueStats(db),
      // Deliveries of recent packets: from packets_received_at_idx to the (packet_id, recipient)
      // unique index, never through the whole (mostly delivered) history of deliveries.
      sql<{ state: string; n: number }>`
        SELECT d.state, count(*)::integer AS n
        FROM packets p JOIN deliveries d ON d.packet_id = p.id
        WHERE p.received_at >= ${since}
        GROUP BY d.state`.execute(db),
      sql<{ code: string; name: string | null; sent: number; received: number }>`
        WITH recent AS (SELECT id, sender FROM packets WHERE received_at >= ${since}),
        traffic AS (
          SELECT sender AS code, count(*)::integer AS sent, 0 AS received FROM recent GROUP BY sender
          UNION ALL
          SELECT d.recipient, 0, count(*)::integer FROM recent r JOIN deliveries d ON d.packet_id = r.id GROUP BY d.recipient
        )
        SELECT t.code, a.name, sum(t.sent)::integer AS sent, sum(t.received)::integer AS received
        FROM traffic t LEFT JOIN agencies a ON a.code = t.code
        GROUP BY t.code, a.name
        ORDER BY sum(t.sent) + sum(t.received) DESC, t.code
        LIMIT ${this.#topAgencies}`.execute(db),
      // Dead rows are few and deliveries_claim_idx (partial, state <> 'delivered') finds them.
      db
        .selectFrom('deliveries')
        .innerJoin('packets', 'packets.id', 'deliveries.packet_id')
        .select([
          'deliveries.id',
          'deliveries.packet_id',
          'packets.sender',
          'deliveries.recipient',
          'deliveries.attempts',
          'deliveries.last_error',
          'deliveries.next_attempt_at',
        ])
        .where('deliveries.state', '=', 'dead')
        .orderBy('deliveries.next_attempt_at', 'desc')
        .limit(DEAD_LETTERS_SHOWN)
        .execute(),
    ]);
    const states = Object.fromEntries(DELIVERY_STATES.map((s) => [s, 0])) as Record<DeliveryState, number>;
    for (const row of byState.rows) {
      if ((DELIVERY_STATES as readonly string[]).includes(row.state)) states[row.state as DeliveryState] = row.n;
    }
    return {
      queue: {
        depth: queue.depth,
        oldestUndeliveredAgeSeconds: round(queue.oldestUndeliveredAgeSeconds),
        queued: queue.byState.queued,
        delivering: queue.byState.delivering,
        dead: queue.byState.dead,
      },
      deliveries: { sinceHours: this.#trafficHours, byState: states },
      deadLetters: {
        total: queue.byState.dead,
        latest: dead.map((d) => ({
          deliveryId: d.id,
          packetId: d.packet_id,
          sender: d.sender,
          recipient: d.recipient,
          attempts: d.attempts,
          lastError: d.last_error === null ? null : d.last_error.slice(0, LAST_ERROR_CHARS),
          lastAttemptAt: d.next_attempt_at,
        })),
      },
      topAgencies: {
        sinceHours: this.#trafficHours,
        items: traffic.rows.map((r) => ({ code: r.code, name: r.name, sent: Number(r.sent), received: Number(r.received) })),
      },
    };
  }

  #certificatesPart(): Promise<NonNullable<DashboardSnapshot['certificates']>> {
    const now = this.#now();
    const cached = this.#certificates;
    if (cached !== undefined && now - cached.at < this.#certificatesCacheMs) return cached.value;
    const withinDays = this.#expiryWarningDays;
    const value = this.#deps.expiry(withinDays).then((report) => ({
      withinDays,
      expiring: report.expiring.map((c) => ({
        role: c.role,
        agency: c.agency ?? null,
        subject: c.subject,
        fingerprint256: c.fingerprint256,
        notAfter: c.notAfter,
        daysToExpiry: c.daysToExpiry,
        expired: c.expired,
      })),
      unreadable: report.unreadable.length,
    }));
    this.#certificates = { at: now, value };
    value.catch(() => {
      if (this.#certificates?.value === value) this.#certificates = undefined;
    });
    return value;
  }
}
