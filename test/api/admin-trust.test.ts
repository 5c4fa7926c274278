// The trust admin routes: reloading the trust store without a restart (all or nothing) and
// fetching the CRLs now, behind the admin token.

import { createServer } from 'node:http';
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

import type { Teardown } from '../helpers/database.ts';
import { listenOnLoopback } from '../helpers/loopback.ts';
import { createTestPki } from '../trust/helpers/test-pki.ts';
import { ADMIN_TOKEN, startTestGateway } from './gateway-fixture.ts';

const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const pki = await createTestPki();

/** A folder of anchors, removed at the end. */
async function anchorFolder(t: Teardown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'edxgate-admin-trust-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'root.pem'), pki.root.pem);
  return dir;
}

t.test('POST /v1/admin/trust/reload picks up a new anchor; a broken file changes nothing', async (t) => {
  const dir = await anchorFolder(t);
  const gw = await startTestGateway(t, { startWorkers: false, config: { trust: { anchors: dir } } });
  const anchors = async (): Promise<number> => (await gw.app.gateway.trust.expiry(0)).certificates.filter((c) => c.role === 'anchor').length;
  t.equal(await anchors(), 1);

  const anonymous = await gw.app.inject({ method: 'POST', url: '/v1/admin/trust/reload' });
  t.equal(anonymous.statusCode, 401);
  const client = await gw.app.inject({ method: 'POST', url: '/v1/admin/trust/reload', headers: { authorization: `Bearer ${gw.token('000.00.15.H47')}` } });
  t.equal(client.statusCode, 403);
  t.equal(JSON.parse(client.body).code, 'EDX_ERR_AUTH_FORBIDDEN');

  const same = await gw.app.inject({ method: 'POST', url: '/v1/admin/trust/reload', headers: admin });
  t.equal(same.statusCode, 200);
  t.same(JSON.parse(same.body), { anchors: 1, warnings: [] });

  await writeFile(join(dir, 'second-root.pem'), pki.unknownRoot.pem);
  const added = await gw.app.inject({ method: 'POST', url: '/v1/admin/trust/reload', headers: admin });
  t.equal(added.statusCode, 200);
  t.same(JSON.parse(added.body), { anchors: 2, warnings: [] });
  t.equal(await anchors(), 2, 'the new store is in use');

  const broken = join(dir, 'broken.pem');
  await writeFile(broken, '-----BEGIN CERTIFICATE-----\nkhông phải chứng thư\n-----END CERTIFICATE-----\n');
  const refused = await gw.app.inject({ method: 'POST', url: '/v1/admin/trust/reload', headers: admin });
  t.equal(refused.statusCode, 500);
  t.match(refused.headers['content-type'], /^application\/problem\+json/);
  const problem = JSON.parse(refused.body) as { code: string; detail: string; issues: { code: string; path: string; message: string }[] };
  t.equal(problem.code, 'EDX_ERR_CONFIG_INVALID');
  t.match(problem.detail, /^the trust store was not reloaded; the previous one stays in use\. .*broken\.pem/);
  t.match(problem.issues, [{ code: 'EDX_ERR_CONFIG_INVALID', path: broken, message: /Not a readable certificate/ }]);
  t.equal(await anchors(), 2, 'the previous store stays');

  await unlink(broken);
  await unlink(join(dir, 'second-root.pem'));
  const back = await gw.app.inject({ method: 'POST', url: '/v1/admin/trust/reload', headers: admin });
  t.same(JSON.parse(back.body), { anchors: 1, warnings: [] });
});

t.test('POST /v1/admin/trust/crls/refresh answers each URL\'s outcome', async (t) => {
  const server = createServer((request, response) => {
    if (request.url === '/root.crl') response.writeHead(200, { 'content-type': 'application/pkix-crl' }).end(pki.crls.root);
    else response.writeHead(404).end();
  });
  const base = await listenOnLoopback(t, server);
  const dir = await anchorFolder(t);
  const gw = await startTestGateway(t, { startWorkers: false, config: { trust: { anchors: dir, crlUrls: `${base}/root.crl,${base}/gone.crl` } } });

  const client = await gw.app.inject({ method: 'POST', url: '/v1/admin/trust/crls/refresh', headers: { authorization: `Bearer ${gw.token('000.00.15.H47')}` } });
  t.equal(client.statusCode, 403);

  const run = await gw.app.inject({ method: 'POST', url: '/v1/admin/trust/crls/refresh', headers: admin });
  t.equal(run.statusCode, 200);
  const { outcomes } = JSON.parse(run.body) as { outcomes: { url: string; status: string; detail: string | null; held: Record<string, unknown> | null }[] };
  t.equal(outcomes.length, 2);
  const root = outcomes.find((o) => o.url === `${base}/root.crl`);
  // The gateway's own fetch at start may have got it first: then this one finds the same list.
  t.ok(root?.status === 'updated' || root?.status === 'unchanged', `root: ${root?.status}`);
  t.match(root?.held, {
    issuer: 'CN=edxgate Test Root CA, O=edxgate test PKI, OU=Test CA — not for production, C=VN',
    thisUpdate: /\+07:00$/,
    nextUpdate: /\+07:00$/,
    crlNumber: String,
    revoked: 0,
    signature: 'verified',
    stale: false,
  });
  t.same(outcomes.find((o) => o.url === `${base}/gone.crl`), { url: `${base}/gone.crl`, status: 'failed', detail: 'HTTP 404', held: null });
});
