// The queue-wait budget of the load shedder: the wait it judges is the newest reading, whether a
// sample of the database or what a claim of this node's workers saw.

import t from 'tap';
import { pino } from 'pino';
import { Backpressure } from '../../src/gateway/backpressure.ts';
import type { QueueSample } from '../../src/gateway/backpressure.ts';

const OPTIONS = { maxRssBytes: 0, maxQueueDepth: 0, maxQueueWaitMs: 2000, retryAfterSeconds: 4, sampleIntervalMs: 20 };

t.test('a claim updates the wait between samples; the next sample replaces it', async (t) => {
  let sample: QueueSample = { depth: 0, oldestDueWaitSeconds: 0 };
  let samples = 0;
  const shedder = new Backpressure(OPTIONS, {
    queue: async () => {
      samples++;
      return sample;
    },
    logger: pino({ level: 'silent' }),
  });
  t.teardown(() => shedder.stop());
  t.equal(shedder.check(), undefined, 'nothing waits');

  shedder.observeQueueWait(2500);
  t.match(shedder.check(), { reason: /waited 2500 ms for a worker, over the budget of 2000 ms/, retryAfterSeconds: 4 }, 'a claim saw the workers 2.5 s behind');
  shedder.observeQueueWait(0);
  t.equal(shedder.check(), undefined, 'a short claim: nothing due is left');

  // The workers of this node are stuck (no claims): the database sample speaks.
  sample = { depth: 10, oldestDueWaitSeconds: 3 };
  shedder.start();
  const before = samples;
  while (samples < before + 2) await new Promise((resolve) => setTimeout(resolve, 10));
  t.match(shedder.check(), { reason: /waited 3000 ms/ }, 'the sample of all nodes');
  shedder.observeQueueWait(100);
  t.equal(shedder.check(), undefined, 'then a claim, newer than the sample');
});

t.test('a wait budget of 0 never refuses', async (t) => {
  const shedder = new Backpressure({ ...OPTIONS, maxQueueWaitMs: 0 }, { queue: async () => ({ depth: 0, oldestDueWaitSeconds: 60 }), logger: pino({ level: 'silent' }) });
  shedder.observeQueueWait(60_000);
  t.equal(shedder.check(), undefined);
});
