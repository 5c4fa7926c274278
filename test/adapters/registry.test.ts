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
  t.same(ADAPTER_KINDS, ['inbox', 'webhook']);
  t.equal(createAdapter({ id: 'r1', kind: 'inbox' }, deps).kind, 'inbox');
  t.equal(createAdapter({ id: 'r2', kind: 'webhook', url: 'https://qlvb.example.vn/edxgate', secret: 's3cret' }, deps).kind, 'webhook');
  t.ok(isAdapterKind('webhook'));
  t.notOk(isAdapterKind('axis'));
  t.notOk(isAdapterKind(undefined));
});

t.test('registry: unknown and not-yet-available kinds are catalogued refusals', async (t) => {
  for (const kind of ['axis', 'peer', 'ftp', '']) {
    t.equal(refusal({ id: 'r', kind }), 'EDX_ERR_ADAPTER_KIND_UNKNOWN', JSON.stringify(kind));
  }
  t.throws(() => createAdapter({ id: 'r9', kind: 'axis' }, deps), { message: /route r9: kind "axis" is not available in this version/ });
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
