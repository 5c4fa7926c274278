// Builds admission inputs for store tests: a real payload in the store, sensible defaults.

import { randomUUID } from 'node:crypto';
import type { Store } from '../../src/store/open-store.ts';
import type { AdmitPacketInput } from '../../src/store/queries/admit-packet.ts';
import { payloadRef } from '../../src/store/payloads.ts';

/** Routes the tests use; insert with `seedRoutes`. */
export async function seedRoutes(store: Store): Promise<void> {
  await store.db
    .insertInto('routes')
    .values([
      { id: 'inbox', kind: 'inbox' },
      { id: 'webhook-b', kind: 'webhook', url: 'http://127.0.0.1:9/hook', secret: 'test-secret-0123456789' },
    ])
    .execute();
}

/** Stores a small edXML-ish payload and returns an admission input for it. */
export async function packetInput(store: Store, overrides: Partial<AdmitPacketInput> = {}): Promise<AdmitPacketInput> {
  const documentId = overrides.documentId ?? `000.00.15.H47,2025/03/05,${randomUUID().slice(0, 8)}/SLĐTBXH-VP`;
  const bytes = Buffer.from(`<edXML><DocumentId>${documentId}</DocumentId><n>${randomUUID()}</n></edXML>`);
  const ref = await store.payloads.put(bytes);
  return {
    idempotencyKey: `document:000.00.15.H47:${documentId}`,
    kind: 'document',
    documentId,
    sender: '000.00.15.H47',
    businessType: 0,
    statusCode: null,
    priority: 0,
    subject: 'Về việc thử nghiệm',
    sha256: payloadRef(bytes),
    sizeBytes: bytes.length,
    payloadRef: ref,
    clientId: null,
    receivedAt: new Date(),
    budgetMs: 5000,
    signatureVerdict: null,
    stageTimings: { decode: 0.9, validate: 0.4 },
    recipients: [
      { to: '000.01.15.H47', routeId: 'inbox' },
      { to: '000.02.15.H47', routeId: 'webhook-b' },
    ],
    ...overrides,
  };
}
