// The axis SDK's wire conventions (src/axis/wire.ts), against the facts of spec/axis-wire.md.

import { createHash, createHmac } from 'node:crypto';
import t from 'tap';
import {
  axisHmac,
  axisTime,
  buildAxisHeaders,
  fileOfSendBody,
  firstHeaderMismatch,
  hashFileMatches,
  hashFileOf,
  missingSignedKeys,
  readSignHeader,
  sdkTimestamp,
  sdkSignedKeyOrder,
  sendBodyOf,
  signedValue,
  unpaddedHex,
  verifyAxisHmac,
} from '../../src/axis/wire.ts';
import { javaHashMapOrder, javaStringHash } from './sdk-client.ts';

t.test('HMAC-SHA256 keyed with the secret as UTF-8, over the sign-header string', async (t) => {
  // RFC 4231-style public vector: HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog").
  t.equal(axisHmac('key', 'The quick brown fox jumps over the lazy dog'), 'f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8');
  // A base64-looking secret is used as its text, not decoded (axis-wire.md).
  const secret = 'A7TKG/r2gOKTEpe1MhWx6zw8O4JfzN0KkCRS6HZY81Ve';
  const message = '{"XroadVnpt-systemid":"test.system.01"}';
  t.equal(axisHmac(secret, message), createHmac('sha256', Buffer.from(secret, 'utf8')).update(message).digest('hex'));
  t.not(axisHmac(secret, message), createHmac('sha256', Buffer.from(secret, 'base64')).update(message).digest('hex'));

  const mac = axisHmac(secret, message);
  t.ok(verifyAxisHmac(secret, message, mac));
  t.ok(verifyAxisHmac(secret, message, mac.toUpperCase()), 'hex in any case');
  t.ok(verifyAxisHmac(secret, message, ` ${mac} `), 'surrounding whitespace');
  t.notOk(verifyAxisHmac('other-secret', message, mac));
  t.notOk(verifyAxisHmac(secret, `${message} `, mac), 'one byte more');
  t.notOk(verifyAxisHmac(secret, message, mac.slice(0, 63)), 'a short MAC');
  t.notOk(verifyAxisHmac(secret, message, 'zz'.repeat(32)), 'not hex');

  // A value with a non-ASCII letter, as Node hands it: one character per received byte (latin-1).
  const javaSent = '{"XroadVnpt-filePath":"Hồ sơ"}';
  // The Java SDK hashed the UTF-8 of its string, and its HTTP client wrote latin-1 bytes; for
  // characters within latin-1 the decoded string is the SDK's own.
  const latin = '{"XroadVnpt-filePath":"Dossié"}';
  t.ok(verifyAxisHmac(secret, latin, axisHmac(secret, latin)), 'the SDK reading (UTF-8 of the string)');
  // A client that put raw UTF-8 bytes in the header signed those bytes.
  const raw = Buffer.from(javaSent, 'utf8');
  t.ok(verifyAxisHmac(secret, raw.toString('latin1'), axisHmac(secret, raw)), 'the raw-bytes reading');
});

t.test('hash-file: SHA-256 hex with each byte\'s leading zero dropped', async (t) => {
  // The example of axis-wire.md: 7e4a746b898d9b054749… is announced as 7e4a746b898d9b54749….
  t.equal(unpaddedHex(Buffer.from('7e4a746b898d9b054749', 'hex')), '7e4a746b898d9b54749');
  t.equal(unpaddedHex(Buffer.from([0x00, 0x0f, 0x10, 0xff])), '0f10ff');
  const file = Buffer.from('<edXML/>');
  const digest = createHash('sha256').update(file).digest();
  t.equal(hashFileOf(file, 'padded'), digest.toString('hex'));
  t.equal(hashFileOf(file), unpaddedHex(digest));
  t.ok(hashFileMatches(hashFileOf(file), digest));
  t.ok(hashFileMatches(hashFileOf(file, 'padded').toUpperCase(), digest), 'padded, any case');
  t.notOk(hashFileMatches('00', digest));
});

t.test('the sendEdoc body: the file, then the SDK\'s CRLF', async (t) => {
  const file = Buffer.from('<?xml version="1.0"?><edXML/>');
  const body = sendBodyOf(file);
  t.equal(body.byteLength, file.byteLength + 2);
  t.same(fileOfSendBody(body, hashFileOf(file)), file, 'the SDK\'s body: the CRLF is dropped');
  t.same(fileOfSendBody(file, hashFileOf(file, 'padded')), file, 'a bare file');
  const crlfFile = Buffer.concat([file, Buffer.from('\r\n')]);
  t.same(fileOfSendBody(crlfFile, hashFileOf(crlfFile)), crlfFile, 'a file ending in CRLF, sent bare, is kept whole');
  t.same(fileOfSendBody(sendBodyOf(crlfFile), hashFileOf(crlfFile)), crlfFile, 'and sent the SDK\'s way, only the SDK\'s CRLF goes');
  t.equal(fileOfSendBody(body, hashFileOf(Buffer.from('other'))), undefined, 'a hash of something else');
  t.equal(fileOfSendBody(Buffer.alloc(0), hashFileOf(file)), undefined);
  t.same(fileOfSendBody(Buffer.from('\r\n'), hashFileOf(Buffer.alloc(0))), Buffer.alloc(0), 'an empty file (intake refuses it)');
});

t.test('the SDK timestamp and the reply times, in Vietnam time', async (t) => {
  const at = new Date('2026-11-22T05:03:38.774Z');
  t.equal(sdkTimestamp(at), '22112026T120338+0774', 'ddMMyyyy\'T\'HHmmss+SSSS: milliseconds on four digits');
  t.equal(sdkTimestamp(new Date('2026-01-01T17:00:00.005Z')), '02012026T000000+0005', 'the Vietnam date');
  t.equal(axisTime(at), '2026-11-22 12:03:38');
});

t.test('reading the sign-header', async (t) => {
  const text = '{"XroadVnpt-timestamp":"22112026T120338+0774","XroadVnpt-docid":"abc","XroadVnpt-systemid":"s.1","XroadVnpt-Content-Type":"application/json"}';
  const reading = readSignHeader(text);
  t.ok(reading.ok);
  if (!reading.ok) return;
  t.same(reading.map.entries.map((e) => e.name), ['timestamp', 'docid', 'systemid', 'Content-Type'], 'in the order signed');
  t.equal(signedValue(reading.map, 'docId'), 'abc', 'looked up in any case');
  t.same(missingSignedKeys(reading.map, 'updateStatus'), ['status']);
  t.same(missingSignedKeys(reading.map, 'getEdoc'), []);
  t.same(missingSignedKeys(reading.map, 'sendEdoc'), ['servicetype', 'messagetype', 'from', 'hash-file']);

  const headers: Record<string, string> = {
    'xroadvnpt-timestamp': '22112026T120338+0774',
    'xroadvnpt-docid': 'abc',
    'xroadvnpt-systemid': 's.1',
    'xroadvnpt-content-type': 'application/json',
  };
  t.equal(firstHeaderMismatch(reading.map, (n) => headers[n]), undefined);
  t.same(firstHeaderMismatch(reading.map, (n) => (n === 'xroadvnpt-docid' ? 'xyz' : headers[n])), { name: 'docid', signed: 'abc', received: 'xyz' });
  t.same(firstHeaderMismatch(reading.map, (n) => (n === 'xroadvnpt-systemid' ? undefined : headers[n])), { name: 'systemid', signed: 's.1', received: undefined });

  for (const [bad, why] of [
    ['not json', /not JSON/],
    ['["XroadVnpt-a"]', /not a JSON object/],
    ['{"systemid":"s"}', /prefix/],
    ['{"XroadVnpt-a":1}', /not a string/],
    ['{"XroadVnpt-docId":"a","XroadVnpt-docid":"b"}', /disagree/],
    ['{"XroadVnpt-a b":"x"}', /not a header name/],
  ] as const) {
    const r = readSignHeader(bad);
    t.equal(r.ok, false, bad);
    if (!r.ok) t.match(r.reason, why, bad);
  }
  t.ok(readSignHeader('{"XroadVnpt-docId":"a","XroadVnpt-docid":"a"}').ok, 'the same key twice with one value');
});

t.test('building the headers of a request, as the SDK does', async (t) => {
  const built = buildAxisHeaders({
    systemid: 'test.system.01',
    secret: 'secret-0123456789',
    timestamp: '22112026T120338+0774',
    contentType: 'application/json',
    params: [
      ['docId', 'd-1'],
      ['status', 'done'],
    ],
    order: ['status', 'timestamp', 'docId', 'systemid', 'Content-Type'],
  });
  t.equal(
    built.signHeader,
    '{"XroadVnpt-status":"done","XroadVnpt-timestamp":"22112026T120338+0774","XroadVnpt-docId":"d-1","XroadVnpt-systemid":"test.system.01","XroadVnpt-Content-Type":"application/json"}',
  );
  t.equal(built.signHeaderKey, 'status;timestamp;docId;systemid;Content-Type');
  t.equal(built.hashHeader, axisHmac('secret-0123456789', built.signHeader));
  t.same(
    built.headers.map(([n]) => n),
    [
      'XroadVnpt-systemid',
      'XroadVnpt-timestamp',
      'XroadVnpt-docId',
      'XroadVnpt-status',
      'Content-Type',
      'XroadVnpt-Content-Type',
      'XroadVnpt-sign-header-key',
      'XroadVnpt-sign-header',
      'XroadVnpt-hash-header',
      'XroadVnpt-version',
      'User-Agent',
    ],
    'the header order of axis-wire.md',
  );
  t.same(built.headers.slice(-2), [
    ['XroadVnpt-version', '3.0.201608'],
    ['User-Agent', 'JAVASDKAgent/1.0.0 XRoad/VPCP'],
  ]);
  const reading = readSignHeader(built.signHeader);
  t.ok(reading.ok && missingSignedKeys(reading.map, 'updateStatus').length === 0, 'what it builds, the server reads');
});

t.test('the signed-key order is Java HashMap iteration over the plain names, as the SDK signs', async (t) => {
  t.equal(javaStringHash('hello'), 99162322, 'String.hashCode of "hello"');
  t.equal(javaStringHash(''), 0);
  // axis-wire.md records this one verbatim: getAgenciesList signs systemid;timestamp;Content-Type.
  t.equal(sdkSignedKeyOrder([]).join(';'), 'systemid;timestamp;Content-Type', 'getAgenciesList, as captured');
  // Iterating the prefixed names instead would give another order: the capture rules that reading out.
  t.not(
    javaHashMapOrder(['XroadVnpt-systemid', 'XroadVnpt-timestamp', 'XroadVnpt-Content-Type']).join(';'),
    'XroadVnpt-systemid;XroadVnpt-timestamp;XroadVnpt-Content-Type',
  );
  // The other calls, from the SDK's own insertion order (systemid, timestamp, the call's keys, Content-Type).
  const cases: [string, [string, string][], string][] = [
    ['sendEdoc', [['servicetype', 'eDoc'], ['messagetype', 'edoc'], ['from', '000.00.15.H47'], ['hash-file', 'ab']], 'systemid;servicetype;messagetype;hash-file;from;timestamp;Content-Type'],
    ['getReceivedEdocList', [['servicetype', 'eDoc'], ['messagetype', 'edoc']], 'systemid;servicetype;messagetype;timestamp;Content-Type'],
    ['getEdoc', [['docId', '1'], ['filePath', 'tmp']], 'systemid;docId;filePath;timestamp;Content-Type'],
    ['updateStatus', [['docId', '1'], ['status', 'done']], 'systemid;docId;timestamp;status;Content-Type'],
  ];
  for (const [operation, params, expected] of cases) t.equal(sdkSignedKeyOrder(params).join(';'), expected, operation);
});
