// Callbacks: POST /v1/callbacks/axis, where an upstream (the national axis, or another edxgate whose
// peer route points here) pushes a packet instead of waiting to be polled (docs/federation.md).
//
// The request is exactly a sendEdoc of the axis SDK (spec/axis-wire.md): the raw edXML followed by
// a CRLF, the signed XroadVnpt-* headers, hash-file over the file. It is authenticated with the
// upstream's own credential here — the systemid and secret of the axis route — so one credential
// serves the link both ways. The reply is the axis JSON (`status`, `ErrorCode`, `ErrorDesc`,
// `DocId`), which the pushing side reads as it reads a sendEdoc answer.
//
// What it admits goes through the same intake as /v1, as the upstream's client, for senders the
// directory routes through that upstream only (Federation.admitFromLink).

import type { FastifyReply, FastifyRequest } from 'fastify';
import { EdxError, issue } from '../../errors.ts';
import type { UpstreamCredential } from '../../gateway/federation.ts';
import { AxisAuthenticator } from '../axis-compat/auth.ts';
import { REPLY_SCHEMAS, okReply } from '../axis-compat/replies.ts';
import { installAxisScope, readSendEdoc } from '../axis-compat/routes.ts';
import { requestLogger } from '../types.ts';
import type { EdxApp } from '../types.ts';

/** Where the callbacks live; `axis` below it. */
export const CALLBACKS_PREFIX = '/v1/callbacks';

/** onRequest: an overloaded node refuses before it authenticates or reads the body (the pusher retries). */
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

/** Registers POST /v1/callbacks/axis in a scope of its own (raw bodies, axis replies). */
export function registerCallbackRoutes(app: EdxApp): void {
  app.register(
    async (scope: EdxApp) => {
      // Every path of the scope is a sendEdoc as far as the reply's shape goes.
      installAxisScope(scope, () => 'sendEdoc');
      const federation = scope.gateway.federation;
      const auth = new AxisAuthenticator<UpstreamCredential>((systemid) => federation.upstreamOf(systemid));
      scope.post(
        '/axis',
        {
          onRequest: [shedLoad(app), auth.hook('sendEdoc')],
          bodyLimit: scope.gateway.config.server.bodyLimitBytes,
          schema: { response: { 200: REPLY_SCHEMAS.sendEdoc } },
        },
        async (request) => {
          const call = auth.callOf(request);
          const { file } = readSendEdoc(call, request.body, undefined, scope.gateway.metrics);
          const result = await federation.admitFromLink({
            routeId: call.system.routeId,
            bytes: file,
            via: 'callback',
            remoteId: null,
            systemid: call.system.systemid,
            receivedAt: new Date(request.receivedAtMs),
            log: requestLogger(request),
          });
          // A duplicate (a push retried after its answer was lost) gets the original packet's id.
          return okReply({ DocId: result.receipt.packetId });
        },
      );
    },
    { prefix: CALLBACKS_PREFIX },
  );
}
