// The saturation ramp's decisions (bench/lib/saturation.ts): judging a step, the next rate, the result.

import t from 'tap';
import { judgeStep, nextRate, rampResult, roundRate } from '../../bench/lib/saturation.ts';
import type { StepOutcome } from '../../bench/lib/saturation.ts';
import type { PhaseSummary } from '../../bench/lib/phase-summary.ts';
import { summarize } from '../../bench/lib/stats.ts';

function summary(overrides: Partial<PhaseSummary> & { p99?: number; lag?: number } = {}): PhaseSummary {
  const { p99, lag, ...rest } = overrides;
  return {
    sent: 1000,
    accepted: 1000,
    failed: 0,
    failures: {},
    completed: 1000,
    missing: 0,
    redelivered: 0,
    endToEnd: { ...summarize([10, 20, 30]), p99: p99 ?? 30 },
    perDelivery: summarize([10, 20, 30]),
    answer: summarize([5]),
    generatorLag: { ...summarize([1]), p99: lag ?? 1 },
    offeredPerSecond: 100,
    completedPerSecond: 99,
    servedPerSecond: 99,
    perSecond: [],
    ...rest,
  };
}

const held = (rate: number): StepOutcome => ({ rate, verdict: { sustained: true, reasons: [], generatorBound: false } });
const lost = (rate: number, generatorBound = false): StepOutcome => ({ rate, verdict: { sustained: false, reasons: ['x'], generatorBound } });
const options = { startRate: 100, factor: 1.5, maxRate: 10_000, refinements: 2 };

t.test('a step holds only if nothing failed, completions kept up, p99 within the limit and the generator on time', async (t) => {
  t.same(judgeStep(summary(), { p99LimitMs: 250 }), { sustained: true, reasons: [], generatorBound: false });
  t.match(judgeStep(summary({ p99: 251 }), { p99LimitMs: 250 }), { sustained: false, reasons: ['p99 251 ms > 250 ms'], generatorBound: false });
  t.match(judgeStep(summary({ failed: 3, failures: { '503': 3 } }), { p99LimitMs: 250 }).reasons, [/3 failed \(503: 3\)/]);
  t.match(judgeStep(summary({ completedPerSecond: 80 }), { p99LimitMs: 250 }).reasons, [/completed 80\.0\/s of 100\.0\/s offered \(< 95 %\)/]);
  t.match(judgeStep(summary({ missing: 2 }), { p99LimitMs: 250 }).reasons, ['2 never completed']);
  const lagging = judgeStep(summary({ lag: 80 }), { p99LimitMs: 250 });
  t.equal(lagging.sustained, false);
  t.equal(lagging.generatorBound, true);
  t.match(judgeStep(summary({ p99: Number.NaN }), { p99LimitMs: 250 }).sustained, false, 'no deliveries at all does not hold');
});

t.test('the rate grows by the factor while steps hold, up to the max', async (t) => {
  t.equal(nextRate([], options), 100);
  t.equal(nextRate([held(100)], options), 150);
  t.equal(nextRate([held(100), held(150)], options), 225);
  t.equal(nextRate([held(9000)], options), 10_000, 'capped at the max');
  t.equal(nextRate([held(10_000)], options), undefined, 'done at the max');
  t.equal(nextRate([held(2)], { ...options, startRate: 2 }), 3, 'at least +1 per step at low rates');
});

t.test('after the first step that does not hold, it bisects `refinements` times', async (t) => {
  const h = [held(100), held(150), lost(225)];
  t.equal(nextRate(h, options), 188, 'halfway between 150 and 225');
  t.equal(nextRate([...h, held(188)], options), 207, 'then between 188 and 225');
  t.equal(nextRate([...h, held(188), lost(207)], options), undefined, 'two refinements done');
  t.equal(nextRate([lost(100)], options), 50, 'the first step failing bisects towards 0');
  t.equal(nextRate([held(100), lost(104)], options), undefined, 'within 5 %: close enough');
  t.equal(nextRate([held(100), lost(150, true)], options), undefined, 'the generator was the limit: stop');
});

t.test('the result: the best step below every failed one, and what limited it', async (t) => {
  t.same(rampResult([held(100), held(150), lost(225), held(188), lost(207)], options), { maxSustainedRate: 188, limitedBy: 'server' });
  t.same(rampResult([held(100), lost(150, true)], options), { maxSustainedRate: 100, limitedBy: 'generator' });
  t.same(rampResult([held(9000), held(10_000)], options), { maxSustainedRate: 10_000, limitedBy: 'max-rate' });
  t.same(rampResult([lost(100), lost(50)], options), { maxSustainedRate: undefined, limitedBy: 'server' });
  t.same(rampResult([held(100), lost(150), held(200)], options), { maxSustainedRate: 100, limitedBy: 'server' }, 'a lucky step above a failure does not count');
});

t.test('rates are rounded for printing', async (t) => {
  t.equal(roundRate(187.5), 188);
  t.equal(roundRate(2.25), 2.3);
  t.equal(roundRate(0.01), 0.1);
});
