import { sql } from 'kysely';
import t from 'tap';
import type {
  AgenciesTable,
  AgencyCertificatesTable,
  AxisSystemsTable,
  RoutePatternsTable,
  ClientsTable,
  Database,
  DocumentLinksTable,
  DocumentRecipientsTable,
  DocumentsTable,
  EventSubscriptionsTable,
  DeliveriesTable,
  EventsTable,
  PacketsTable,
  PayloadsTable,
  RoutesTable,
  TrustCertificatesTable,
} from '../../src/store/database.ts';
import { migrateToLatest, migrationStatus } from '../../src/store/migrate.ts';
import { MIGRATIONS } from '../../src/store/migrations/index.ts';
import { postgresAvailable, testDatabase } from '../helpers/database.ts';

// Every column of every table type, spelled out: the compiler rejects a missing or extra key, so
// this list is the table types, and the test checks the migrations created exactly these columns.
type Columns<T> = { readonly [K in keyof T]-?: true };
const COLUMNS: { readonly [Table in keyof Database]: Columns<Database[Table]> } = {
  agencies: { code: true, name: true, parent_code: true, state: true, successor_code: true, route_id: true, created_at: true, updated_at: true, signature_policy: true } satisfies Columns<AgenciesTable>,
  routes: { id: true, kind: true, url: true, secret: true, created_at: true, sign_outgoing: true, signature_policy: true, systemid: true, client_id: true } satisfies Columns<RoutesTable>,
  clients: { id: true, name: true, token_hash: true, agency_codes: true, created_at: true, disabled_at: true } satisfies Columns<ClientsTable>,
  packets: {
    id: true,
    kind: true,
    idempotency_key: true,
    document_id: true,
    sender: true,
    business_type: true,
    status_code: true,
    priority: true,
    subject: true,
    sha256: true,
    size_bytes: true,
    payload_ref: true,
    client_id: true,
    received_at: true,
    admitted_at: true,
    deadline_at: true,
    signature_verdict: true,
    stage_timings: true,
    signature_detail: true,
  } satisfies Columns<PacketsTable>,
  deliveries: {
    id: true,
    seq: true,
    packet_id: true,
    recipient: true,
    alias_of: true,
    route_id: true,
    state: true,
    priority: true,
    attempts: true,
    next_attempt_at: true,
    deadline_at: true,
    lease_until: true,
    delivered_at: true,
    acked_at: true,
    latency_ms: true,
    late: true,
    last_error: true,
    created_at: true,
  } satisfies Columns<DeliveriesTable>,
  events: { id: true, at: true, type: true, packet_id: true, delivery_id: true, document_id: true, agency: true, data: true, tx: true } satisfies Columns<EventsTable>,
  documents: {
    document_id: true,
    sender: true,
    packet_id: true,
    business_type: true,
    subject: true,
    priority: true,
    received_at: true,
    revoked_at: true,
    created_at: true,
  } satisfies Columns<DocumentsTable>,
  document_recipients: {
    document_id: true,
    sender: true,
    recipient: true,
    delivery_id: true,
    status_code: true,
    status_at: true,
    status_reason: true,
    confirmed_at: true,
    recall_state: true,
    recall_kind: true,
    recall_reason: true,
    recall_requested_at: true,
    recall_answered_at: true,
    updated_at: true,
  } satisfies Columns<DocumentRecipientsTable>,
  document_links: { document_id: true, sender: true, relation: true, by_document_id: true, by_packet_id: true, at: true } satisfies Columns<DocumentLinksTable>,
  event_subscriptions: {
    id: true,
    client_id: true,
    agencies: true,
    url: true,
    secret: true,
    event_types: true,
    cursor: true,
    attempts: true,
    next_attempt_at: true,
    last_error: true,
    created_at: true,
    disabled_at: true,
  } satisfies Columns<EventSubscriptionsTable>,
  trust_certificates: { fingerprint_sha256: true, role: true, subject: true, not_after: true, der: true, added_at: true } satisfies Columns<TrustCertificatesTable>,
  agency_certificates: { agency_code: true, fingerprint_sha256: true, subject: true, not_after: true, der: true, added_at: true } satisfies Columns<AgencyCertificatesTable>,
  payloads: { sha256: true, bytes: true, size_bytes: true, created_at: true } satisfies Columns<PayloadsTable>,
  axis_systems: { systemid: true, secret: true, client_id: true, created_at: true, disabled_at: true, route_id: true } satisfies Columns<AxisSystemsTable>,
  route_patterns: { pattern: true, route_id: true, created_at: true } satisfies Columns<RoutePatternsTable>,
};

const kinds = postgresAvailable() ? (['pglite', 'postgres'] as const) : (['pglite'] as const);

for (const kind of kinds) {
  t.test(`${kind}: migrations apply from scratch and report their status`, async (t) => {
    const { store } = await testDatabase(t, { kind, migrate: false, name: 'migrations' });
    const all = Object.keys(MIGRATIONS);

    const before = await migrationStatus(store.db);
    t.equal(before.current, null, 'empty database: nothing applied');
    t.same(before.pending, all);

    t.same(await migrateToLatest(store.db), all, 'applies every migration');
    const after = await migrationStatus(store.db);
    t.equal(after.current, all[all.length - 1]);
    t.same(after.pending, []);
    t.ok(after.migrations.every((m) => m.appliedAt instanceof Date));

    t.same(await migrateToLatest(store.db), [], 'a second run applies nothing');

    const { rows } = await sql<{ table_name: string; column_name: string }>`
      SELECT table_name, column_name FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name NOT LIKE 'edxgate_migration%'`.execute(store.db);
    const actual: Record<string, string[]> = {};
    for (const r of rows) (actual[r.table_name] ??= []).push(r.column_name);
    for (const [table, columns] of Object.entries(COLUMNS)) t.same(actual[table]?.sort(), Object.keys(columns).sort(), `${table} columns match the table type`);
    t.same(Object.keys(actual).sort(), Object.keys(COLUMNS).sort(), 'no table without a type');

    const storage = await sql<{ attstorage: string }>`
      SELECT attstorage FROM pg_attribute WHERE attrelid = 'payloads'::regclass AND attname = 'bytes'`.execute(store.db);
    t.equal(storage.rows[0]?.attstorage, 'e', 'payloads.bytes is stored EXTERNAL (no TOAST compression)');

    const indexes = await sql<{ indexname: string }>`SELECT indexname FROM pg_indexes WHERE tablename = 'deliveries'`.execute(store.db);
    t.ok(indexes.rows.some((r) => r.indexname === 'deliveries_claim_idx'), 'the claim index exists');

    // Behind `recipient`, the whole key: a generic plan that picks this index for a lookup by
    // (document_id, sender, recipient) still reads one row, not every row of the recipient.
    const recipientIndex = await sql<{ indexdef: string }>`
      SELECT indexdef FROM pg_indexes WHERE indexname = 'document_recipients_recipient_idx'`.execute(store.db);
    t.match(recipientIndex.rows[0]?.indexdef, /\(recipient, document_id, sender\)$/, 'the recipient index carries the rest of the primary key');
  });
}

t.test('a migration that fails names itself and leaves nothing half-applied', async (t) => {
  const { store } = await testDatabase(t, { migrate: false, name: 'migrations_fail' });
  // A table in the way of the first migration's CREATE TABLE.
  await sql`CREATE TABLE packets (x int)`.execute(store.db);
  await t.rejects(migrateToLatest(store.db), { code: 'EDX_ERR_STORE_MIGRATION_FAILED', message: /0001_initial/ });
  const status = await migrationStatus(store.db);
  t.equal(status.current, null);
  const routes = await sql<{ n: number }>`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'routes'`.execute(store.db);
  t.equal(routes.rows[0]?.n, 0, 'the tables created before the failure were rolled back');
});
