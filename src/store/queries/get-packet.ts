// One admitted packet with its recipients: what the API needs to decide who may fetch its bytes
// (the sender and the recipients only) and where those bytes are.

import type { Kysely } from 'kysely';
import type { Database, DeliveryState, PacketKind } from '../database.ts';
import { isUuid } from './common.ts';

/** A packet's identity, bytes reference and parties. */
export interface PacketParties {
  readonly packetId: string;
  readonly kind: PacketKind;
  readonly documentId: string;
  readonly sender: string;
  readonly sha256: string;
  readonly sizeBytes: number;
  readonly payloadRef: string;
  /** Agency codes of the deliveries (successors, for aliased recipients); a copy withdrawn by a recall is not theirs any more. */
  readonly recipients: readonly string[];
}

/** The packet and its recipients, or undefined for an unknown (or malformed) id. */
export async function getPacketParties(db: Kysely<Database>, packetId: string): Promise<PacketParties | undefined> {
  if (!isUuid(packetId)) return undefined;
  const packet = await db
    .selectFrom('packets')
    .select(['id', 'kind', 'document_id', 'sender', 'sha256', 'size_bytes', 'payload_ref'])
    .where('id', '=', packetId)
    .executeTakeFirst();
  if (packet === undefined) return undefined;
  const deliveries = await db
    .selectFrom('deliveries')
    .select('recipient')
    .where('packet_id', '=', packetId)
    .where('state', '<>', 'withdrawn')
    .orderBy('seq')
    .execute();
  return {
    packetId: packet.id,
    kind: packet.kind,
    documentId: packet.document_id,
    sender: packet.sender,
    sha256: packet.sha256,
    sizeBytes: packet.size_bytes,
    payloadRef: packet.payload_ref,
    recipients: deliveries.map((d) => d.recipient),
  };
}

/** One delivery of a packet, as the packet view shows it. */
export interface PacketDeliveryView {
  readonly deliveryId: string;
  readonly recipient: string;
  readonly aliasOf: string | null;
  readonly routeId: string;
  readonly state: DeliveryState;
  readonly attempts: number;
  readonly deliveredAt: Date | null;
  readonly acknowledgedAt: Date | null;
  readonly latencyMs: number | null;
  readonly late: boolean;
  readonly lastError: string | null;
  /** The successful attempt's stages in ms: due → claimed, the adapter's call (null before delivery, or when available at once). */
  readonly stageTimings: { readonly waitToClaim: number; readonly deliver: number } | null;
}

/** Everything stored about a packet except its bytes. */
export interface PacketDetails extends PacketParties {
  readonly businessType: number | null;
  readonly statusCode: string | null;
  readonly priority: number;
  readonly subject: string | null;
  readonly receivedAt: Date;
  readonly admittedAt: Date;
  readonly deadlineAt: Date;
  readonly signatureVerdict: string | null;
  readonly signatureDetail: Readonly<Record<string, unknown>> | null;
  readonly stageTimings: Readonly<Record<string, number>>;
  readonly deliveries: readonly PacketDeliveryView[];
}

/** The packet with its verdict, stage timings and deliveries, or undefined for an unknown id. */
export async function getPacketDetails(db: Kysely<Database>, packetId: string): Promise<PacketDetails | undefined> {
  if (!isUuid(packetId)) return undefined;
  const [packet, deliveries, delivered] = await Promise.all([
    db.selectFrom('packets').selectAll().where('id', '=', packetId).executeTakeFirst(),
    db.selectFrom('deliveries').selectAll().where('packet_id', '=', packetId).orderBy('seq').execute(),
    db.selectFrom('events').select(['delivery_id', 'data']).where('packet_id', '=', packetId).where('type', '=', 'delivered').execute(),
  ]);
  const timings = new Map<string, { waitToClaim: number; deliver: number }>();
  for (const e of delivered) {
    const t = e.data['stageTimings'];
    if (e.delivery_id !== null && isDeliveryTimings(t)) timings.set(e.delivery_id, t);
  }
  if (packet === undefined) return undefined;
  return {
    packetId: packet.id,
    kind: packet.kind,
    documentId: packet.document_id,
    sender: packet.sender,
    sha256: packet.sha256,
    sizeBytes: packet.size_bytes,
    payloadRef: packet.payload_ref,
    recipients: deliveries.filter((d) => d.state !== 'withdrawn').map((d) => d.recipient),
    businessType: packet.business_type,
    statusCode: packet.status_code,
    priority: packet.priority,
    subject: packet.subject,
    receivedAt: packet.received_at,
    admittedAt: packet.admitted_at,
    deadlineAt: packet.deadline_at,
    signatureVerdict: packet.signature_verdict,
    signatureDetail: packet.signature_detail,
    stageTimings: packet.stage_timings,
    deliveries: deliveries.map((d) => ({
      deliveryId: d.id,
      recipient: d.recipient,
      aliasOf: d.alias_of,
      routeId: d.route_id,
      state: d.state,
      attempts: d.attempts,
      deliveredAt: d.delivered_at,
      acknowledgedAt: d.acked_at,
      latencyMs: d.latency_ms,
      late: d.late,
      lastError: d.last_error,
      stageTimings: timings.get(d.id) ?? null,
    })),
  };
}

function isDeliveryTimings(value: unknown): value is { waitToClaim: number; deliver: number } {
  return (
    typeof value === 'object' &&
    value !== null &&
    'waitToClaim' in value &&
    typeof value.waitToClaim === 'number' &&
    'deliver' in value &&
    typeof value.deliver === 'number'
  );
}
