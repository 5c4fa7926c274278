import t from 'tap';
import pino from 'pino';
import type { AdapterDeps, RouteConfig } from '../../src/adapters/contract.ts';
import { ADAPTER_KINDS, createAdapter, isAdapterKind } from '../../src/adapters/registry.ts';
import { EdxError, ERROR_CATALOGUE, type ErrorCode } from '../../src/errors.ts';

const deps: AdapterDeps = { logger: pino({ level: 'silent' }), clock: () => new Date() };

function refusal(route: RouteConfig): ErrorCode | undefined {
  try {
    createAdapter(route, deps);
    return undefined;
  } catch (error) {
    if (error instanceof EdxError) return error.code;
    throw error;
  }
}

t.test('registry: builds an adapter of each kind', async (t) => {
  t.same(ADAPTER_KINDS, ['inbox', 'webhook', 'axis', 'peer']);
  t.equal(createAdapter({ id: 'r1', kind: 'inbox' }, deps).kind, 'inbox');
  t.equal(createAdapter({ id: 'r2', kind: 'webhook', url: 'https://qlvb.example.vn/edxgate', secret: 's3cret' }, deps).kind, 'webhook');
  t.equal(createAdapter({ id: 'r3', kind: 'axis', url: 'https://axis.example.vn/axis', systemid: 'p1.gw', secret: 's3cret-0123456789' }, deps).kind, 'axis');
  const push = createAdapter({ id: 'r4', kind: 'peer', url: 'https://p2.example.vn/v1/callbacks/axis', systemid: 'p2.gw', secret: 's3cret-0123456789' }, deps);
  t.equal(push.kind, 'peer');
  t.notOk('pull' in push, 'a peer with a callback URL is pushed to');
  const pull = createAdapter({ id: 'r5', kind: 'peer' }, deps);
  t.equal((pull as { pull?: unknown }).pull, true, 'a peer without a URL fetches: the pull capability');
  t.ok(isAdapterKind('webhook'));
  t.ok(isAdapterKind('axis'));
  t.notOk(isAdapterKind('ftp'));
  t.notOk(isAdapterKind(undefined));
});

t.test('registry: unknown kinds are catalogued refusals', async (t) => {
  for (const kind of ['ftp', 'smtp', '']) {
    t.equal(refusal({ id: 'r', kind }), 'EDX_ERR_ADAPTER_KIND_UNKNOWN', JSON.stringify(kind));
  }
  t.throws(() => createAdapter({ id: 'r9', kind: 'ftp' }, deps), { message: /route r9: kind "ftp" is not a route kind/ });
});

t.test('registry: axis and pushed peer routes need a URL, a systemid and a secret', async (t) => {
  for (const kind of ['axis', 'peer']) {
    const ok = { id: 'r', kind, url: 'https://axis.example.vn/axis', systemid: 'p1.gw', secret: 's3cret-0123456789' };
    t.equal(refusal(ok), undefined, `${kind}: complete`);
    t.equal(refusal({ ...ok, systemid: undefined }), 'EDX_ERR_ADAPTER_ROUTE_INVALID', `${kind}: no systemid`);
    t.equal(refusal({ ...ok, secret: '' }), 'EDX_ERR_ADAPTER_ROUTE_INVALID', `${kind}: no secret`);
    t.equal(refusal({ ...ok, url: 'ftp://axis.example.vn/' }), 'EDX_ERR_ADAPTER_ROUTE_INVALID', `${kind}: not http`);
    t.equal(refusal({ ...ok, url: 'https://u:p@axis.example.vn/' }), 'EDX_ERR_ADAPTER_ROUTE_INVALID', `${kind}: credentials in the URL`);
  }
  t.equal(refusal({ id: 'r', kind: 'axis' }), 'EDX_ERR_ADAPTER_ROUTE_INVALID', 'an axis route needs a URL');
});

t.test('registry: a webhook route needs an http(s) URL without credentials, and a secret', async (t) => {
  const ok = { id: 'r', kind: 'webhook', secret: 's3cret' };
  t.equal(refusal({ ...ok, url: undefined }), 'EDX_ERR_ADAPTER_ROUTE_INVALID', 'no URL');
  t.equal(refusal({ ...ok, url: 'not a url' }), 'EDX_ERR_ADAPTER_ROUTE_INVALID', 'not a URL');
  t.equal(refusal({ ...ok, url: 'ftp://example.vn/in' }), 'EDX_ERR_ADAPTER_ROUTE_INVALID', 'not http');
  t.equal(refusal({ ...ok, url: 'https://user:pw@example.vn/in' }), 'EDX_ERR_ADAPTER_ROUTE_INVALID', 'credentials');
  t.equal(refusal({ ...ok, url: 'https://example.vn/in', secret: undefined }), 'EDX_ERR_ADAPTER_ROUTE_INVALID', 'no secret');
  t.equal(refusal({ ...ok, url: 'https://example.vn/in', secret: '' }), 'EDX_ERR_ADAPTER_ROUTE_INVALID', 'empty secret');
  t.equal(refusal({ ...ok, url: 'http://127.0.0.1:8081/hook?agency=000.01.15.H47' }), undefined, 'query strings are fine');
});

t.test('registry: the error codes adapters use are in the catalogue', async (t) => {
  for (const code of [
    'EDX_ERR_ADAPTER_KIND_UNKNOWN',
    'EDX_ERR_ADAPTER_ROUTE_INVALID',
    'EDX_ERR_ADAPTER_NOT_RUNNING',
    'EDX_ERR_DELIVERY_UNAVAILABLE',
    'EDX_ERR_DELIVERY_TIMEOUT',
    'EDX_ERR_DELIVERY_REFUSED',
  ]) {
    t.ok(Object.hasOwn(ERROR_CATALOGUE, code), code);
  }
});
