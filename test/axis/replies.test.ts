// The shape and HTTP status of axis replies (src/api/axis-compat/replies.ts).

import t from 'tap';
import { failReply, httpStatusOf, okReply } from '../../src/api/axis-compat/replies.ts';
import { EdxError } from '../../src/errors.ts';

t.test('OK replies: the status fields first, then the payload', async (t) => {
  const reply = okReply({ DocId: 'p-1' });
  t.same(reply, { status: 'OK', ErrorCode: '0', ErrorDesc: '', DocId: 'p-1' });
  t.same(Object.keys(reply), ['status', 'ErrorCode', 'ErrorDesc', 'DocId']);
});

t.test('FAIL replies carry the catalogue code and message; lists an empty data', async (t) => {
  const error = new EdxError('EDX_ERR_AXIS_AUTH_INVALID', 'systemid s: unknown.');
  t.same(failReply(error, 'updateStatus'), { status: 'FAIL', ErrorCode: 'EDX_ERR_AXIS_AUTH_INVALID', ErrorDesc: error.message });
  t.same(failReply(error, 'getReceivedEdocList'), { status: 'FAIL', ErrorCode: 'EDX_ERR_AXIS_AUTH_INVALID', ErrorDesc: error.message, data: [] });
  t.same(failReply(error, 'getAgenciesList').data, []);
  t.same(failReply(error, 'getSentEdocList').data, []);
  t.notOk('data' in failReply(error, 'getEdoc'), 'no data for getEdoc: the SDK would write it to a file');
  t.notOk('data' in failReply(error, undefined));
});

t.test('refusals are HTTP 200; server faults keep their 5xx', async (t) => {
  for (const code of ['EDX_ERR_AXIS_AUTH_INVALID', 'EDX_ERR_NOT_FOUND', 'EDX_ERR_RECIPIENT_UNKNOWN', 'EDX_ERR_XML_TOO_LARGE', 'EDX_ERR_PACKET_CONFLICT'] as const) {
    t.equal(httpStatusOf(new EdxError(code, 'x')), 200, code);
  }
  t.equal(httpStatusOf(new EdxError('EDX_ERR_STORE_UNAVAILABLE', 'x')), 503);
  t.equal(httpStatusOf(new EdxError('EDX_ERR_SERVER_OVERLOADED', 'x')), 503);
  t.equal(httpStatusOf(new EdxError('EDX_ERR_SERVER_INTERNAL', 'x')), 500);
});
