// The gateway's runtime figures read off its /metrics (bench/lib/runtime-window.ts), scraped from a
// real gateway's registry as well as from a fixed exposition.

import t from 'tap';
import { readRuntimeMetrics } from '../../bench/lib/runtime-window.ts';
import { renderReport } from '../../bench/lib/report.ts';
import { createMetrics, eventLoopBusyShare } from '../../src/observability/metrics.ts';
import { sampleReport } from './report-fixture.ts';

const EXPOSITION = [
  '# TYPE edxgate_nodejs_gc_duration_seconds histogram',
  'edxgate_nodejs_gc_duration_seconds_bucket{le="0.001",kind="minor"} 10',
  'edxgate_nodejs_gc_duration_seconds_bucket{le="0.01",kind="minor"} 290',
  'edxgate_nodejs_gc_duration_seconds_bucket{le="+Inf",kind="minor"} 300',
  'edxgate_nodejs_gc_duration_seconds_sum{kind="minor"} 1.5',
  'edxgate_nodejs_gc_duration_seconds_count{kind="minor"} 300',
  'edxgate_nodejs_gc_duration_seconds_bucket{le="0.01",kind="major"} 4',
  'edxgate_nodejs_gc_duration_seconds_sum{kind="major"} 0.12',
  'edxgate_nodejs_gc_duration_seconds_count{kind="major"} 7',
  'edxgate_nodejs_eventloop_lag_p99_seconds 0.055',
  'edxgate_nodejs_eventloop_lag_max_seconds 0.128',
  'edxgate_event_loop_busy_seconds_total 42.5',
].join('\n');

t.test('GC seconds by kind, pauses over 10 ms and the event-loop delay come out of the exposition', async (t) => {
  const read = readRuntimeMetrics(EXPOSITION);
  t.same(read, { gcSeconds: { minor: 1.5, major: 0.12, incremental: 0 }, gcOver10Ms: 13, loopP99Seconds: 0.055, loopMaxSeconds: 0.128, loopBusySeconds: 42.5 });
});

t.test('the event-loop busy share is the busy seconds gained over the wall seconds of the window', async (t) => {
  t.equal(eventLoopBusyShare(40, 61, 30), 0.7);
  t.equal(eventLoopBusyShare(undefined, 61, 30), undefined, 'unknown without the opening reading');
  t.equal(eventLoopBusyShare(40, 75, 30), 1, 'capped at the whole window (scrape timing)');
  t.equal(eventLoopBusyShare(40, 61, 0), undefined);
});

t.test('an exposition without the process metrics tells nothing rather than zeros', async (t) => {
  t.equal(readRuntimeMetrics('edxgate_packets_admitted_total{kind="document"} 3\n'), undefined);
});

t.test("a gateway's own registry has the metrics the bench reads", async (t) => {
  const metrics = createMetrics();
  // The GC histogram has a series only once a collection was observed: make garbage until scavenges
  // run, then give the performance observer a turn of the event loop to report them.
  let allocated = 0;
  for (let i = 0; i < 200_000; i++) allocated += new Array<number>(64).fill(i).length;
  t.comment(`allocated ${allocated} numbers to make garbage`);
  await new Promise((resolve) => setTimeout(resolve, 100));
  const read = readRuntimeMetrics(await metrics.registry.metrics());
  t.ok(read !== undefined, 'the GC histogram is exported under the edxgate_ prefix');
  t.type(read?.loopP99Seconds, 'number', 'the event-loop delay p99 is exported');
  t.type(read?.loopMaxSeconds, 'number');
  t.type(read?.loopBusySeconds, 'number', 'the event-loop busy seconds are exported');
});

t.test('the report prints the runtime line when the run measured it', async (t) => {
  const base = sampleReport();
  const runtime = { gcMsPerPacket: { minor: 0.9, major: 0.05, incremental: 0.01 }, gcPausesOver10Ms: 31, eventLoopDelayP99Ms: 55, eventLoopDelayMaxMs: 127.7, eventLoopUtilization: 0.724 };
  const text = renderReport({ ...base, gateway: { ...base.gateway, runtime } });
  t.match(text, /gateway runtime: GC 0\.96 ms per packet \(scavenges 0\.90, mark-compact 0\.06\), 31 pauses ≥ 10 ms; event-loop delay p99 55\.0 ms, max 127\.7 ms; event loop busy 72 % of the window/);
  t.notMatch(renderReport(base), /gateway runtime/, 'no line when nothing was measured');
});
