// The event stream: `events` read in an order that never changes once read, by an opaque cursor,
// filtered to what a set of agencies may see; and the subscriptions that follow it on a webhook.
//
// Why not `ORDER BY id`: an id is taken when the row is inserted, not when its transaction commits,
// so a transaction that commits late makes a lower id appear after a reader has paged past it —
// the reader skips that event for good. Migration 0002 records the inserting transaction (`tx`,
// an xid8). Every transaction whose id is below the xmin of the current snapshot has ended, so the
// events with `tx < xmin` are final: no event can be added to that set later (a new transaction
// always gets an id above xmin). The stream is that set ordered by (tx, id), and a cursor is a
// (tx, id) position in it. An event becomes readable once the oldest transaction still open in
// the cluster is younger than it: a long-running write transaction anywhere holds the stream back
// for its duration (docs/events.md), which is the price of never skipping.

import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Kysely, RawBuilder } from 'kysely';
import { EdxError } from '../../errors.ts';
import type { Database } from '../database.ts';
import { clipError, isUuid, pageSize } from './common.ts';

/** A position in the stream: the (tx, id) of an event, or (xmin, 0) = "everything below this transaction". */
export interface EventPosition {
  /** xid8 as decimal text (it can exceed 2^53). */
  readonly tx: string;
  readonly id: number;
}

const CURSOR_TEXT = /^e(0|[1-9]\d{0,19}):(0|[1-9]\d{0,15})$/;
const XID8_MAX = 2n ** 64n - 1n;

/** The opaque cursor of a position: base64url, tagged so an inbox cursor is not taken for one. */
export function encodeEventCursor(position: EventPosition): string {
  return Buffer.from(`e${position.tx}:${position.id}`, 'utf8').toString('base64url');
}

/** The position of a cursor made by encodeEventCursor; EDX_ERR_CURSOR_INVALID otherwise. */
export function decodeEventCursor(cursor: string): EventPosition {
  const text = /^[A-Za-z0-9_-]{1,64}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const match = CURSOR_TEXT.exec(text);
  const tx = match?.[1];
  const id = match?.[2];
  // The shape bounds the lengths; these bound the values, so the database never sees an out-of-range cast.
  if (tx === undefined || id === undefined || BigInt(tx) > XID8_MAX || !Number.isSafeInteger(Number(id))) {
    throw new EdxError('EDX_ERR_CURSOR_INVALID', `"${cursor.slice(0, 40)}" is not a cursor of the event stream.`);
  }
  return { tx, id: Number(id) };
}

/** One event of the stream. */
export interface StreamEvent {
  /** Where this event is in the stream; reading after it continues behind it. */
  readonly cursor: string;
  readonly id: number;
  readonly tx: string;
  /** When the inserting transaction started (database clock); not monotonic along the stream. */
  readonly at: Date;
  readonly type: string;
  readonly agency: string | null;
  readonly packetId: string | null;
  readonly deliveryId: string | null;
  readonly documentId: string | null;
  readonly data: Readonly<Record<string, unknown>>;
}

/** Which page of the stream. */
export interface ReadEventsInput {
  /** A cursor from a previous page (or an event's); absent = from the beginning of the stream. */
  readonly after?: string | undefined;
  /**
   * Whose events: `'all'` (the operator), or the agencies the reader acts for — an event is theirs
   * when its `agency` is one of them or it concerns a document one of them sent or received. Required:
   * a forgotten argument must not mean "everything".
   */
  readonly agencies: readonly string[] | 'all';
  /** Only these types; absent = every type. */
  readonly types?: readonly string[] | undefined;
  /** 1..500, default 100. */
  readonly limit?: number | undefined;
  /**
   * Most events examined per call (default 2,000). A reader that sees few of the events would
   * otherwise make one call walk the whole table; with the bound, a page may come back short (even
   * empty) with `hasMore` and a cursor past the events it skipped.
   */
  readonly maxScan?: number | undefined;
}

/** A page of the stream. */
export interface EventPage {
  readonly events: readonly StreamEvent[];
  /**
   * Where to continue. Past the last event returned, and past the invisible events examined after
   * it, so a reader never examines them again; never null: an empty page still gives a cursor to poll with.
   */
  readonly nextCursor: string;
  /** More events are final already (read on at once); false = caught up, poll later. */
  readonly hasMore: boolean;
}

/** Default and bounds of a page. */
export const EVENT_PAGE_DEFAULT = 100;
export const EVENT_PAGE_MAX = 500;
const DEFAULT_MAX_SCAN = 2000;

interface HitRow {
  xmin: string;
  id: number | null;
  tx: string | null;
  at: Date | null;
  type: string | null;
  agency: string | null;
  packet_id: string | null;
  delivery_id: string | null;
  document_id: string | null;
  data: Record<string, unknown> | null;
}

/** The SQL condition "event `s` is visible to these agencies"; each branch is an index lookup. */
function visibleTo(agencies: readonly string[] | 'all'): RawBuilder<unknown> {
  if (agencies === 'all') return sql`true`;
  const list = [...agencies];
  // documents: primary key (document_id, sender); document_recipients: primary key
  // (document_id, sender, recipient), read by its document_id prefix. Both are probed only for
  // events about a document that no agency of the reader is named on directly.
  return sql`(s.agency = ANY(${list}::text[])
    OR (s.document_id IS NOT NULL AND (
      EXISTS (SELECT 1 FROM documents AS d WHERE d.document_id = s.document_id AND d.sender = ANY(${list}::text[]))
      OR EXISTS (SELECT 1 FROM document_recipients AS r WHERE r.document_id = s.document_id AND r.recipient = ANY(${list}::text[])))))`;
}

function afterPosition(after: EventPosition | undefined): RawBuilder<unknown> {
  // A row comparison is an index condition on events_stream_idx (tx, id): the scan starts at the cursor.
  return after === undefined ? sql`` : sql`AND (e.tx, e.id) > (${after.tx}::xid8, ${after.id}::bigint)`;
}

/**
 * Reads the next page of final events after a cursor, in (tx, id) order, that `agencies` may see.
 * EDX_ERR_CURSOR_INVALID for a cursor the stream did not issue. Pass a transaction as `db` and the
 * events it wrote itself are not final yet (xmin is then that transaction, on PGlite too).
 */
export async function readEvents(db: Kysely<Database>, input: ReadEventsInput): Promise<EventPage> {
  const after = input.after === undefined || input.after === '' ? undefined : decodeEventCursor(input.after);
  const limit = pageSize(input.limit, EVENT_PAGE_DEFAULT, EVENT_PAGE_MAX);
  const maxScan = Math.max(limit + 1, Math.trunc(input.maxScan ?? DEFAULT_MAX_SCAN));
  const types = input.types === undefined ? sql`true` : sql`s.type = ANY(${[...input.types]}::text[])`;

  // One statement, so xmin and the rows come from the same snapshot. The scan is a subquery with
  // its own LIMIT, not a materialised CTE: the executor pulls rows only until limit + 1 hits are
  // found, so a reader who sees everything (the operator) reads limit + 1 rows, not maxScan.
  const { rows } = await sql<HitRow>`
    WITH x AS MATERIALIZED (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin),
    hits AS (
      SELECT s.* FROM (
        SELECT e.id, e.tx, e.at, e.type, e.agency, e.packet_id, e.delivery_id, e.document_id, e.data
        FROM events AS e
        WHERE e.tx < (SELECT xmin FROM x) ${afterPosition(after)}
        ORDER BY e.tx, e.id
        LIMIT ${maxScan}
      ) AS s
      WHERE ${visibleTo(input.agencies)} AND ${types}
      ORDER BY s.tx, s.id
      LIMIT ${limit + 1}
    )
    SELECT x.xmin::text AS xmin, h.id, h.tx::text AS tx, h.at, h.type, h.agency, h.packet_id, h.delivery_id, h.document_id, h.data
    FROM x LEFT JOIN hits AS h ON true
    ORDER BY h.tx, h.id`.execute(db);

  const xmin = rows[0]?.xmin;
  if (xmin === undefined) throw new Error('readEvents: the stream query returned no row');
  const events: StreamEvent[] = [];
  for (const r of rows) {
    if (r.id === null || r.tx === null || r.at === null || r.type === null) continue; // the LEFT JOIN's empty row
    events.push({
      cursor: encodeEventCursor({ tx: r.tx, id: r.id }),
      id: r.id,
      tx: r.tx,
      at: r.at,
      type: r.type,
      agency: r.agency,
      packetId: r.packet_id,
      deliveryId: r.delivery_id,
      documentId: r.document_id,
      data: r.data ?? {},
    });
  }

  if (events.length > limit) {
    const page = events.slice(0, limit);
    const last = page[page.length - 1];
    if (last === undefined) throw new Error('readEvents: a full page has no last event');
    return { events: page, nextCursor: last.cursor, hasMore: true };
  }
  // Everything below xmin consumed; never behind the cursor given, though: a snapshot older than
  // the cursor (a REPEATABLE READ transaction begun before it was issued) has a lower xmin, and
  // sending the reader back would make it read events twice.
  const consumed = after !== undefined && comparePositions(after, { tx: xmin, id: 0 }) > 0 ? after : { tx: xmin, id: 0 };
  // Every event examined was a hit: a short page means the scan ran out of final events.
  if (input.agencies === 'all' && input.types === undefined) {
    return { events, nextCursor: encodeEventCursor(consumed), hasMore: false };
  }
  // A short page: either every final event after the cursor was examined — then the reader has
  // consumed everything below xmin, and (xmin, 0) says exactly that, including the invisible events
  // after the last hit — or the scan stopped at maxScan, and the page ends at the last event it
  // examined. Which one: look up that maxScan-th event, below the SAME xmin, so the window is the
  // one the first statement filtered (a later xmin would add events nobody checked).
  const { rows: ends } = await sql<{ tx: string; id: number }>`
    SELECT e.tx::text AS tx, e.id FROM events AS e
    WHERE e.tx < ${xmin}::xid8 ${afterPosition(after)}
    ORDER BY e.tx, e.id
    OFFSET ${maxScan - 1} LIMIT 1`.execute(db);
  const end = ends[0];
  if (end !== undefined) return { events, nextCursor: encodeEventCursor(end), hasMore: true };
  return { events, nextCursor: encodeEventCursor(consumed), hasMore: false };
}

/** Orders two positions as the stream does: by tx, then id. */
export function comparePositions(a: EventPosition, b: EventPosition): number {
  const tx = BigInt(a.tx) - BigInt(b.tx);
  if (tx !== 0n) return tx < 0n ? -1 : 1;
  return Math.sign(a.id - b.id);
}

/**
 * The cursor of "now": reading after it returns the events of every transaction still open or not
 * yet begun, and none of those already final. What a new subscription starts from.
 */
export async function streamHead(db: Kysely<Database>): Promise<string> {
  const { rows } = await sql<{ xmin: string }>`SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin`.execute(db);
  const xmin = rows[0]?.xmin;
  if (xmin === undefined) throw new Error('streamHead: no snapshot');
  return encodeEventCursor({ tx: xmin, id: 0 });
}

/**
 * The position of the last final event, or null when none is. It only moves forward, and it moves
 * whenever an event becomes final: events that become final all have tx at or above the previous
 * xmin, above every event that was final before. So "unchanged" means "nothing new for anyone".
 */
export async function streamFrontier(db: Kysely<Database>): Promise<string | null> {
  const { rows } = await sql<{ tx: string; id: number }>`
    SELECT e.tx::text AS tx, e.id FROM events AS e
    WHERE e.tx < pg_snapshot_xmin(pg_current_snapshot())
    ORDER BY e.tx DESC, e.id DESC
    LIMIT 1`.execute(db);
  const last = rows[0];
  return last === undefined ? null : encodeEventCursor(last);
}

// --- Subscriptions: an office system following its agencies' events on a webhook --------------
// The updates below report success with RETURNING: the PGlite driver does not report affected-row counts.

/** A subscription as its owner sees it (never with its secret). */
export interface EventSubscription {
  readonly id: string;
  readonly clientId: string;
  readonly url: string;
  readonly agencies: readonly string[];
  /** null = every type. */
  readonly eventTypes: readonly string[] | null;
  /** Delivered up to here. */
  readonly cursor: string | null;
  /** Failed attempts in a row at the current cursor. */
  readonly attempts: number;
  readonly nextAttemptAt: Date;
  readonly lastError: string | null;
  readonly createdAt: Date;
}

/** A new subscription. */
export interface CreateSubscriptionInput {
  readonly clientId: string;
  readonly url: string;
  readonly agencies: readonly string[];
  readonly eventTypes?: readonly string[] | null | undefined;
}

/** Bytes of a generated signing secret (256 bits, the HMAC-SHA256 key size). */
const SECRET_BYTES = 32;

type SubscriptionRow = {
  id: string;
  client_id: string;
  url: string;
  agencies: string[];
  event_types: string[] | null;
  cursor: string | null;
  attempts: number;
  next_attempt_at: Date;
  last_error: string | null;
  created_at: Date;
};

function subscriptionOf(r: SubscriptionRow): EventSubscription {
  return {
    id: r.id,
    clientId: r.client_id,
    url: r.url,
    agencies: [...r.agencies],
    eventTypes: r.event_types === null ? null : [...r.event_types],
    cursor: r.cursor,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastError: r.last_error,
    createdAt: r.created_at,
  };
}

const SUBSCRIPTION_COLUMNS = ['id', 'client_id', 'url', 'agencies', 'event_types', 'cursor', 'attempts', 'next_attempt_at', 'last_error', 'created_at'] as const;

/**
 * Creates a subscription that starts at the stream's head (events from now on) with a new random
 * secret; returns it with the secret, which is never read back afterwards.
 */
export async function createSubscription(db: Kysely<Database>, input: CreateSubscriptionInput): Promise<EventSubscription & { readonly secret: string }> {
  const secret = randomBytes(SECRET_BYTES).toString('base64url');
  // The head is read before the insert: xmin only grows, so the subscription may get a few events
  // of transactions that were running while it was created, and never misses one after.
  const cursor = await streamHead(db);
  const row = await db
    .insertInto('event_subscriptions')
    .values({
      id: randomUUID(),
      client_id: input.clientId,
      agencies: [...input.agencies],
      url: input.url,
      secret,
      event_types: input.eventTypes === undefined || input.eventTypes === null ? null : [...input.eventTypes],
      cursor,
    })
    .returning(SUBSCRIPTION_COLUMNS)
    .executeTakeFirstOrThrow();
  return { ...subscriptionOf(row), secret };
}

/** The enabled subscriptions of a client, oldest first. */
export async function listSubscriptions(db: Kysely<Database>, clientId: string): Promise<readonly EventSubscription[]> {
  const rows = await db
    .selectFrom('event_subscriptions')
    .select(SUBSCRIPTION_COLUMNS)
    .where('client_id', '=', clientId)
    .where('disabled_at', 'is', null)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(subscriptionOf);
}

/** Disables a client's own subscription; false when it has none by that id (or it is disabled already). */
export async function disableSubscription(db: Kysely<Database>, input: { readonly clientId: string; readonly id: string }): Promise<boolean> {
  if (!isUuid(input.id)) return false;
  const result = await db
    .updateTable('event_subscriptions')
    .set({ disabled_at: new Date() })
    .where('id', '=', input.id)
    .where('client_id', '=', input.clientId)
    .where('disabled_at', 'is', null)
    .returning('id')
    .executeTakeFirst();
  return result !== undefined;
}

/** A subscription the dispatcher may work on now. */
export interface DueSubscription {
  readonly id: string;
  readonly url: string;
  readonly secret: string;
  /** The subscription's agencies that its client still acts for (a client can lose an agency). */
  readonly agencies: readonly string[];
  readonly eventTypes: readonly string[] | null;
  readonly cursor: string | null;
  readonly attempts: number;
}

/**
 * A page of the enabled subscriptions of enabled clients whose next attempt is due, by id after
 * `afterId`. By id, not by due time: a pass over all due subscriptions visits each once, even while
 * the pass itself makes some of them due again.
 */
export async function listDueSubscriptions(db: Kysely<Database>, input: { readonly limit: number; readonly afterId?: string | undefined }): Promise<readonly DueSubscription[]> {
  // A plain read, no lock: most due subscriptions have nothing to send, and taking a row lock would
  // give this transaction an xid — which holds back every reader's xmin (see the top of this file).
  let query = db
    .selectFrom('event_subscriptions as s')
    .innerJoin('clients as c', 'c.id', 's.client_id')
    .select(['s.id', 's.url', 's.secret', 's.agencies', 's.event_types', 's.cursor', 's.attempts', 'c.agency_codes'])
    .where('s.disabled_at', 'is', null)
    .where('c.disabled_at', 'is', null)
    .where('s.next_attempt_at', '<=', sql<Date>`now()`);
  if (input.afterId !== undefined) query = query.where('s.id', '>', input.afterId);
  const rows = await query.orderBy('s.id').limit(input.limit).execute();
  return rows.map((r) => ({
    id: r.id,
    url: r.url,
    secret: r.secret,
    agencies: r.agencies.filter((a) => r.agency_codes.includes(a)),
    eventTypes: r.event_types === null ? null : [...r.event_types],
    cursor: r.cursor,
    attempts: r.attempts,
  }));
}

/**
 * Reserves a due subscription for one POST: pushes its next attempt `leaseMs` ahead so other nodes
 * leave it alone meanwhile, if it is still due, enabled and at `cursor`. Returns the attempt number
 * (1 for the first try at this cursor), or undefined when another node has it or moved it on.
 * One short statement: nothing stays locked while the POST is in flight.
 */
export async function leaseSubscription(
  db: Kysely<Database>,
  input: { readonly id: string; readonly cursor: string | null; readonly leaseMs: number },
): Promise<number | undefined> {
  const row = await db
    .updateTable('event_subscriptions')
    .set({ next_attempt_at: sql<Date>`now() + ${input.leaseMs}::double precision * interval '1 millisecond'` })
    .where('id', '=', input.id)
    .where('disabled_at', 'is', null)
    .where('next_attempt_at', '<=', sql<Date>`now()`)
    .where(sql<boolean>`cursor IS NOT DISTINCT FROM ${input.cursor}`)
    .returning('attempts')
    .executeTakeFirst();
  return row === undefined ? undefined : row.attempts + 1;
}

/**
 * Moves a subscription from `from` to `to` and makes it due again, clearing its failures — only if
 * it is still at `from` (compare-and-set): of two nodes that POSTed the same batch, one advances.
 * True when this call moved it.
 */
export async function advanceSubscription(db: Kysely<Database>, input: { readonly id: string; readonly from: string | null; readonly to: string }): Promise<boolean> {
  const result = await db
    .updateTable('event_subscriptions')
    .set({ cursor: input.to, attempts: 0, last_error: null, next_attempt_at: sql<Date>`now()` })
    .where('id', '=', input.id)
    .where(sql<boolean>`cursor IS NOT DISTINCT FROM ${input.from}`)
    .returning('id')
    .executeTakeFirst();
  return result !== undefined;
}

/**
 * Records a failed POST at `cursor`: one more attempt, the error, the next try `delayMs` from now.
 * Compare-and-set on the cursor, so a stale failure never overwrites the state of a subscription
 * another node has moved on. True when recorded.
 */
export async function failSubscription(
  db: Kysely<Database>,
  input: { readonly id: string; readonly cursor: string | null; readonly error: string; readonly delayMs: number },
): Promise<boolean> {
  const result = await db
    .updateTable('event_subscriptions')
    .set((eb) => ({
      attempts: eb('attempts', '+', 1),
      last_error: clipError(input.error),
      next_attempt_at: sql<Date>`now() + ${Math.max(0, input.delayMs)}::double precision * interval '1 millisecond'`,
    }))
    .where('id', '=', input.id)
    .where(sql<boolean>`cursor IS NOT DISTINCT FROM ${input.cursor}`)
    .returning('id')
    .executeTakeFirst();
  return result !== undefined;
}
