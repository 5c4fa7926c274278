// Retry delays: exponential ceiling, full jitter within [0, ceiling), the max, and the receiver's hint.

import t from 'tap';
import { backoffCeilingMs, retryDelayMs } from '../../src/delivery/backoff.ts';

const policy = { baseMs: 250, maxMs: 300_000 };

t.test('the ceiling doubles per attempt up to the max', async (t) => {
  t.same([1, 2, 3, 4, 5].map((n) => backoffCeilingMs(n, policy)), [250, 500, 1000, 2000, 4000]);
  t.equal(backoffCeilingMs(11, policy), 256_000);
  t.equal(backoffCeilingMs(12, policy), 300_000, 'capped');
  t.equal(backoffCeilingMs(1000, policy), 300_000, 'no overflow for huge attempt numbers');
  t.equal(backoffCeilingMs(0, policy), 250, 'attempt numbers below 1 count as the first');
});

t.test('full jitter: the delay lies in [0, ceiling)', async (t) => {
  t.equal(retryDelayMs(3, policy, () => 0), 0, 'lowest');
  t.equal(retryDelayMs(3, policy, () => 0.5), 500);
  t.equal(retryDelayMs(3, policy, () => 0.999999), 999, 'below the ceiling');
  for (let attempt = 1; attempt <= 30; attempt++) {
    for (let i = 0; i < 50; i++) {
      const delay = retryDelayMs(attempt, policy);
      const ceiling = backoffCeilingMs(attempt, policy);
      if (!(delay >= 0 && delay < ceiling && Number.isInteger(delay))) t.fail(`attempt ${attempt}: ${delay} outside [0, ${ceiling})`);
    }
  }
  t.pass('1,500 random delays within their bounds');
});

t.test('a Retry-After hint is a floor, clamped to the max', async (t) => {
  t.equal(retryDelayMs(1, policy, () => 0, 10_000), 10_000, 'the hint beats a short jittered delay');
  t.equal(retryDelayMs(12, policy, () => 0.9, 1000), 270_000, 'a longer jittered delay beats the hint');
  t.equal(retryDelayMs(1, policy, () => 0, 86_400_000), 300_000, 'a receiver cannot park a delivery for a day');
  t.equal(retryDelayMs(1, policy, () => 0, -5), 0, 'a negative hint is ignored');
  t.equal(retryDelayMs(1, policy, () => 0, Number.NaN), 0);
});
