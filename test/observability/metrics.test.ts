import { performance } from 'node:perf_hooks';
import t from 'tap';
import { createMetrics } from '../../src/observability/metrics.ts';
import type { QueueSnapshot } from '../../src/observability/metrics.ts';

t.test('each gateway has its own registry', async (t) => {
  const a = createMetrics({ processMetrics: false });
  const b = createMetrics({ processMetrics: false });
  a.packetsAdmitted.inc({ kind: 'document' });
  a.packetsAdmitted.inc({ kind: 'document' });
  t.match(await a.registry.metrics(), /edxgate_packets_admitted_total\{kind="document"\} 2/);
  t.notMatch(await b.registry.metrics(), /edxgate_packets_admitted_total\{kind="document"\}/);
});

t.test('the metrics the gateway reports are all there', async (t) => {
  const m = createMetrics({ processMetrics: false });
  m.packetsRejected.inc({ code: 'EDX_ERR_XML_MALFORMED' });
  m.deadlineMisses.inc();
  m.endToEndLatency.observe({ route_kind: 'webhook' }, 6.2);
  m.observeStage('validate', 0.4);
  m.observeStage('wait_to_claim', 12);
  const text = await m.registry.metrics();
  for (const name of [
    'edxgate_packets_admitted_total',
    'edxgate_packets_rejected_total{code="EDX_ERR_XML_MALFORMED"} 1',
    'edxgate_deliveries',
    'edxgate_end_to_end_latency_seconds_bucket{le="5",route_kind="webhook"} 0',
    'edxgate_end_to_end_latency_seconds_bucket{le="7.5",route_kind="webhook"} 1',
    'edxgate_deadline_misses_total 1',
    'edxgate_queue_depth',
    'edxgate_oldest_undelivered_age_seconds',
    'edxgate_stage_duration_seconds_bucket{le="0.0005",stage="validate"} 1',
    'edxgate_stage_duration_seconds_sum{stage="wait_to_claim"} 0.012',
  ])
    t.ok(text.includes(name), name);
});

t.test('queue gauges are read once per scrape from the snapshot', async (t) => {
  let reads = 0;
  const snapshot: QueueSnapshot = { byState: { queued: 3, delivering: 2, dead: 1 }, depth: 5, oldestUndeliveredAgeSeconds: 1.5, oldestDueWaitSeconds: 0.25 };
  const m = createMetrics({
    processMetrics: false,
    queueSnapshot: async () => {
      reads++;
      return snapshot;
    },
  });
  const text = await m.registry.metrics();
  t.equal(reads, 1, 'four gauges, one read');
  t.match(text, /edxgate_deliveries\{state="queued"\} 3/);
  t.match(text, /edxgate_deliveries\{state="dead"\} 1/);
  t.match(text, /edxgate_queue_depth 5/);
  t.match(text, /edxgate_oldest_undelivered_age_seconds 1\.5/);
  t.match(text, /edxgate_queue_wait_seconds 0\.25/);
});

t.test('a failing snapshot does not fail the scrape', async (t) => {
  const m = createMetrics({ processMetrics: false, queueSnapshot: () => Promise.reject(new Error('db down')) });
  t.match(await m.registry.metrics(), /edxgate_queue_depth 0/);
});

t.test('every stage has its histogram from the start, at count 0', async (t) => {
  const text = await createMetrics({ processMetrics: false }).registry.metrics();
  for (const stage of ['decode', 'validate', 'verify', 'admit', 'wait_to_claim', 'deliver'])
    t.ok(text.includes(`edxgate_stage_duration_seconds_count{stage="${stage}"} 0`), stage);
});

t.test("the event loop's busy seconds count the time spent running callbacks", async (t) => {
  const m = createMetrics({ processMetrics: false });
  const busySeconds = async (): Promise<number> => {
    const line = (await m.registry.metrics()).split('\n').find((l) => l.startsWith('edxgate_event_loop_busy_seconds_total '));
    t.ok(line, 'exported');
    return Number(line?.split(' ')[1]);
  };
  const before = await busySeconds();
  // Hold the event loop for 200 ms of wall time: a loop that is running callbacks is busy, however
  // the machine schedules this process meanwhile.
  const spinStart = performance.now();
  while (performance.now() - spinStart < 200);
  const spun = (performance.now() - spinStart) / 1000;
  await new Promise((resolve) => setImmediate(resolve));
  const after = await busySeconds();
  t.ok(after - before >= spun * 0.9, `busy grew by ${(after - before).toFixed(3)} s over a ${spun.toFixed(3)} s spin`);
  // Idle time is not counted: waiting on a timer adds far less than the wait.
  const idleStart = await busySeconds();
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.ok((await busySeconds()) - idleStart < 0.15, 'a 300 ms wait for a timer is not busy time');
});
