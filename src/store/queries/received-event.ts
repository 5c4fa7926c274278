// The `received` event: a packet came in over a link to another gateway. The timeline shows it as
// the hop before this gateway's `admitted`: which route, how (poll, callback, or a peer's
// sendEdoc), the far side's id of it and the systemid of the credential it came with.

import type { Kysely } from 'kysely';
import type { Database } from '../database.ts';

/** The event type (free text in events.type, listed in EVENT_TYPES). */
export const RECEIVED_EVENT = 'received';

/** How a packet came over a link. */
export type ReceivedVia = 'poll' | 'callback' | 'sendEdoc';

/** One hop in. */
export interface ReceivedHop {
  readonly packetId: string;
  readonly documentId: string;
  /** The packet's sender. */
  readonly agency: string;
  readonly routeId: string;
  readonly via: ReceivedVia;
  /** The far side's id of the message (the upstream's docId), when it gave one. */
  readonly remoteId: string | null;
  readonly systemid: string;
}

/** Appends the hop's event. */
export async function insertReceivedEvent(db: Kysely<Database>, hop: ReceivedHop): Promise<void> {
  await db
    .insertInto('events')
    .values({
      type: RECEIVED_EVENT,
      packet_id: hop.packetId,
      delivery_id: null,
      document_id: hop.documentId,
      agency: hop.agency,
      data: JSON.stringify({ via: hop.via, route: hop.routeId, remoteId: hop.remoteId, systemid: hop.systemid }),
    })
    .execute();
}
