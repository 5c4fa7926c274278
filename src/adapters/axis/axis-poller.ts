// The poller of an upstream axis: takes what the upstream holds for this gateway's agencies, the way
// an office system built on the axis SDK does (spec/edxml.md §6.4, Bkav's production connector):
// getReceivedEdocList → for each item getEdoc → admit → updateStatus done (or fail). One poller per
// message type — `edoc` and `status` run as separate loops, so a backlog of documents never holds
// statuses back.
//
// The poller admits nothing itself: `admit` (the gateway's, through the same intake as /v1) decides,
// and answers with a verdict. It never touches the database; which node polls is decided above it
// (one per upstream across all nodes, by advisory lock).
//
// Decisions:
// - `done` only after the admission committed (or found a duplicate); a crash in between leaves the
//   item listed, it is fetched again and found to be a duplicate: nothing lost, nothing twice.
// - `fail` only for a refusal of the packet itself (the verdict says so); the upstream then records
//   the failure for its sender. A failure of our own (store down, overloaded) leaves the item listed
//   for the next poll, indefinitely: our outage must not lose the upstream's documents.
// - A status can arrive before the document it is about (the two loops race): the verdict `later`
//   with a deadline keeps it listed until the document is in, and fails it only after that.
// - Items are taken one at a time in the upstream's order: statuses about one document then apply
//   in the order they were sent.

import type { Logger } from 'pino';
import type { MessageType } from '../../axis/wire.ts';
import type { AxisClient, ReceivedEdoc } from './axis-client.ts';

/** What the gateway made of one fetched packet. */
export type AdmitVerdict =
  | { readonly outcome: 'admitted' | 'duplicate'; readonly packetId: string }
  /** Refused for good: the upstream is told `fail`. */
  | { readonly outcome: 'refused'; readonly code: string; readonly reason: string }
  /** Not now: left listed; failed once `maxWaitMs` has passed since first seen (never when undefined). */
  | { readonly outcome: 'later'; readonly code: string; readonly reason: string; readonly maxWaitMs?: number | undefined };

/** What a poller needs. */
export interface AxisPollerOptions {
  readonly routeId: string;
  readonly messageType: MessageType;
  readonly client: Pick<AxisClient, 'receivedList' | 'getEdoc' | 'updateStatus'>;
  /** Pause between polls when the last one found nothing more to take (≥ 100 ms by config). */
  readonly intervalMs: number;
  /** Timeout of each call to the upstream. */
  readonly callTimeoutMs: number;
  readonly admit: (item: ReceivedEdoc, edxml: Buffer) => Promise<AdmitVerdict>;
  /** False while this node cannot take packets (over its memory or queue budget): the poll is skipped. */
  readonly canAdmit?: (() => boolean) | undefined;
  readonly logger: Logger;
  readonly clock?: (() => Date) | undefined;
}

/** What one poll did. */
export interface PollSummary {
  /** The list call worked. */
  readonly listed: boolean;
  readonly items: number;
  readonly admitted: number;
  readonly duplicates: number;
  readonly failed: number;
  /** Left listed for a later poll. */
  readonly deferred: number;
}

/** A list this long may have more behind it: poll again at once (the axis-compatible API answers at most 500). */
const FULL_LIST = 500;
/** Bound on remembered first-seen times (deferred items); a flood cannot grow it without end. */
const MAX_REMEMBERED = 10_000;

/** One loop over one message type of one upstream. */
export class AxisPoller {
  readonly #o: AxisPollerOptions;
  readonly #log: Logger;
  readonly #clock: () => Date;
  readonly #firstSeen = new Map<string, number>();
  #loop: Promise<void> | undefined;
  #stopping = false;
  #sleep: { readonly timer: NodeJS.Timeout; readonly resolve: () => void } | undefined;
  /** The last poll's failure, logged once until it changes (a dead upstream must not flood the log). */
  #lastFailure: string | undefined;

  constructor(options: AxisPollerOptions) {
    this.#o = options;
    this.#log = options.logger.child({ job: 'axis-poller', route: options.routeId, messageType: options.messageType });
    this.#clock = options.clock ?? (() => new Date());
  }

  /** Starts the loop (idempotent). */
  start(): void {
    if (this.#loop !== undefined || this.#stopping) return;
    this.#loop = this.#run();
  }

  /** Polls at once instead of waiting out the interval (e.g. a callback said there is more). */
  wake(): void {
    const sleep = this.#sleep;
    this.#sleep = undefined;
    if (sleep !== undefined) {
      clearTimeout(sleep.timer);
      sleep.resolve();
    }
  }

  /** Stops after the item in hand; resolves when the loop has ended. Idempotent. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.wake();
    await this.#loop;
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      let more = false;
      try {
        const summary = await this.pollOnce();
        more = summary.items >= FULL_LIST && summary.deferred < summary.items;
      } catch (error) {
        // pollOnce turns every upstream failure into a summary; this is a bug, logged, and the loop lives on.
        this.#log.error({ err: error }, 'axis poll failed unexpectedly');
      }
      if (!more && !this.#stopping) await this.#pause(this.#o.intervalMs);
    }
  }

  #pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#sleep = undefined;
        resolve();
      }, ms);
      this.#sleep = { timer, resolve };
    });
  }

  #failure(summary: string, detail: Record<string, unknown>): void {
    if (this.#lastFailure !== summary) this.#log.warn(detail, `axis poll: ${summary}`);
    this.#lastFailure = summary;
  }

  /** One poll: list, then fetch, admit and acknowledge each item. Never throws for the upstream's failures. */
  async pollOnce(): Promise<PollSummary> {
    const o = this.#o;
    const counts = { items: 0, admitted: 0, duplicates: 0, failed: 0, deferred: 0 };
    if (o.canAdmit !== undefined && !o.canAdmit()) return { listed: false, ...counts };
    const listed = await o.client.receivedList(o.messageType, o.callTimeoutMs);
    if (!listed.ok) {
      this.#failure(`getReceivedEdocList failed (${listed.failure})`, { reason: listed.reason });
      return { listed: false, ...counts };
    }
    if (listed.reply.status !== 'OK') {
      this.#failure(`getReceivedEdocList refused: ${listed.reply.errorCode}`, { errorCode: listed.reply.errorCode, errorDesc: listed.reply.errorDesc });
      return { listed: false, ...counts };
    }
    if (this.#lastFailure !== undefined) this.#log.info({ after: this.#lastFailure }, 'axis poll: the upstream answers again');
    this.#lastFailure = undefined;
    counts.items = listed.items.length;
    for (const item of listed.items) {
      if (this.#stopping) break;
      const outcome = await this.#take(item);
      counts[outcome]++;
    }
    return { listed: true, ...counts };
  }

  /** One item; returns which count it adds to. */
  async #take(item: ReceivedEdoc): Promise<'admitted' | 'duplicates' | 'failed' | 'deferred'> {
    const o = this.#o;
    const log = this.#log.child({ docId: item.docId, from: item.from, to: item.to });
    const fetched = await o.client.getEdoc(item.docId, o.callTimeoutMs);
    if (!fetched.ok || fetched.reply.status !== 'OK' || fetched.edxml === undefined) {
      const why = !fetched.ok ? `${fetched.failure}: ${fetched.reason}` : fetched.reply.status !== 'OK' ? `${fetched.reply.errorCode}: ${fetched.reply.errorDesc}` : 'the reply has no data';
      // Left listed: the next poll tries again (a message withdrawn meanwhile drops off the list).
      log.warn({ reason: why }, 'getEdoc failed; the item stays listed');
      return 'deferred';
    }
    let verdict: AdmitVerdict;
    try {
      verdict = await o.admit(item, fetched.edxml);
    } catch (error) {
      log.error({ err: error }, 'admitting a polled packet failed unexpectedly; the item stays listed');
      return 'deferred';
    }
    switch (verdict.outcome) {
      case 'admitted':
      case 'duplicate': {
        this.#firstSeen.delete(item.docId);
        await this.#acknowledge(item.docId, 'done', log);
        log.info({ packetId: verdict.packetId, outcome: verdict.outcome }, 'polled packet taken');
        return verdict.outcome === 'admitted' ? 'admitted' : 'duplicates';
      }
      case 'refused':
        this.#firstSeen.delete(item.docId);
        await this.#acknowledge(item.docId, 'fail', log);
        log.warn({ code: verdict.code, reason: verdict.reason }, 'polled packet refused; the upstream is told fail');
        return 'failed';
      case 'later': {
        const now = this.#clock().getTime();
        const first = this.#firstSeen.get(item.docId) ?? now;
        if (!this.#firstSeen.has(item.docId)) {
          if (this.#firstSeen.size >= MAX_REMEMBERED) this.#firstSeen.clear();
          this.#firstSeen.set(item.docId, now);
        }
        if (verdict.maxWaitMs !== undefined && now - first >= verdict.maxWaitMs) {
          this.#firstSeen.delete(item.docId);
          await this.#acknowledge(item.docId, 'fail', log);
          log.warn({ code: verdict.code, reason: verdict.reason, waitedMs: now - first }, 'polled packet still not admissible; the upstream is told fail');
          return 'failed';
        }
        log.debug({ code: verdict.code, reason: verdict.reason }, 'polled packet not admissible yet; it stays listed');
        return 'deferred';
      }
    }
  }

  async #acknowledge(docId: string, status: 'done' | 'fail', log: Logger): Promise<void> {
    const answered = await this.#o.client.updateStatus(docId, status, this.#o.callTimeoutMs);
    if (answered.ok && answered.reply.status === 'OK') return;
    // Not fatal: the item stays listed and is taken again (a duplicate) on the next poll.
    const why = answered.ok ? `${answered.reply.errorCode}: ${answered.reply.errorDesc}` : `${answered.failure}: ${answered.reason}`;
    log.warn({ status, reason: why }, 'updateStatus failed; the item will be listed again');
  }
}
