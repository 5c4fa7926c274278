// Admission: ONE transaction that writes the packet, one delivery per recipient and an `admitted`
// event, and wakes the workers. After COMMIT the packet is durable and every delivery is queued;
// before it, nothing of it exists (DESIGN, Storage). The payload bytes are stored before this runs
// (PayloadStore.put returns once they are durable), so a committed packet never points at nothing.

import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Kysely, Transaction } from 'kysely';
import { DELIVERIES_CHANNEL } from '../channels.ts';
import type { Database, DeliveryState, PacketKind } from '../database.ts';

/** One recipient of a packet, already resolved through the directory. */
export interface AdmitRecipient {
  /** The agency that receives (the successor, when the sender addressed a closed code). */
  readonly to: string;
  readonly routeId: string;
  /** The closed code the sender addressed, when `to` is its successor. */
  readonly aliasOf?: string | null;
}

/** What intake knows about a packet when it admits it. */
export interface AdmitPacketInput {
  /**
   * Equal keys are the same submission: the second post answers with the first result (same
   * sha256) or a conflict (other sha256). Intake builds it, e.g. kind + sender + DocumentId for
   * documents; a status packet's key must also name its status, or a later status would collide.
   */
  readonly idempotencyKey: string;
  readonly kind: PacketKind;
  readonly documentId: string;
  readonly sender: string;
  readonly businessType: number | null;
  readonly statusCode: string | null;
  /** 0 ordinary … 4; higher is claimed first. */
  readonly priority: number;
  readonly subject: string | null;
  /** sha256 hex of the packet bytes, the content compared on a re-post. */
  readonly sha256: string;
  readonly sizeBytes: number;
  /** What PayloadStore.put returned. */
  readonly payloadRef: string;
  readonly clientId: string | null;
  /** When the sender's request arrived; the deadline and the end-to-end latency count from here. */
  readonly receivedAt: Date;
  readonly budgetMs: number;
  readonly signatureVerdict: string | null;
  /** Milliseconds per intake stage so far (decode, validate, verify). */
  readonly stageTimings: Readonly<Record<string, number>>;
  readonly recipients: readonly AdmitRecipient[];
}

/** A delivery as admission reports it. */
export interface AdmittedDelivery {
  readonly deliveryId: string;
  readonly to: string;
  readonly aliasOf: string | null;
  readonly routeId: string;
  readonly state: DeliveryState;
}

/** A packet as admission reports it (for a duplicate: as it was first admitted, with current states). */
export interface AdmittedPacket {
  readonly packetId: string;
  readonly kind: PacketKind;
  readonly documentId: string;
  readonly sender: string;
  readonly sha256: string;
  readonly payloadRef: string;
  readonly receivedAt: Date;
  readonly admittedAt: Date;
  readonly deadlineAt: Date;
  readonly deliveries: readonly AdmittedDelivery[];
}

/** `admitted`: new; `duplicate`: same key and content (answer 200 with it); `conflict`: same key, other content (409). */
export type AdmitOutcome = 'admitted' | 'duplicate' | 'conflict';

/** The outcome and the packet it concerns. */
export interface AdmitPacketResult {
  readonly outcome: AdmitOutcome;
  readonly packet: AdmittedPacket;
}

/** Admits a packet atomically, or reports the packet that already holds its idempotency key. */
export async function admitPacket(db: Kysely<Database>, input: AdmitPacketInput): Promise<AdmitPacketResult> {
  if (input.recipients.length === 0) throw new TypeError('admitPacket needs at least one recipient');
  const packetId = randomUUID();
  const deadlineAt = new Date(input.receivedAt.getTime() + input.budgetMs);

  return db.transaction().execute(async (trx) => {
    // ON CONFLICT DO NOTHING waits for a concurrent admission of the same key to finish, so exactly
    // one of two simultaneous posts wins and the other sees its committed row below.
    const inserted = await trx
      .insertInto('packets')
      .values({
        id: packetId,
        kind: input.kind,
        idempotency_key: input.idempotencyKey,
        document_id: input.documentId,
        sender: input.sender,
        business_type: input.businessType,
        status_code: input.statusCode,
        priority: input.priority,
        subject: input.subject,
        sha256: input.sha256,
        size_bytes: input.sizeBytes,
        payload_ref: input.payloadRef,
        client_id: input.clientId,
        received_at: input.receivedAt,
        deadline_at: deadlineAt,
        signature_verdict: input.signatureVerdict,
        stage_timings: JSON.stringify(input.stageTimings),
      })
      .onConflict((oc) => oc.column('idempotency_key').doNothing())
      .returning(['admitted_at'])
      .executeTakeFirst();

    if (inserted === undefined) {
      const existing = await loadByKey(trx, input.idempotencyKey);
      return { outcome: existing.sha256 === input.sha256 ? 'duplicate' : 'conflict', packet: existing };
    }

    const deliveries: AdmittedDelivery[] = input.recipients.map((r) => ({
      deliveryId: randomUUID(),
      to: r.to,
      aliasOf: r.aliasOf ?? null,
      routeId: r.routeId,
      state: 'queued',
    }));
    await trx
      .insertInto('deliveries')
      .values(
        deliveries.map((d) => ({
          id: d.deliveryId,
          packet_id: packetId,
          recipient: d.to,
          alias_of: d.aliasOf,
          route_id: d.routeId,
          priority: input.priority,
          deadline_at: deadlineAt,
        })),
      )
      .execute();

    // The event and the wake-up in one round trip; NOTIFY is delivered only if this COMMITs.
    const data = JSON.stringify({
      kind: input.kind,
      priority: input.priority,
      recipients: deliveries.map((d) => ({ to: d.to, deliveryId: d.deliveryId, aliasOf: d.aliasOf })),
    });
    await sql`
      WITH e AS (
        INSERT INTO events (type, packet_id, document_id, agency, data)
        VALUES ('admitted', ${packetId}, ${input.documentId}, ${input.sender}, ${data}::jsonb)
      )
      SELECT pg_notify(${DELIVERIES_CHANNEL}, '')`.execute(trx);

    return {
      outcome: 'admitted',
      packet: {
        packetId,
        kind: input.kind,
        documentId: input.documentId,
        sender: input.sender,
        sha256: input.sha256,
        payloadRef: input.payloadRef,
        receivedAt: input.receivedAt,
        admittedAt: inserted.admitted_at,
        deadlineAt,
        deliveries,
      },
    };
  });
}

async function loadByKey(trx: Transaction<Database>, idempotencyKey: string): Promise<AdmittedPacket> {
  const packet = await trx
    .selectFrom('packets')
    .select(['id', 'kind', 'document_id', 'sender', 'sha256', 'payload_ref', 'received_at', 'admitted_at', 'deadline_at'])
    .where('idempotency_key', '=', idempotencyKey)
    .executeTakeFirstOrThrow();
  const deliveries = await trx
    .selectFrom('deliveries')
    .select(['id', 'recipient', 'alias_of', 'route_id', 'state'])
    .where('packet_id', '=', packet.id)
    .orderBy('seq')
    .execute();
  return {
    packetId: packet.id,
    kind: packet.kind,
    documentId: packet.document_id,
    sender: packet.sender,
    sha256: packet.sha256,
    payloadRef: packet.payload_ref,
    receivedAt: packet.received_at,
    admittedAt: packet.admitted_at,
    deadlineAt: packet.deadline_at,
    deliveries: deliveries.map((d) => ({ deliveryId: d.id, to: d.recipient, aliasOf: d.alias_of, routeId: d.route_id, state: d.state })),
  };
}
