// Operator routes, behind the ADMIN_TOKEN: the deliveries by state (the dead letter), the
// re-queue of a dead delivery, and the trust store's reload and CRL refresh without a restart.

import { DELIVERY_STATES } from '../../store/database.ts';
import type { DeliveryState } from '../../store/database.ts';
import { EdxError, issue } from '../../errors.ts';
import { listDeliveries } from '../../store/queries/list-deliveries.ts';
import { requeueDelivery } from '../../store/queries/requeue-delivery.ts';
import type { CrlRefreshOutcome } from '../../trust/pki/crl-cache.ts';
import { requireAdmin } from '../auth.ts';
import { wireIssue } from '../problem.ts';
import { DELIVERY_ID_PARAMS, ISSUE_SCHEMA, NULLABLE_INTEGER, NULLABLE_STRING, PAGE_QUERY_PROPERTIES, PROBLEM_SCHEMA } from '../schemas.ts';
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

const TRUST_RELOAD_SCHEMA = {
  type: 'object',
  required: ['anchors', 'warnings'],
  properties: { anchors: { type: 'integer' }, warnings: { type: 'array', items: ISSUE_SCHEMA } },
} as const;

const CRL_HELD_SCHEMA = {
  type: ['object', 'null'],
  required: ['issuer', 'thisUpdate', 'nextUpdate', 'crlNumber', 'revoked', 'signature', 'stale'],
  properties: {
    issuer: { type: 'string' },
    thisUpdate: { type: 'string' },
    nextUpdate: NULLABLE_STRING,
    crlNumber: NULLABLE_STRING,
    revoked: { type: 'integer' },
    signature: { type: 'string' },
    stale: { type: 'boolean' },
  },
} as const;

const CRL_REFRESH_SCHEMA = {
  type: 'object',
  required: ['outcomes'],
  properties: {
    outcomes: {
      type: 'array',
      items: {
        type: 'object',
        required: ['url', 'status', 'detail', 'held'],
        properties: { url: { type: 'string' }, status: { type: 'string' }, detail: NULLABLE_STRING, held: CRL_HELD_SCHEMA },
      },
    },
  },
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

  // Re-reads the trust store (TRUST_ANCHORS, TRUST_INTERMEDIATES and the database's rows) and the
  // agency bindings on this node. All or nothing: a certificate that cannot be read fails the
  // reload, names the file or row, and the store in use stays (docs/trust.md, "Reloading").
  app.post(
    '/v1/admin/trust/reload',
    {
      onRequest: requireAdmin(app),
      schema: { response: { 200: TRUST_RELOAD_SCHEMA, '4xx': PROBLEM_SCHEMA, '5xx': PROBLEM_SCHEMA } },
    },
    async (request) => {
      const reloaded = await app.gateway.trust.reload();
      if (!reloaded.ok) {
        // One code for scripts whatever went wrong (an unreadable file, a bad certificate); the
        // issues keep their own codes and name what to fix.
        const first = reloaded.issues.find((i) => i.severity === 'error') ?? reloaded.issues[0];
        const where = first === undefined ? '' : ` ${first.path}: ${first.message}`;
        throw new EdxError('EDX_ERR_CONFIG_INVALID', `the trust store was not reloaded; the previous one stays in use.${where}`, reloaded.issues);
      }
      request.log.info({ anchors: reloaded.value.anchors }, 'trust store reloaded');
      return { anchors: reloaded.value.anchors, warnings: reloaded.warnings.map(wireIssue) };
    },
  );

  // Fetches every CRL now (the refresh otherwise runs every TRUST_CRL_REFRESH_MS), e.g. after a
  // CA revoked a certificate; answers what happened per URL. Each fetch has the cache's timeout.
  app.post(
    '/v1/admin/trust/crls/refresh',
    {
      onRequest: requireAdmin(app),
      schema: { response: { 200: CRL_REFRESH_SCHEMA, '4xx': PROBLEM_SCHEMA, '5xx': PROBLEM_SCHEMA } },
    },
    async (request) => {
      const outcomes = await app.gateway.trust.refreshCrls();
      const failed = outcomes.filter((o) => o.status === 'failed').length;
      request.log.info({ urls: outcomes.length, failed }, 'CRLs refreshed');
      return { outcomes: outcomes.map(wireOutcome) };
    },
  );
}

/** A CRL refresh outcome on the wire: times in Vietnam time, absent values null. */
interface WireCrlOutcome {
  readonly url: string;
  readonly status: CrlRefreshOutcome['status'];
  readonly detail: string | null;
  readonly held: {
    readonly issuer: string;
    readonly thisUpdate: string;
    readonly nextUpdate: string | null;
    readonly crlNumber: string | null;
    readonly revoked: number;
    readonly signature: string;
    readonly stale: boolean;
  } | null;
}

function wireOutcome(outcome: CrlRefreshOutcome): WireCrlOutcome {
  const held = outcome.held;
  return {
    url: outcome.url,
    status: outcome.status,
    detail: outcome.detail ?? null,
    held:
      held === undefined
        ? null
        : {
            issuer: held.issuer,
            thisUpdate: vietnamIso(held.thisUpdate),
            nextUpdate: vietnamIsoOrNull(held.nextUpdate),
            crlNumber: held.crlNumber ?? null,
            revoked: held.revoked,
            signature: held.signature,
            stale: held.stale,
          },
  };
}
