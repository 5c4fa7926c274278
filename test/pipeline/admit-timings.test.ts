// The admit-timings recorder on a real store: buffered entries reach packets.stage_timings in one
// statement (beside the stages admission stored), on flush and on close; a failed write is dropped
// without losing the entries after it; the buffer is bounded.

import { randomUUID } from 'node:crypto';
import t from 'tap';
import { createLogger } from '../../src/observability/logger.ts';
import { AdmitTimings } from '../../src/pipeline/admit-timings.ts';
import { admitPacket } from '../../src/store/queries/admit-packet.ts';
import { recordAdmitTimings } from '../../src/store/queries/record-admit-timings.ts';
import { testDatabase } from '../helpers/database.ts';
import type { TestDatabase } from '../helpers/database.ts';
import { packetInput, seedRoutes } from '../store/packet-input.ts';

const logger = createLogger({ log: { level: 'silent' } });

async function admitted(db: TestDatabase): Promise<string> {
  const result = await admitPacket(db.store.db, await packetInput(db.store));
  return result.packet.packetId;
}

async function timingsOf(db: TestDatabase, packetId: string): Promise<Record<string, number>> {
  const row = await db.store.db.selectFrom('packets').select('stage_timings').where('id', '=', packetId).executeTakeFirstOrThrow();
  return row.stage_timings;
}

t.test('admit timings', async (t) => {
  const db = await testDatabase(t);
  await seedRoutes(db.store);

  t.test('one statement adds admit beside the stored stages, for every packet of the batch', async (t) => {
    const ids = [await admitted(db), await admitted(db), await admitted(db)];
    await recordAdmitTimings(db.store.db, ids.map((packetId, i) => ({ packetId, admitMs: 1.25 + i })));
    for (const [i, id] of ids.entries()) t.same(await timingsOf(db, id), { decode: 0.9, validate: 0.4, admit: 1.25 + i });
    await recordAdmitTimings(db.store.db, []);
    await recordAdmitTimings(db.store.db, [{ packetId: randomUUID(), admitMs: 1 }]);
    t.pass('an empty batch and an unknown packet id are no error');
  });

  t.test('flush writes what was recorded; close writes the rest and takes no more', async (t) => {
    const recorder = new AdmitTimings(db.store.db, logger, { flushIntervalMs: 60_000 });
    const first = await admitted(db);
    recorder.record(first, 2.5);
    t.equal(recorder.pending(), 1);
    await recorder.flush();
    t.equal(recorder.pending(), 0);
    t.equal((await timingsOf(db, first))['admit'], 2.5);

    const second = await admitted(db);
    recorder.record(second, 3.5);
    await recorder.close();
    t.equal((await timingsOf(db, second))['admit'], 3.5, 'close wrote the last entry');
    const late = await admitted(db);
    recorder.record(late, 4.5);
    t.equal(recorder.pending(), 0, 'nothing is taken after close');
    await recorder.flush();
    t.notOk('admit' in (await timingsOf(db, late)));
  });

  t.test('entries are written within the interval, without a flush call', async (t) => {
    const recorder = new AdmitTimings(db.store.db, logger, { flushIntervalMs: 20 });
    t.teardown(() => recorder.close());
    const id = await admitted(db);
    recorder.record(id, 1.5);
    // Polled: the assertion is that it happens, not how fast.
    for (let i = 0; i < 1000 && !('admit' in (await timingsOf(db, id))); i++) await new Promise((r) => setTimeout(r, 20));
    t.equal((await timingsOf(db, id))['admit'], 1.5);
  });

  t.test('a batch that fails to write is dropped; the next one is written', async (t) => {
    const recorder = new AdmitTimings(db.store.db, logger, { flushIntervalMs: 60_000 });
    const kept = await admitted(db);
    // Not a uuid: the statement fails as a whole, as a lost connection would.
    recorder.record('not-a-packet-id', 1);
    await recorder.flush();
    t.equal(recorder.pending(), 0, 'the failed batch is not retried');
    recorder.record(kept, 6.5);
    await recorder.close();
    t.equal((await timingsOf(db, kept))['admit'], 6.5);
  });

  t.test('the buffer is bounded and full batches are written without waiting for the interval', async (t) => {
    const recorder = new AdmitTimings(db.store.db, logger, { flushIntervalMs: 60_000, batchSize: 2, maxBuffered: 3 });
    const ids = [await admitted(db), await admitted(db)];
    recorder.record(ids[0] ?? '', 1);
    recorder.record(ids[1] ?? '', 2); // a full batch: its write starts now
    recorder.record(randomUUID(), 3);
    recorder.record(randomUUID(), 4); // over maxBuffered (2 in flight + 1 waiting): dropped
    t.equal(recorder.pending(), 3);
    await recorder.close();
    t.same(
      await Promise.all(ids.map(async (id) => (await timingsOf(db, id))['admit'])),
      [1, 2],
    );
  });
});
