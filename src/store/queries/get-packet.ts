// One admitted packet with its recipients: what the API needs to decide who may fetch its bytes
// (the sender and the recipients only) and where those bytes are.

import type { Kysely } from 'kysely';
import type { Database, PacketKind } from '../database.ts';
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
  /** Agency codes of the deliveries (successors, for aliased recipients). */
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
  const deliveries = await db.selectFrom('deliveries').select('recipient').where('packet_id', '=', packetId).orderBy('seq').execute();
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
