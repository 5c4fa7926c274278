// The current state of one document: the document itself, how later packets refer to it (and it to
// earlier ones), and, per recipient, where its copy is (the delivery) and what the recipient has
// done with it (document_recipients). Also the lookup every document read starts with: which
// (DocumentId, sender) a caller means, and whether the caller may see it.
//
// A DocumentId is written by its sender, so two senders can use the same one (documents is keyed
// by both). A caller who can see several of them must name the sender; one who can see only one
// gets it; one who can see none learns nothing, not even that the id exists.

import { sql } from 'kysely';
import type { AliasableExpression, ExpressionBuilder, Kysely, SqlBool } from 'kysely';
import type { Database, DeliveryState, LinkRelation, RecallKind, RecallState } from '../database.ts';

/** Who is reading: a client sees the documents its agencies sent or received; the operator sees all. */
export type DocumentAccess = { readonly agencies: readonly string[] } | 'all';

/** A document's identity: its DocumentId and its sender. */
export interface DocumentKey {
  readonly documentId: string;
  readonly sender: string;
}

/** Which document a caller asks for. */
export interface ResolveDocumentInput {
  readonly documentId: string;
  /** Needed only when the caller can see several senders' documents under this id. */
  readonly sender?: string | undefined;
  readonly access: DocumentAccess;
}

/** The document meant, or why there is none. */
export type ResolvedDocument =
  | {
      readonly outcome: 'found';
      readonly key: DocumentKey;
      /** Other senders wrote the same DocumentId (seen by the caller or not): its events must be told apart by sender. */
      readonly shared: boolean;
    }
  /** No such id, no such sender for it, or nothing the caller may see. */
  | { readonly outcome: 'not_found' }
  /** Several senders' documents under this id are visible to the caller and none was named. */
  | { readonly outcome: 'ambiguous'; readonly senders: readonly string[] };

type DocumentsScope = ExpressionBuilder<Database & { doc: Database['documents'] }, 'doc'>;

/** Whether the document row `doc` is visible to `access`: the sender or a recipient is one of its agencies. */
function visibleTo(eb: DocumentsScope, access: DocumentAccess): AliasableExpression<SqlBool> {
  if (access === 'all') return sql<SqlBool>`true`;
  // `IN ()` is a syntax error; a client acting for no agency sees nothing.
  if (access.agencies.length === 0) return sql<SqlBool>`false`;
  const agencies = [...access.agencies];
  return eb.or([
    eb('doc.sender', 'in', agencies),
    // Served by document_recipients' primary key (document_id, sender, recipient).
    eb.exists(
      eb
        .selectFrom('document_recipients as r')
        .select(sql<number>`1`.as('one'))
        .whereRef('r.document_id', '=', 'doc.document_id')
        .whereRef('r.sender', '=', 'doc.sender')
        .where('r.recipient', 'in', agencies),
    ),
  ]);
}

/** Finds the document a caller means by id (and sender), among those it may see. */
export async function resolveDocument(db: Kysely<Database>, input: ResolveDocumentInput): Promise<ResolvedDocument> {
  const rows = await db
    .selectFrom('documents as doc')
    .select((eb) => ['doc.sender', visibleTo(eb, input.access).as('visible')])
    .where('doc.document_id', '=', input.documentId)
    .orderBy('doc.sender')
    .execute();
  const shared = rows.length > 1;
  const visible = rows.filter((r) => r.visible).map((r) => r.sender);
  if (input.sender !== undefined) {
    return visible.includes(input.sender) ? { outcome: 'found', key: { documentId: input.documentId, sender: input.sender }, shared } : { outcome: 'not_found' };
  }
  const [only, ...others] = visible;
  if (only === undefined) return { outcome: 'not_found' };
  if (others.length > 0) return { outcome: 'ambiguous', senders: visible };
  return { outcome: 'found', key: { documentId: input.documentId, sender: only }, shared };
}

/** What happened to this document (revoked, updated, replaced by another packet), or what it did to another. */
export type DocumentLinkRelation = LinkRelation | 'revokes' | 'updates' | 'replaces';

const OUTGOING: Readonly<Record<LinkRelation, DocumentLinkRelation>> = { revoked: 'revokes', updated: 'updates', replaced: 'replaces' };

/** A link between this document and another. */
export interface DocumentLink {
  /** `revoked`/`updated`/`replaced`: a later packet did this to this document; `revokes`/`updates`/`replaces`: this document did it to `documentId`. */
  readonly relation: DocumentLinkRelation;
  /** The other document. */
  readonly documentId: string;
  /** The packet that revoked, updated or replaced. */
  readonly packetId: string;
  readonly at: Date;
}

/** The recipient's answer to a recall request (13) or a revocation. */
export interface RecipientRecall {
  readonly state: RecallState;
  readonly kind: RecallKind | null;
  readonly reason: string | null;
  readonly requestedAt: Date | null;
  readonly answeredAt: Date | null;
}

/** The furthest processing status a recipient reported (01, 03–06) or its refusal (02). */
export interface RecipientProcessingStatus {
  readonly code: string;
  readonly at: Date | null;
  /** The reason given with 02. */
  readonly reason: string | null;
}

/** One recipient of a document: its copy and what it did with it. */
export interface RecipientStatus {
  readonly recipient: string;
  /** The closed code the sender addressed, when `recipient` is its successor. */
  readonly aliasOf: string | null;
  readonly deliveryId: string;
  readonly deliveryState: DeliveryState;
  readonly deliveredAt: Date | null;
  readonly acknowledgedAt: Date | null;
  readonly latencyMs: number | null;
  readonly late: boolean;
  readonly status: RecipientProcessingStatus | null;
  /** When the recipient first confirmed receipt (03) or refused the document (02). */
  readonly confirmedAt: Date | null;
  readonly recall: RecipientRecall;
}

/** A document and the state of each of its recipients. */
export interface DocumentStatus {
  readonly documentId: string;
  readonly sender: string;
  /** The packet that carried the document. */
  readonly packetId: string;
  readonly businessType: number;
  readonly subject: string | null;
  readonly priority: number;
  readonly receivedAt: Date;
  readonly revokedAt: Date | null;
  /** Both directions, oldest first. */
  readonly links: readonly DocumentLink[];
  /** In the order the sender addressed them. */
  readonly recipients: readonly RecipientStatus[];
}

/** The status of the document `key`, or undefined when there is no such document (access is resolveDocument's job). */
export async function getDocumentStatus(db: Kysely<Database>, key: DocumentKey): Promise<DocumentStatus | undefined> {
  const { documentId, sender } = key;
  const documentQuery = db
    .selectFrom('documents')
    .select(['packet_id', 'business_type', 'subject', 'priority', 'received_at', 'revoked_at'])
    .where('document_id', '=', documentId)
    .where('sender', '=', sender)
    .executeTakeFirst();

  const recipientsQuery = db
    .selectFrom('document_recipients as r')
    .innerJoin('deliveries as d', 'd.id', 'r.delivery_id')
    .select([
      'r.recipient',
      'r.delivery_id',
      'r.status_code',
      'r.status_at',
      'r.status_reason',
      'r.confirmed_at',
      'r.recall_state',
      'r.recall_kind',
      'r.recall_reason',
      'r.recall_requested_at',
      'r.recall_answered_at',
      'd.alias_of',
      'd.state',
      'd.delivered_at',
      'd.acked_at',
      'd.latency_ms',
      'd.late',
    ])
    .where('r.document_id', '=', documentId)
    .where('r.sender', '=', sender)
    // `seq` follows the order of the recipients in the packet (admission inserts them in order).
    .orderBy('d.seq')
    .execute();

  // Incoming: rows keyed by this document (document_links' primary key). Outgoing: rows whose
  // `by_document_id` is this id (document_links_by_idx) and whose packet this sender sent — another
  // sender's document under the same id revokes nothing of ours. A revocation reuses the revoked
  // document's id, so its link names this document on both sides: that row is incoming only.
  const incoming = db
    .selectFrom('document_links as l')
    .select(['l.relation', 'l.by_document_id as other_document_id', 'l.by_packet_id as packet_id', 'l.at', sql<boolean>`false`.as('outgoing')])
    .where('l.document_id', '=', documentId)
    .where('l.sender', '=', sender);
  const outgoing = db
    .selectFrom('document_links as l')
    .innerJoin('packets as p', 'p.id', 'l.by_packet_id')
    .select(['l.relation', 'l.document_id as other_document_id', 'l.by_packet_id as packet_id', 'l.at', sql<boolean>`true`.as('outgoing')])
    .where('l.by_document_id', '=', documentId)
    .where('p.sender', '=', sender)
    .where((eb) => eb.not(eb.and([eb('l.document_id', '=', documentId), eb('l.sender', '=', sender)])));
  const linksQuery = incoming.unionAll(outgoing).orderBy('at').orderBy('packet_id').execute();

  const [document, recipients, links] = await Promise.all([documentQuery, recipientsQuery, linksQuery]);
  if (document === undefined) return undefined;
  return {
    documentId,
    sender,
    packetId: document.packet_id,
    businessType: document.business_type,
    subject: document.subject,
    priority: document.priority,
    receivedAt: document.received_at,
    revokedAt: document.revoked_at,
    links: links.map((l) => ({
      relation: l.outgoing ? OUTGOING[l.relation] : l.relation,
      documentId: l.other_document_id,
      packetId: l.packet_id,
      at: l.at,
    })),
    recipients: recipients.map((r) => ({
      recipient: r.recipient,
      aliasOf: r.alias_of,
      deliveryId: r.delivery_id,
      deliveryState: r.state,
      deliveredAt: r.delivered_at,
      acknowledgedAt: r.acked_at,
      latencyMs: r.latency_ms,
      late: r.late,
      status: r.status_code === null ? null : { code: r.status_code, at: r.status_at, reason: r.status_reason },
      confirmedAt: r.confirmed_at,
      recall: {
        state: r.recall_state,
        kind: r.recall_kind,
        reason: r.recall_reason,
        requestedAt: r.recall_requested_at,
        answeredAt: r.recall_answered_at,
      },
    })),
  };
}
