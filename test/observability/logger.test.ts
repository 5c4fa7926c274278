import { Writable } from 'node:stream';
import t from 'tap';
import { buildApp } from '../../src/app.ts';
import { testDatabase } from '../helpers/database.ts';
import { REDACTED, createLogger, deliveryLogger, packetLogger, scrub, withContext } from '../../src/observability/logger.ts';

const TOKEN = 'tok_3f9a1c7e5b2d4f60a8c1e9b7d5f3a1c2';
const EDXML = '<edXML:edXMLEnvelope xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016"><edXML:Subject>Công văn mật</edXML:Subject></edXML:edXMLEnvelope>';

/** A logger writing into memory; `lines()` parses what it wrote. */
function capture(level: 'info' | 'debug' = 'info') {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  const logger = createLogger({ log: { level } }, stream);
  return {
    logger,
    raw: () => chunks.join(''),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

t.test('a logged request shows neither its bearer token nor its edXML body', async (t) => {
  const { logger, raw, lines } = capture();
  const req = {
    method: 'POST',
    url: '/v1/packets',
    headers: { Authorization: `Bearer ${TOKEN}`, 'content-type': 'application/xml', cookie: `sid=${TOKEN}` },
    body: EDXML,
  };
  logger.info({ req }, 'request received');
  const text = raw();
  t.notMatch(text, TOKEN);
  t.notMatch(text, 'edXMLEnvelope');
  t.notMatch(text, 'Công văn');
  const [line] = lines();
  t.match(line, {
    msg: 'request received',
    req: { method: 'POST', url: '/v1/packets', headers: { Authorization: REDACTED, cookie: REDACTED, 'content-type': 'application/xml' }, body: REDACTED },
  });
  t.equal(req.headers.Authorization, `Bearer ${TOKEN}`, 'the caller object is not changed');
});

t.test('secrets and packet content are redacted wherever they appear', async (t) => {
  const { logger, raw } = capture();
  logger.info({ edxml: EDXML, payload: EDXML, content: EDXML, token: TOKEN }, 'top level');
  logger.info({ route: { id: 'webhook-b', secret: TOKEN }, client: { password: TOKEN } }, 'nested');
  logger.info({ routes: [{ webhookSecret: TOKEN }], deep: { a: { b: { c: { authorization: TOKEN } } } } }, 'arrays and depth');
  const httpError = Object.assign(new Error('upstream said 500'), { config: { headers: { authorization: `Bearer ${TOKEN}` } } });
  logger.error({ err: httpError }, 'webhook failed');
  logger.error(httpError);
  logger.child({ token: TOKEN }).info('child binding');
  const text = raw();
  t.notMatch(text, TOKEN);
  t.notMatch(text, 'edXMLEnvelope');
  t.match(text, 'upstream said 500', 'the error message itself stays');
});

t.test('scrub copies only what it changes', async (t) => {
  const clean = { a: 1, b: { c: [1, 2] } };
  t.equal(scrub(clean), clean, 'no sensitive key: same object');
  const dirty = { a: 1, b: { secret: 'x' }, keep: { n: 1 } };
  const out = scrub(dirty) as typeof dirty;
  t.not(out, dirty);
  t.equal(out.keep, dirty.keep, 'untouched branches are shared');
  t.equal(out.b.secret, REDACTED);
  t.equal(dirty.b.secret, 'x');
});

t.test('child logger helpers bind packet and delivery context', async (t) => {
  const { logger, lines } = capture();
  packetLogger(logger, { packetId: 'p-1', sender: '000.00.15.H47', documentId: 'D1' }).info('admitted');
  deliveryLogger(logger, { deliveryId: 'd-1', packetId: 'p-1', recipient: '000.01.15.H47', routeId: 'inbox', attempt: 2 }).info('delivered');
  withContext(logger, { job: 'sweep', packetId: undefined }).info('tick');
  const [admitted, delivered, tick] = lines();
  t.match(admitted, { packetId: 'p-1', agency: '000.00.15.H47', documentId: 'D1', msg: 'admitted' });
  t.match(delivered, { deliveryId: 'd-1', packetId: 'p-1', agency: '000.01.15.H47', routeId: 'inbox', attempt: 2 });
  t.match(tick, { job: 'sweep' });
  t.notOk(tick && 'packetId' in tick, 'undefined context is left out');
});

t.test('the level comes from the config', async (t) => {
  const { logger, lines } = capture('info');
  logger.debug('hidden');
  logger.info('shown');
  t.same(
    lines().map((l) => l.msg),
    ['shown'],
  );
});

t.test('the app logs one line per request, when it completes, naming the request', async (t) => {
  const warnings: string[] = [];
  const onWarning = (w: Error & { code?: string }): void => void warnings.push(w.code ?? w.message);
  process.on('warning', onWarning);
  t.teardown(() => void process.off('warning', onWarning));
  const db = await testDatabase(t);
  const { logger, lines } = capture('info');
  const app = await buildApp(db.config, { store: db.store, logger, processMetrics: false, startWorkers: false });
  t.teardown(() => app.close());

  const health = await app.inject({ method: 'GET', url: '/health' });
  const unauthorised = await app.inject({ method: 'GET', url: '/v1/inbox?agency=000.00.15.H47', headers: { authorization: `Bearer ${TOKEN}` } });
  const all = lines();
  t.notOk(all.some((l) => l.msg === 'incoming request'), 'no line when a request starts');
  // A refusal also gets its own line with the catalogue code (the error handler's); completion is one line each.
  const requestLines = all.filter((l) => l.msg === 'request completed');
  t.equal(requestLines.length, 2, 'one completion line per request');
  t.match(requestLines[0], { req: { method: 'GET', url: '/health' }, res: { statusCode: health.statusCode } });
  t.match(requestLines[1], { req: { method: 'GET', url: '/v1/inbox?agency=000.00.15.H47' }, res: { statusCode: unauthorised.statusCode } });
  t.equal(unauthorised.statusCode, 401);
  t.notMatch(JSON.stringify(requestLines), TOKEN, 'the bearer token is not in the line');
  await new Promise((resolve) => setImmediate(resolve));
  t.notOk(warnings.includes('FSTDEP023'), 'no Fastify deprecation for the logging option');
});
