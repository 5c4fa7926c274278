// Table types of the gateway database, as kysely sees them. Column names are the SQL names
// (snake_case); query files map rows to camelCase values at their boundary. The SQL lives in
// migrations/; a change to a table changes both, and test/store/migrations.test.ts checks that
// every column typed here exists.

import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/** Closed sets stored as text, each with its CHECK constraint in the migration. */
export const AGENCY_STATES = ['active', 'suspended', 'closed'] as const;
export type AgencyState = (typeof AGENCY_STATES)[number];

export const ROUTE_KINDS = ['inbox', 'webhook', 'axis', 'peer'] as const;
export type RouteKind = (typeof ROUTE_KINDS)[number];

export const PACKET_KINDS = ['document', 'status'] as const;
export type PacketKind = (typeof PACKET_KINDS)[number];

/**
 * queued → delivering → delivered | queued (retry) | dead; dead → queued by an admin requeue;
 * queued or delivered-but-unacknowledged → withdrawn by a recall or revocation of the document.
 */
export const DELIVERY_STATES = ['queued', 'delivering', 'delivered', 'dead', 'withdrawn'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

/** Event types written by the store's queries; tracking may append more (the column is free text). */
export const EVENT_TYPES = [
  'admitted',
  'delivered',
  'delivery_failed',
  'dead_lettered',
  'requeued',
  'acked',
  'deadline_missed',
  // Tracking (src/tracking/): a status applied to a (document, recipient); a recall or revocation
  // withdrew an undelivered or unpulled copy; a later packet revoked, updated or replaced this document.
  'status',
  'withdrawn',
  'linked',
  // The axis-compatible API: a system answered updateStatus "fail" for a delivery (src/api/axis-compat).
  'transport_failed',
  // Federation: a packet came in over a link to another gateway (poll, callback, or a peer's
  // sendEdoc): which route, how, and the far side's id of it — one hop of the timeline.
  'received',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** A timestamptz column written by the database (default now()), read as a Date. */
type CreatedAt = ColumnType<Date, Date | undefined, Date>;
/** A JSON column: written as a JSON string (portable across pg and PGlite), read parsed. */
type Json<T> = ColumnType<T, string, string>;

/** `agencies`: the directory (code → name, parent, state, successor, route). */
export interface AgenciesTable {
  code: string;
  name: string;
  parent_code: string | null;
  state: AgencyState;
  /** Where a closed (merged) code forwards to; deliveries record the alias. */
  successor_code: string | null;
  route_id: string | null;
  created_at: CreatedAt;
  updated_at: CreatedAt;
  /** require | verify-if-present | off; null: the configured default. */
  signature_policy: ColumnType<string | null, string | null | undefined, string | null>;
}

/** `routes`: how a recipient is reached. */
export interface RoutesTable {
  id: string;
  kind: RouteKind;
  url: string | null;
  /** HMAC key of a webhook route; must be kept in clear to sign. */
  secret: string | null;
  created_at: CreatedAt;
  /** Whether packets forwarded on this route are signed by the gateway (when it has a key). */
  sign_outgoing: ColumnType<boolean, boolean | undefined, boolean>;
  /** The policy of the agencies on this route that have none of their own. */
  signature_policy: ColumnType<string | null, string | null | undefined, string | null>;
  /** axis: this gateway's systemid at the upstream (its secret is `secret`). */
  systemid: ColumnType<string | null, string | null | undefined, string | null>;
  /** axis: the client that packets arriving from the upstream are admitted as. */
  client_id: ColumnType<string | null, string | null | undefined, string | null>;
}

/** `route_patterns`: the route of agencies that have none of their own, by code pattern. */
export interface RoutePatternsTable {
  /** A glob over the code: `*` is any run of characters (`*.H47`, `*`). */
  pattern: string;
  /** null: local (the inbox). */
  route_id: string | null;
  created_at: CreatedAt;
}

/** `clients`: API credentials and the agencies each may act for. */
export interface ClientsTable {
  id: string;
  name: string;
  /** sha256 hex of the bearer token; the token itself is never stored. */
  token_hash: string;
  agency_codes: ColumnType<string[], string[], string[]>;
  created_at: CreatedAt;
  disabled_at: Date | null;
}

/** `packets`: one row per admitted packet; the bytes live in the payload store under `payload_ref`. */
export interface PacketsTable {
  id: string;
  kind: PacketKind;
  /** Chosen by intake: equal keys are the same submission (duplicate or conflict by `sha256`). */
  idempotency_key: string;
  document_id: string;
  sender: string;
  business_type: number | null;
  status_code: string | null;
  priority: number;
  subject: string | null;
  sha256: string;
  size_bytes: number;
  payload_ref: string;
  client_id: string | null;
  /** When the sender's request arrived (gateway clock); latency and deadline count from here. */
  received_at: Date;
  /** When the admitting transaction ran (database clock). */
  admitted_at: CreatedAt;
  deadline_at: Date;
  signature_verdict: string | null;
  stage_timings: Json<Record<string, number>>;
  /** Why the verdict is what it is: reason, signer, chain, revocation. */
  signature_detail: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
}

/** `trust_certificates`: CA certificates added at run time (role anchor or intermediate). */
export interface TrustCertificatesTable {
  fingerprint_sha256: string;
  role: 'anchor' | 'intermediate';
  subject: string;
  not_after: Date;
  der: Uint8Array;
  added_at: CreatedAt;
}

/** `agency_certificates`: signer certificates bound to an agency. */
export interface AgencyCertificatesTable {
  agency_code: string;
  fingerprint_sha256: string;
  subject: string;
  not_after: Date;
  der: Uint8Array | null;
  added_at: CreatedAt;
}

/** `deliveries`: one row per packet × recipient; the queue. */
export interface DeliveriesTable {
  id: string;
  /** Monotonic number, the inbox cursor. */
  seq: Generated<number>;
  packet_id: string;
  recipient: string;
  /** The closed code the sender addressed, when `recipient` is its successor. */
  alias_of: string | null;
  route_id: string;
  state: ColumnType<DeliveryState, DeliveryState | undefined, DeliveryState>;
  priority: number;
  /** Claims so far; also the fencing token of the current claim. */
  attempts: Generated<number>;
  next_attempt_at: CreatedAt;
  deadline_at: Date;
  lease_until: Date | null;
  delivered_at: Date | null;
  acked_at: Date | null;
  latency_ms: number | null;
  late: Generated<boolean>;
  last_error: string | null;
  created_at: CreatedAt;
}

/** `events`: the append-only, monotonically numbered stream of transitions. */
export interface EventsTable {
  id: Generated<number>;
  at: CreatedAt;
  type: string;
  packet_id: string | null;
  delivery_id: string | null;
  document_id: string | null;
  agency: string | null;
  data: Json<Record<string, unknown>>;
  /** The inserting transaction's id (xid8, read as a decimal string): the stream's commit-safe order. */
  tx: ColumnType<string, never, never>;
}

/** Processing statuses a recipient reports (01, 03–06) or 02 (refused); 13/15/16 are the recall exchange. */
export const RECALL_STATES = ['none', 'requested', 'recalled', 'refused'] as const;
export type RecallState = (typeof RECALL_STATES)[number];
export type RecallKind = 'recall' | 'revoke';
export const LINK_RELATIONS = ['revoked', 'updated', 'replaced'] as const;
export type LinkRelation = (typeof LINK_RELATIONS)[number];

/** `documents`: one row per document carried (business types 0, 2, 3), keyed by id and sender. */
export interface DocumentsTable {
  document_id: string;
  sender: string;
  packet_id: string;
  business_type: number;
  subject: string | null;
  priority: number;
  received_at: Date;
  revoked_at: Date | null;
  created_at: CreatedAt;
}

/** `document_recipients`: the state of one document at one recipient. */
export interface DocumentRecipientsTable {
  document_id: string;
  sender: string;
  recipient: string;
  /** The delivery of the document packet to this recipient. */
  delivery_id: string;
  /** Furthest processing status reached: 01, 03–06, or 02 (refused, final); null before 01. */
  status_code: string | null;
  status_at: Date | null;
  /** The reason given with 02. */
  status_reason: string | null;
  /** When the recipient first confirmed receipt (03) or refused it (02): the same-day rule's clock stops. */
  confirmed_at: Date | null;
  recall_state: ColumnType<RecallState, RecallState | undefined, RecallState>;
  recall_kind: RecallKind | null;
  recall_reason: string | null;
  recall_requested_at: Date | null;
  recall_answered_at: Date | null;
  updated_at: CreatedAt;
}

/** `document_links`: a later packet revoked, updated or replaced an earlier document. */
export interface DocumentLinksTable {
  document_id: string;
  sender: string;
  relation: LinkRelation;
  by_document_id: string;
  by_packet_id: string;
  at: CreatedAt;
}

/** `event_subscriptions`: an office system following its agencies' events on a webhook. */
export interface EventSubscriptionsTable {
  id: string;
  client_id: string;
  agencies: ColumnType<string[], string[], string[]>;
  url: string;
  /** HMAC key; kept in clear to sign. */
  secret: string;
  /** Only these event types, or all when null. */
  event_types: ColumnType<string[] | null, string[] | null | undefined, string[] | null>;
  /** The stream position delivered so far (opaque event cursor), null = from the subscription's creation. */
  cursor: string | null;
  attempts: Generated<number>;
  next_attempt_at: CreatedAt;
  last_error: string | null;
  created_at: CreatedAt;
  disabled_at: Date | null;
}

/** `payloads`: packet bytes by sha256, used when the database is Postgres. */
export interface PayloadsTable {
  sha256: string;
  bytes: ColumnType<Uint8Array, Uint8Array, never>;
  size_bytes: number;
  created_at: CreatedAt;
}

/** `axis_systems`: callers of the axis-compatible API (the national axis SDK's systemid and secret). */
export interface AxisSystemsTable {
  systemid: string;
  /** HMAC key of the XroadVnpt hash-header; must be kept in clear to verify. */
  secret: string;
  /** The client whose agencies the system acts for. */
  client_id: string;
  created_at: CreatedAt;
  disabled_at: Date | null;
  /** A gateway's system (a peer): it acts for the agencies the directory routes through this route. */
  route_id: ColumnType<string | null, string | null | undefined, string | null>;
}

/** The whole database, as kysely's type parameter. */
export interface Database {
  agencies: AgenciesTable;
  routes: RoutesTable;
  clients: ClientsTable;
  packets: PacketsTable;
  deliveries: DeliveriesTable;
  events: EventsTable;
  payloads: PayloadsTable;
  documents: DocumentsTable;
  document_recipients: DocumentRecipientsTable;
  document_links: DocumentLinksTable;
  event_subscriptions: EventSubscriptionsTable;
  trust_certificates: TrustCertificatesTable;
  agency_certificates: AgencyCertificatesTable;
  axis_systems: AxisSystemsTable;
  route_patterns: RoutePatternsTable;
}

export type AgencyRow = Selectable<AgenciesTable>;
export type RouteRow = Selectable<RoutesTable>;
export type ClientRow = Selectable<ClientsTable>;
export type PacketRow = Selectable<PacketsTable>;
export type DeliveryRow = Selectable<DeliveriesTable>;
export type EventRow = Selectable<EventsTable>;
export type NewAgency = Insertable<AgenciesTable>;
export type NewRoute = Insertable<RoutesTable>;
export type NewClient = Insertable<ClientsTable>;
