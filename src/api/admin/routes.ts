// Operator routes, behind the ADMIN_TOKEN: the deliveries by state (the dead letter) and the
// re-queue of a dead delivery.

import { DELIVERY_STATES } from '../../store/database.ts';
import type { DeliveryState } from '../../store/database.ts';
import { EdxError, issue } from '../../errors.ts';
import { listDeliveries } from '../../store/queries/list-deliveries.ts';
import { requeueDelivery } from '../../store/queries/requeue-delivery.ts';
import { requireAdmin } from '../auth.ts';
import { DELIVERY_ID_PARAMS, NULLABLE_INTEGER, NULLABLE_STRING, PAGE_QUERY_PROPERTIES, PROBLEM_SCHEMA } from '../schemas.ts';
import { vietnamIso, vietnamIsoOrNull } from '../time.ts';
import type { EdxApp } from '../types.ts';

const DELIVERY_SCHEMA = {
  type: 'object',
  required: ['deliveryId', 'packetId', 'documentId', 'sender', 'recipient', 'routeId', 'state', 'priority', 'attempts', 'late'],
  properties: {
    deliveryId: { type: 'string' },
    packetId: { type: 'string' },
    documentId: { type: 'string' },
    sender: { type: 'string' },
    recipient: { type: 'string' },
    aliasOf: NULLABLE_STRING,
    routeId: { type: 'string' },
    state: { type: 'string' },
    priority: { type: 'integer' },
    attempts: { type: 'integer' },
    nextAttemptAt: { type: 'string' },
    deadlineAt: { type: 'string' },
    deliveredAt: NULLABLE_STRING,
    latencyMs: NULLABLE_INTEGER,
    late: { type: 'boolean' },
    lastError: NULLABLE_STRING,
    createdAt: { type: 'string' },
  },
} as const;

const DELIVERY_PAGE_SCHEMA = {
  type: 'object',
  required: ['items', 'nextCursor', 'hasMore'],
  properties: { items: { type: 'array', items: DELIVERY_SCHEMA }, nextCursor: NULLABLE_STRING, hasMore: { type: 'boolean' } },
} as const;

const REQUEUE_SCHEMA = {
  type: 'object',
  required: ['deliveryId', 'state'],
  properties: { deliveryId: { type: 'string' }, state: { type: 'string' } },
} as const;

interface DeliveriesQuery {
  readonly state?: DeliveryState;
  readonly recipient?: string;
  readonly packetId?: string;
  readonly cursor?: string;
  readonly limit?: number;
}

const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

/** Registers the admin routes. */
export function registerAdminRoutes(app: EdxApp): void {
  app.get<{ Querystring: DeliveriesQuery }>(
    '/v1/deliveries',
    {
      onRequest: requireAdmin(app),
      schema: {
        querystring: {
          type: 'object',
          properties: {
            state: { type: 'string', enum: [...DELIVERY_STATES] },
            recipient: { type: 'string', minLength: 1, maxLength: 64 },
            packetId: { type: 'string', pattern: UUID_PATTERN },
            ...PAGE_QUERY_PROPERTIES,
          },
        },
        response: { 200: DELIVERY_PAGE_SCHEMA, '4xx': PROBLEM_SCHEMA, '5xx': PROBLEM_SCHEMA },
      },
    },
    async (request) => {
      const { state, recipient, packetId, cursor, limit } = request.query;
      const page = await listDeliveries(app.gateway.store.db, { state, recipient, packetId, cursor, limit });
      return {
        items: page.items.map((d) => ({
          deliveryId: d.deliveryId,
          packetId: d.packetId,
          documentId: d.documentId,
          sender: d.sender,
          recipient: d.recipient,
          aliasOf: d.aliasOf,
          routeId: d.routeId,
          state: d.state,
          priority: d.priority,
          attempts: d.attempts,
          nextAttemptAt: vietnamIso(d.nextAttemptAt),
          deadlineAt: vietnamIso(d.deadlineAt),
          deliveredAt: vietnamIsoOrNull(d.deliveredAt),
          latencyMs: d.latencyMs,
          late: d.late,
          lastError: d.lastError,
          createdAt: vietnamIso(d.createdAt),
        })),
        nextCursor: page.nextCursor,
        hasMore: page.hasMore,
      };
    },
  );

  app.post<{ Params: { deliveryId: string } }>(
    '/v1/deliveries/:deliveryId/requeue',
    {
      onRequest: requireAdmin(app),
      schema: { params: DELIVERY_ID_PARAMS, response: { 200: REQUEUE_SCHEMA, '4xx': PROBLEM_SCHEMA, '5xx': PROBLEM_SCHEMA } },
    },
    async (request) => {
      const { deliveryId } = request.params;
      const outcome = await requeueDelivery(app.gateway.store.db, { deliveryId, by: 'admin' });
      switch (outcome) {
        case 'not_found':
          throw new EdxError('EDX_ERR_NOT_FOUND', `no delivery ${deliveryId}.`, [issue('EDX_ERR_NOT_FOUND', 'params.deliveryId', 'No delivery has this id.', deliveryId)]);
        case 'not_dead':
          throw new EdxError('EDX_ERR_DELIVERY_NOT_DEAD', `delivery ${deliveryId} is not dead.`, [
            issue('EDX_ERR_DELIVERY_NOT_DEAD', 'params.deliveryId', 'The delivery is not in the dead letter.', deliveryId),
          ]);
        case 'requeued':
          // The store's NOTIFY wakes every node; this one is woken at once.
          app.gateway.delivery.wake();
          request.log.info({ deliveryId }, 'dead delivery re-queued');
          return { deliveryId, state: 'queued' };
      }
    },
  );
}
