// The issues' targets as the scenarios judge them on a finished report (bench/scenarios/).

import t from 'tap';
import { medium } from '../../bench/scenarios/medium.ts';
import { small } from '../../bench/scenarios/small.ts';
import { latency, phaseSummary, sampleReport } from './report-fixture.ts';

/** A medium report at `rate` with end-to-end p99 `p99` ms and `cpuMs` of gateway CPU per packet. */
function mediumAt(rate: number, p99: number, cpuMs = 4) {
  const base = sampleReport();
  return sampleReport({
    options: { ...base.options, rate },
    gateway: { ...base.gateway, summary: phaseSummary(latency(10, 20, p99, p99 + 10)), cpu: { ...base.gateway.cpu, serverMsPerPacket: cpuMs } },
  });
}

const judged = (report: ReturnType<typeof mediumAt>) =>
  Object.fromEntries(medium.targets(report).filter((c) => c.applies).map((c) => [c.name.replace(/^100 KB signed: /, ''), c.met]));

t.test('medium: each latency target is judged at its own rate', async (t) => {
  t.same(judged(mediumAt(100, 45)), { 'p99 end to end ≤ 50 ms at 100 packets/s (Postgres)': true, 'gateway CPU ≤ 5 ms per packet (Postgres)': true });
  t.same(judged(mediumAt(100, 60, 5.5)), { 'p99 end to end ≤ 50 ms at 100 packets/s (Postgres)': false, 'gateway CPU ≤ 5 ms per packet (Postgres)': false });
  t.same(judged(mediumAt(200, 90)), { 'p99 end to end ≤ 100 ms at 200 packets/s (Postgres)': true, 'gateway CPU ≤ 5 ms per packet (Postgres)': true }, 'at 200/s the 100 ms target, not the 50 ms one');
  t.same(judged(mediumAt(200, 126)), { 'p99 end to end ≤ 100 ms at 200 packets/s (Postgres)': false, 'gateway CPU ≤ 5 ms per packet (Postgres)': true });
  t.same(judged(mediumAt(50, 10)), { 'gateway CPU ≤ 5 ms per packet (Postgres)': true }, 'below 100/s no latency target applies');
});

t.test('medium: a failed or missing packet fails a latency target whatever the p99', async (t) => {
  const base = mediumAt(200, 40);
  const failed = sampleReport({ ...base, gateway: { ...base.gateway, summary: { ...base.gateway.summary, failed: 1 } } });
  t.equal(medium.targets(failed).find((c) => c.name.includes('200 packets/s'))?.met, false);
  t.match(medium.targets(failed).find((c) => c.name.includes('200 packets/s'))?.measured, /p99 40\.0 ms at 200\/s, 1 failed, 0 missing/);
});

t.test('medium: no target applies off Postgres or unsigned', async (t) => {
  const r = mediumAt(100, 10);
  t.same(medium.targets({ ...r, database: 'pglite' }).filter((c) => c.applies), []);
  t.same(medium.targets({ ...r, options: { ...r.options, signed: false } }).filter((c) => c.applies), []);
});

t.test('small: the saturation target needs a ramp on Postgres', async (t) => {
  const [target] = small.targets(sampleReport({ scenario: 'small' }));
  t.equal(target?.applies, false);
  t.equal(target?.measured, 'no saturation ramp');
});
