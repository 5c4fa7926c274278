// Percentiles of latency samples: nearest rank on the sorted samples (bench/lib/stats.ts).

import t from 'tap';
import { ms, percentile, summarize } from '../../bench/lib/stats.ts';

t.test('nearest rank: the smallest sample with at least p % of the samples at or below it', async (t) => {
  const sorted = Array.from({ length: 100 }, (_, i) => i + 1); // 1 … 100
  t.equal(percentile(sorted, 50), 50);
  t.equal(percentile(sorted, 90), 90);
  t.equal(percentile(sorted, 99), 99);
  t.equal(percentile(sorted, 100), 100);
  t.equal(percentile(sorted, 0), 1, 'p0 is the minimum');
  t.equal(percentile([7], 99), 7, 'one sample is every percentile');
  t.equal(percentile([1, 2, 3], 50), 2);
  t.equal(percentile([1, 2, 3, 4], 50), 2, 'rank ceil(0.5 × 4) = 2, no interpolation');
  t.ok(Number.isNaN(percentile([], 50)), 'none of no samples');
  for (const p of [10, 20, 30, 70, 90, 99, 99.9]) {
    const n = 10_000;
    const ascending = Array.from({ length: n }, (_, i) => i + 1);
    t.equal(percentile(ascending, p), Math.round((p * n) / 100), `p${p} of 1 … ${n} is rank p × n / 100 exactly`);
  }
});

t.test('summarize sorts, and reports count, mean, p50/p90/p99/p99.9 and max', async (t) => {
  const samples = [5, 1, 4, 2, 3, 1000, 6, 7, 8, 9];
  const s = summarize(samples);
  t.same(s, { count: 10, mean: 104.5, p50: 5, p90: 9, p99: 1000, p999: 1000, max: 1000 });
  t.same(samples.slice(0, 3), [5, 1, 4], 'the input is left unsorted');
  const empty = summarize([]);
  t.equal(empty.count, 0);
  t.ok(Number.isNaN(empty.p99) && Number.isNaN(empty.max) && Number.isNaN(empty.mean));
});

t.test('one long tail sample moves p99 but not p50 (why the suite reports both)', async (t) => {
  const steady = Array.from({ length: 1000 }, () => 10);
  steady[500] = 4000;
  const s = summarize(steady);
  t.equal(s.p50, 10);
  t.equal(s.p99, 10, '1 in 1,000 is beyond p99');
  t.equal(s.p999, 10, 'rank 999 of 1,000 is still a steady one (was the max: 99.9 / 100 × 1000 rounded up to 1000)');
  t.equal(s.max, 4000);
});

t.test('ms formats a figure for a table', async (t) => {
  t.equal(ms(12.345), '12.3');
  t.equal(ms(123.45), '123');
  t.equal(ms(Number.NaN), '–');
});
