// The event dispatcher: pushes each subscription's events (the stream of src/store/queries/
// event-stream.ts, filtered to the subscription's agencies and types) to its URL as signed JSON
// batches, in stream order, at least once (docs/events.md).
//
// Coordination between nodes, and why it is not a row lock held while posting: a transaction that
// locks a row gets a transaction id, and an open transaction id holds back the xmin that decides
// which events are final — one slow receiver would stall the stream for every reader, and on
// PGlite (one session) it would hold the whole database for the length of an HTTP request. Instead
// a node leases a subscription in one short statement (next_attempt_at pushed past the request
// timeout), posts with nothing locked, and moves the cursor by compare-and-set on the cursor it
// posted from. If a lease runs out mid-request (a hung node), two nodes may post the same batch —
// the receiver dedupes, as it must anyway for at-least-once delivery — but only one advances the
// cursor, and a failure recorded late never overwrites a subscription that has moved on.

import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { parseRetryAfter } from '../adapters/webhook/retry-after.ts';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, signWebhook } from '../adapters/webhook/signature.ts';
import { WEBHOOK_HEADERS } from '../adapters/webhook/webhook-adapter.ts';
import { vietnamIso } from '../api/time.ts';
import { retryDelayMs } from '../delivery/backoff.ts';
import type { RetryPolicy } from '../delivery/backoff.ts';
import { withContext } from '../observability/logger.ts';
import type { Database } from '../store/database.ts';
import {
  advanceSubscription,
  failSubscription,
  leaseSubscription,
  listDueSubscriptions,
  readEvents,
  streamFrontier,
  streamHead,
} from '../store/queries/event-stream.ts';
import type { DueSubscription, EventPage, StreamEvent } from '../store/queries/event-stream.ts';

/** An event as the API and the subscription webhooks send it. */
export interface WireEvent {
  /** Its position in the stream; unique, so receivers dedupe on it. */
  readonly cursor: string;
  readonly type: string;
  /** Vietnam time (+07:00). */
  readonly at: string;
  readonly agency: string | null;
  readonly packetId: string | null;
  readonly deliveryId: string | null;
  readonly documentId: string | null;
  readonly data: Readonly<Record<string, unknown>>;
}

/** The body of one subscription webhook POST. */
export interface EventBatch {
  readonly subscriptionId: string;
  /** In stream order; never empty. */
  readonly events: readonly WireEvent[];
  /** The subscription's position once this batch is accepted (at or past the last event's cursor). */
  readonly cursor: string;
}

/** A stream event in its wire form. */
export function toWireEvent(event: StreamEvent): WireEvent {
  return {
    cursor: event.cursor,
    type: event.type,
    at: vietnamIso(event.at),
    agency: event.agency,
    packetId: event.packetId,
    deliveryId: event.deliveryId,
    documentId: event.documentId,
    data: event.data,
  };
}

/** Headers of a subscription webhook, besides Edxgate-Timestamp and Edxgate-Signature (signature.ts). */
export const EVENT_WEBHOOK_HEADERS = {
  /** `<subscription id>:<cursor of the batch's first event>`: the same on every retry of a batch. */
  deliveryId: WEBHOOK_HEADERS.deliveryId,
  subscriptionId: 'Edxgate-Subscription-Id',
  /** 1 for the first try of a batch, then 2, 3, … */
  attempt: WEBHOOK_HEADERS.attempt,
} as const;

/** The stable id of the batch that starts at `firstCursor`. */
export function batchDeliveryId(subscriptionId: string, firstCursor: string): string {
  return `${subscriptionId}:${firstCursor}`;
}

/** Tuning of the dispatcher; every field has a default. */
export interface EventDispatcherOptions {
  /** How often due subscriptions are looked at when nothing wakes the dispatcher (default 1,000 ms). */
  readonly pollIntervalMs?: number | undefined;
  /** Most events per POST (default 100, at most 500). */
  readonly batchSize?: number | undefined;
  /** Timeout of one POST (default 10,000 ms); events are not under the 5-second packet budget. */
  readonly timeoutMs?: number | undefined;
  /** Backoff after a failed POST (default 1 s doubling up to 5 min, full jitter). */
  readonly retry?: RetryPolicy | undefined;
  /** Subscriptions worked on at once (default 8), so one slow receiver does not hold up the rest. */
  readonly concurrency?: number | undefined;
  /** Events examined per read (readEvents' maxScan; default its own). */
  readonly maxScan?: number | undefined;
}

/** What the dispatcher needs. */
export interface EventDispatcherDeps {
  readonly db: Kysely<Database>;
  readonly logger: Logger;
  /** An undici dispatcher to share; default: an Agent of its own, closed by stop(). */
  readonly http?: Dispatcher | undefined;
  /** Signing time; default the real clock. */
  readonly clock?: (() => Date) | undefined;
  /** [0, 1) for retry jitter; default Math.random. */
  readonly random?: (() => number) | undefined;
}

/** How the dispatcher is doing, for /health. */
export interface EventDispatcherStatus {
  readonly running: boolean;
  /** POSTs in flight now. */
  readonly inFlight: number;
  /** The last error of a cycle (database unreachable…), while the latest cycle failed. */
  readonly lastError?: string | undefined;
}

const DEFAULTS = {
  pollIntervalMs: 1000,
  batchSize: 100,
  timeoutMs: 10_000,
  retry: { baseMs: 1000, maxMs: 300_000 },
  concurrency: 8,
} as const;
/** Due subscriptions read per query; a cycle reads pages until it has seen every due one. */
const DUE_PER_PAGE = 200;
/** A lease outlives the POST by this much, so the compare-and-set after it lands while it still holds. */
const LEASE_MARGIN_MS = 5000;
/** How much of a refusal's body is kept for last_error. */
const EXCERPT_BYTES = 512;
const EXCERPT_CHARS = 200;
/** How much of a 2xx body is read (and dropped) so the connection can be reused. */
const DUMP_LIMIT_BYTES = 64 * 1024;

type PostOutcome =
  | { readonly ok: true; readonly status: number }
  | { readonly ok: false; readonly error: string; readonly retryAfterMs?: number | undefined }
  | { readonly ok: 'aborted' };

/** Follows every enabled subscription and POSTs its events, one batch at a time, in order. */
export class EventDispatcher {
  readonly #deps: EventDispatcherDeps;
  readonly #log: Logger;
  readonly #pollIntervalMs: number;
  readonly #batchSize: number;
  readonly #timeoutMs: number;
  readonly #retry: RetryPolicy;
  readonly #concurrency: number;
  readonly #maxScan: number | undefined;
  readonly #random: () => number;
  readonly #clock: () => Date;
  /** Subscriptions found caught up: at this cursor, when the stream's frontier was this. */
  readonly #caughtUp = new Map<string, { readonly cursor: string; readonly frontier: string | null }>();
  readonly #inFlight = new Set<AbortController>();
  #ownAgent: Agent | undefined;
  #state: 'new' | 'started' | 'stopping' | 'stopped' = 'new';
  #loop: Promise<void> | undefined;
  #stopped: Promise<{ readonly drained: boolean }> | undefined;
  /** Set by wake(); a wake-up during a cycle makes the next cycle start at once. */
  #woken = false;
  #sleeper: (() => void) | undefined;
  #lastError: string | undefined;

  constructor(deps: EventDispatcherDeps, options: EventDispatcherOptions = {}) {
    this.#deps = deps;
    this.#log = withContext(deps.logger, { job: 'event-dispatcher' });
    this.#pollIntervalMs = Math.max(1, options.pollIntervalMs ?? DEFAULTS.pollIntervalMs);
    this.#batchSize = Math.min(500, Math.max(1, options.batchSize ?? DEFAULTS.batchSize));
    this.#timeoutMs = Math.max(1, options.timeoutMs ?? DEFAULTS.timeoutMs);
    this.#retry = options.retry ?? DEFAULTS.retry;
    this.#concurrency = Math.max(1, options.concurrency ?? DEFAULTS.concurrency);
    this.#maxScan = options.maxScan;
    this.#random = deps.random ?? Math.random;
    this.#clock = deps.clock ?? (() => new Date());
  }

  /** Starts the dispatch loop (idempotent; a stopped dispatcher does not start again). */
  async start(): Promise<void> {
    if (this.#state !== 'new') return;
    this.#state = 'started';
    // undici keeps connections alive per origin; one Agent serves every subscriber's origin.
    if (this.#deps.http === undefined) this.#ownAgent = new Agent();
    this.#loop = this.#run();
  }

  /** Looks at due subscriptions now instead of at the next poll (events were appended). */
  wake(): void {
    this.#woken = true;
    const sleeper = this.#sleeper;
    this.#sleeper = undefined;
    sleeper?.();
  }

  /**
   * Stops the loop: POSTs in flight get up to `timeoutMs`, then are aborted and left to their lease
   * (another node, or this one after a restart, sends the batch again with the same delivery id).
   * Idempotent; later calls share the first call's outcome.
   */
  stop(timeoutMs: number): Promise<{ readonly drained: boolean }> {
    this.#stopped ??= this.#stop(timeoutMs);
    return this.#stopped;
  }

  /** Running or not, POSTs in flight, the last cycle's error. */
  status(): EventDispatcherStatus {
    return {
      running: this.#state === 'started',
      inFlight: this.#inFlight.size,
      ...(this.#lastError === undefined ? {} : { lastError: this.#lastError }),
    };
  }

  async #stop(timeoutMs: number): Promise<{ readonly drained: boolean }> {
    const wasStarted = this.#state === 'started';
    this.#state = 'stopping';
    this.wake();
    let drained = true;
    if (wasStarted && this.#loop !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), Math.max(0, timeoutMs));
      });
      const outcome = await Promise.race([this.#loop.then(() => 'done' as const), timedOut]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        drained = false;
        this.#log.warn({ inFlight: this.#inFlight.size }, 'shutdown: aborting event webhooks in flight; they are sent again when their lease expires');
        for (const controller of this.#inFlight) controller.abort();
        await this.#loop;
      }
    }
    const agent = this.#ownAgent;
    this.#ownAgent = undefined;
    await agent?.close();
    this.#state = 'stopped';
    return { drained };
  }

  async #run(): Promise<void> {
    let errorDelayMs = 0;
    while (this.#state === 'started') {
      this.#woken = false;
      let more = false;
      try {
        more = await this.#cycle();
        errorDelayMs = 0;
        this.#lastError = undefined;
      } catch (error) {
        // The database is unreachable (or a bug): back off, keep the loop alive; status() reports it.
        this.#lastError = error instanceof Error ? error.message : String(error);
        errorDelayMs = Math.min(Math.max(errorDelayMs * 2, 100), this.#pollIntervalMs);
        this.#log.error({ err: error, retryInMs: errorDelayMs }, 'event dispatch cycle failed');
      }
      if (this.#state !== 'started') break;
      if (more && errorDelayMs === 0) continue;
      await this.#sleep(errorDelayMs > 0 ? errorDelayMs : this.#pollIntervalMs);
    }
  }

  /** Sleeps `ms`, or less if woken; at once if a wake-up came during the cycle. */
  #sleep(ms: number): Promise<void> {
    if (this.#woken) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#sleeper = undefined;
        resolve();
      }, ms);
      this.#sleeper = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** One pass over the due subscriptions; true when one of them has more ready at once. */
  async #cycle(): Promise<boolean> {
    const db = this.#deps.db;
    // Read before the subscriptions: a subscription found caught up below this frontier has seen
    // everything final up to it (its read's snapshot is later), so an unchanged frontier next time
    // means it can be skipped without a read — an idle gateway costs two cheap queries per poll.
    const frontier = await streamFrontier(db);
    const seen = new Set<string>();
    let more = false;
    let afterId: string | undefined;
    while (this.#state === 'started') {
      const due = await listDueSubscriptions(db, { limit: DUE_PER_PAGE, afterId });
      for (const s of due) seen.add(s.id);
      let next = 0;
      const worker = async (): Promise<void> => {
        while (this.#state === 'started') {
          const subscription = due[next++];
          if (subscription === undefined) return;
          if (await this.#dispatch(subscription, frontier)) more = true;
        }
      };
      await Promise.all(Array.from({ length: Math.min(this.#concurrency, due.length) }, worker));
      const last = due[due.length - 1];
      if (last === undefined || due.length < DUE_PER_PAGE) break;
      afterId = last.id;
    }
    // Forget subscriptions that were not due (failing, deleted): they are read afresh when they are.
    for (const id of this.#caughtUp.keys()) if (!seen.has(id)) this.#caughtUp.delete(id);
    return more;
  }

  /** Sends the next batch of one subscription, if it has one. Never throws; true when it has more ready. */
  async #dispatch(subscription: DueSubscription, frontier: string | null): Promise<boolean> {
    const db = this.#deps.db;
    const log = this.#log.child({ subscriptionId: subscription.id });
    try {
      let cursor = subscription.cursor;
      if (cursor === null) {
        // Created without a position (not through the API, which sets the head): start from now.
        const head = await streamHead(db);
        if (!(await advanceSubscription(db, { id: subscription.id, from: null, to: head }))) return false;
        cursor = head;
      }
      const known = this.#caughtUp.get(subscription.id);
      if (known !== undefined && known.cursor === cursor && known.frontier === frontier) return false;

      const page = await readEvents(db, {
        after: cursor,
        agencies: subscription.agencies,
        types: subscription.eventTypes ?? undefined,
        limit: this.#batchSize,
        maxScan: this.#maxScan,
      });
      if (page.events.length === 0) {
        if (!page.hasMore) {
          this.#caughtUp.set(subscription.id, { cursor, frontier });
          return false;
        }
        // A window of events this subscription does not see: record that it is past them, so they
        // are not examined again. Nothing to send, so no lease: the compare-and-set suffices.
        return await advanceSubscription(db, { id: subscription.id, from: cursor, to: page.nextCursor });
      }
      this.#caughtUp.delete(subscription.id);

      const attempt = await leaseSubscription(db, { id: subscription.id, cursor, leaseMs: this.#timeoutMs + LEASE_MARGIN_MS });
      if (attempt === undefined) return false; // another node has it, or moved it on
      const outcome = await this.#post(subscription, page, attempt, log);
      if (outcome.ok === 'aborted') return false;
      if (outcome.ok) {
        const moved = await advanceSubscription(db, { id: subscription.id, from: cursor, to: page.nextCursor });
        if (!moved) log.warn('batch accepted, but another node moved the subscription on meanwhile');
        log.debug({ events: page.events.length, attempt, status: outcome.status }, 'event batch delivered');
        return moved && page.hasMore;
      }
      const delayMs = retryDelayMs(attempt, this.#retry, this.#random, outcome.retryAfterMs);
      await failSubscription(db, { id: subscription.id, cursor, error: outcome.error, delayMs });
      log.warn({ attempt, error: outcome.error, retryInMs: delayMs }, 'event batch not accepted; retrying later');
      return false;
    } catch (error) {
      // Recording failed (database gone) or a bug: the lease, if any, expires and the batch is sent again.
      log.error({ err: error }, 'event dispatch failed');
      return false;
    }
  }

  /** POSTs one batch, signed; an outcome for every HTTP or network result. */
  async #post(subscription: DueSubscription, page: EventPage, attempt: number, log: Logger): Promise<PostOutcome> {
    const first = page.events[0];
    if (first === undefined) throw new Error('an empty event batch is never posted');
    const batch: EventBatch = { subscriptionId: subscription.id, events: page.events.map(toWireEvent), cursor: page.nextCursor };
    const body = Buffer.from(JSON.stringify(batch), 'utf8');
    const timestampSec = Math.floor(this.#clock().getTime() / 1000);
    const headers: Record<string, string> = {
      'content-type': 'application/json; charset=utf-8',
      'user-agent': 'edxgate',
      [EVENT_WEBHOOK_HEADERS.deliveryId]: batchDeliveryId(subscription.id, first.cursor),
      [EVENT_WEBHOOK_HEADERS.subscriptionId]: subscription.id,
      [EVENT_WEBHOOK_HEADERS.attempt]: String(attempt),
      [TIMESTAMP_HEADER]: String(timestampSec),
      [SIGNATURE_HEADER]: signWebhook(body, subscription.secret, timestampSec),
    };
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.#timeoutMs);
    this.#inFlight.add(controller);
    try {
      const dispatcher = this.#deps.http ?? this.#ownAgent;
      const response = await request(subscription.url, {
        method: 'POST',
        headers,
        body,
        signal: controller.signal,
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs,
        ...(dispatcher === undefined ? {} : { dispatcher }),
      });
      const status = response.statusCode;
      if (status >= 200 && status < 300) {
        // The status is the receipt; the body is drained (or the socket dropped) for reuse.
        await response.body.dump({ limit: DUMP_LIMIT_BYTES }).catch(() => undefined);
        return { ok: true, status };
      }
      const excerpt = await bodyExcerpt(response.body);
      // Every refusal is retried, 4xx included: dropping a subscriber's events because its
      // endpoint answered 404 during a deployment would lose them for good; it backs off instead.
      return {
        ok: false,
        error: `HTTP ${status}${excerpt === '' ? '' : `: ${excerpt}`}`,
        retryAfterMs: parseRetryAfter(response.headers['retry-after'], this.#clock()),
      };
    } catch (error) {
      if (controller.signal.aborted && !timedOut) return { ok: 'aborted' };
      if (timedOut) return { ok: false, error: `no answer within ${this.#timeoutMs} ms` };
      const code = errorCode(error);
      const message = error instanceof Error ? error.message : String(error);
      log.debug({ err: error }, 'event webhook request failed');
      return { ok: false, error: code === undefined ? message : `${code}: ${message}` };
    } finally {
      clearTimeout(timer);
      this.#inFlight.delete(controller);
    }
  }
}

/** The start of a response body as one short line; empty when it cannot be read. */
async function bodyExcerpt(body: Dispatcher.ResponseData['body']): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.length;
      // Leaving the loop destroys the rest of a long body (and that connection); fine on a failure path.
      if (size >= EXCERPT_BYTES) break;
    }
  } catch {
    // A body that breaks off still leaves what was read.
  }
  const text = Buffer.concat(chunks, size).subarray(0, EXCERPT_BYTES).toString('utf8').replace(/\s+/g, ' ').trim();
  return text.length <= EXCERPT_CHARS ? text : `${text.slice(0, EXCERPT_CHARS - 1)}…`;
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  // Connection errors may arrive wrapped (fetch-style `cause`), e.g. ECONNREFUSED.
  const cause = (error as { cause?: unknown }).cause;
  return cause === error ? undefined : errorCode(cause);
}
