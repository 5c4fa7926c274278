// The store module: the database (Postgres or embedded PGlite), its migrations, the payload store
// and one file per non-trivial query. Nothing here knows HTTP, the pipeline or delivery.

export { openStore } from './open-store.ts';
export type { OpenStoreOptions, Store, StoreDialect, StoreLog, Unlisten } from './open-store.ts';
export { DELIVERIES_CHANNEL } from './channels.ts';
export { migrateToLatest, migrationStatus } from './migrate.ts';
export type { MigrationStatus } from './migrate.ts';
export { createDbPayloadStore, createFsPayloadStore, payloadRef } from './payloads.ts';
export type { PayloadStore } from './payloads.ts';
export * from './database.ts';
export { admitPacket } from './queries/admit-packet.ts';
export type { AdmitOutcome, AdmitPacketInput, AdmitPacketResult, AdmitRecipient, AdmittedDelivery, AdmittedPacket } from './queries/admit-packet.ts';
export { claimDeliveries, claimDue, nextClaimAt } from './queries/claim-deliveries.ts';
export type { ClaimedDelivery, ClaimOptions } from './queries/claim-deliveries.ts';
export { completeDelivery } from './queries/complete-delivery.ts';
export type { CompleteDeliveryInput, CompletedDelivery } from './queries/complete-delivery.ts';
export { deadLetterDelivery, failDelivery } from './queries/fail-delivery.ts';
export type { DeadLetterInput, FailDeliveryInput, FailOutcome } from './queries/fail-delivery.ts';
export { requeueDelivery } from './queries/requeue-delivery.ts';
export type { RequeueOutcome } from './queries/requeue-delivery.ts';
export { markLateDeliveries } from './queries/mark-late-deliveries.ts';
export type { LateDelivery } from './queries/mark-late-deliveries.ts';
export { listInbox } from './queries/list-inbox.ts';
export type { InboxItem, InboxPage, ListInboxInput } from './queries/list-inbox.ts';
export { ackDelivery } from './queries/ack-delivery.ts';
export type { AckDeliveryInput, AckOutcome } from './queries/ack-delivery.ts';
export { listDeliveries } from './queries/list-deliveries.ts';
export type { DeliveryPage, DeliverySummary, ListDeliveriesInput } from './queries/list-deliveries.ts';
export { queueStats } from './queries/queue-stats.ts';
export type { QueueStats } from './queries/queue-stats.ts';
