// A phase's figures from its samples (bench/lib/phase-summary.ts, bench/lib/open-loop.ts): latency
// from the SCHEDULED send, completion at the last recipient, failures by status, throughput in span.

import t from 'tap';
import { completedAt, recordArrival } from '../../bench/lib/open-loop.ts';
import type { PhaseResult, Sample } from '../../bench/lib/open-loop.ts';
import { summarizePhase } from '../../bench/lib/phase-summary.ts';

function sample(index: number, scheduledMs: number, overrides: Partial<Sample> = {}): Sample {
  return {
    index,
    stream: 'ordinary',
    scheduledMs,
    sentMs: scheduledMs,
    answeredMs: scheduledMs + 5,
    status: 202,
    expected: 1,
    arrivals: [],
    recipients: new Set(),
    duplicates: 0,
    ...overrides,
  };
}

t.test('latency counts from the scheduled send, not from when the generator got round to sending', async (t) => {
  // The generator was 40 ms late for packet 1 (sentMs): its latency still starts at the schedule.
  const a = sample(0, 0);
  const b = sample(1, 100, { sentMs: 140, answeredMs: 150 });
  recordArrival(a, 'R', 20);
  recordArrival(b, 'R', 160);
  const result: PhaseResult = { samples: [a, b], seconds: 1, startedMs: 0, scheduleEndMs: 1000, okStatuses: [202] };
  const s = summarizePhase(result);
  t.same([s.endToEnd.p50, s.endToEnd.max], [20, 60]);
  t.same([s.answer.p50, s.answer.max], [5, 50]);
  t.equal(s.generatorLag.max, 40);
  t.equal(s.completedPerSecond, 2);
  t.equal(s.offeredPerSecond, 2, 'two sends over the nominal 1 s (their first-to-last span is only 100 ms)');
  t.equal(s.servedPerSecond, 2);
  t.same(s.perSecond, [{ second: 0, p50: 20, p99: 60, max: 60 }]);
});

t.test('with several recipients a packet completes at its last one; a second arrival is a redelivery', async (t) => {
  const s0 = sample(0, 0, { expected: 3 });
  recordArrival(s0, 'A', 10);
  recordArrival(s0, 'B', 30);
  t.equal(completedAt(s0), undefined, 'two of three');
  recordArrival(s0, 'A', 35);
  t.equal(completedAt(s0), undefined, 'A again does not count as C');
  recordArrival(s0, 'C', 50);
  t.equal(completedAt(s0), 50);
  t.equal(s0.duplicates, 1);
  const s = summarizePhase({ samples: [s0], seconds: 1, startedMs: 0, scheduleEndMs: 1000, okStatuses: [202] });
  t.equal(s.endToEnd.max, 50);
  t.same([s.perDelivery.count, s.perDelivery.p50, s.perDelivery.max], [3, 30, 50], 'each recipient counted once');
  t.equal(s.redelivered, 1);
});

t.test('failures by status, missing deliveries, and completions outside the span', async (t) => {
  const refused = sample(0, 0, { status: 503 });
  const unanswered = sample(1, 10, { status: 'error', answeredMs: Number.NaN });
  const lost = sample(2, 20);
  const late = sample(3, 900);
  recordArrival(late, 'R', 1500);
  const ceiling = sample(4, 30, { expected: 0, answeredMs: 33 });
  const result: PhaseResult = { samples: [refused, unanswered, lost, late, ceiling], seconds: 1, startedMs: 0, scheduleEndMs: 1000, okStatuses: [202] };
  const s = summarizePhase(result);
  t.same(s.failures, { '503': 1, error: 1 });
  t.equal(s.failed, 2);
  t.equal(s.accepted, 3);
  t.equal(s.missing, 1, 'accepted, never arrived');
  t.equal(s.completed, 2, 'the late one and the ceiling sample, whose answer is its end');
  t.equal(s.completedPerSecond, 1, 'the late one completed after the span');
  t.equal(s.servedPerSecond, 2 / 1.5, 'served: two completions by the last one, at 1.5 s');
  t.equal(s.answer.count, 4, 'the unanswered one has no answer time');
  const onlyUrgent = summarizePhase(result, (x) => x.index === 3);
  t.equal(onlyUrgent.sent, 1);
  t.equal(onlyUrgent.endToEnd.p50, 600);
});
