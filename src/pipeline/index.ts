// The intake pipeline: decode → validate → verify → admit (DESIGN, The flow of a packet).
export { Intake } from './intake.ts';
export type { AdmissionReceipt, IntakeClient, IntakeDeps, IntakeRequest, IntakeResult, ReceiptDelivery } from './intake.ts';
export { INBOX_ROUTE_ID, addresseesOf, resolveRecipients } from './recipients.ts';
export type { Addressee, DirectorySource } from './recipients.ts';
export { idempotencyKey } from './idempotency.ts';
export { INTAKE_STAGES, StageTimer } from './stage-timer.ts';
export type { IntakeStage, StageObserver } from './stage-timer.ts';
