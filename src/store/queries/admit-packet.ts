// Admission: ONE statement that writes the packet, its payload bytes (when they live in the
// database), one delivery per recipient and an `admitted` event, and wakes the workers. A single
// statement is its own transaction: after it commits the packet is durable and every delivery is
// queued; before, nothing of it exists (DESIGN, Storage) — and a statement that fails anywhere
// (a violated constraint, a lost connection) leaves nothing behind.
//
// A delivery to an inbox route is available once the statement commits: the recipient pulls it
// from the store, so there is nothing for a worker to do. It is written delivered (attempt 1, its
// latency the admission's, a `delivered` event) by the same statement instead of queued, claimed
// and completed by a worker afterwards — two round trips and a wake-up less for every inbox
// delivery, including every automatic 01 to a sender that pulls (bench/gateway.ts: one of the
// five statements per 100 KB document was the 01's claim, one its completion).
//
// Why one statement and not BEGIN … COMMIT: it is one round trip instead of five, no transaction
// sits "idle in transaction" while a busy event loop gets round to its next query, and the payload
// commits with the packet — before, a 100 KB packet cost two commits (the payload INSERT, then the
// admission). bench/gateway.ts on the 2-core machine: gateway CPU per 100 KB packet 6.5 → 6.0 ms
// at 100/s and 3.9 → 3.4 ms at 200/s (docs/benchmarks.md).
//
// Data-modifying CTEs all run, once, whether or not the final SELECT reads them; each one selects
// FROM the packet row it inserted, so on a duplicate (no row) none of them writes anything — no
// orphan payload, delivery or event.
//
// When the payload store is a folder (the embedded default), or the packet is too large for one
// Bind message (writesInStatement, src/store/payloads.ts), the bytes are written (and, in a folder,
// fsynced) by PayloadStore.put before the statement, so a committed packet never points at nothing; a duplicate
// or conflicting post may then leave a file no packet references, which is harmless: files are named
// by their sha256, the next post of the same bytes reuses it, and it is what a retention sweep of
// unreferenced payloads would collect.

import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { DELIVERIES_CHANNEL } from '../channels.ts';
import type { Database, DeliveryState, PacketKind } from '../database.ts';
import { writesInStatement } from '../payloads.ts';
import type { PayloadStore } from '../payloads.ts';

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
  /** The payload reference: the sha256 of the bytes (what PayloadStore.put returns for them). */
  readonly payloadRef: string;
  /**
   * The bytes and their store, when admission is to store them: in the admitting statement if the
   * store is the database's table, else with `put` (durable) before it. Absent: the caller stored
   * them under `payloadRef` already. `payloadRef` must be the sha256 of these bytes (not re-checked:
   * the caller has just computed it, and hashing 67 MB twice is not free).
   */
  readonly payload?: { readonly bytes: Uint8Array; readonly store: PayloadStore } | undefined;
  readonly clientId: string | null;
  /** When the sender's request arrived; the deadline and the end-to-end latency count from here. */
  readonly receivedAt: Date;
  readonly budgetMs: number;
  readonly signatureVerdict: string | null;
  /** Why the verdict is what it is (reason, signer), stored as JSON. */
  readonly signatureDetail?: Readonly<Record<string, unknown>> | undefined;
  /** Milliseconds per intake stage so far (decode, validate, verify). */
  readonly stageTimings: Readonly<Record<string, number>>;
  readonly recipients: readonly AdmitRecipient[];
  /**
   * The payload of the NOTIFY that wakes delivery workers: the admitting node's id, so that node
   * (which wakes its own workers in-process) can ignore its own echo. Default ''.
   */
  readonly notifyPayload?: string | undefined;
  /**
   * Start tracking the packet as a document (business types 0, 2 and 3): a `documents` row and one
   * `document_recipients` row per delivery, written by the same statement. Absent for status
   * packets and revocations, which act on a document that exists.
   */
  readonly trackDocument?: boolean | undefined;
  /**
   * The automatic 01 (đã đến) of the delivery `deliveryId`: the packet is admitted only while that
   * delivery's tracking row has no status yet (and was not recalled), and the same statement
   * records the 01 on the row and appends its `status` event. The row is locked for the statement,
   * so a status the recipient sends meanwhile waits for it. Outcome `skipped` when it has a status.
   */
  readonly arrival?: { readonly deliveryId: string; readonly event: Readonly<Record<string, unknown>> } | undefined;
  /**
   * Deliveries to inbox routes are made available (delivered) by the admitting statement rather
   * than queued for a worker. The gateway's intake and tracker set it; without it every delivery
   * is queued, as the store's own tests of claims and transitions expect.
   */
  readonly inboxAvailable?: boolean | undefined;
}

/** A delivery as admission reports it. */
export interface AdmittedDelivery {
  readonly deliveryId: string;
  readonly to: string;
  readonly aliasOf: string | null;
  readonly routeId: string;
  readonly state: DeliveryState;
  /** An inbox delivery, available on admission: its end-to-end latency and whether it was late. */
  readonly available?: { readonly latencyMs: number; readonly late: boolean } | undefined;
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

/**
 * `admitted`: new; `duplicate`: same key and content (answer 200 with it); `conflict`: same key,
 * other content (409); `skipped`: an `arrival` whose row already has a status (nothing written).
 */
export type AdmitOutcome = 'admitted' | 'duplicate' | 'conflict' | 'skipped';

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
  const payload = input.payload;
  const inStatement = payload !== undefined && writesInStatement(payload.store, payload.bytes.byteLength);
  // The folder store, or a payload too large to go through one Bind message: durable before the
  // statement that references the bytes commits.
  if (payload !== undefined && !inStatement) await payload.store.put(payload.bytes);

  const deliveries: AdmittedDelivery[] = input.recipients.map((r) => ({
    deliveryId: randomUUID(),
    to: r.to,
    aliasOf: r.aliasOf ?? null,
    routeId: r.routeId,
    state: 'queued',
  }));
  const event = JSON.stringify({
    kind: input.kind,
    priority: input.priority,
    recipients: deliveries.map((d) => ({ to: d.to, deliveryId: d.deliveryId, aliasOf: d.aliasOf })),
  });
  const payloadCte =
    payload !== undefined && inStatement
      ? sql`, stored_payload AS (
          INSERT INTO payloads (sha256, bytes, size_bytes)
          SELECT ${input.payloadRef}::text, ${asBuffer(payload.bytes)}::bytea, ${payload.bytes.byteLength}::bigint FROM new_packet
          ON CONFLICT (sha256) DO NOTHING
        )`
      : sql``;

  // A document already tracked under this id and sender (another business type reusing the id, as
  // the official update and replacement samples do) keeps its row; the new deliveries still get theirs.
  const documentCtes = input.trackDocument
    ? sql`, new_document AS (
          INSERT INTO documents (document_id, sender, packet_id, business_type, subject, priority, received_at)
          SELECT ${input.documentId}::text, ${input.sender}::text, new_packet.id, ${input.businessType ?? 0}::smallint,
                 ${input.subject}::text, ${input.priority}::smallint, ${input.receivedAt}::timestamptz
          FROM new_packet
          ON CONFLICT (document_id, sender) DO NOTHING
        ), new_document_recipients AS (
          INSERT INTO document_recipients (document_id, sender, recipient, delivery_id)
          SELECT ${input.documentId}::text, ${input.sender}::text, nd.recipient, nd.id FROM new_deliveries AS nd
          ON CONFLICT (document_id, sender, recipient) DO NOTHING
        )`
    : sql``;

  const arrival = input.arrival;
  const arrivalGuard = arrival === undefined ? sql`` : sql`arrival_row AS MATERIALIZED (
        SELECT document_id, sender, recipient FROM document_recipients
        WHERE delivery_id = ${arrival.deliveryId}::uuid AND status_code IS NULL AND recall_state <> 'recalled'
        FOR UPDATE
      ), `;
  const arrivalFilter = arrival === undefined ? sql`` : sql`WHERE EXISTS (SELECT 1 FROM arrival_row)`;
  const arrivalCtes =
    arrival === undefined
      ? sql``
      : sql`, arrival_status AS (
          UPDATE document_recipients AS dr SET status_code = '01', status_at = now(), updated_at = now()
          FROM new_packet, arrival_row AS a
          WHERE dr.document_id = a.document_id AND dr.sender = a.sender AND dr.recipient = a.recipient
          RETURNING dr.document_id, dr.recipient
        ), arrival_event AS (
          INSERT INTO events (type, packet_id, delivery_id, document_id, agency, data)
          SELECT 'status', new_packet.id, ${arrival.deliveryId}::uuid, s.document_id, s.recipient,
                 ${JSON.stringify(arrival.event)}::jsonb || jsonb_build_object('packetId', new_packet.id)
          FROM new_packet, arrival_status AS s
        )`;

  // The bytes go into the payload cache before the statement, not after it: a worker of this node
  // can claim a delivery the moment the statement commits, and its claim's answer may be handled
  // before this statement's — it then found no cached bytes and read them back from Postgres
  // (bench medium: about one delivery in twelve). A reference names its bytes, so caching them
  // early is never wrong; nothing asks for them before a committed row names the reference.
  if (payload !== undefined) payload.store.remember?.(input.payloadRef, payload.bytes);

  // ON CONFLICT DO NOTHING waits for a concurrent admission of the same key to finish, so exactly
  // one of two simultaneous posts inserts the row; the other gets no row and reads the winner's below.
  // Types are spelled out in the SELECT lists: there a parameter's type is not inferred from the column.
  // The recipients go in as parallel arrays, in order (their `seq` follows it, and so does the inbox).
  const { rows } = await sql<{ admitted_at: Date; deliveries: readonly DeliveryRow[] }>`
    WITH ${arrivalGuard}new_packet AS (
      INSERT INTO packets (id, kind, idempotency_key, document_id, sender, business_type, status_code, priority, subject,
                           sha256, size_bytes, payload_ref, client_id, received_at, deadline_at, signature_verdict, signature_detail, stage_timings)
      SELECT ${packetId}::uuid, ${input.kind}::text, ${input.idempotencyKey}::text, ${input.documentId}::text, ${input.sender}::text,
             ${input.businessType}::smallint, ${input.statusCode}::text, ${input.priority}::smallint, ${input.subject}::text,
             ${input.sha256}::text, ${input.sizeBytes}::bigint, ${input.payloadRef}::text, ${input.clientId}::uuid,
             ${input.receivedAt}::timestamptz, ${deadlineAt}::timestamptz, ${input.signatureVerdict}::text,
             ${input.signatureDetail === undefined ? null : JSON.stringify(input.signatureDetail)}::jsonb, ${JSON.stringify(input.stageTimings)}::jsonb
      ${arrivalFilter}
      ON CONFLICT (idempotency_key) DO NOTHING
      RETURNING id, admitted_at
    )${payloadCte}, new_deliveries AS (
      -- An inbox route is one the routes table says is an inbox, or the built-in 'inbox' it does not define.
      INSERT INTO deliveries (id, packet_id, recipient, alias_of, route_id, priority, deadline_at, state, attempts, delivered_at, latency_ms, late)
      SELECT r.id, new_packet.id, r.recipient, r.alias_of, r.route_id, ${input.priority}::smallint, ${deadlineAt}::timestamptz,
             CASE WHEN k.pulled THEN 'delivered' ELSE 'queued' END, CASE WHEN k.pulled THEN 1 ELSE 0 END,
             CASE WHEN k.pulled THEN now() END,
             CASE WHEN k.pulled THEN least(2147483647, greatest(0, round(extract(epoch FROM now() - ${input.receivedAt}::timestamptz) * 1000)))::integer END,
             k.pulled AND now() > ${deadlineAt}::timestamptz
      FROM new_packet,
           unnest(${deliveries.map((d) => d.deliveryId)}::uuid[], ${deliveries.map((d) => d.to)}::text[],
                  ${deliveries.map((d) => d.aliasOf)}::text[], ${deliveries.map((d) => d.routeId)}::text[])
             WITH ORDINALITY AS r(id, recipient, alias_of, route_id, n),
           LATERAL (SELECT ${input.inboxAvailable === true}::boolean
                           AND coalesce((SELECT rt.kind FROM routes AS rt WHERE rt.id = r.route_id), CASE WHEN r.route_id = 'inbox' THEN 'inbox' END) = 'inbox' AS pulled) AS k
      ORDER BY r.n
      RETURNING id, recipient, state, latency_ms, late, attempts
    )${documentCtes}${arrivalCtes}, admitted_event AS (
      -- One INSERT, in this order, so the timeline reads admitted before delivered.
      INSERT INTO events (type, packet_id, delivery_id, document_id, agency, data)
      SELECT e.type, new_packet.id, e.delivery_id, ${input.documentId}::text, e.agency, e.data
      FROM new_packet,
           (SELECT 0 AS n, 'admitted' AS type, NULL::uuid AS delivery_id, ${input.sender}::text AS agency, ${event}::jsonb AS data
            UNION ALL
            SELECT 1, 'delivered', nd.id, nd.recipient,
                   jsonb_build_object('attempt', nd.attempts, 'latencyMs', nd.latency_ms, 'late', nd.late,
                                      'stageTimings', jsonb_build_object('waitToClaim', 0, 'deliver', 0))
            FROM new_deliveries AS nd WHERE nd.state = 'delivered') AS e
      ORDER BY e.n
    )
    -- NOTIFY is delivered only once this statement has committed, and only when it queued something.
    SELECT admitted_at,
           (SELECT coalesce(json_agg(json_build_object('id', nd.id, 'state', nd.state, 'latency_ms', nd.latency_ms, 'late', nd.late)), '[]'::json)
            FROM new_deliveries AS nd) AS deliveries,
           CASE WHEN EXISTS (SELECT 1 FROM new_deliveries AS nd WHERE nd.state = 'queued')
                THEN pg_notify(${DELIVERIES_CHANNEL}, ${input.notifyPayload ?? ''}::text) END
    FROM new_packet`.execute(db);

  const inserted = rows[0];
  if (inserted === undefined) {
    // An arrival not admitted: the row has a status (the recipient's own, or an earlier automatic
    // 01 holding the same key) or was recalled. Its caller has nothing to answer, so nothing is read.
    if (arrival !== undefined) return { outcome: 'skipped', packet: notAdmitted(packetId, input, deadlineAt) };
    const existing = await loadByKey(db, input.idempotencyKey);
    if (existing === undefined) throw new Error(`admission found idempotency key ${input.idempotencyKey} taken, then no packet holding it`);
    return { outcome: existing.sha256 === input.sha256 ? 'duplicate' : 'conflict', packet: existing };
  }
  const written = new Map(inserted.deliveries.map((d) => [d.id, d]));
  const admittedDeliveries = deliveries.map((d): AdmittedDelivery => {
    const row = written.get(d.deliveryId);
    if (row === undefined) throw new Error(`admission of packet ${packetId} did not write delivery ${d.deliveryId}`);
    return row.state === 'delivered' ? { ...d, state: row.state, available: { latencyMs: row.latency_ms ?? 0, late: row.late } } : { ...d, state: row.state };
  });
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
      deliveries: admittedDeliveries,
    },
  };
}

/** A delivery as the admitting statement wrote it. */
interface DeliveryRow {
  readonly id: string;
  readonly state: DeliveryState;
  readonly latency_ms: number | null;
  readonly late: boolean;
}

/** Whether admission queued work for the delivery workers (an inbox delivery needs none). */
export function queuedAny(packet: AdmittedPacket): boolean {
  return packet.deliveries.some((d) => d.state === 'queued');
}

function asBuffer(bytes: Uint8Array): Buffer {
  // pg sends a Buffer as a binary parameter; other views are wrapped, not copied.
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

interface ExistingRow {
  id: string;
  kind: PacketKind;
  document_id: string;
  sender: string;
  sha256: string;
  payload_ref: string;
  received_at: Date;
  admitted_at: Date;
  deadline_at: Date;
  deliveries: { id: string; recipient: string; alias_of: string | null; route_id: string; state: DeliveryState }[];
}

/** What a skipped arrival reports: the packet it would have been, with nothing stored. */
function notAdmitted(packetId: string, input: AdmitPacketInput, deadlineAt: Date): AdmittedPacket {
  return {
    packetId,
    kind: input.kind,
    documentId: input.documentId,
    sender: input.sender,
    sha256: input.sha256,
    payloadRef: input.payloadRef,
    receivedAt: input.receivedAt,
    admittedAt: input.receivedAt,
    deadlineAt,
    deliveries: [],
  };
}

/**
 * The earlier admission of the same submission, if any: `duplicate` (same bytes) or `conflict`.
 * For callers that must answer a re-post before judging it again (a status whose document has moved
 * on since is still the same status, and gets its first receipt).
 */
export async function findAdmitted(db: Kysely<Database>, idempotencyKey: string, sha256: string): Promise<AdmitPacketResult | undefined> {
  const existing = await loadByKey(db, idempotencyKey);
  if (existing === undefined) return undefined;
  return { outcome: existing.sha256 === sha256 ? 'duplicate' : 'conflict', packet: existing };
}

/** The packet holding a key, with its deliveries, in one round trip (the duplicate path stays cheap). */
async function loadByKey(db: Kysely<Database>, idempotencyKey: string): Promise<AdmittedPacket | undefined> {
  // It is committed: ON CONFLICT only gave up after the other admission's COMMIT, and this statement's
  // snapshot is newer. Packet and deliveries were committed together, so they are read together.
  const { rows } = await sql<ExistingRow>`
    SELECT p.id, p.kind, p.document_id, p.sender, p.sha256, p.payload_ref, p.received_at, p.admitted_at, p.deadline_at,
           coalesce((SELECT json_agg(json_build_object('id', d.id, 'recipient', d.recipient, 'alias_of', d.alias_of,
                                                       'route_id', d.route_id, 'state', d.state) ORDER BY d.seq)
                     FROM deliveries d WHERE d.packet_id = p.id), '[]'::json) AS deliveries
    FROM packets p
    WHERE p.idempotency_key = ${idempotencyKey}`.execute(db);
  const packet = rows[0];
  if (packet === undefined) return undefined;
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
    deliveries: packet.deliveries.map((d) => ({ deliveryId: d.id, to: d.recipient, aliasOf: d.alias_of, routeId: d.route_id, state: d.state })),
  };
}
