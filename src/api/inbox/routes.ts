// The inbox of an agency (pull delivery): GET /v1/inbox lists what is available to it, and
// POST /v1/inbox/{deliveryId}/ack says it has taken a packet. The packet itself is fetched with
// GET /v1/packets/{packetId}/edxml.

import { EdxError, issue } from '../../errors.ts';
import { ackDelivery } from '../../store/queries/ack-delivery.ts';
import { listInbox } from '../../store/queries/list-inbox.ts';
import { assertActsFor, clientOf, requireClient } from '../auth.ts';
import { DELIVERY_ID_PARAMS, NULLABLE_STRING, PAGE_QUERY_PROPERTIES, PROBLEM_SCHEMA } from '../schemas.ts';
import { vietnamIso, vietnamIsoOrNull } from '../time.ts';
import type { EdxApp } from '../types.ts';

const INBOX_ITEM_SCHEMA = {
  type: 'object',
  required: ['deliveryId', 'packetId', 'documentId', 'kind', 'sender', 'recipient', 'priority', 'admittedAt', 'availableAt', 'state'],
  properties: {
    deliveryId: { type: 'string' },
    packetId: { type: 'string' },
    documentId: { type: 'string' },
    kind: { type: 'string' },
    sender: { type: 'string' },
    recipient: { type: 'string' },
    aliasOf: NULLABLE_STRING,
    subject: NULLABLE_STRING,
    priority: { type: 'integer' },
    businessType: { type: ['integer', 'null'] },
    statusCode: NULLABLE_STRING,
    sizeBytes: { type: 'integer' },
    sha256: { type: 'string' },
    admittedAt: { type: 'string' },
    availableAt: { type: 'string' },
    acknowledgedAt: NULLABLE_STRING,
    state: { type: 'string', enum: ['available', 'acknowledged'] },
  },
} as const;

const INBOX_PAGE_SCHEMA = {
  type: 'object',
  required: ['agency', 'items', 'nextCursor', 'hasMore'],
  properties: {
    agency: { type: 'string' },
    items: { type: 'array', items: INBOX_ITEM_SCHEMA },
    nextCursor: NULLABLE_STRING,
    hasMore: { type: 'boolean' },
  },
} as const;

const ACK_SCHEMA = {
  type: 'object',
  required: ['deliveryId', 'state', 'alreadyAcknowledged'],
  properties: {
    deliveryId: { type: 'string' },
    state: { type: 'string' },
    alreadyAcknowledged: { type: 'boolean' },
  },
} as const;

interface InboxQuery {
  readonly agency?: string;
  readonly cursor?: string;
  readonly limit?: number;
  readonly includeAcknowledged?: boolean;
}

/** Registers the inbox routes. */
export function registerInboxRoutes(app: EdxApp): void {
  app.get<{ Querystring: InboxQuery }>(
    '/v1/inbox',
    {
      onRequest: requireClient(app),
      schema: {
        querystring: {
          type: 'object',
          properties: {
            agency: { type: 'string', minLength: 1, maxLength: 64 },
            ...PAGE_QUERY_PROPERTIES,
            includeAcknowledged: { type: 'boolean' },
          },
        },
        response: { 200: INBOX_PAGE_SCHEMA, '4xx': PROBLEM_SCHEMA, '5xx': PROBLEM_SCHEMA },
      },
    },
    async (request) => {
      const client = clientOf(request);
      const { cursor, limit, includeAcknowledged } = request.query;
      // A client acting for one agency may leave it out; one acting for several must say which.
      const agency = request.query.agency ?? (client.agencies.length === 1 ? client.agencies[0] : undefined);
      if (agency === undefined) {
        throw new EdxError('EDX_ERR_REQUEST_INVALID', 'this client acts for several agencies; name one with ?agency=CODE.', [
          issue('EDX_ERR_REQUEST_INVALID', 'querystring.agency', `Name the agency whose inbox to list: one of ${client.agencies.join(', ')}.`),
        ]);
      }
      assertActsFor(client, agency, 'querystring.agency');
      const page = await listInbox(app.gateway.store.db, { agency, cursor, limit, includeAcked: includeAcknowledged });
      return {
        agency,
        items: page.items.map((i) => ({
          deliveryId: i.deliveryId,
          packetId: i.packetId,
          documentId: i.documentId,
          kind: i.kind,
          sender: i.sender,
          recipient: i.recipient,
          aliasOf: i.aliasOf,
          subject: i.subject,
          priority: i.priority,
          businessType: i.businessType,
          statusCode: i.statusCode,
          sizeBytes: i.sizeBytes,
          sha256: i.sha256,
          admittedAt: vietnamIso(i.admittedAt),
          availableAt: vietnamIso(i.deliveredAt),
          acknowledgedAt: vietnamIsoOrNull(i.ackedAt),
          state: i.ackedAt === null ? 'available' : 'acknowledged',
        })),
        nextCursor: page.nextCursor,
        hasMore: page.hasMore,
      };
    },
  );

  app.post<{ Params: { deliveryId: string } }>(
    '/v1/inbox/:deliveryId/ack',
    {
      onRequest: requireClient(app),
      schema: { params: DELIVERY_ID_PARAMS, response: { 200: ACK_SCHEMA, '4xx': PROBLEM_SCHEMA, '5xx': PROBLEM_SCHEMA } },
    },
    async (request) => {
      const client = clientOf(request);
      const { deliveryId } = request.params;
      const outcome = await ackDelivery(app.gateway.store.db, { deliveryId, agencies: client.agencies });
      if (outcome === 'not_found') {
        throw new EdxError('EDX_ERR_NOT_FOUND', `no available delivery ${deliveryId} in the inboxes of this client.`, [
          issue('EDX_ERR_NOT_FOUND', 'params.deliveryId', 'No delivery with this id is available in your agencies\' inboxes.', deliveryId),
        ]);
      }
      // The document has reached the recipient: its sender gets 01 (đã đến) on the recipient's behalf.
      if (outcome === 'acked') await app.gateway.tracker.arrived(deliveryId);
      return { deliveryId, state: 'acknowledged', alreadyAcknowledged: outcome === 'already_acked' };
    },
  );
}
