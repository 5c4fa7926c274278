// The report's machine-limit fractions and its table (bench/lib/report.ts).

import t from 'tap';
import { machineLimit, renderReport } from '../../bench/lib/report.ts';
import { sampleReport } from './report-fixture.ts';

t.test('the gateway as a fraction of the bare ceilings', async (t) => {
  const l = sampleReport().limit;
  t.equal(l.gatewayCpuMs, 10, 'gateway 8 + Postgres 2');
  t.equal(l.ceilingCpuMs, 3, 'bare Fastify 0.5 + store client 1 + store Postgres 1.5');
  t.equal(l.cpuFraction, 0.3);
  t.equal(l.gatewayCpuBoundRate, 200, '2 cores × 1000 ms / 10 ms');
  t.equal(l.ceilingCpuBoundRate, 2000 / 3);
  t.equal(l.gatewayOneCoreRate, 125, "one event loop: 1000 / the gateway's own 8 ms");
  t.equal(l.admitFloorP50, 3, 'Fastify p50 1 + store p50 2');
  t.equal(l.admitFloorP99, 6);
  t.equal(l.admitP50Ratio, 10 / 3);
  t.equal(l.admitP99Ratio, 5);
  t.equal(l.rateFraction, undefined, 'no saturation ramp, no rate fraction');
});

t.test('the embedded database: Postgres is inside the processes, and a missing ceiling leaves its fractions out', async (t) => {
  const r = sampleReport();
  const embedded = machineLimit({ cores: 2, gateway: { ...r.gateway, cpu: { ...r.gateway.cpu, postgresMsPerPacket: undefined } }, http: r.ceilings.http });
  t.equal(embedded.gatewayCpuMs, 8);
  t.equal(embedded.ceilingCpuMs, undefined);
  t.equal(embedded.cpuFraction, undefined);
  t.equal(embedded.admitP99Ratio, undefined);
  const saturated = machineLimit({ cores: 2, gateway: r.gateway, http: r.ceilings.http, store: r.ceilings.store, gatewayMaxRate: 300, httpMaxRate: 6000, storeMaxRate: 1200 });
  t.equal(saturated.rateFraction, 0.25, 'over the lower ceiling');
});

t.test('the table says what was measured, the ceilings, the fractions and the targets', async (t) => {
  const text = renderReport(sampleReport());
  t.match(text, /scenario medium: 106,547-byte signed packets, 1 recipient, open loop at 100\/s for 30 s/);
  t.match(text, /\| gateway: post → delivered to every recipient \(end to end\) \| 20\.0 \| 40\.0 \| 80\.0 \| 120 \| 1000 \|/);
  t.match(text, /\| ceiling: bare Fastify, post → 202 \| 1\.0 \| 1\.5 \| 2\.0 \| 5\.0 \| 1000 \|/);
  t.match(text, /\| ceiling: bare pg insert of the same rows, → commit \| 2\.0/);
  t.match(text, /the gateway reaches 30 % of the CPU-bound rate \(200\/s vs 667\/s on 2 cores; one gateway event loop on a core of its own: 125\/s\)/);
  t.match(text, /post → 202 p50 3\.33× and p99 5\.00× the bare receive \+ store/);
  t.match(text, /target p99 ≤ 50 ms: NOT met \(p99 80 ms\)/);
  t.notMatch(text, /WARNING/, 'a clean run has no warning');
  const busy = sampleReport();
  const unclean = renderReport({ ...busy, gateway: { ...busy.gateway, cpu: { ...busy.gateway.cpu, otherShare: 0.4 } } });
  t.match(unclean, /WARNING: other processes used 40 % of the machine/);
});

t.test('the machine speed check is printed under the machine line, when the report has one', async (t) => {
  const withSpeed = renderReport(sampleReport({ cpuSpeed: { before: { bestMs: 32.5, rounds: 7 }, after: { bestMs: 33.1, rounds: 7 } } }));
  t.match(withSpeed, /busy before the run\nmachine speed check: 32\.5 ms of CPU before the run, 33\.1 ms after/);
  t.notMatch(renderReport(sampleReport()), /machine speed check/, 'a report made before the check has none');
});
