// The claim: reserve up to n due deliveries for this worker, urgent first. FOR UPDATE SKIP LOCKED
// lets any number of workers on any number of nodes claim without coordination — each row goes to
// exactly one claimer. A claim is a lease: a delivery whose lease expired (its node crashed or
// hung) is due again, so its work is redone (with the same delivery id, so receivers can dedupe).

import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Database, PacketKind } from '../database.ts';

/** A delivery reserved for one attempt, with what the worker needs to route and send it. */
export interface ClaimedDelivery {
  readonly deliveryId: string;
  readonly packetId: string;
  readonly recipient: string;
  readonly aliasOf: string | null;
  readonly routeId: string;
  readonly priority: number;
  /** This attempt's number (1 for the first); pass it back to complete/fail: it fences stale workers out. */
  readonly attempt: number;
  readonly deadlineAt: Date;
  readonly leaseUntil: Date;
  readonly late: boolean;
  /** True when the previous claimer's lease had expired (a crashed or hung node). */
  readonly reclaimed: boolean;
  /** When the delivery became due: admission, or the retry time. `wait_to_claim` = claim time − this. */
  readonly dueAt: Date;
  readonly claimedAt: Date;
  readonly kind: PacketKind;
  readonly documentId: string;
  readonly sender: string;
  readonly sha256: string;
  readonly sizeBytes: number;
  readonly payloadRef: string;
  readonly receivedAt: Date;
}

/** How many and for how long. */
export interface ClaimOptions {
  readonly limit: number;
  readonly leaseMs: number;
  /** Routes whose deliveries are left queued by this claim (the node has as many in flight to them as it allows). */
  readonly excludeRoutes?: readonly string[] | undefined;
}

interface ClaimRow {
  id: string;
  packet_id: string;
  recipient: string;
  alias_of: string | null;
  route_id: string;
  priority: number;
  attempts: number;
  deadline_at: Date;
  lease_until: Date;
  late: boolean;
  previous_state: string;
  due_at: Date;
  claimed_at: Date;
  kind: PacketKind;
  document_id: string;
  sender: string;
  sha256: string;
  size_bytes: number;
  payload_ref: string;
  received_at: Date;
}

/** A claim and, when it came back short, when the next delivery becomes claimable. */
export interface ClaimResult {
  readonly deliveries: readonly ClaimedDelivery[];
  /**
   * Only when fewer than `limit` rows were claimed (the queue is drained for now): the earliest
   * retry coming due or lease expiring, or null when none is waiting. With a full batch it is
   * null and not computed — the worker claims again at once.
   */
  readonly nextClaimAt: Date | null;
}

/** Claims up to `limit` due deliveries, highest priority first, then the longest due. */
export async function claimDeliveries(db: Kysely<Database>, options: ClaimOptions): Promise<ClaimedDelivery[]> {
  return [...(await claimDue(db, options)).deliveries];
}

/**
 * Claims like claimDeliveries and, in the same statement, tells an idle worker how long it may
 * sleep: one round trip per wake-up instead of a claim followed by nextClaimAt.
 */
export async function claimDue(db: Kysely<Database>, options: ClaimOptions): Promise<ClaimResult> {
  // Two branches, each an ordered index scan that stops after `limit` rows: due queued rows by
  // (priority desc, due time) straight off deliveries_claim_idx, and expired leases off
  // deliveries_lease_idx. A single WHERE with OR made Postgres collect and sort the whole backlog
  // on every claim (1.4 ms at 4,000 queued rows; 118 claims/s with a 10,000-row backlog).
  // (FOR UPDATE is not allowed in a UNION, hence one CTE per branch.) MATERIALIZED: each locking
  // query runs exactly once; a subquery the planner re-scanned could lock and claim more rows than
  // asked. Rows a branch locked but the final LIMIT drops stay unclaimed (their lock ends with this
  // statement).
  //
  // The next-claim time is read from the statement's snapshot, where the rows just claimed are
  // still queued and due — hence `next_attempt_at > now()`: only retries still to come count. It
  // sits in a CASE so that its scan of the queued rows runs only for a short claim (a scalar
  // subquery is evaluated when first needed); with a backlog the worker does not need it.
  const excluded = options.excludeRoutes ?? [];
  const notExcluded = excluded.length === 0 ? sql`` : sql`AND route_id NOT IN (${sql.join(excluded)})`;
  const { rows } = await sql<ClaimRow & { next_claim_at: Date | null }>`
    WITH queued AS MATERIALIZED (
      SELECT id, state, priority, next_attempt_at, lease_until
      FROM deliveries
      WHERE state = 'queued' AND next_attempt_at <= now() ${notExcluded}
      ORDER BY priority DESC, next_attempt_at
      LIMIT ${options.limit}
      FOR UPDATE SKIP LOCKED
    ), expired AS MATERIALIZED (
      SELECT id, state, priority, next_attempt_at, lease_until
      FROM deliveries
      WHERE state = 'delivering' AND lease_until < now() ${notExcluded}
      ORDER BY lease_until
      LIMIT ${options.limit}
      FOR UPDATE SKIP LOCKED
    ), due AS MATERIALIZED (
      SELECT * FROM queued
      UNION ALL
      SELECT * FROM expired
      ORDER BY priority DESC, next_attempt_at
      LIMIT ${options.limit}
    ), claimed AS (
      UPDATE deliveries AS d
      SET state = 'delivering',
          lease_until = now() + make_interval(secs => ${options.leaseMs}::double precision / 1000),
          attempts = d.attempts + 1
      FROM due, packets AS p
      WHERE d.id = due.id AND p.id = d.packet_id
      RETURNING d.id, d.packet_id, d.recipient, d.alias_of, d.route_id, d.priority, d.attempts, d.deadline_at,
                d.lease_until, d.late, due.state AS previous_state,
                CASE WHEN due.state = 'delivering' THEN due.lease_until ELSE due.next_attempt_at END AS due_at,
                now() AS claimed_at, p.kind, p.document_id, p.sender, p.sha256, p.size_bytes, p.payload_ref, p.received_at
    ), upcoming AS (
      SELECT CASE WHEN (SELECT count(*) FROM due) < ${options.limit} THEN least(
               (SELECT min(next_attempt_at) FROM deliveries WHERE state = 'queued' AND next_attempt_at > now()),
               (SELECT min(lease_until) FROM deliveries WHERE state = 'delivering')
             ) END AS next_claim_at
    )
    SELECT claimed.*, upcoming.next_claim_at FROM upcoming LEFT JOIN claimed ON true`.execute(db);

  const nextClaimAt = rows[0]?.next_claim_at ?? null;
  // RETURNING does not keep the subquery's order; the LEFT JOIN yields one all-null row when nothing was claimed.
  const claimedRows = rows.filter((r) => r.id !== null);
  claimedRows.sort((a, b) => b.priority - a.priority || a.due_at.getTime() - b.due_at.getTime());
  const deliveries = claimedRows.map((r) => ({
    deliveryId: r.id,
    packetId: r.packet_id,
    recipient: r.recipient,
    aliasOf: r.alias_of,
    routeId: r.route_id,
    priority: r.priority,
    attempt: r.attempts,
    deadlineAt: r.deadline_at,
    leaseUntil: r.lease_until,
    late: r.late,
    reclaimed: r.previous_state === 'delivering',
    dueAt: r.due_at,
    claimedAt: r.claimed_at,
    kind: r.kind,
    documentId: r.document_id,
    sender: r.sender,
    sha256: r.sha256,
    sizeBytes: r.size_bytes,
    payloadRef: r.payload_ref,
    receivedAt: r.received_at,
  }));
  return { deliveries, nextClaimAt };
}

/**
 * When the next delivery becomes claimable (a retry coming due, a lease expiring), or null when
 * none is waiting: lets a worker sleep exactly that long instead of polling.
 */
export async function nextClaimAt(db: Kysely<Database>): Promise<Date | null> {
  const { rows } = await sql<{ at: Date | null }>`
    SELECT least(
      (SELECT min(next_attempt_at) FROM deliveries WHERE state = 'queued'),
      (SELECT min(lease_until) FROM deliveries WHERE state = 'delivering')
    ) AS at`.execute(db);
  return rows[0]?.at ?? null;
}
