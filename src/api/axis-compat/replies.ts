// The replies of the axis-compatible API, in the national axis's shape (spec/axis-wire.md, "Replies
// the SDK accepts"): a JSON object with `status` ("OK" | "FAIL"), `ErrorCode` ("0" on success, else
// our EDX_ERR_* code), `ErrorDesc`, and the operation's payload. Field names and order are the
// axis's, not this API's usual camelCase: the SDK reads them by name.

import type { AxisOperation } from '../../axis/wire.ts';
import { ERROR_CATALOGUE } from '../../errors.ts';
import type { EdxError } from '../../errors.ts';

/** Every axis reply. */
export interface AxisReplyBase {
  readonly status: 'OK' | 'FAIL';
  readonly ErrorCode: string;
  readonly ErrorDesc: string;
}

/** A success, with the operation's payload fields after the status fields. */
export function okReply<P extends Record<string, unknown>>(payload: P): AxisReplyBase & P {
  return { status: 'OK', ErrorCode: '0', ErrorDesc: '', ...payload };
}

/** Operations whose payload is a `data` list: their refusals carry an empty one (callers that read
 * `data` before `status`, as the SDK's own example does, see no items instead of failing). */
const LIST_OPERATIONS: ReadonlySet<AxisOperation> = new Set(['getReceivedEdocList', 'getSentEdocList', 'getAgenciesList']);

/** A refusal: ErrorCode is the catalogue code, ErrorDesc its message (title and detail). */
export function failReply(error: EdxError, operation: AxisOperation | undefined): AxisReplyBase & { readonly data?: readonly never[] } {
  const base: AxisReplyBase = { status: 'FAIL', ErrorCode: error.code, ErrorDesc: error.message };
  return operation !== undefined && LIST_OPERATIONS.has(operation) ? { ...base, data: [] } : base;
}

/**
 * The HTTP status of a refusal. The outcome is carried by `status`, which the SDK reads from the
 * body, so every refusal the caller must read (authentication, parameters, the packet, not found)
 * is HTTP 200, as a FAIL reply the SDK parses like any other. Server-side faults (database down,
 * shutting down, a bug) keep their 5xx: nothing is wrong with the request, and retries and load
 * balancers act on the status line. The body is an axis FAIL reply either way.
 */
export function httpStatusOf(error: EdxError): number {
  const status = ERROR_CATALOGUE[error.code].status;
  return status >= 500 ? status : 200;
}

const STATUS_PROPERTIES = {
  status: { type: 'string' },
  ErrorCode: { type: 'string' },
  ErrorDesc: { type: 'string' },
} as const;
const STATUS_REQUIRED = ['status', 'ErrorCode', 'ErrorDesc'] as const;

const RECEIVED_ITEM = {
  type: 'object',
  properties: {
    docId: { type: 'string' },
    serviceType: { type: 'string' },
    messageType: { type: 'string' },
    created_time: { type: 'string' },
    updated_time: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    status: { type: 'string' },
    status_desc: { type: 'string' },
  },
} as const;

const SENT_ITEM = {
  type: 'object',
  properties: {
    serviceType: { type: 'string' },
    messageType: { type: 'string' },
    senderDocId: { type: 'string' },
    receiverDocId: { type: 'string' },
    fromCode: { type: 'string' },
    toCode: { type: 'string' },
    title: { type: 'string' },
    notation: { type: 'string' },
    sentTime: { type: 'string' },
    receivedTime: { type: 'string' },
    sendStatus: { type: 'string' },
    sendStatusDesc: { type: 'string' },
    receiveStatus: { type: 'string' },
    receiveStatusDesc: { type: 'string' },
  },
} as const;

const AGENCY_ITEM = {
  type: 'object',
  properties: { id: { type: 'string' }, pid: { type: 'string' }, code: { type: 'string' }, name: { type: 'string' }, mail: { type: 'string' } },
} as const;

function replySchema(payload: Record<string, unknown>): Record<string, unknown> {
  return { type: 'object', required: STATUS_REQUIRED, properties: { ...STATUS_PROPERTIES, ...payload } };
}

/** The 200 reply schema of each operation (OK and FAIL alike). */
export const REPLY_SCHEMAS: Readonly<Record<AxisOperation, Record<string, unknown>>> = {
  sendEdoc: replySchema({ DocId: { type: 'string' } }),
  getReceivedEdocList: replySchema({ data: { type: 'array', items: RECEIVED_ITEM } }),
  getSentEdocList: replySchema({ data: { type: 'array', items: SENT_ITEM } }),
  getEdoc: replySchema({ data: { type: 'string' } }),
  updateStatus: replySchema({}),
  getAgenciesList: replySchema({ data: { type: 'array', items: AGENCY_ITEM } }),
};
