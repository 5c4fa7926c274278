// The idempotency key of a packet: which earlier submission a re-post is "the same one" as.
//
// Sender + DocumentId alone is not enough. A revoke (BussinessDocType 1), an update (2) and a
// replacement (3) carry the DocumentId of the document they act on, and a status packet carries the
// DocumentId of the document it reports on — keyed on DocumentId alone, each would collide with the
// original and be refused as a conflict. So the key also names the kind and the business type (for
// documents) or the status code (for statuses). Equal keys with equal bytes are a duplicate (answered
// with the first result); equal keys with other bytes are a conflict.

import type { Packet } from '../edxml/model.ts';
import { documentIdOf, senderOf } from '../edxml/model.ts';

/** `document|b<type>|<sender>|<DocumentId>` or `status|s<code>|<sender>|<DocumentId>`. */
export function idempotencyKey(packet: Packet): string {
  // DocumentId comes last: the parts before it have fixed shapes, so the key is unambiguous whatever
  // characters the DocumentId holds.
  const variant = packet.kind === 'document' ? `b${packet.business?.businessDocType ?? 0}` : `s${packet.statusCode}`;
  return `${packet.kind}|${variant}|${senderOf(packet)}|${documentIdOf(packet)}`;
}
