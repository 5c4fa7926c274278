// The state of one document at one recipient, and which statuses may move it (spec §4.3, seed 002
// Điều 10). Two independent tracks:
//
// - processing, reported by the recipient: 01 đã đến → 03 đã tiếp nhận → 04 phân công → 05 đang xử
//   lý → 06 hoàn thành, where 04 and 05 may be skipped; or 02 từ chối nhận, which ends it. A status
//   never moves the row backwards: a status behind the current one (an 01 arriving after the 03 it
//   preceded — the gateway's automatic 01 and a fast receiver's own 03 can cross) is recorded in the
//   history as `stale` and changes nothing. What cannot happen in any order is refused: 04–06
//   before the document was accepted (03), anything but 02 after 02, and 02 after acceptance.
// - recall, started by the sender (status 13, or a revocation — BussinessDocType 1) and answered by
//   the recipient: 15 (agreed: the recipient cancels the document) or 16 (refused, with a reason).
//
// Repeats are idempotent. Pure functions only: the caller holds the row lock and writes the result.

import type { StatusCode } from '../edxml/codes.ts';
import type { ErrorCode } from '../errors.ts';
import type { RecallKind, RecallState } from '../store/database.ts';

/** Statuses on the processing track; 02 ends it. */
export type ProcessingStatus = '01' | '02' | '03' | '04' | '05' | '06';

/** A (document, recipient) row as the state machine needs it. */
export interface RecipientState {
  readonly statusCode: ProcessingStatus | null;
  readonly recallState: RecallState;
  readonly recallKind: RecallKind | null;
}

/** Who sends the status, relative to the document. */
export type StatusActor = 'sender' | 'recipient';

/** What applying a status did. */
export type StatusChange =
  /** The processing status moved forward. */
  | 'advance'
  /** The same status again: nothing changes. */
  | 'repeat'
  /** Behind the current status (out of order): recorded, nothing changes. */
  | 'stale'
  /** A recall (13) or revocation was opened. */
  | 'recall-requested'
  /** The recipient answered the recall: 15 or 16. */
  | 'recall-answered';

/** The outcome: the new state, or why the status is refused. */
export type Transition =
  | { readonly ok: true; readonly change: StatusChange; readonly next: RecipientState }
  | { readonly ok: false; readonly code: ErrorCode; readonly reason: string };

/** A row before any status: delivered or not, nothing reported. */
export const INITIAL_STATE: RecipientState = { statusCode: null, recallState: 'none', recallKind: null };

// The forward order of the processing track; 02 is off it (final).
const RANK: Readonly<Record<Exclude<ProcessingStatus, '02'>, number>> = { '01': 1, '03': 2, '04': 3, '05': 4, '06': 5 };

/** Whether a status code belongs to the processing track. */
export function isProcessingStatus(code: StatusCode): code is ProcessingStatus {
  return code === '01' || code === '02' || code === '03' || code === '04' || code === '05' || code === '06';
}

/** Who may send each status: the recall request comes from the sender, everything else from a recipient. */
export function actorOf(code: StatusCode): StatusActor {
  return code === '13' ? 'sender' : 'recipient';
}

/** Applies `code`, sent by `actor`, to `current`. */
export function applyStatus(current: RecipientState, code: StatusCode, actor: StatusActor): Transition {
  if (actor !== actorOf(code)) {
    return actor === 'sender'
      ? refuse('EDX_ERR_STATUS_NOT_A_RECIPIENT', `status ${code} is the recipient's to send; the document's sender may only send 13 (recall request).`)
      : refuse('EDX_ERR_STATUS_TRANSITION', 'status 13 (recall request) is the sender\'s to send, not a recipient\'s.');
  }
  if (code === '13') return requestRecall(current, 'recall');
  if (code === '15' || code === '16') return answerRecall(current, code);
  if (isProcessingStatus(code)) return advance(current, code);
  return refuse('EDX_ERR_STATUS_CODE_INVALID', `status ${code} is not tracked.`);
}

/** Opens a recall (status 13) or a revocation (BussinessDocType 1) at one recipient. */
export function requestRecall(current: RecipientState, kind: RecallKind): Transition {
  switch (current.recallState) {
    case 'requested':
      return { ok: true, change: 'repeat', next: current };
    case 'recalled':
      // Already cancelled there: asking again changes nothing.
      return { ok: true, change: 'repeat', next: current };
    case 'none':
    case 'refused':
      // After a refusal (16) the sender may ask again, with a new reason.
      return { ok: true, change: 'recall-requested', next: { ...current, recallState: 'requested', recallKind: kind } };
  }
}

function answerRecall(current: RecipientState, code: '15' | '16'): Transition {
  const answered: RecallState = code === '15' ? 'recalled' : 'refused';
  if (current.recallState === 'requested') return { ok: true, change: 'recall-answered', next: { ...current, recallState: answered } };
  if (current.recallState === answered) return { ok: true, change: 'repeat', next: current };
  if (current.recallState === 'none') {
    return refuse('EDX_ERR_STATUS_NO_RECALL', `status ${code} answers a recall request, and none is open for this document at this recipient.`);
  }
  return refuse('EDX_ERR_STATUS_TRANSITION', `the recall was already answered ${current.recallState === 'recalled' ? '15 (agreed)' : '16 (refused)'}; send that answer, or wait for a new request.`);
}

function advance(current: RecipientState, code: ProcessingStatus): Transition {
  if (current.recallState === 'recalled') {
    return refuse('EDX_ERR_STATUS_TRANSITION', `the document was recalled at this recipient (15); status ${code} no longer applies.`);
  }
  const from = current.statusCode;
  if (from === code) return { ok: true, change: 'repeat', next: current };
  if (from === '02') return refuse('EDX_ERR_STATUS_TRANSITION', `the recipient refused the document (02); status ${code} cannot follow a refusal.`);
  if (code === '02') {
    if (from === null || from === '01') return { ok: true, change: 'advance', next: { ...current, statusCode: '02' } };
    return refuse('EDX_ERR_STATUS_TRANSITION', `the document was already accepted (${from}); 02 (refused) can only come before 03.`);
  }
  const target = RANK[code];
  const reached = from === null ? 0 : RANK[from];
  if (target < reached) return { ok: true, change: 'stale', next: current };
  // 04, 05 and 06 are processing steps: the document must have been accepted (03) first.
  if (target > RANK['03'] && reached < RANK['03']) {
    return refuse('EDX_ERR_STATUS_TRANSITION', `status ${code} needs the document accepted (03) first; the current status is ${from ?? 'none'}.`);
  }
  return { ok: true, change: 'advance', next: { ...current, statusCode: code } };
}

function refuse(code: ErrorCode, reason: string): Transition {
  return { ok: false, code, reason };
}
