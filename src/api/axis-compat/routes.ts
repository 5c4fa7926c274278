// The axis-compatible API: the operations of the national axis SDK (`com.vpcp.services`) under a
// configurable prefix (AXIS_PREFIX, default /axis), so that an office system written against the
// axis connects to edxgate by changing only its endpoint, systemid and secret. What the SDK sends
// and accepts is spec/axis-wire.md; the choices made where it is silent are docs/axis.md.
//
// Nothing here is a second pipeline: sendEdoc hands the packet to the same intake as POST
// /v1/packets, the lists read the same deliveries as /v1/inbox, updateStatus(done) is the /v1 ack
// (and sends the same automatic 01). The routes live in their own encapsulated scope, so that their
// body parsing (any media type, as raw bytes) and their error replies (axis JSON instead of
// problem+json) apply to them alone.

import type { FastifyReply, FastifyRequest } from 'fastify';
import { MESSAGE_TYPES, SERVICE_TYPE, axisTime, fileOfSendBody, isAxisOperation, signedValue } from '../../axis/wire.ts';
import type { AxisOperation, MessageType } from '../../axis/wire.ts';
import { STATUS_MEANINGS, isStatusCode } from '../../edxml/codes.ts';
import { parseDocumentId } from '../../edxml/document-id.ts';
import { senderOf } from '../../edxml/model.ts';
import { parsePacket } from '../../edxml/parse.ts';
import { EdxError, issue } from '../../errors.ts';
import type { ErrorCode } from '../../errors.ts';
import type { PacketKind } from '../../store/database.ts';
import { ackDelivery } from '../../store/queries/ack-delivery.ts';
import { ackRouteDelivery, failAxisDelivery, getAxisDelivery, listAxisInbox } from '../../store/queries/axis-inbox.ts';
import type { AxisScope } from '../../store/queries/axis-inbox.ts';
import { listAxisSent } from '../../store/queries/axis-sent.ts';
import type { AxisSentItem } from '../../store/queries/axis-sent.ts';
import { toEdxError } from '../problem.ts';
import { requestLogger } from '../types.ts';
import type { EdxApp } from '../types.ts';
import { AxisAuthenticator, axisSystemLookup } from './auth.ts';
import type { AxisCall, AxisCredential } from './auth.ts';
import { REPLY_SCHEMAS, failReply, httpStatusOf, okReply } from './replies.ts';
import type { AxisReplyBase } from './replies.ts';

/** The decoration that marks an app whose axis routes are registered (registration is idempotent). */
const REGISTERED = 'axisCompatPrefix';

/** The configured prefix, or undefined when the API is disabled (`off` or empty). */
export function axisPrefixOf(app: EdxApp): string | undefined {
  const prefix = app.gateway.config.axisCompat.prefix;
  return prefix === '' || prefix === 'off' ? undefined : prefix;
}

/**
 * Registers the axis-compatible routes under AXIS_PREFIX (nothing when it is `off` or empty).
 * Calling it again on the same app does nothing.
 */
export function registerAxisCompatRoutes(app: EdxApp): void {
  const prefix = axisPrefixOf(app);
  if (prefix === undefined || app.hasDecorator(REGISTERED)) return;
  app.decorate(REGISTERED, prefix);
  app.register(
    async (scope: EdxApp) => {
      installAxisScope(scope, (request) => operationOf(request, prefix));
      registerOperations(scope, new AxisAuthenticator(axisSystemLookup(app.gateway.store)));
    },
    { prefix },
  );
}

/** The operation a request was routed to, from its route URL. */
function operationOf(request: FastifyRequest, prefix: string): AxisOperation | undefined {
  const url = request.routeOptions.url ?? '';
  const name = url.startsWith(`${prefix}/`) ? url.slice(prefix.length + 1) : '';
  return isAxisOperation(name) ? name : undefined;
}

/**
 * Body parsing, error replies and the not-found reply of an axis scope (this API, and the
 * callbacks an upstream pushes in the same wire form); `operationOf` names a request's operation.
 */
export function installAxisScope(scope: EdxApp, operationOf: (request: FastifyRequest) => AxisOperation | undefined): void {
  // Every body is taken as raw bytes whatever its media type: sendEdoc's is the file (octet-stream
  // from the SDK; other clients may say application/xml), the others' is `{}` or nothing — even
  // when declared application/json with Content-Length 0 (axis-wire.md) — and carries no
  // parameter: they are all in the signed headers.
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  scope.setErrorHandler((error: unknown, request, reply) => {
    const operation = operationOf(request);
    const { error: mapped, internal } = toEdxError(error, request);
    // A sendEdoc body over the limit is a packet over the limit, as on POST /v1/packets.
    const edx = operation === 'sendEdoc' && mapped.code === 'EDX_ERR_REQUEST_TOO_LARGE' ? packetTooLarge(request.routeOptions.bodyLimit) : mapped;
    if (internal) request.log.error({ err: error, code: edx.code }, 'axis request failed');
    else request.log.info({ code: edx.code, detail: edx.message }, 'axis request refused');
    // Refusals before intake (size, media type) are still refused packets for the metrics.
    if (operation === 'sendEdoc' && !(error instanceof EdxError)) scope.gateway.metrics.packetsRejected.inc({ code: edx.code });
    return sendFail(reply, edx, operation);
  });

  scope.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? request.url;
    const error = new EdxError('EDX_ERR_AXIS_OPERATION_UNKNOWN', `no operation ${request.method} ${path}.`, [
      issue('EDX_ERR_AXIS_OPERATION_UNKNOWN', 'url', `There is no ${request.method} ${path}.`, path),
    ]);
    return sendFail(reply, error, undefined);
  });
}

function packetTooLarge(limit: number): EdxError {
  return new EdxError('EDX_ERR_XML_TOO_LARGE', `the body is larger than ${limit} bytes.`, [issue('EDX_ERR_XML_TOO_LARGE', 'body', `The body exceeds the limit of ${limit} bytes.`)]);
}

function sendFail(reply: FastifyReply, error: EdxError, operation: AxisOperation | undefined): FastifyReply {
  return reply.code(httpStatusOf(error)).type('application/json; charset=utf-8').send(failReply(error, operation));
}

// --- Parameters: read from the signed map only --------------------------------------------------

function refuse(code: ErrorCode, key: string, detail: string, value?: string): EdxError {
  return new EdxError(code, detail, [issue(code, `header:XroadVnpt-${key}`, detail, value)]);
}

/** A signed parameter, trimmed; the auth hook checked that required ones are signed. */
function param(call: AxisCall<AxisCredential>, key: string): string | undefined {
  return signedValue(call.signed, key)?.trim();
}

function requiredParam(call: AxisCall<AxisCredential>, key: string): string {
  const value = param(call, key);
  if (value === undefined || value === '') throw refuse('EDX_ERR_AXIS_PARAMETER_INVALID', key, `XroadVnpt-${key} is empty.`);
  return value;
}

function checkServiceType(call: AxisCall<AxisCredential>): void {
  const value = requiredParam(call, 'servicetype');
  if (value.toLowerCase() !== SERVICE_TYPE.toLowerCase()) {
    throw refuse('EDX_ERR_AXIS_PARAMETER_INVALID', 'servicetype', `servicetype is "${value}"; the only service type is ${SERVICE_TYPE}.`, value);
  }
}

function messageTypeOf(call: AxisCall<AxisCredential>): MessageType {
  const value = requiredParam(call, 'messagetype').toLowerCase();
  const found = MESSAGE_TYPES.find((m) => m === value);
  if (found === undefined) throw refuse('EDX_ERR_AXIS_PARAMETER_INVALID', 'messagetype', `messagetype is "${value}"; use ${MESSAGE_TYPES.join(' or ')}.`, value);
  return found;
}

const KIND_OF: Readonly<Record<MessageType, PacketKind>> = { edoc: 'document', status: 'status' };
const MESSAGE_TYPE_OF: Readonly<Record<PacketKind, MessageType>> = { document: 'edoc', status: 'status' };

/**
 * Whose deliveries a system sees: an office system its agencies', a peer gateway's system (bound
 * to a peer route) everything the directory routes through that route.
 */
function scopeOf(call: AxisCall): AxisScope {
  return call.system.routeId === null ? { agencies: call.system.agencies } : { routeId: call.system.routeId };
}

function notFound(docId: string): EdxError {
  return new EdxError('EDX_ERR_NOT_FOUND', `no message ${docId} for the agencies of this system.`, [
    issue('EDX_ERR_NOT_FOUND', 'header:XroadVnpt-docId', 'No message with this docId was delivered to the agencies of this system.', docId),
  ]);
}

/**
 * The packet of a sendEdoc request (this API's, or a callback's in the same wire form), checked
 * against its signed headers: servicetype, messagetype against the packet's kind, `from` against
 * its From (and against `agencies` when given: an office system's own), hash-file against the body
 * with or without the SDK's trailing CRLF. Throws the EdxError of the first fault; judgements on
 * the packet count as refused packets, as intake's own do.
 */
export function readSendEdoc(
  call: AxisCall<AxisCredential>,
  body: unknown,
  agencies: readonly string[] | undefined,
  metrics: Pick<EdxApp['gateway']['metrics'], 'packetsRejected'>,
): { readonly file: Buffer; readonly from: string; readonly messageType: MessageType } {
  checkServiceType(call);
  const messageType = messageTypeOf(call);
  const from = requiredParam(call, 'from');
  const hashFile = requiredParam(call, 'hash-file');
  if (agencies !== undefined && !agencies.includes(from)) {
    throw new EdxError('EDX_ERR_AUTH_FORBIDDEN', `this system acts for ${agencies.join(', ') || 'no agency'}, not for ${from}.`, [
      issue('EDX_ERR_AUTH_FORBIDDEN', 'header:XroadVnpt-from', `The system may not send as ${from}.`, from),
    ]);
  }
  const bytes = Buffer.isBuffer(body) ? body : Buffer.alloc(0);
  const rejected = (error: EdxError): EdxError => {
    metrics.packetsRejected.inc({ code: error.code });
    return error;
  };
  const file = fileOfSendBody(bytes, hashFile);
  if (file === undefined) {
    throw rejected(
      refuse('EDX_ERR_AXIS_HASH_MISMATCH', 'hash-file', `hash-file ${hashFile} is not the SHA-256 of the ${bytes.byteLength}-byte body (with or without its trailing CRLF).`, hashFile),
    );
  }
  // The header must describe the packet. It is parsed once here for that; a packet that does
  // not parse goes to intake anyway, which refuses it with the same issues as /v1 would.
  const parsed = parsePacket(file);
  if (parsed.ok) {
    const kind = parsed.value.kind;
    if (KIND_OF[messageType] !== kind) {
      throw rejected(
        refuse('EDX_ERR_AXIS_MESSAGE_TYPE_MISMATCH', 'messagetype', `messagetype is ${messageType} but the packet is a ${kind} packet (messagetype ${MESSAGE_TYPE_OF[kind]}).`, messageType),
      );
    }
    const sender = senderOf(parsed.value);
    if (sender !== from) throw rejected(refuse('EDX_ERR_AXIS_FROM_MISMATCH', 'from', `from is ${from} but the packet's From is ${sender}.`, from));
  }
  return { file, from, messageType };
}

// --- Operations ---------------------------------------------------------------------------------

function registerOperations(scope: EdxApp, auth: AxisAuthenticator): void {
  const gateway = scope.gateway;
  const route = (
    operation: AxisOperation,
    handler: (call: AxisCall, request: FastifyRequest) => Promise<AxisReplyBase>,
    bodyLimit?: number,
  ): void => {
    scope.post(
      `/${operation}`,
      {
        onRequest: auth.hook(operation),
        ...(bodyLimit === undefined ? {} : { bodyLimit }),
        schema: { response: { 200: REPLY_SCHEMAS[operation] } },
      },
      async (request) => handler(auth.callOf(request), request),
    );
  };

  route(
    'sendEdoc',
    async (call, request) => {
      // A peer gateway's system sends for the agencies behind it: federation checks the sender against the directory.
      const peerRoute = call.system.routeId;
      const { file } = readSendEdoc(call, request.body, peerRoute === null ? call.system.agencies : undefined, gateway.metrics);
      const receivedAt = new Date(request.receivedAtMs);
      const log = requestLogger(request);
      const result =
        peerRoute === null
          ? await gateway.intake.submit({ bytes: file, client: { clientId: call.system.clientId, agencies: call.system.agencies }, receivedAt, log })
          : await gateway.federation.admitFromLink({ routeId: peerRoute, bytes: file, via: 'sendEdoc', remoteId: null, systemid: call.system.systemid, receivedAt, log });
      // A duplicate gets the original packet's id, as the first send did.
      return okReply({ DocId: result.receipt.packetId });
    },
    gateway.config.server.bodyLimitBytes,
  );

  route('getReceivedEdocList', async (call) => {
    checkServiceType(call);
    const messageType = messageTypeOf(call);
    const items = await listAxisInbox(gateway.store.db, { scope: scopeOf(call), kind: KIND_OF[messageType] });
    return okReply({
      data: items.map((i) => ({
        docId: i.deliveryId,
        serviceType: SERVICE_TYPE,
        messageType,
        created_time: axisTime(i.admittedAt),
        updated_time: axisTime(i.deliveredAt),
        from: i.sender,
        to: i.recipient,
        status: 'pending',
        status_desc: 'Chờ nhận',
      })),
    });
  });

  route('getSentEdocList', async (call) => {
    checkServiceType(call);
    const messageType = messageTypeOf(call);
    const docId = param(call, 'docId');
    const items = await listAxisSent(gateway.store.db, {
      // A peer gateway's system sent for many agencies: what its client admitted.
      scope: call.system.routeId === null ? { agencies: call.system.agencies } : { clientId: call.system.clientId },
      kind: KIND_OF[messageType],
      packetId: docId === undefined || docId === '' ? undefined : docId,
    });
    return okReply({ data: items.map((i) => sentItem(i, messageType)) });
  });

  route('getEdoc', async (call) => {
    const docId = requiredParam(call, 'docId');
    // filePath is the SDK's local folder: meaningless here.
    const delivery = await getAxisDelivery(gateway.store.db, { deliveryId: docId, scope: scopeOf(call) });
    if (delivery === undefined) throw notFound(docId);
    const bytes = await gateway.store.payloads.get(delivery.payloadRef);
    return okReply({ data: bytes.toString('base64') });
  });

  route('updateStatus', async (call, request) => {
    const docId = requiredParam(call, 'docId');
    const status = requiredParam(call, 'status').toLowerCase();
    const scope = scopeOf(call);
    switch (status) {
      case 'done': {
        if ('routeId' in scope) {
          // A peer gateway took it: the recipient is behind it, and that gateway sends the 01 itself.
          const taken = await ackRouteDelivery(gateway.store.db, { deliveryId: docId, routeId: scope.routeId, systemid: call.system.systemid });
          if (taken === 'not_found') throw notFound(docId);
          return okReply({});
        }
        const outcome = await ackDelivery(gateway.store.db, { deliveryId: docId, agencies: scope.agencies });
        if (outcome === 'not_found') throw notFound(docId);
        // Exactly the /v1 ack: the document has reached the recipient, its sender gets 01 (đã đến).
        if (outcome === 'acked') await gateway.tracker.arrived(docId);
        return okReply({});
      }
      case 'fail': {
        const outcome = await failAxisDelivery(gateway.store.db, { deliveryId: docId, scope, systemid: call.system.systemid });
        if (outcome === 'not_found') throw notFound(docId);
        if (outcome === 'already_acked') requestLogger(request).info({ docId }, 'updateStatus fail after done: the acknowledgement stands');
        return okReply({});
      }
      case 'processing': {
        // Listed in the SDK example's comment; changes nothing (the item stays listed), but the
        // docId must still be one of the system's.
        if ((await getAxisDelivery(gateway.store.db, { deliveryId: docId, scope })) === undefined) throw notFound(docId);
        return okReply({});
      }
      default:
        throw refuse('EDX_ERR_AXIS_PARAMETER_INVALID', 'status', `status is "${status}"; use done or fail.`, status);
    }
  });

  route('getAgenciesList', async () => {
    const directory = await gateway.directory.directory();
    // Only agencies that take packets now: a closed or suspended code would be refused as a recipient.
    const agencies = directory.list().filter((a) => a.state === 'active');
    return okReply({ data: agencies.map((a) => ({ id: a.code, pid: a.parent ?? '', code: a.code, name: a.name, mail: '' })) });
  });
}

const SEND_STATUS: Readonly<Record<AxisSentItem['state'], readonly [string, string]>> = {
  queued: ['processing', 'Đang chuyển'],
  delivering: ['processing', 'Đang chuyển'],
  delivered: ['done', 'Đã chuyển đến đơn vị nhận'],
  dead: ['fail', 'Chuyển không thành công'],
  withdrawn: ['withdrawn', 'Đã thu hồi'],
};

/** One delivery of a sent packet in the SDK's GetSendEdocResult model (spec/edxml.md §6.3). */
function sentItem(i: AxisSentItem, messageType: MessageType): Record<string, string> {
  const [sendStatus, sendDesc] = SEND_STATUS[i.state];
  // Reached: taken from the inbox (acknowledged), or pushed to the recipient's endpoint.
  const receivedAt = i.ackedAt ?? (i.routeKind !== 'inbox' && i.state === 'delivered' ? i.deliveredAt : null);
  let receiveStatus: string;
  let receiveDesc: string;
  if (i.statusCode !== null && isStatusCode(i.statusCode)) {
    receiveStatus = i.statusCode;
    receiveDesc = STATUS_MEANINGS[i.statusCode];
  } else if (i.transportFailed) {
    [receiveStatus, receiveDesc] = ['fail', 'Đơn vị nhận báo lỗi khi nhận'];
  } else if (receivedAt !== null) {
    [receiveStatus, receiveDesc] = ['done', 'Đã nhận'];
  } else {
    [receiveStatus, receiveDesc] = ['pending', 'Chưa nhận'];
  }
  const id = parseDocumentId(i.documentId);
  return {
    serviceType: SERVICE_TYPE,
    messageType,
    senderDocId: i.packetId,
    receiverDocId: i.deliveryId,
    fromCode: i.sender,
    toCode: i.recipient,
    title: i.subject ?? '',
    notation: id === undefined ? '' : `${id.number}/${id.notation}`,
    sentTime: axisTime(i.receivedAt),
    receivedTime: receivedAt === null ? '' : axisTime(receivedAt),
    sendStatus,
    sendStatusDesc: i.state === 'dead' && i.lastError !== null ? `${sendDesc}: ${i.lastError}` : sendDesc,
    receiveStatus,
    receiveStatusDesc: receiveDesc,
  };
}
