// Packets: POST /v1/packets (submit one edXML packet), GET /v1/packets/{packetId} (what is known
// about it: signature verdict, stage timings, deliveries) and GET /v1/packets/{packetId}/edxml (its
// stored bytes) — for the sender and the recipients only, and the admin.

import type { Readable } from 'node:stream';
import { errorCodes } from 'fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { EdxError, issue } from '../../errors.ts';
import { getPacketDetails, getPacketParties } from '../../store/queries/get-packet.ts';
import { clientOf, requireClient, requireClientOrAdmin } from '../auth.ts';
import { ISSUE_SCHEMA, NULLABLE_INTEGER, NULLABLE_STRING, PROBLEM_SCHEMA, SIGNATURE_VERDICT_SCHEMA } from '../schemas.ts';
import { vietnamIso, vietnamIsoOrNull } from '../time.ts';
import { wireIssue } from '../problem.ts';
import { requestLogger } from '../types.ts';
import type { EdxApp } from '../types.ts';

/** Media types a packet may be posted as. */
export const PACKET_MEDIA_TYPES = ['application/xml', 'text/xml', 'application/octet-stream'] as const;

const RECEIPT_SCHEMA = {
  type: 'object',
  required: ['packetId', 'documentId', 'deliveries', 'warnings'],
  properties: {
    packetId: { type: 'string' },
    documentId: { type: 'string' },
    deliveries: {
      type: 'array',
      items: {
        type: 'object',
        required: ['to', 'deliveryId', 'state'],
        properties: {
          to: { type: 'string' },
          deliveryId: { type: 'string' },
          state: { type: 'string' },
          aliasOf: { type: 'string' },
        },
      },
    },
    warnings: { type: 'array', items: ISSUE_SCHEMA },
    signature: SIGNATURE_VERDICT_SCHEMA,
  },
} as const;

const PACKET_SCHEMA = {
  type: 'object',
  required: ['packetId', 'kind', 'documentId', 'sender', 'sha256', 'sizeBytes', 'receivedAt', 'admittedAt', 'deadlineAt', 'stageTimings', 'deliveries'],
  properties: {
    packetId: { type: 'string' },
    kind: { type: 'string' },
    documentId: { type: 'string' },
    sender: { type: 'string' },
    businessType: NULLABLE_INTEGER,
    statusCode: NULLABLE_STRING,
    priority: { type: 'integer' },
    subject: NULLABLE_STRING,
    sha256: { type: 'string' },
    sizeBytes: { type: 'integer' },
    receivedAt: { type: 'string' },
    admittedAt: { type: 'string' },
    deadlineAt: { type: 'string' },
    signature: { anyOf: [SIGNATURE_VERDICT_SCHEMA, { type: 'null' }] },
    stageTimings: { type: 'object', additionalProperties: { type: 'number' } },
    deliveries: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          deliveryId: { type: 'string' },
          recipient: { type: 'string' },
          aliasOf: NULLABLE_STRING,
          routeId: { type: 'string' },
          state: { type: 'string' },
          attempts: { type: 'integer' },
          deliveredAt: NULLABLE_STRING,
          acknowledgedAt: NULLABLE_STRING,
          latencyMs: NULLABLE_INTEGER,
          late: { type: 'boolean' },
          lastError: NULLABLE_STRING,
          stageTimings: {
            anyOf: [{ type: 'object', properties: { waitToClaim: { type: 'number' }, deliver: { type: 'number' } } }, { type: 'null' }],
          },
        },
      },
    },
  },
} as const;

/**
 * Reads a packet body into one Buffer, within the route's body limit. Fastify's `parseAs: 'buffer'`
 * keeps every chunk until the end and then concatenates them, so a 67 MB packet took 134 MB at that
 * moment (test/e2e/memory.test.ts); with a Content-Length, each chunk is copied into a buffer of that
 * size as it arrives and can be collected at once. (allocUnsafe only reserves address space: a
 * sender that announces 80 MB and sends less makes the process resident in what was sent.) Without
 * one (chunked transfer), the chunks are concatenated as Fastify would. Errors are Fastify's own, so
 * they map to the same problems as before (src/api/problem.ts).
 */
function readPacketBody(request: FastifyRequest, payload: Readable, done: (error: Error | null, body?: Buffer) => void): void {
  const limit = request.routeOptions.bodyLimit;
  const header = request.headers['content-length'];
  const declared = header === undefined ? undefined : Number(header);
  if (declared !== undefined && declared > limit) {
    done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
    return;
  }
  const whole = declared !== undefined && Number.isSafeInteger(declared) && declared >= 0 ? Buffer.allocUnsafe(declared) : undefined;
  const chunks: Buffer[] = [];
  let received = 0;
  const finish = (error: Error | null, body?: Buffer): void => {
    payload.off('data', onData);
    payload.off('end', onEnd);
    payload.off('error', onEnd);
    done(error, body);
  };
  function onData(chunk: Buffer | string): void {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (received + bytes.length > limit) {
      finish(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
      return;
    }
    if (whole === undefined) chunks.push(bytes);
    else if (received + bytes.length > whole.length) {
      finish(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
      return;
    } else bytes.copy(whole, received);
    received += bytes.length;
  }
  function onEnd(error?: Error & { statusCode?: number }): void {
    if (error !== undefined) {
      // As Fastify does: a broken upload is the client's (400) unless the error says otherwise.
      if (!(typeof error.statusCode === 'number' && error.statusCode >= 400)) error.statusCode = 400;
      finish(error);
    } else if (whole !== undefined && received !== whole.length) finish(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
    else finish(null, whole ?? Buffer.concat(chunks, received));
  }
  payload.on('data', onData);
  payload.on('end', onEnd);
  payload.on('error', onEnd);
  payload.resume();
}

/** onRequest hook: 503 with Retry-After while this node or the queue is over its budget. */
function shedLoad(app: EdxApp): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async (_request, reply) => {
    const overload = app.gateway.backpressure.check();
    if (overload === undefined) return;
    app.gateway.metrics.packetsRejected.inc({ code: 'EDX_ERR_SERVER_OVERLOADED' });
    reply.header('retry-after', String(overload.retryAfterSeconds));
    throw new EdxError('EDX_ERR_SERVER_OVERLOADED', `${overload.reason}; nothing was admitted, retry after ${overload.retryAfterSeconds} s.`, [
      issue('EDX_ERR_SERVER_OVERLOADED', 'request', `The gateway is overloaded: ${overload.reason}.`),
    ]);
  };
}

/** Registers the packet routes. */
export function registerPacketRoutes(app: EdxApp): void {
  // Packets arrive as raw bytes: they are hashed, stored and delivered exactly as received.
  app.addContentTypeParser([...PACKET_MEDIA_TYPES], readPacketBody);

  app.post(
    '/v1/packets',
    {
      bodyLimit: app.gateway.config.server.bodyLimitBytes,
      // Shedding first: an overloaded node refuses before it authenticates or reads the body.
      onRequest: [shedLoad(app), requireClient(app)],
      schema: { response: { 200: RECEIPT_SCHEMA, 202: RECEIPT_SCHEMA, '4xx': PROBLEM_SCHEMA, '5xx': PROBLEM_SCHEMA } },
    },
    async (request, reply) => {
      const body: unknown = request.body;
      if (body !== undefined && !Buffer.isBuffer(body)) {
        // A JSON body: the route takes edXML only.
        const type = request.headers['content-type'] ?? '(none)';
        throw new EdxError('EDX_ERR_MEDIA_TYPE', `a packet is posted as ${PACKET_MEDIA_TYPES.join(', ')}, not ${type}.`, [
          issue('EDX_ERR_MEDIA_TYPE', 'header:content-type', `Post the packet as ${PACKET_MEDIA_TYPES[0]}.`, type),
        ]);
      }
      const client = clientOf(request);
      const result = await app.gateway.intake.submit({
        bytes: body ?? Buffer.alloc(0),
        client: { clientId: client.clientId, agencies: client.agencies },
        receivedAt: new Date(request.receivedAtMs),
        log: requestLogger(request),
      });
      const { receipt } = result;
      return reply
        .code(result.outcome === 'admitted' ? 202 : 200)
        .header('location', `/v1/packets/${receipt.packetId}/edxml`)
        .send({ ...receipt, warnings: receipt.warnings.map(wireIssue) });
    },
  );

  app.get<{ Params: { packetId: string } }>(
    '/v1/packets/:packetId',
    {
      onRequest: requireClientOrAdmin(app),
      schema: {
        params: { type: 'object', required: ['packetId'], properties: { packetId: { type: 'string', maxLength: 64 } } },
        response: { 200: PACKET_SCHEMA, '4xx': PROBLEM_SCHEMA, '5xx': PROBLEM_SCHEMA },
      },
    },
    async (request) => {
      const { packetId } = request.params;
      const packet = await getPacketDetails(app.gateway.store.db, packetId);
      const principal = request.principal;
      const visible =
        packet !== undefined &&
        principal !== null &&
        (principal.kind === 'admin' || [packet.sender, ...packet.recipients].some((a) => principal.agencies.includes(a)));
      if (!visible) {
        throw new EdxError('EDX_ERR_NOT_FOUND', `no packet ${packetId} sent by or to the agencies of this client.`, [
          issue('EDX_ERR_NOT_FOUND', 'params.packetId', 'No packet with this id was sent by or to your agencies.', packetId),
        ]);
      }
      // A recipient sees its own deliveries only; the sender and the admin see all of them.
      const seesAll = principal.kind === 'admin' || principal.agencies.includes(packet.sender);
      const deliveries = seesAll ? packet.deliveries : packet.deliveries.filter((d) => principal.agencies.includes(d.recipient));
      return {
        packetId: packet.packetId,
        kind: packet.kind,
        documentId: packet.documentId,
        sender: packet.sender,
        businessType: packet.businessType,
        statusCode: packet.statusCode,
        priority: packet.priority,
        subject: packet.subject,
        sha256: packet.sha256,
        sizeBytes: packet.sizeBytes,
        receivedAt: vietnamIso(packet.receivedAt),
        admittedAt: vietnamIso(packet.admittedAt),
        deadlineAt: vietnamIso(packet.deadlineAt),
        signature: packet.signatureDetail ?? (packet.signatureVerdict === null ? null : { status: packet.signatureVerdict, policy: 'unknown' }),
        stageTimings: packet.stageTimings,
        deliveries: deliveries.map((d) => ({
          ...d,
          deliveredAt: vietnamIsoOrNull(d.deliveredAt),
          acknowledgedAt: vietnamIsoOrNull(d.acknowledgedAt),
          // Delivery errors can name the recipient's endpoint; only the sender and the admin see them.
          lastError: seesAll ? d.lastError : null,
        })),
      };
    },
  );

  app.get<{ Params: { packetId: string } }>(
    '/v1/packets/:packetId/edxml',
    {
      onRequest: requireClient(app),
      schema: {
        params: { type: 'object', required: ['packetId'], properties: { packetId: { type: 'string', maxLength: 64 } } },
        response: { '4xx': PROBLEM_SCHEMA, '5xx': PROBLEM_SCHEMA },
      },
    },
    async (request, reply) => {
      const client = clientOf(request);
      const { packetId } = request.params;
      const packet = await getPacketParties(app.gateway.store.db, packetId);
      const parties = packet === undefined ? [] : [packet.sender, ...packet.recipients];
      // 404 rather than 403 for packets of others: their existence is not this client's business.
      if (packet === undefined || !parties.some((a) => client.agencies.includes(a))) {
        throw new EdxError('EDX_ERR_NOT_FOUND', `no packet ${packetId} sent by or to the agencies of this client.`, [
          issue('EDX_ERR_NOT_FOUND', 'params.packetId', 'No packet with this id was sent by or to your agencies.', packetId),
        ]);
      }
      requestLogger(request).setBindings({ packetId });
      // Streamed: a 67 MB packet is not read into memory to be sent (DESIGN, large attachments).
      const stream = await app.gateway.store.payloads.stream(packet.payloadRef);
      return reply
        .type('application/xml; charset=utf-8')
        .header('content-length', String(packet.sizeBytes))
        .header('etag', `"${packet.sha256}"`)
        .header('edxgate-document-id', encodeURIComponent(packet.documentId))
        .send(stream);
    },
  );
}
