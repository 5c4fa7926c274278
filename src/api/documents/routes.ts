// Document tracking, read side: GET /v1/documents/{documentId} (the document and, per recipient, its
// delivery and processing status) and GET /v1/documents/{documentId}/timeline (every event of the
// document in commit order). A client sees the documents its agencies sent or received; the admin
// token sees all. Anything else is "not found", so nobody learns which ids exist.
//
// Addressing: a DocumentId contains ',' and '/' (`000.00.15.H47,2025/03/05,123/UBND-VP`), so it goes
// in the path URL-encoded (encodeURIComponent: '/' as %2F). The router splits the path on literal
// '/' only and decodes %2F inside the parameter. Its parameter length limit (maxParamLength, 100)
// counts the decoded value, and a DocumentId is at most 100 characters (edxml/validate.ts).

import type { FastifyRequest } from 'fastify';
import { STATUS_MEANINGS, isStatusCode } from '../../edxml/codes.ts';
import { EdxError, issue } from '../../errors.ts';
import { getDocumentStatus, resolveDocument } from '../../store/queries/document-status.ts';
import type { DocumentAccess, DocumentKey, DocumentStatus } from '../../store/queries/document-status.ts';
import { getDocumentTimeline } from '../../store/queries/document-timeline.ts';
import type { DocumentTimelineInput, TimelineEntry } from '../../store/queries/document-timeline.ts';
import { requireClientOrAdmin } from '../auth.ts';
import { NULLABLE_INTEGER, NULLABLE_STRING, PROBLEM_SCHEMA } from '../schemas.ts';
import { vietnamIso, vietnamIsoOrNull } from '../time.ts';
import { requestLogger } from '../types.ts';
import type { EdxApp } from '../types.ts';

/** FIELD_LIMITS.documentId of edxml/validate.ts; also Fastify's default maxParamLength, which counts decoded characters. */
const DOCUMENT_ID_MAX_LENGTH = 100;

const DOCUMENT_PARAMS = {
  type: 'object',
  required: ['documentId'],
  properties: { documentId: { type: 'string', minLength: 1, maxLength: DOCUMENT_ID_MAX_LENGTH } },
} as const;

const DOCUMENT_QUERY = {
  type: 'object',
  properties: { sender: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

const LINK_SCHEMA = {
  type: 'object',
  required: ['relation', 'documentId', 'packetId', 'at'],
  properties: {
    relation: { type: 'string', enum: ['revoked', 'updated', 'replaced', 'revokes', 'updates', 'replaces'] },
    documentId: { type: 'string' },
    packetId: { type: 'string' },
    at: { type: 'string' },
  },
} as const;

const RECIPIENT_SCHEMA = {
  type: 'object',
  required: ['recipient', 'deliveryId', 'deliveryState', 'deliveredAt', 'acknowledgedAt', 'latencyMs', 'late', 'status', 'confirmedAt', 'recall'],
  properties: {
    recipient: { type: 'string' },
    aliasOf: NULLABLE_STRING,
    deliveryId: { type: 'string' },
    deliveryState: { type: 'string', enum: ['queued', 'delivering', 'delivered', 'dead', 'withdrawn'] },
    deliveredAt: NULLABLE_STRING,
    acknowledgedAt: NULLABLE_STRING,
    latencyMs: NULLABLE_INTEGER,
    late: { type: 'boolean' },
    status: {
      type: ['object', 'null'],
      required: ['code', 'meaning', 'at', 'reason'],
      properties: { code: { type: 'string' }, meaning: NULLABLE_STRING, at: NULLABLE_STRING, reason: NULLABLE_STRING },
    },
    confirmedAt: NULLABLE_STRING,
    recall: {
      type: 'object',
      required: ['state', 'kind', 'reason', 'requestedAt', 'answeredAt'],
      properties: {
        state: { type: 'string', enum: ['none', 'requested', 'recalled', 'refused'] },
        kind: NULLABLE_STRING,
        reason: NULLABLE_STRING,
        requestedAt: NULLABLE_STRING,
        answeredAt: NULLABLE_STRING,
      },
    },
  },
} as const;

const DOCUMENT_SCHEMA = {
  type: 'object',
  required: ['documentId', 'sender', 'packetId', 'businessType', 'subject', 'priority', 'receivedAt', 'revokedAt', 'links', 'recipients'],
  properties: {
    documentId: { type: 'string' },
    sender: { type: 'string' },
    packetId: { type: 'string' },
    businessType: { type: 'integer' },
    subject: NULLABLE_STRING,
    priority: { type: 'integer' },
    receivedAt: { type: 'string' },
    revokedAt: NULLABLE_STRING,
    links: { type: 'array', items: LINK_SCHEMA },
    recipients: { type: 'array', items: RECIPIENT_SCHEMA },
  },
} as const;

// One flat object for every event type: the common fields are required, the others appear on the
// types that have them (TimelineEntry documents which).
const TIMELINE_ENTRY_SCHEMA = {
  type: 'object',
  required: ['at', 'type', 'agency', 'packetId', 'deliveryId'],
  properties: {
    at: { type: 'string' },
    type: { type: 'string' },
    agency: NULLABLE_STRING,
    packetId: NULLABLE_STRING,
    deliveryId: NULLABLE_STRING,
    packetKind: { type: 'string' },
    businessType: NULLABLE_INTEGER,
    priority: { type: 'integer' },
    recipients: { type: 'array', items: { type: 'string' } },
    code: { type: 'string' },
    meaning: NULLABLE_STRING,
    previous: NULLABLE_STRING,
    change: { type: 'string' },
    reason: NULLABLE_STRING,
    staff: {
      type: ['object', 'null'],
      properties: { department: NULLABLE_STRING, staff: NULLABLE_STRING, mobile: NULLABLE_STRING, email: NULLABLE_STRING },
    },
    automatic: { type: 'boolean' },
    recallKind: { type: 'string' },
    sender: { type: 'string' },
    recipient: { type: 'string' },
    attempt: { type: 'integer' },
    latencyMs: NULLABLE_INTEGER,
    late: { type: 'boolean' },
    error: NULLABLE_STRING,
    nextAttemptAt: NULLABLE_STRING,
    deadlineAt: NULLABLE_STRING,
    by: NULLABLE_STRING,
    relation: { type: 'string' },
    relatedDocumentId: NULLABLE_STRING,
    relatedPacketId: NULLABLE_STRING,
    route: NULLABLE_STRING,
    via: { type: 'string' },
    remoteId: NULLABLE_STRING,
  },
} as const;

const TIMELINE_SCHEMA = {
  type: 'object',
  required: ['documentId', 'sender', 'events'],
  properties: {
    documentId: { type: 'string' },
    sender: { type: 'string' },
    events: { type: 'array', items: TIMELINE_ENTRY_SCHEMA },
  },
} as const;

const RESPONSES = { '4xx': PROBLEM_SCHEMA, '5xx': PROBLEM_SCHEMA } as const;

interface DocumentRoute {
  Params: { readonly documentId: string };
  Querystring: { readonly sender?: string };
}

function accessOf(request: FastifyRequest): DocumentAccess {
  const p = request.principal;
  // requireClientOrAdmin ran as the route's onRequest hook; reaching here without it is a wiring bug.
  if (p === null) throw new Error('route handler reached without requireClientOrAdmin');
  return p.kind === 'admin' ? 'all' : { agencies: p.agencies };
}

/** The document the request addresses and may see: 404 when none, 400 when several senders need telling apart. */
async function documentOf(app: EdxApp, request: FastifyRequest<DocumentRoute>): Promise<{ readonly key: DocumentKey; readonly shared: boolean }> {
  const { documentId } = request.params;
  const { sender } = request.query;
  const resolved = await resolveDocument(app.gateway.store.db, { documentId, sender, access: accessOf(request) });
  switch (resolved.outcome) {
    case 'found':
      return resolved;
    case 'not_found':
      throw notFound(documentId, sender);
    case 'ambiguous': {
      // Only senders the caller may see are named: their documents are visible to it anyway.
      const senders = resolved.senders.join(', ');
      throw new EdxError('EDX_ERR_REQUEST_INVALID', `several senders used the document id ${documentId} (${senders}); name one with ?sender=CODE.`, [
        issue('EDX_ERR_REQUEST_INVALID', 'querystring.sender', `Name the sender of the document: one of ${senders}.`),
      ]);
    }
  }
}

function notFound(documentId: string, sender: string | undefined): EdxError {
  // The same answer whether the id is unknown or belongs to others: existence is not disclosed.
  const which = sender === undefined ? documentId : `${documentId} of sender ${sender}`;
  return new EdxError('EDX_ERR_NOT_FOUND', `no document ${which} among the documents this caller may see.`, [
    issue('EDX_ERR_NOT_FOUND', 'params.documentId', 'No document with this id was sent or received by the agencies of this client.', documentId),
  ]);
}

/** The Vietnamese meaning of a status code, or null for a code outside the standard's set. */
function meaningOf(code: string): string | null {
  return isStatusCode(code) ? STATUS_MEANINGS[code] : null;
}

function documentReply(d: DocumentStatus) {
  return {
    documentId: d.documentId,
    sender: d.sender,
    packetId: d.packetId,
    businessType: d.businessType,
    subject: d.subject,
    priority: d.priority,
    receivedAt: vietnamIso(d.receivedAt),
    revokedAt: vietnamIsoOrNull(d.revokedAt),
    links: d.links.map((l) => ({ relation: l.relation, documentId: l.documentId, packetId: l.packetId, at: vietnamIso(l.at) })),
    recipients: d.recipients.map((r) => ({
      recipient: r.recipient,
      aliasOf: r.aliasOf,
      deliveryId: r.deliveryId,
      deliveryState: r.deliveryState,
      deliveredAt: vietnamIsoOrNull(r.deliveredAt),
      acknowledgedAt: vietnamIsoOrNull(r.acknowledgedAt),
      latencyMs: r.latencyMs,
      late: r.late,
      status: r.status === null ? null : { code: r.status.code, meaning: meaningOf(r.status.code), at: vietnamIsoOrNull(r.status.at), reason: r.status.reason },
      confirmedAt: vietnamIsoOrNull(r.confirmedAt),
      recall: {
        state: r.recall.state,
        kind: r.recall.kind,
        reason: r.recall.reason,
        requestedAt: vietnamIsoOrNull(r.recall.requestedAt),
        answeredAt: vietnamIsoOrNull(r.recall.answeredAt),
      },
    })),
  };
}

function timelineEntryReply(e: TimelineEntry) {
  // Fields a type does not have stay undefined and are left out by the serialiser.
  return {
    ...e,
    at: vietnamIso(e.at),
    nextAttemptAt: e.nextAttemptAt === undefined ? undefined : vietnamIsoOrNull(e.nextAttemptAt),
    deadlineAt: e.deadlineAt === undefined ? undefined : vietnamIsoOrNull(e.deadlineAt),
    meaning: e.code === undefined ? undefined : meaningOf(e.code),
  };
}

/** Registers the document routes. */
export function registerDocumentRoutes(app: EdxApp): void {
  app.get<DocumentRoute>(
    '/v1/documents/:documentId',
    {
      onRequest: requireClientOrAdmin(app),
      schema: { params: DOCUMENT_PARAMS, querystring: DOCUMENT_QUERY, response: { 200: DOCUMENT_SCHEMA, ...RESPONSES } },
    },
    async (request) => {
      const { key } = await documentOf(app, request);
      const status = await getDocumentStatus(app.gateway.store.db, key);
      // Documents are never deleted; absent here means it vanished between two reads, i.e. not found.
      if (status === undefined) throw notFound(key.documentId, request.query.sender);
      return documentReply(status);
    },
  );

  app.get<DocumentRoute>(
    '/v1/documents/:documentId/timeline',
    {
      onRequest: requireClientOrAdmin(app),
      schema: { params: DOCUMENT_PARAMS, querystring: DOCUMENT_QUERY, response: { 200: TIMELINE_SCHEMA, ...RESPONSES } },
    },
    async (request) => {
      const { key, shared } = await documentOf(app, request);
      const input: DocumentTimelineInput = { ...key, shared };
      const events = await getDocumentTimeline(app.gateway.store.db, input);
      return { documentId: key.documentId, sender: key.sender, events: events.map(timelineEntryReply) };
    },
  );

  // What matches neither route above. A DocumentId sent with its '/' unencoded splits into several
  // path segments: guessing where the id ends would misread an id whose notation ends in
  // "/timeline", so say how to address it instead of the bare "no route". A single segment lands here
  // only when it is longer than the router's parameter limit, i.e. longer than any DocumentId.
  app.get(
    '/v1/documents/*',
    { onRequest: requireClientOrAdmin(app), schema: { response: RESPONSES } },
    async (request) => {
      const path = request.url.split('?')[0] ?? request.url;
      const rest = path.slice('/v1/documents/'.length).replace(/\/timeline$/, '');
      if (rest !== '' && !rest.includes('/')) {
        throw new EdxError('EDX_ERR_REQUEST_INVALID', `the document id is longer than ${DOCUMENT_ID_MAX_LENGTH} characters, which no DocumentId is.`, [
          issue('EDX_ERR_REQUEST_INVALID', 'params.documentId', `A DocumentId has at most ${DOCUMENT_ID_MAX_LENGTH} characters.`),
        ]);
      }
      throw new EdxError('EDX_ERR_NOT_FOUND', `no route GET ${path}: a document id containing '/' must be URL-encoded ('/' as %2F).`, [
        issue('EDX_ERR_NOT_FOUND', 'url', 'Address a document as /v1/documents/{encodeURIComponent(documentId)}[/timeline].', path),
      ]);
    },
  );
}
