// Deliveries by state, oldest first, by cursor: the dead letter (`state = 'dead'`) for operators,
// and whatever else an admin view needs.

import type { Kysely } from 'kysely';
import type { Database, DeliveryState } from '../database.ts';
import { decodeCursor, encodeCursor, pageSize } from './common.ts';

/** A delivery as an operator sees it. */
export interface DeliverySummary {
  readonly deliveryId: string;
  readonly packetId: string;
  readonly documentId: string;
  readonly sender: string;
  readonly recipient: string;
  readonly aliasOf: string | null;
  readonly routeId: string;
  readonly state: DeliveryState;
  readonly priority: number;
  readonly attempts: number;
  readonly nextAttemptAt: Date;
  readonly deadlineAt: Date;
  readonly deliveredAt: Date | null;
  readonly latencyMs: number | null;
  readonly late: boolean;
  readonly lastError: string | null;
  readonly createdAt: Date;
}

/** Which page. */
export interface ListDeliveriesInput {
  readonly state?: DeliveryState | undefined;
  readonly recipient?: string | undefined;
  readonly packetId?: string | undefined;
  readonly cursor?: string | undefined;
  /** 1..500, default 50. */
  readonly limit?: number | undefined;
}

/** A page of deliveries. */
export interface DeliveryPage {
  readonly items: readonly DeliverySummary[];
  readonly nextCursor: string | null;
  readonly hasMore: boolean;
}

/** Lists deliveries matching the filters; EDX_ERR_CURSOR_INVALID for a foreign cursor. */
export async function listDeliveries(db: Kysely<Database>, input: ListDeliveriesInput): Promise<DeliveryPage> {
  const after = input.cursor === undefined || input.cursor === '' ? undefined : decodeCursor(input.cursor);
  const limit = pageSize(input.limit, 50, 500);
  let query = db
    .selectFrom('deliveries as d')
    .innerJoin('packets as p', 'p.id', 'd.packet_id')
    .select([
      'd.id',
      'd.seq',
      'd.packet_id',
      'd.recipient',
      'd.alias_of',
      'd.route_id',
      'd.state',
      'd.priority',
      'd.attempts',
      'd.next_attempt_at',
      'd.deadline_at',
      'd.delivered_at',
      'd.latency_ms',
      'd.late',
      'd.last_error',
      'd.created_at',
      'p.document_id',
      'p.sender',
    ]);
  if (input.state !== undefined) query = query.where('d.state', '=', input.state);
  if (input.recipient !== undefined) query = query.where('d.recipient', '=', input.recipient);
  if (input.packetId !== undefined) query = query.where('d.packet_id', '=', input.packetId);
  if (after !== undefined) query = query.where('d.seq', '>', after);
  const rows = await query.orderBy('d.seq').limit(limit + 1).execute();
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: page.map((r) => ({
      deliveryId: r.id,
      packetId: r.packet_id,
      documentId: r.document_id,
      sender: r.sender,
      recipient: r.recipient,
      aliasOf: r.alias_of,
      routeId: r.route_id,
      state: r.state,
      priority: r.priority,
      attempts: r.attempts,
      nextAttemptAt: r.next_attempt_at,
      deadlineAt: r.deadline_at,
      deliveredAt: r.delivered_at,
      latencyMs: r.latency_ms,
      late: r.late,
      lastError: r.last_error,
      createdAt: r.created_at,
    })),
    nextCursor: last !== undefined ? encodeCursor(last.seq) : (input.cursor ?? null),
    hasMore: rows.length > limit,
  };
}
