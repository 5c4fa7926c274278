// Packets: POST /v1/packets (submit one edXML packet) and GET /v1/packets/{packetId}/edxml (its
// stored bytes, for the sender and the recipients only).

import { EdxError, issue } from '../../errors.ts';
import { getPacketParties } from '../../store/queries/get-packet.ts';
import { clientOf, requireClient } from '../auth.ts';
import { ISSUE_SCHEMA, PROBLEM_SCHEMA } from '../schemas.ts';
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
  },
} as const;

/** Registers the packet routes. */
export function registerPacketRoutes(app: EdxApp): void {
  // Packets arrive as raw bytes: they are hashed, stored and delivered exactly as received.
  app.addContentTypeParser([...PACKET_MEDIA_TYPES], { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.post(
    '/v1/packets',
    {
      bodyLimit: app.gateway.config.server.bodyLimitBytes,
      onRequest: requireClient(app),
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
