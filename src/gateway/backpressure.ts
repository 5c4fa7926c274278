// Load shedding at the door. When this node's memory or the shared delivery queue is over its
// budget, new packets are refused with 503 and Retry-After before their body is read, instead of
// being admitted into a queue the node cannot drain within the budget, or read into memory the
// process does not have (DESIGN: bad load gets a clear answer, never a hang or a crash). The
// refusal admits nothing, so a sender retrying later loses nothing.
//
// The queue has two budgets. Its depth bounds what is stored; how long due deliveries wait for a
// worker bounds lateness. The second is what a node saturated by intake needs: at 200 packets/s of
// 100 KB on 2 cores, intake took the CPU, the workers delivered 20/s, and every admitted packet
// missed its deadline by half a minute while the depth stayed far under its budget. Refusing new
// packets once the wait is over its budget gives the workers the CPU back. The wait is read from the
// database once a second and, in between, from what this node's workers see at each claim: at 200
// packets/s a second of lag is 200 more packets admitted late, so the fresher reading is used.

import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { QueueStats } from '../store/queries/queue-stats.ts';

/** The budgets (from config.overload). 0 switches a check off. */
export interface BackpressureOptions {
  /** Resident set size above which new packets are refused. */
  readonly maxRssBytes: number;
  /** Deliveries queued or in flight (all nodes) above which new packets are refused. */
  readonly maxQueueDepth: number;
  /** How long the longest-waiting due delivery may have waited for a worker before new packets are refused. */
  readonly maxQueueWaitMs: number;
  /** What Retry-After tells the refused sender. */
  readonly retryAfterSeconds: number;
  /** How often the queue is read from the database (default 1 s). */
  readonly sampleIntervalMs?: number | undefined;
}

/** Where the numbers come from. */
export interface BackpressureDeps {
  /** The queue now (all nodes). */
  readonly queue: () => Promise<QueueSample>;
  /** This process's resident set size; default process.memoryUsage.rss. */
  readonly rss?: (() => number) | undefined;
  readonly logger: Logger;
}

/** What the shedder reads of the shared queue (store/queries/queue-stats.ts). */
export type QueueSample = Pick<QueueStats, 'depth' | 'oldestDueWaitSeconds'>;

/** Why a packet is refused now. */
export interface Overload {
  readonly reason: string;
  readonly retryAfterSeconds: number;
}

/** The load shedder of one node. */
export class Backpressure {
  readonly #options: BackpressureOptions;
  readonly #deps: BackpressureDeps;
  readonly #rss: () => number;
  #queueDepth = 0;
  /** The wait as last known, from a sample or a claim, whichever came last. */
  #queueWaitMs = 0;
  #timer: NodeJS.Timeout | undefined;
  #sampling: Promise<void> | undefined;
  #overloaded = false;

  constructor(options: BackpressureOptions, deps: BackpressureDeps) {
    this.#options = options;
    this.#deps = deps;
    this.#rss = deps.rss ?? cachedRss(RSS_MAX_AGE_MS);
  }

  /** Starts sampling the queue (memory is read on checks, at most every RSS_MAX_AGE_MS). */
  start(): void {
    if (this.#timer !== undefined || (this.#options.maxQueueDepth <= 0 && this.#options.maxQueueWaitMs <= 0)) return;
    const sample = (): void => {
      this.#sampling ??= this.#deps
        .queue()
        .then((queue) => {
          this.#queueDepth = queue.depth;
          this.#queueWaitMs = queue.oldestDueWaitSeconds * 1000;
        })
        .catch((error: unknown) => this.#deps.logger.warn({ err: error }, 'queue sample failed; the last value stands'))
        .finally(() => {
          this.#sampling = undefined;
        });
    };
    sample();
    this.#timer = setInterval(sample, this.#options.sampleIntervalMs ?? 1000);
    this.#timer.unref();
  }

  /** Stops sampling. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#sampling;
  }

  /**
   * What this node's workers saw at a claim: the longest wait of the due deliveries left (see
   * DeliveryDeps.onClaimed). Newer than the last sample, so it replaces it until the next one; a
   * node whose workers are stuck claims nothing, and the next sample speaks for it.
   */
  observeQueueWait(ms: number): void {
    this.#queueWaitMs = ms;
  }

  /** The reason to refuse a new packet now, or undefined when the node can take it. */
  check(): Overload | undefined {
    const { maxRssBytes, maxQueueDepth, maxQueueWaitMs, retryAfterSeconds } = this.#options;
    let reason: string | undefined;
    const rss = maxRssBytes > 0 ? this.#rss() : 0;
    if (maxRssBytes > 0 && rss > maxRssBytes) {
      reason = `this node uses ${mib(rss)} MiB of memory, over its budget of ${mib(maxRssBytes)} MiB`;
    } else if (maxQueueDepth > 0 && this.#queueDepth > maxQueueDepth) {
      reason = `${this.#queueDepth} deliveries are waiting, over the budget of ${maxQueueDepth}`;
    } else if (maxQueueWaitMs > 0 && this.#queueWaitMs > maxQueueWaitMs) {
      reason = `deliveries have waited ${Math.round(this.#queueWaitMs)} ms for a worker, over the budget of ${maxQueueWaitMs} ms: the workers are catching up`;
    }
    // Logged on the edges, not per refused request: a flood of refusals must not flood the log.
    if ((reason !== undefined) !== this.#overloaded) {
      this.#overloaded = reason !== undefined;
      if (reason !== undefined) this.#deps.logger.warn({ reason }, 'overloaded: new packets are refused with 503');
      else this.#deps.logger.info('load back under budget: new packets are accepted again');
    }
    return reason === undefined ? undefined : { reason, retryAfterSeconds };
  }
}

/**
 * How stale the RSS a check compares may be. Reading it is a read of /proc/self/stat, about 1 % of
 * the gateway's CPU at 100 packets/s when done for every request (bench/gateway.ts profile); a
 * packet's body is read after the check, so 20 ms lets at most a few more bodies in.
 */
const RSS_MAX_AGE_MS = 20;

function cachedRss(maxAgeMs: number): () => number {
  let value = 0;
  let readAt = Number.NEGATIVE_INFINITY;
  return () => {
    const now = performance.now();
    if (now - readAt >= maxAgeMs) {
      value = process.memoryUsage.rss();
      readAt = now;
    }
    return value;
  };
}

function mib(bytes: number): number {
  return Math.round(bytes / 1048576);
}
