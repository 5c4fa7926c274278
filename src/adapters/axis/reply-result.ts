// What another gateway's answer to a pushed packet means for the delivery: the axis adapter
// (sendEdoc upstream) and the peer adapter (a push to a callback) read the same axis reply.
//
// Decisions:
// - OK is an acknowledgement: the far gateway has admitted the packet (or had it already — a
//   duplicate answers OK with the original DocId), so the delivery is acknowledged at once.
// - A refusal of the packet itself (its content, its recipient, a conflict) is permanent: retrying
//   the same bytes cannot help, the delivery goes to the dead letter with the far code.
// - Everything that can get better without touching the packet is retried: the far side's own
//   faults (store down, overloaded, shutting down), a status that arrived before its document
//   (the document is on its way by another delivery), and the link's credentials or routing being
//   wrong (an operator fixes them; the packets must not be dead-lettered meanwhile). The retry
//   policy still bounds it.
// - A code that is not ours (the real axis has its own) is retried too: it is unknown whether it is
//   about the packet, and losing a document is worse than trying it a few more times.

import { isErrorCode } from '../../errors.ts';
import type { ErrorCode } from '../../errors.ts';
import type { DeliveryResult } from '../contract.ts';
import type { AxisCallResult } from './axis-client.ts';

/** Far codes that say "not now" rather than "never". */
const TRANSIENT_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'EDX_ERR_STORE_UNAVAILABLE',
  'EDX_ERR_SERVER_OVERLOADED',
  'EDX_ERR_SERVER_INTERNAL',
  'EDX_ERR_ADAPTER_NOT_RUNNING',
  'EDX_ERR_STATUS_UNKNOWN_DOCUMENT',
  'EDX_ERR_AXIS_AUTH_REQUIRED',
  'EDX_ERR_AXIS_AUTH_INVALID',
  'EDX_ERR_AXIS_HEADER_MISMATCH',
  'EDX_ERR_AUTH_FORBIDDEN',
  'EDX_ERR_AXIS_OPERATION_UNKNOWN',
]);

/** Whether a far ErrorCode may succeed later with the same packet. */
export function isTransientFarCode(code: string): boolean {
  return !isErrorCode(code) || TRANSIENT_CODES.has(code);
}

const DESC_CHARS = 300;

function short(text: string): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length <= DESC_CHARS ? one : `${one.slice(0, DESC_CHARS - 1)}…`;
}

/** The delivery result of one push; `target` names the far side in details and reasons. */
export function deliveryResultOf(result: AxisCallResult, target: string): DeliveryResult {
  if (!result.ok) {
    const code: ErrorCode = result.failure === 'timeout' ? 'EDX_ERR_DELIVERY_TIMEOUT' : 'EDX_ERR_DELIVERY_UNAVAILABLE';
    return { outcome: 'retry', code, reason: `${target}: ${result.reason}` };
  }
  const { reply, httpStatus } = result;
  if (reply.status === 'OK') {
    const docId = typeof reply.fields['DocId'] === 'string' ? reply.fields['DocId'] : '';
    return { outcome: 'accepted', acknowledged: true, detail: `${target} admitted it${docId === '' ? '' : ` as ${docId}`}` };
  }
  const reason = `${target} answered ${reply.errorCode || 'FAIL'}: ${short(reply.errorDesc) || '(no description)'}`;
  if (httpStatus >= 500 || isTransientFarCode(reply.errorCode)) return { outcome: 'retry', code: 'EDX_ERR_DELIVERY_UNAVAILABLE', reason };
  // A catalogued refusal of the packet: the far gateway's code is the delivery's, so it reads the same on both sides.
  return { outcome: 'rejected', code: isErrorCode(reply.errorCode) ? reply.errorCode : 'EDX_ERR_DELIVERY_REFUSED', reason };
}
