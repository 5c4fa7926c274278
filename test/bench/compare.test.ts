// --compare: ratios of a report's figures over a baseline's (bench/lib/compare.ts).

import t from 'tap';
import { asReport, compareReports, renderComparison } from '../../bench/lib/compare.ts';
import { cpu, latency, phaseSummary, sampleReport } from './report-fixture.ts';

t.test('ratio = now / baseline, metric by metric', async (t) => {
  const baseline = sampleReport();
  const faster = sampleReport({
    gateway: { ...baseline.gateway, summary: phaseSummary(latency(10, 20, 40, 60), latency(5, 8, 15, 20)), cpu: cpu(4, 2) },
  });
  const { rows, warnings } = compareReports(faster, baseline);
  const row = (name: string) => rows.find((r) => r.metric === name);
  t.same(row('end to end p99 (ms)'), { metric: 'end to end p99 (ms)', baseline: 80, current: 40, ratio: 0.5, better: 'lower' });
  t.equal(row('end to end p50 (ms)')?.ratio, 0.5);
  t.equal(row('gateway CPU (ms/packet)')?.ratio, 0.5);
  t.equal(row('Postgres CPU (ms/packet)')?.ratio, 1);
  t.equal(row('completed (packets/s)')?.better, 'higher');
  t.equal(row('failed')?.ratio, undefined, '0 / 0 has no ratio');
  t.equal(row('max sustained rate (packets/s)'), undefined, 'a metric neither report has is left out');
  t.equal(row('urgent end to end p99 (ms)'), undefined);
  t.same(warnings, [], 'same scenario, database, rate and machine');
  const text = renderComparison({ rows, warnings }, 'base.json');
  t.match(text, /\| end to end p99 \(ms\) \| 80 \| 40 \| 0\.50× \| better \|/);
  t.match(text, /\| ceiling: bare Fastify CPU \(ms\/packet\) \| 0\.500 \| 0\.500 \|/);
  t.match(text, /\| failed \| 0 \| 0 \| – \| \|/);
  t.match(text, /\| Postgres CPU \(ms\/packet\) \| 2 \| 2 \| 1\.00× \| \|/);
});

t.test('higher is better for rates; the verdict follows the direction', async (t) => {
  const baseline = sampleReport();
  const slower = sampleReport({ gateway: { ...baseline.gateway, summary: { ...baseline.gateway.summary, completedPerSecond: 50 } } });
  const text = renderComparison(compareReports(slower, baseline), 'b');
  t.match(text, /\| completed \(packets\/s\) \| 100 \| 50 \| 0\.50× \| worse \|/);
});

t.test('a baseline of another kind of run is named in warnings', async (t) => {
  const baseline = sampleReport({ scenario: 'small', database: 'pglite', options: { ...sampleReport().options, rate: 20 } });
  const { warnings } = compareReports(sampleReport(), baseline);
  t.match(warnings, [/scenario differs: baseline "small", now "medium"/, /database differs/, /rate differs: baseline 20, now 100/]);
});

t.test('only suite reports are accepted as baselines', async (t) => {
  t.equal(asReport(sampleReport(), 'x.json').scenario, 'medium');
  t.throws(() => asReport({ bench: 'gateway' }, 'old.json'), /old\.json is not a report of npm run bench \(version 1\): its "bench" is "gateway"/);
  t.throws(() => asReport(null, 'n.json'), /its "bench" is none/);
  t.throws(() => asReport({ bench: 'edxgate-suite', version: 2 }, 'v2.json'), /v2\.json/);
});

t.test('speed checks 10 % or more apart are named: the ratios then measure the machine too', async (t) => {
  const speed = (ms: number) => ({ before: { bestMs: ms, rounds: 7 }, after: { bestMs: ms, rounds: 7 } });
  const baseline = sampleReport({ cpuSpeed: speed(30) });
  const slower = compareReports(sampleReport({ cpuSpeed: speed(40) }), baseline);
  t.match(slower.warnings, [/the machine was 33 % slower in this run \(speed check 40 ms against 30 ms\)/]);
  t.equal(slower.rows.find((r) => r.metric === 'machine speed check, after the window (ms of CPU)')?.ratio, 40 / 30);
  t.match(compareReports(sampleReport({ cpuSpeed: speed(24) }), baseline).warnings, [/20 % faster/]);
  t.same(compareReports(sampleReport({ cpuSpeed: speed(31) }), baseline).warnings, [], 'within 10 %: no warning');
  t.same(compareReports(sampleReport(), baseline).warnings, [], 'a report made before the speed check: nothing to compare');
});
