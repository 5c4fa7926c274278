// Stores the `admit` stage of each admitted packet without a statement on the request's path. The
// admit stage ends with the admitting COMMIT, so the statement it times cannot carry it; the
// durations are buffered here and written for many packets at once by one UPDATE about every
// second, and at shutdown. They are observations, not data: a failed write is logged and dropped,
// and a buffer that cannot be written fast enough drops new entries rather than grow without bound.

import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../store/database.ts';
import { recordAdmitTimings } from '../store/queries/record-admit-timings.ts';
import type { AdmitTiming } from '../store/queries/record-admit-timings.ts';

/** Options of the recorder; every field has a default. */
export interface AdmitTimingsOptions {
  /** How long an entry waits for its batch (default 1,000 ms). */
  readonly flushIntervalMs?: number | undefined;
  /** A batch this large is written at once instead of waiting for the interval (default 1,000). */
  readonly batchSize?: number | undefined;
  /** Entries held at most (written or in flight); beyond, new ones are dropped (default 20,000). */
  readonly maxBuffered?: number | undefined;
}

/** Where a packet's admit duration is reported (intake calls it after the COMMIT). */
export interface AdmitTimingSink {
  record(packetId: string, admitMs: number): void;
}

/** The batching recorder of one gateway. */
export class AdmitTimings implements AdmitTimingSink {
  readonly #db: Kysely<Database>;
  readonly #logger: Logger;
  readonly #intervalMs: number;
  readonly #batchSize: number;
  readonly #maxBuffered: number;
  #buffer: AdmitTiming[] = [];
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;
  #inFlight = 0;
  #dropped = 0;
  #closed = false;

  constructor(db: Kysely<Database>, logger: Logger, options: AdmitTimingsOptions = {}) {
    this.#db = db;
    this.#logger = logger;
    this.#intervalMs = options.flushIntervalMs ?? 1000;
    this.#batchSize = options.batchSize ?? 1000;
    this.#maxBuffered = options.maxBuffered ?? 20_000;
  }

  /** Buffers one packet's admit duration; it is written within about the flush interval. */
  record(packetId: string, admitMs: number): void {
    // After close the store may be gone; nothing will write this entry.
    if (this.#closed) return;
    if (this.#buffer.length + this.#inFlight >= this.#maxBuffered) {
      this.#dropped++;
      return;
    }
    this.#buffer.push({ packetId, admitMs });
    if (this.#buffer.length >= this.#batchSize) this.#startFlush();
    // The timer exists only while something waits, so an idle gateway runs no timer at all; it does
    // not keep the process alive either.
    else this.#timer ??= setTimeout(() => this.#startFlush(), this.#intervalMs).unref();
  }

  /** Entries waiting or being written. */
  pending(): number {
    return this.#buffer.length + this.#inFlight;
  }

  /** Writes everything buffered, batch after batch, without waiting for the interval; never rejects. */
  async flush(): Promise<void> {
    while (this.#flushing !== undefined || this.#buffer.length > 0) {
      if (this.#flushing === undefined) this.#startFlush();
      await this.#flushing;
    }
  }

  /** Writes what is buffered and takes no more entries (the gateway's close, before the store closes). */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
  }

  #startFlush(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    // One write at a time; entries recorded meanwhile wait for the next, which follows at once.
    if (this.#flushing !== undefined || this.#buffer.length === 0) return;
    const batch = this.#buffer.splice(0, this.#batchSize);
    this.#inFlight = batch.length;
    this.#flushing = this.#write(batch).finally(() => {
      this.#inFlight = 0;
      this.#flushing = undefined;
      if (this.#buffer.length >= this.#batchSize) this.#startFlush();
      else if (this.#buffer.length > 0) this.#timer ??= setTimeout(() => this.#startFlush(), this.#intervalMs).unref();
    });
  }

  async #write(batch: readonly AdmitTiming[]): Promise<void> {
    try {
      await recordAdmitTimings(this.#db, batch);
    } catch (error) {
      this.#logger.warn({ err: error, entries: batch.length }, 'admit timings: write failed, entries dropped');
    }
    if (this.#dropped > 0) {
      this.#logger.warn({ dropped: this.#dropped }, 'admit timings: buffer full, entries dropped');
      this.#dropped = 0;
    }
  }
}
