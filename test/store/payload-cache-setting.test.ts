// PAYLOAD_CACHE_BYTES reaches the payload store the gateway opens, on either database. The cache is
// observable from outside: bytes that were only remembered (never stored) can be read while they are
// kept, and are not found once the setting turns the cache off.

import t from 'tap';
import { DEFAULT_PAYLOAD_CACHE_BYTES, payloadRef } from '../../src/store/payloads.ts';
import { testDatabase } from '../helpers/database.ts';

const bytes = Buffer.from('<edXML>remembered, not stored</edXML>', 'utf8');
const ref = payloadRef(bytes);

t.test('the default keeps remembered bytes readable', async (t) => {
  const { store, config } = await testDatabase(t);
  t.equal(config.store.payloadCacheBytes, DEFAULT_PAYLOAD_CACHE_BYTES, "the default is the payload store's own");
  store.payloads.remember?.(ref, bytes);
  t.same(await store.payloads.get(ref), bytes, 'read from memory');
  t.equal(await store.payloads.has(ref), false, 'and storage still does not hold them');
});

t.test('0 turns the cache off', async (t) => {
  const { store } = await testDatabase(t, { config: { store: { payloadCacheBytes: 0 } } });
  store.payloads.remember?.(ref, bytes);
  await t.rejects(store.payloads.get(ref), { code: 'EDX_ERR_PAYLOAD_NOT_FOUND' });
});
