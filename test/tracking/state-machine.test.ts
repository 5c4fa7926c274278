// The per-(document, recipient) state machine: forward only, repeats idempotent, impossible
// transitions refused with the catalogued code.

import t from 'tap';
import type { StatusCode } from '../../src/edxml/codes.ts';
import { INITIAL_STATE, applyStatus, requestRecall } from '../../src/tracking/state-machine.ts';
import type { RecipientState, Transition } from '../../src/tracking/state-machine.ts';

/** Applies recipient statuses in order; returns the last transition and the state reached. */
function run(codes: readonly StatusCode[], from: RecipientState = INITIAL_STATE): { state: RecipientState; last: Transition } {
  let state = from;
  let last: Transition = { ok: true, change: 'repeat', next: state };
  for (const code of codes) {
    last = applyStatus(state, code, code === '13' ? 'sender' : 'recipient');
    if (last.ok) state = last.next;
  }
  return { state, last };
}

t.test('the full forward path, and the skips the regulation allows', async (t) => {
  t.equal(run(['01', '03', '04', '05', '06']).state.statusCode, '06');
  t.equal(run(['01', '03', '06']).state.statusCode, '06', '04 and 05 may be skipped');
  t.equal(run(['03']).state.statusCode, '03', 'a receiver may accept before the automatic 01 is recorded');
});

t.test('statuses never move backwards: a late 01 is stale, not an error', async (t) => {
  const { state, last } = run(['03', '05', '01']);
  t.match(last, { ok: true, change: 'stale' });
  t.equal(state.statusCode, '05');
  t.match(run(['03', '05', '04']).last, { ok: true, change: 'stale' });
});

t.test('repeats are idempotent', async (t) => {
  t.match(run(['01', '03', '03']).last, { ok: true, change: 'repeat' });
  t.match(run(['02', '02']).last, { ok: true, change: 'repeat' });
});

t.test('impossible transitions are refused', async (t) => {
  for (const code of ['04', '05', '06'] as const) {
    t.match(run(['01', code]).last, { ok: false, code: 'EDX_ERR_STATUS_TRANSITION' }, `${code} before 03`);
    t.match(run([code]).last, { ok: false, code: 'EDX_ERR_STATUS_TRANSITION' }, `${code} as the first status`);
  }
  for (const code of ['01', '03', '04', '06'] as const) {
    t.match(run(['01', '02', code]).last, { ok: false, code: 'EDX_ERR_STATUS_TRANSITION' }, `${code} after 02`);
  }
  t.match(run(['03', '02']).last, { ok: false, code: 'EDX_ERR_STATUS_TRANSITION' }, '02 after acceptance');
});

t.test('who may send what', async (t) => {
  t.match(applyStatus(INITIAL_STATE, '03', 'sender'), { ok: false, code: 'EDX_ERR_STATUS_NOT_A_RECIPIENT' });
  t.match(applyStatus(INITIAL_STATE, '13', 'recipient'), { ok: false, code: 'EDX_ERR_STATUS_TRANSITION' });
});

t.test('the recall exchange: 13 then 15 or 16; answers need a request', async (t) => {
  t.match(run(['15']).last, { ok: false, code: 'EDX_ERR_STATUS_NO_RECALL' });
  t.match(run(['16']).last, { ok: false, code: 'EDX_ERR_STATUS_NO_RECALL' });

  const recalled = run(['01', '03', '13', '15']);
  t.match(recalled.last, { ok: true, change: 'recall-answered' });
  t.equal(recalled.state.recallState, 'recalled');
  t.equal(recalled.state.statusCode, '03', 'the processing status is kept');
  t.match(applyStatus(recalled.state, '05', 'recipient'), { ok: false, code: 'EDX_ERR_STATUS_TRANSITION' }, 'no processing after a recall');
  t.match(applyStatus(recalled.state, '15', 'recipient'), { ok: true, change: 'repeat' });
  t.match(applyStatus(recalled.state, '16', 'recipient'), { ok: false, code: 'EDX_ERR_STATUS_TRANSITION' });

  const refused = run(['01', '13', '16']);
  t.equal(refused.state.recallState, 'refused');
  t.match(applyStatus(refused.state, '03', 'recipient'), { ok: true, change: 'advance' }, 'a refused recall leaves the document in processing');
  t.match(applyStatus(refused.state, '13', 'sender'), { ok: true, change: 'recall-requested' }, 'the sender may ask again');
});

t.test('a revocation opens the same exchange', async (t) => {
  const opened = requestRecall(INITIAL_STATE, 'revoke');
  t.match(opened, { ok: true, change: 'recall-requested', next: { recallState: 'requested', recallKind: 'revoke' } });
  if (!opened.ok) return;
  t.match(applyStatus(opened.next, '15', 'recipient'), { ok: true, change: 'recall-answered', next: { recallState: 'recalled' } });
  t.match(requestRecall(opened.next, 'revoke'), { ok: true, change: 'repeat' });
});
