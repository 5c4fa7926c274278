// End to end, over real HTTP on loopback, on real Postgres (when DATABASE_URL is set) and on the
// embedded PGlite: agency A (Sở LĐTBXH Quảng Nam) sends a document to B (Văn phòng Sở, inbox) and C
// (Thanh tra Sở, webhook served by this test). B pulls, fetches and acks it; C's server receives it,
// signed; both deliveries end delivered with their end-to-end latency recorded.

import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { verifyWebhookSignature } from '../../src/adapters/webhook/signature.ts';
import { WEBHOOK_HEADERS } from '../../src/adapters/webhook/webhook-adapter.ts';
import { serve } from '../../src/main.ts';
import type { StoreDialect } from '../../src/store/open-store.ts';
import { postgresAvailable } from '../helpers/database.ts';
import { makeDocument, routeToWebhook, startReceiver, startTestGateway, waitFor } from '../api/gateway-fixture.ts';

const A = '000.00.15.H47';
const B = '000.01.15.H47';
const C = '000.02.15.H47';
const C_SECRET = 'c-route-secret-0123456789abcdef';

interface Receipt {
  packetId: string;
  documentId: string;
  deliveries: { to: string; deliveryId: string; state: string }[];
  warnings: unknown[];
}

interface InboxPage {
  agency: string;
  items: { deliveryId: string; packetId: string; documentId: string; kind: string; statusCode: string | null; sender: string; state: string; admittedAt: string; availableAt: string }[];
  nextCursor: string | null;
}

const kinds: StoreDialect[] = postgresAvailable() ? ['postgres', 'pglite'] : ['pglite'];
if (!postgresAvailable()) t.comment('DATABASE_URL is not set: the Postgres run is skipped');

for (const kind of kinds) {
  t.test(`A sends to B (inbox) and C (webhook) on ${kind}`, async (t) => {
    const receiver = await startReceiver(t);
    const gw = await startTestGateway(t, { kind, listen: true, setup: (db) => routeToWebhook(db, C, 'webhook-c', receiver.url, C_SECRET) });
    t.equal(gw.db.kind, kind);
    const url = gw.url as string;
    const bearer = (agency: string): Record<string, string> => ({ authorization: `Bearer ${gw.token(agency)}` });

    const packet = makeDocument({ from: A, to: [B, C], subject: 'V/v kiểm thử đầu cuối' });
    const posted = await fetch(`${url}/v1/packets`, { method: 'POST', headers: { ...bearer(A), 'content-type': 'application/xml' }, body: new Uint8Array(packet) });
    t.equal(posted.status, 202, 'admitted');
    const receipt = (await posted.json()) as Receipt;
    t.same(
      receipt.deliveries.map((d) => [d.to, d.state]),
      [
        [B, 'queued'],
        [C, 'queued'],
      ],
    );
    const toB = receipt.deliveries.find((d) => d.to === B);
    const toC = receipt.deliveries.find((d) => d.to === C);
    if (toB === undefined || toC === undefined) throw new Error('receipt lacks a delivery');

    // C: pushed to its webhook, signed with its route's secret, with the stable delivery id.
    const pushed = await waitFor('the webhook to receive the packet', () => receiver.received[0]);
    t.ok(verifyWebhookSignature(pushed.headers, pushed.body, C_SECRET, 300).ok, 'HMAC signature verifies');
    t.equal(pushed.headers[WEBHOOK_HEADERS.deliveryId.toLowerCase()], toC.deliveryId);
    t.equal(pushed.headers[WEBHOOK_HEADERS.packetId.toLowerCase()], receipt.packetId);
    t.ok(pushed.body.equals(packet), 'the exact bytes posted');

    // B: pulls from its inbox, fetches the packet, acknowledges it.
    const page = await waitFor('the packet in B\'s inbox', async () => {
      const res = await fetch(`${url}/v1/inbox?agency=${B}`, { headers: bearer(B) });
      const body = (await res.json()) as InboxPage;
      return body.items.length > 0 ? body : undefined;
    });
    const item = page.items[0];
    t.equal(item?.deliveryId, toB.deliveryId);
    t.equal(item?.packetId, receipt.packetId);
    t.equal(item?.sender, A);
    t.equal(item?.state, 'available');
    t.match(item?.admittedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+07:00$/, 'Vietnam time on the wire');

    const fetched = await fetch(`${url}/v1/packets/${receipt.packetId}/edxml`, { headers: bearer(B) });
    t.equal(fetched.status, 200);
    t.match(fetched.headers.get('content-type'), /^application\/xml/);
    t.ok(Buffer.from(await fetched.arrayBuffer()).equals(packet), 'B fetches the exact bytes');

    const ack = await fetch(`${url}/v1/inbox/${toB.deliveryId}/ack`, { method: 'POST', headers: bearer(B) });
    t.equal(ack.status, 200);
    t.same(await ack.json(), { deliveryId: toB.deliveryId, state: 'acknowledged', alreadyAcknowledged: false });
    const again = await fetch(`${url}/v1/inbox/${toB.deliveryId}/ack`, { method: 'POST', headers: bearer(B) });
    t.same(await again.json(), { deliveryId: toB.deliveryId, state: 'acknowledged', alreadyAcknowledged: true }, 'ack is idempotent');
    const empty = (await (await fetch(`${url}/v1/inbox?agency=${B}`, { headers: bearer(B) })).json()) as InboxPage;
    t.same(empty.items, [], 'an acknowledged packet leaves the inbox');

    // Both deliveries are recorded delivered, with their latency.
    const rows = await waitFor('both deliveries delivered', async () => {
      const found = await gw.db.store.db.selectFrom('deliveries').selectAll().where('packet_id', '=', receipt.packetId).orderBy('recipient').execute();
      return found.every((d) => d.state === 'delivered') ? found : undefined;
    });
    for (const row of rows) {
      t.type(row.latency_ms, 'number', `${row.recipient}: latency recorded`);
      t.ok((row.latency_ms ?? -1) >= 0);
      t.ok(row.delivered_at instanceof Date);
    }
    t.ok(rows.find((r) => r.recipient === B)?.acked_at instanceof Date, 'B\'s ack recorded');
    t.equal(rows.find((r) => r.recipient === C)?.attempts, 1, 'C got it on the first attempt');

    const packetRow = await gw.db.store.db.selectFrom('packets').selectAll().where('id', '=', receipt.packetId).executeTakeFirstOrThrow();
    // `admit` joins them within about a second (written after its COMMIT, in a batch): present or not yet.
    const intakeStages = (timings: Record<string, number>): string[] => Object.keys(timings).filter((k) => k !== 'admit').sort();
    t.same(intakeStages(packetRow.stage_timings), ['decode', 'validate', 'verify'], 'stage timings stored');
    t.equal(packetRow.signature_verdict, 'unsigned', 'verify-if-present (the default): an unsigned packet is recorded unsigned');
    // GET /v1/packets/{id}: the sender sees the intake stages and each delivery's own.
    const shown = (await (await fetch(`${url}/v1/packets/${receipt.packetId}`, { headers: bearer(A) })).json()) as {
      stageTimings: Record<string, number>;
      signature: { status: string };
      deliveries: { recipient: string; state: string; stageTimings: { waitToClaim: number; deliver: number } | null }[];
    };
    t.same(intakeStages(shown.stageTimings), ['decode', 'validate', 'verify']);
    t.equal(shown.signature.status, 'unsigned');
    for (const d of shown.deliveries) {
      t.equal(d.state, 'delivered', d.recipient);
      t.type(d.stageTimings?.waitToClaim, 'number', `${d.recipient}: wait to claim recorded`);
      t.type(d.stageTimings?.deliver, 'number', `${d.recipient}: deliver recorded`);
    }
    const asB = (await (await fetch(`${url}/v1/packets/${receipt.packetId}`, { headers: bearer(B) })).json()) as { deliveries: { recipient: string }[] };
    t.same(asB.deliveries.map((d) => d.recipient), [B], 'a recipient sees its own delivery only');

    // The document reached B (ack) and C (webhook 2xx): A gets 01 (đã đến) from each, written by the gateway.
    const arrivals = await waitFor('two automatic 01s in A\'s inbox', async () => {
      const res = await fetch(`${url}/v1/inbox?agency=${A}`, { headers: bearer(A) });
      const body = (await res.json()) as InboxPage;
      const statuses = body.items.filter((i) => i.kind === 'status' && i.statusCode === '01' && i.documentId === receipt.documentId);
      return statuses.length === 2 ? statuses : undefined;
    });
    t.same(arrivals.map((i) => i.sender).sort(), [B, C].sort(), 'one 01 on behalf of each recipient');

    const metrics = await (await fetch(`${url}/metrics`)).text();
    t.match(metrics, /edxgate_end_to_end_latency_seconds_count\{route_kind="webhook"\} 1/);
    t.match(metrics, /edxgate_end_to_end_latency_seconds_count\{route_kind="inbox"\} 3/, 'B\'s document and the two 01s to A');
    t.match(metrics, /edxgate_packets_admitted_total\{kind="document"\} 1/);

    const health = await fetch(`${url}/health`);
    t.equal(health.status, 200);
    t.match(await health.json(), { status: 'ok', checks: { database: { ok: true, dialect: kind }, migrations: { ok: true, pending: [] }, workers: { ok: true } } });
  });
}

t.test('`edxgate serve` on an empty embedded database: the printed quick start works as written', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'edxgate-serve-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  let out = '';
  let stop: (reason: string) => void = () => undefined;
  const shutdownSignal = new Promise<string>((resolve) => {
    stop = resolve;
  });
  let exited: Promise<number> = Promise.resolve(-1);
  const listening = new Promise<string>((resolve) => {
    const exit = serve([], { stdout: (s) => void (out += s), stderr: (s) => void (out += s), cwd: dataDir }, {
      env: { DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'silent' },
      shutdownSignal,
      onListening: (url) => resolve(url),
    });
    exited = exit;
  });
  const url = await listening;

  // The banner's shell lines, with the tokens it printed.
  const so = /export SO=(\S+)/.exec(out)?.[1];
  const vp = /export VP=(\S+)/.exec(out)?.[1];
  if (so === undefined || vp === undefined) throw new Error(`no tokens in the banner:\n${out}`);
  t.match(out, `curl -sS -X POST ${url}/v1/packets`);
  t.match(out, '--data-binary @fixtures/packets/valid/new-notice-to-10-units.edxml');
  t.equal(out.match(/  000\.\d\d\.\d\d\.[A-Z]\d\d  edx_/g)?.length, 13, 'one token per demo agency');

  // 1. post the fixture the banner names
  const fixture = readFileSync(new URL('../../fixtures/packets/valid/new-notice-to-10-units.edxml', import.meta.url));
  const posted = await fetch(`${url}/v1/packets`, { method: 'POST', headers: { authorization: `Bearer ${so}`, 'content-type': 'application/xml' }, body: new Uint8Array(fixture) });
  t.equal(posted.status, 202);
  t.equal(((await posted.json()) as Receipt).deliveries.length, 10, 'to the ten units');
  // 2. list the inbox of Văn phòng Sở
  const page = await waitFor('the notice in the inbox', async () => {
    const body = (await (await fetch(`${url}/v1/inbox`, { headers: { authorization: `Bearer ${vp}` } })).json()) as InboxPage;
    return body.items[0];
  });
  // 3. fetch it, 4. ack it
  const fetched = await fetch(`${url}/v1/packets/${page.packetId}/edxml`, { headers: { authorization: `Bearer ${vp}` } });
  t.ok(Buffer.from(await fetched.arrayBuffer()).equals(fixture));
  const ack = await fetch(`${url}/v1/inbox/${page.deliveryId}/ack`, { method: 'POST', headers: { authorization: `Bearer ${vp}` } });
  t.equal(ack.status, 200);

  stop('test');
  t.equal(await exited, 0, 'a graceful shutdown exits 0');
  t.match(out, /listening on http:\/\/127\.0\.0\.1:\d+ \(embedded database in /);
});

t.test('shutdown lets a delivery in flight finish before the store goes', async (t) => {
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  let arrived: () => void = () => undefined;
  const arrival = new Promise<void>((resolve) => {
    arrived = resolve;
  });
  const server = createServer((req, res) => {
    req.resume();
    arrived();
    // The answer waits until the gateway has begun shutting down.
    void held.then(() => res.writeHead(200).end('ok'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const hook = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  const gw = await startTestGateway(t, { setup: (db) => routeToWebhook(db, C, 'webhook-c', hook) });
  const posted = await gw.app.inject({ method: 'POST', url: '/v1/packets', headers: { authorization: `Bearer ${gw.token(A)}`, 'content-type': 'application/xml' }, payload: makeDocument({ to: [C] }) });
  const deliveryId = (JSON.parse(posted.body) as Receipt).deliveries[0]?.deliveryId ?? '';
  await arrival;
  const closing = gw.app.close();
  release();
  await closing;
  const row = await gw.db.store.db.selectFrom('deliveries').selectAll().where('id', '=', deliveryId).executeTakeFirstOrThrow();
  t.equal(row.state, 'delivered', 'the attempt in flight was completed and recorded');
});

t.test('`edxgate serve` with DEMO_SEED=false: an empty directory, no tokens printed or written', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'edxgate-serve-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  let out = '';
  let stop: (reason: string) => void = () => undefined;
  const shutdownSignal = new Promise<string>((resolve) => {
    stop = resolve;
  });
  let exited: Promise<number> = Promise.resolve(-1);
  const listening = new Promise<string>((resolve) => {
    exited = serve([], { stdout: (s) => void (out += s), stderr: (s) => void (out += s), cwd: dataDir }, {
      env: { DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'silent', DEMO_SEED: 'false' },
      shutdownSignal,
      onListening: (url) => resolve(url),
    });
  });
  const url = await listening;
  t.notMatch(out, 'edx_', 'no token in the output');
  t.match(out, `edxgate: listening on ${url}`);
  const packet = readFileSync(new URL('../../fixtures/packets/valid/minimal-document.edxml', import.meta.url));
  const anonymous = await fetch(`${url}/v1/packets`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: new Uint8Array(packet) });
  t.equal(anonymous.status, 401, 'no client exists, so nobody can post');
  stop('test done');
  t.equal(await exited, 0);
  t.notOk(existsSync(join(dataDir, 'demo-clients.env')), 'no demo tokens file');
});

t.test('`edxgate serve` on a port already taken: one catalogued line naming PORT, exit 1, no stack trace', async (t) => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => taken.close(() => resolve())));
  const port = (taken.address() as AddressInfo).port;
  const dataDir = await mkdtemp(join(tmpdir(), 'edxgate-serve-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  let out = '';
  let err = '';
  const code = await serve([], { stdout: (s) => void (out += s), stderr: (s) => void (err += s), cwd: dataDir }, {
    env: { DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'silent', DEMO_SEED: 'false' },
    onListening: () => t.fail('it must not listen'),
  });
  t.equal(code, 1, 'exit code 1, like any other configuration refusal');
  t.equal(err, `edxgate: EDX_ERR_CONFIG_INVALID PORT: 127.0.0.1:${port} is already in use by another process (another gateway?); stop it, or choose another PORT (or --port).\n`);
  t.notMatch(out, 'listening on', 'nothing claims to listen');
});
