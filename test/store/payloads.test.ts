import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import t from 'tap';
import { createDbPayloadStore, createFsPayloadStore, payloadRef } from '../../src/store/payloads.ts';
import type { PayloadStore } from '../../src/store/payloads.ts';
import { testDatabase } from '../helpers/database.ts';

const database = await testDatabase(t);

t.test('the store a database opens with', async (t) => {
  t.equal(database.store.payloads.kind, database.kind === 'postgres' ? 'postgres' : 'fs');
});

/** The contract every payload store keeps. */
function contract(name: string, make: () => Promise<PayloadStore>): void {
  t.test(`${name}: put returns the sha256 and get returns the same bytes`, async (t) => {
    const store = await make();
    const bytes = Buffer.from('<edXML>Xin chào</edXML>', 'utf8');
    const ref = await store.put(bytes);
    t.equal(ref, createHash('sha256').update(bytes).digest('hex'));
    t.equal(ref, payloadRef(bytes));
    t.same(await store.get(ref), bytes);
    t.equal(await store.has(ref), true);
    t.equal(await store.put(bytes), ref, 'the same bytes again: the same ref');
    t.same(await buffer(await store.stream(ref)), bytes);
  });

  t.test(`${name}: a Uint8Array view and a 2 MB payload round-trip`, async (t) => {
    const store = await make();
    const big = randomBytes(2 * 1024 * 1024);
    const view = new Uint8Array(big.buffer, big.byteOffset + 16, big.byteLength - 32);
    const ref = await store.put(view);
    t.equal(ref, payloadRef(view));
    t.ok((await store.get(ref)).equals(Buffer.from(view)));
  });

  t.test(`${name}: remembered bytes serve reads, but only stored ones count as stored`, async (t) => {
    const store = await make();
    const bytes = randomBytes(4096);
    const ref = payloadRef(bytes);
    store.remember?.(ref, bytes);
    t.ok((await store.get(ref)).equals(bytes), 'get answers from memory');
    t.equal(await store.has(ref), false, 'has: remembered before being stored is not stored');
    await store.put(bytes);
    t.equal(await store.has(ref), true, 'has: stored');
  });

  t.test(`${name}: unknown and malformed references`, async (t) => {
    const store = await make();
    const unknown = 'a'.repeat(64);
    t.equal(await store.has(unknown), false);
    await t.rejects(store.get(unknown), { code: 'EDX_ERR_PAYLOAD_NOT_FOUND' });
    await t.rejects(store.stream(unknown), { code: 'EDX_ERR_PAYLOAD_NOT_FOUND' });
    for (const bad of ['../../../etc/passwd', 'A'.repeat(64), '', 'ab/cd']) {
      t.equal(await store.has(bad), false, `has(${JSON.stringify(bad)})`);
      await t.rejects(store.get(bad), { code: 'EDX_ERR_PAYLOAD_NOT_FOUND' }, `get(${JSON.stringify(bad)})`);
    }
  });
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'edxgate-payloads-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

contract('fs', async () => createFsPayloadStore(join(await tempDir(), 'payloads')));
// The table store also works on PGlite, so the contract runs on the selected kind either way.
contract('table', async () => createDbPayloadStore(database.store.db));

t.test('fs: content-addressed layout, no temp files left', async (t) => {
  const root = join(await tempDir(), 'payloads');
  const store = createFsPayloadStore(root);
  const bytes = Buffer.from('layout');
  const ref = await store.put(bytes);
  const dir = join(root, ref.slice(0, 2), ref.slice(2, 4));
  t.same(await readdir(dir), [ref]);
  await store.put(Buffer.from('another'));
  await store.put(bytes);
  const all = await readdir(root, { recursive: true });
  t.notOk(
    all.some((p) => p.includes('.tmp-')),
    'no temp file survives',
  );
});

t.test('fs: bytes altered on disk are refused, not served', async (t) => {
  const root = join(await tempDir(), 'payloads');
  const store = createFsPayloadStore(root);
  const ref = await store.put(Buffer.from('original'));
  await writeFile(join(root, ref.slice(0, 2), ref.slice(2, 4), ref), 'tampered');
  await t.rejects(store.get(ref), { code: 'EDX_ERR_PAYLOAD_CORRUPT' });
});

t.test('concurrent puts of the same bytes all succeed', async (t) => {
  const store = createFsPayloadStore(join(await tempDir(), 'payloads'));
  const bytes = randomBytes(64 * 1024);
  const refs = await Promise.all(Array.from({ length: 8 }, () => store.put(bytes)));
  t.equal(new Set(refs).size, 1);
  t.ok((await store.get(refs[0] ?? '')).equals(bytes));
});
