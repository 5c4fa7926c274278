// Intake on a real store, without HTTP: the stages are timed and stored, the payload is durable
// before the packet, the workers are woken after an admission only, refusals are counted by code.

import t from 'tap';
import { createMetrics } from '../../src/observability/metrics.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { DirectoryCache } from '../../src/gateway/directory-cache.ts';
import { seedDemoIfEmpty } from '../../src/gateway/demo-seed.ts';
import { Intake } from '../../src/pipeline/intake.ts';
import { EdxError } from '../../src/errors.ts';
import { testDatabase } from '../helpers/database.ts';
import type { Teardown } from '../helpers/database.ts';
import { makeDocument } from '../api/gateway-fixture.ts';

const A = '000.00.15.H47';

async function setup(t: Teardown) {
  const db = await testDatabase(t);
  const seeded = (await seedDemoIfEmpty(db.store.db)) ?? [];
  const logger = createLogger({ log: { level: 'silent' } });
  const metrics = createMetrics({ processMetrics: false });
  let wakes = 0;
  const intake = new Intake({
    store: db.store,
    directory: new DirectoryCache(db.store, { logger }),
    metrics,
    budgetMs: 5000,
    onAdmitted: () => wakes++,
  });
  const client = { clientId: seeded.find((c) => c.agency === A)?.clientId ?? '', agencies: [A] };
  return { db, intake, metrics, logger, client, wakes: () => wakes };
}

t.test('admission: stage timings, payload, deadline, wake-up', async (t) => {
  const { db, intake, metrics, logger, client, wakes } = await setup(t);
  const bytes = makeDocument({ to: ['000.01.15.H47', '000.02.15.H47'], priority: 1 });
  const receivedAt = new Date();
  const result = await intake.submit({ bytes, client, receivedAt, log: logger.child({}) });
  t.equal(result.outcome, 'admitted');
  t.equal(wakes(), 1, 'the workers are woken once');
  const row = await db.store.db.selectFrom('packets').selectAll().where('id', '=', result.receipt.packetId).executeTakeFirstOrThrow();
  t.same(Object.keys(row.stage_timings).sort(), ['decode', 'validate', 'verify']);
  t.ok(Object.values(row.stage_timings).every((ms) => typeof ms === 'number' && ms >= 0));
  t.equal(row.deadline_at.getTime(), receivedAt.getTime() + 5000, 'deadline = arrival + budget');
  t.equal(row.priority, 1);
  t.equal(row.client_id, client.clientId);
  t.ok((await db.store.payloads.get(row.payload_ref)).equals(bytes), 'the exact bytes are stored');
  const text = await metrics.registry.metrics();
  for (const stage of ['decode', 'validate', 'verify', 'admit']) t.match(text, new RegExp(`edxgate_stage_duration_seconds_count\\{stage="${stage}"\\} 1`), stage);

  const again = await intake.submit({ bytes, client, receivedAt: new Date(), log: logger.child({}) });
  t.equal(again.outcome, 'duplicate');
  t.same(again.receipt, result.receipt);
  t.equal(wakes(), 1, 'a duplicate wakes nobody');
});

t.test('refusals are EdxErrors, counted by code', async (t) => {
  const { intake, metrics, logger, client } = await setup(t);
  const refuse = async (bytes: Buffer, agencies = client.agencies): Promise<string> => {
    try {
      await intake.submit({ bytes, client: { ...client, agencies }, receivedAt: new Date(), log: logger.child({}) });
      return 'admitted';
    } catch (error) {
      if (error instanceof EdxError) return error.code;
      throw error;
    }
  };
  t.equal(await refuse(Buffer.from('<edXML')), 'EDX_ERR_XML_MALFORMED');
  t.equal(await refuse(makeDocument({ to: ['000.01.15.H47'] }), ['000.01.15.H47']), 'EDX_ERR_AUTH_FORBIDDEN');
  t.equal(await refuse(makeDocument({ to: ['000.77.15.H47'] })), 'EDX_ERR_RECIPIENT_UNKNOWN');
  const text = await metrics.registry.metrics();
  t.match(text, /edxgate_packets_rejected_total\{code="EDX_ERR_XML_MALFORMED"\} 1/);
  t.match(text, /edxgate_packets_rejected_total\{code="EDX_ERR_AUTH_FORBIDDEN"\} 1/);
  t.match(text, /edxgate_packets_rejected_total\{code="EDX_ERR_RECIPIENT_UNKNOWN"\} 1/);
});
