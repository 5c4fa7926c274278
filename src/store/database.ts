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

/** queued → delivering → delivered | queued (retry) | dead; dead → queued by an admin requeue. */
export const DELIVERY_STATES = ['queued', 'delivering', 'delivered', 'dead'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

/** Event types written by the store's queries; tracking may append more (the column is free text). */
export const EVENT_TYPES = ['admitted', 'delivered', 'delivery_failed', 'dead_lettered', 'requeued', 'acked', 'deadline_missed'] as const;
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
}

/** `routes`: how a recipient is reached. */
export interface RoutesTable {
  id: string;
  kind: RouteKind;
  url: string | null;
  /** HMAC key of a webhook route; must be kept in clear to sign. */
  secret: string | null;
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
}

/** `payloads`: packet bytes by sha256, used when the database is Postgres. */
export interface PayloadsTable {
  sha256: string;
  bytes: ColumnType<Uint8Array, Uint8Array, never>;
  size_bytes: number;
  created_at: CreatedAt;
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
