// The event stream (GET /v1/events) and the subscriptions that push it to office systems
// (POST/GET /v1/subscriptions, DELETE /v1/subscriptions/{id}); docs/events.md.
//
// A client reads its agencies' events — those naming one of its agencies, and those about a
// document one of them sent or received; the admin token reads every event. Subscriptions belong
// to a client: it creates, lists and deletes its own, for a subset of its agencies.

import { EdxError, issue } from '../../errors.ts';
import { EVENT_TYPES } from '../../store/database.ts';
import { isUuid } from '../../store/queries/common.ts';
import { createSubscription, disableSubscription, listSubscriptions, readEvents } from '../../store/queries/event-stream.ts';
import type { EventSubscription } from '../../store/queries/event-stream.ts';
import { toWireEvent } from '../../tracking/event-dispatcher.ts';
import { clientOf, requireClientOrAdmin, requireClient } from '../auth.ts';
import { NULLABLE_STRING, PAGE_QUERY_PROPERTIES, PROBLEM_SCHEMA } from '../schemas.ts';
import { vietnamIso } from '../time.ts';
import type { EdxApp } from '../types.ts';

const EVENT_SCHEMA = {
  type: 'object',
  required: ['cursor', 'type', 'at', 'agency', 'packetId', 'deliveryId', 'documentId', 'data'],
  properties: {
    cursor: { type: 'string' },
    type: { type: 'string' },
    at: { type: 'string' },
    agency: NULLABLE_STRING,
    packetId: NULLABLE_STRING,
    deliveryId: NULLABLE_STRING,
    documentId: NULLABLE_STRING,
    // Free-form per event type; declared open so the serializer keeps every key.
    data: { type: 'object', additionalProperties: true },
  },
} as const;

const EVENT_PAGE_SCHEMA = {
  type: 'object',
  required: ['events', 'nextCursor', 'hasMore'],
  properties: {
    events: { type: 'array', items: EVENT_SCHEMA },
    nextCursor: { type: 'string' },
    hasMore: { type: 'boolean' },
  },
} as const;

const SUBSCRIPTION_PROPERTIES = {
  id: { type: 'string' },
  url: { type: 'string' },
  agencies: { type: 'array', items: { type: 'string' } },
  eventTypes: { type: ['array', 'null'], items: { type: 'string' } },
  cursor: NULLABLE_STRING,
  attempts: { type: 'integer' },
  nextAttemptAt: { type: 'string' },
  lastError: NULLABLE_STRING,
  createdAt: { type: 'string' },
} as const;
const SUBSCRIPTION_REQUIRED = ['id', 'url', 'agencies', 'eventTypes', 'cursor', 'attempts', 'nextAttemptAt', 'lastError', 'createdAt'] as const;

const SUBSCRIPTION_SCHEMA = { type: 'object', required: SUBSCRIPTION_REQUIRED, properties: SUBSCRIPTION_PROPERTIES } as const;
const CREATED_SUBSCRIPTION_SCHEMA = {
  type: 'object',
  required: [...SUBSCRIPTION_REQUIRED, 'secret'],
  properties: { ...SUBSCRIPTION_PROPERTIES, secret: { type: 'string' } },
} as const;

const ERRORS = { '4xx': PROBLEM_SCHEMA, '5xx': PROBLEM_SCHEMA } as const;
/** Longest subscription URL accepted. */
const MAX_URL_LENGTH = 2000;

interface EventsQuery {
  readonly cursor?: string;
  readonly limit?: number;
  readonly types?: string;
}

interface SubscriptionBody {
  readonly url: string;
  readonly agencies?: readonly string[];
  readonly eventTypes?: readonly string[];
}

const KNOWN_TYPES: ReadonlySet<string> = new Set(EVENT_TYPES);

/** The `types` query parameter as a list; EDX_ERR_REQUEST_INVALID for a type the gateway never writes. */
function parseTypes(text: string | undefined): readonly string[] | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const types = [...new Set(text.split(',').map((t) => t.trim()).filter((t) => t !== ''))];
  const unknown = types.filter((t) => !KNOWN_TYPES.has(t));
  if (unknown.length > 0) {
    throw new EdxError('EDX_ERR_REQUEST_INVALID', `unknown event type ${unknown.join(', ')}.`, [
      issue('EDX_ERR_REQUEST_INVALID', 'querystring.types', `Event types are ${EVENT_TYPES.join(', ')} (comma-separated).`, unknown.join(',')),
    ]);
  }
  return types;
}

/** The subscription URL, checked: absolute http(s), no credentials in it (they would end up in logs). */
function subscriptionUrl(text: string): string {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  const why =
    url === undefined
      ? 'is not an absolute URL'
      : url.protocol !== 'http:' && url.protocol !== 'https:'
        ? 'must be http:// or https://'
        : url.username !== '' || url.password !== ''
          ? 'must not carry credentials; the signature authenticates the gateway'
          : undefined;
  if (why !== undefined || url === undefined) {
    throw new EdxError('EDX_ERR_REQUEST_INVALID', `the subscription URL ${why ?? 'is invalid'}.`, [
      issue('EDX_ERR_REQUEST_INVALID', 'body.url', `The URL ${why ?? 'is invalid'}.`, text),
    ]);
  }
  return url.toString();
}

function subscriptionReply(s: EventSubscription) {
  return {
    id: s.id,
    url: s.url,
    agencies: s.agencies,
    eventTypes: s.eventTypes,
    cursor: s.cursor,
    attempts: s.attempts,
    nextAttemptAt: vietnamIso(s.nextAttemptAt),
    lastError: s.lastError,
    createdAt: vietnamIso(s.createdAt),
  };
}

/** Registers GET /v1/events and the subscription routes. */
export function registerEventRoutes(app: EdxApp): void {
  app.get<{ Querystring: EventsQuery }>(
    '/v1/events',
    {
      onRequest: requireClientOrAdmin(app),
      schema: {
        querystring: {
          type: 'object',
          properties: {
            ...PAGE_QUERY_PROPERTIES,
            types: { type: 'string', maxLength: 500 },
          },
        },
        response: { 200: EVENT_PAGE_SCHEMA, ...ERRORS },
      },
    },
    async (request) => {
      const principal = request.principal;
      if (principal === null) throw new Error('route handler reached without authentication');
      const { cursor, limit } = request.query;
      const page = await readEvents(app.gateway.store.db, {
        after: cursor,
        agencies: principal.kind === 'admin' ? 'all' : principal.agencies,
        types: parseTypes(request.query.types),
        limit,
      });
      return { events: page.events.map(toWireEvent), nextCursor: page.nextCursor, hasMore: page.hasMore };
    },
  );

  app.post<{ Body: SubscriptionBody }>(
    '/v1/subscriptions',
    {
      onRequest: requireClient(app),
      schema: {
        body: {
          type: 'object',
          required: ['url'],
          additionalProperties: false,
          properties: {
            url: { type: 'string', minLength: 1, maxLength: MAX_URL_LENGTH },
            agencies: { type: 'array', minItems: 1, maxItems: 200, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 64 } },
            eventTypes: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', enum: EVENT_TYPES } },
          },
        },
        response: { 201: CREATED_SUBSCRIPTION_SCHEMA, ...ERRORS },
      },
    },
    async (request, reply) => {
      const client = clientOf(request);
      const url = subscriptionUrl(request.body.url);
      const agencies = request.body.agencies ?? client.agencies;
      const foreign = agencies.filter((a) => !client.agencies.includes(a));
      if (foreign.length > 0 || agencies.length === 0) {
        const detail = agencies.length === 0 ? 'this client acts for no agency.' : `this client does not act for ${foreign.join(', ')}.`;
        throw new EdxError('EDX_ERR_AUTH_FORBIDDEN', detail, [
          issue('EDX_ERR_AUTH_FORBIDDEN', 'body.agencies', `Subscribe only to agencies the client acts for: ${client.agencies.join(', ') || 'none'}.`, foreign.join(',')),
        ]);
      }
      const created = await createSubscription(app.gateway.store.db, {
        clientId: client.clientId,
        url,
        agencies,
        eventTypes: request.body.eventTypes ?? null,
      });
      return reply.code(201).send({ ...subscriptionReply(created), secret: created.secret });
    },
  );

  app.get(
    '/v1/subscriptions',
    {
      onRequest: requireClient(app),
      schema: {
        response: {
          200: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: SUBSCRIPTION_SCHEMA } } },
          ...ERRORS,
        },
      },
    },
    async (request) => {
      const client = clientOf(request);
      const items = await listSubscriptions(app.gateway.store.db, client.clientId);
      return { items: items.map(subscriptionReply) };
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/v1/subscriptions/:id',
    {
      onRequest: requireClient(app),
      schema: {
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } },
        response: { 204: { type: 'null' }, ...ERRORS },
      },
    },
    async (request, reply) => {
      const client = clientOf(request);
      const { id } = request.params;
      const disabled = isUuid(id) && (await disableSubscription(app.gateway.store.db, { clientId: client.clientId, id }));
      if (!disabled) {
        throw new EdxError('EDX_ERR_NOT_FOUND', `this client has no subscription ${id}.`, [
          issue('EDX_ERR_NOT_FOUND', 'params.id', 'No subscription of this client has this id.', id),
        ]);
      }
      return reply.code(204).send();
    },
  );
}
