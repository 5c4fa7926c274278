// Document tracking (issue 4): what each recipient has done with each document, how documents
// refer to each other (revoke, update, replace), a commit-safe order for the event stream, and the
// office systems that follow their agencies' events on a webhook.

import { sql } from 'kysely';
import type { Kysely } from 'kysely';

const UP: readonly string[] = [
  // One row per document carried (business types 0, 2 and 3 start a document; a revocation (1)
  // reuses the revoked document's id and only marks it). Keyed by sender too: the DocumentId is
  // written by the sender and nothing stops two senders from writing the same one.
  `CREATE TABLE documents (
    document_id text NOT NULL,
    sender text NOT NULL,
    packet_id uuid NOT NULL REFERENCES packets (id),
    business_type smallint NOT NULL,
    subject text,
    priority smallint NOT NULL DEFAULT 0,
    received_at timestamptz NOT NULL,
    revoked_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (document_id, sender)
  )`,
  // The state of one document at one recipient. status_code is the furthest processing status
  // reached (01, 03–06) or 02 (refused, final); recall_state is the separate recall/revoke exchange
  // (13 or a revocation → 15 recalled | 16 refused). Statuses never move a row backwards.
  `CREATE TABLE document_recipients (
    document_id text NOT NULL,
    sender text NOT NULL,
    recipient text NOT NULL,
    delivery_id uuid NOT NULL REFERENCES deliveries (id),
    status_code text CHECK (status_code IN ('01', '02', '03', '04', '05', '06')),
    status_at timestamptz,
    status_reason text,
    confirmed_at timestamptz,
    recall_state text NOT NULL DEFAULT 'none' CHECK (recall_state IN ('none', 'requested', 'recalled', 'refused')),
    recall_kind text CHECK (recall_kind IN ('recall', 'revoke')),
    recall_reason text,
    recall_requested_at timestamptz,
    recall_answered_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (document_id, sender, recipient),
    FOREIGN KEY (document_id, sender) REFERENCES documents (document_id, sender)
  )`,
  // Reports count documents and packets by the period they reached the gateway in.
  `CREATE INDEX documents_received_at_idx ON documents (received_at)`,
  `CREATE INDEX packets_received_at_idx ON packets (received_at)`,
  `CREATE INDEX document_recipients_pending_arrival_idx ON document_recipients (delivery_id) WHERE status_code IS NULL`,
  `CREATE INDEX document_recipients_recipient_idx ON document_recipients (recipient)`,
  `CREATE INDEX document_recipients_unconfirmed_idx ON document_recipients (document_id) WHERE confirmed_at IS NULL`,
  // A recall or revocation withdraws copies the recipient has not taken yet (queued, or waiting
  // unacknowledged in its inbox): they leave the queue and the inbox, and the gateway answers 15.
  `ALTER TABLE deliveries DROP CONSTRAINT deliveries_state_check`,
  `ALTER TABLE deliveries ADD CONSTRAINT deliveries_state_check CHECK (state IN ('queued', 'delivering', 'delivered', 'dead', 'withdrawn'))`,
  // How a later packet refers to an earlier document: it revoked, updated or replaced it.
  `CREATE TABLE document_links (
    document_id text NOT NULL,
    sender text NOT NULL,
    relation text NOT NULL CHECK (relation IN ('revoked', 'updated', 'replaced')),
    by_document_id text NOT NULL,
    by_packet_id uuid NOT NULL REFERENCES packets (id),
    at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (document_id, sender, relation, by_packet_id)
  )`,
  `CREATE INDEX document_links_by_idx ON document_links (by_document_id)`,
  // The event stream's order. Event ids are taken when a row is inserted, so a transaction that
  // commits late can make a lower id appear after a reader has passed it. The id of the inserting
  // transaction is recorded instead: every transaction with an id below the current snapshot's
  // xmin has ended, so the events below it are final, and (tx, id) orders them for good.
  `ALTER TABLE events ADD COLUMN tx xid8 NOT NULL DEFAULT pg_current_xact_id()`,
  `CREATE INDEX events_stream_idx ON events (tx, id)`,
  `CREATE INDEX events_agency_idx ON events (agency)`,
  // An office system following its agencies' events on a webhook (the event dispatcher).
  `CREATE TABLE event_subscriptions (
    id uuid PRIMARY KEY,
    client_id uuid NOT NULL REFERENCES clients (id),
    agencies text[] NOT NULL,
    url text NOT NULL,
    secret text NOT NULL,
    event_types text[],
    cursor text,
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    disabled_at timestamptz
  )`,
];

const DOWN: readonly string[] = [
  'DROP TABLE event_subscriptions',
  'DROP INDEX events_agency_idx',
  'DROP INDEX events_stream_idx',
  'ALTER TABLE events DROP COLUMN tx',
  'DROP TABLE document_links',
  `ALTER TABLE deliveries DROP CONSTRAINT deliveries_state_check`,
  `ALTER TABLE deliveries ADD CONSTRAINT deliveries_state_check CHECK (state IN ('queued', 'delivering', 'delivered', 'dead'))`,
  'DROP TABLE document_recipients',
  'DROP TABLE documents',
];

/** Creates the tracking tables. */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of UP) await sql.raw(statement).execute(db);
}

/** Drops them again (development only). */
export async function down(db: Kysely<unknown>): Promise<void> {
  for (const statement of DOWN) await sql.raw(statement).execute(db);
}
