// The per-route circuit breaker: opens after K consecutive failures, rejects during the cooldown,
// lets one trial through when half-open, and closes on success or re-opens on failure.

import t from 'tap';
import { CircuitBreaker } from '../../src/delivery/circuit-breaker.ts';
import type { CircuitState } from '../../src/delivery/circuit-breaker.ts';

function breaker(threshold = 3, cooldownMs = 1000): { b: CircuitBreaker; clock: { now: number }; changes: string[] } {
  const clock = { now: 0 };
  const changes: string[] = [];
  const b = new CircuitBreaker({
    failureThreshold: threshold,
    cooldownMs,
    now: () => clock.now,
    onStateChange: (from: CircuitState, to: CircuitState) => changes.push(`${from}->${to}`),
  });
  return { b, clock, changes };
}

t.test('opens after K consecutive failures, not before', async (t) => {
  const { b, changes } = breaker(3);
  b.failure();
  b.failure();
  t.equal(b.state, 'closed');
  t.same(b.acquire(), { allowed: true, trial: false });
  b.failure();
  t.equal(b.state, 'open');
  t.same(changes, ['closed->open']);
});

t.test('a success resets the count of consecutive failures', async (t) => {
  const { b } = breaker(3);
  b.failure();
  b.failure();
  b.success();
  b.failure();
  b.failure();
  t.equal(b.state, 'closed');
  t.equal(b.consecutiveFailures, 2);
});

t.test('open: calls are refused with the time left; half-open after the cooldown; one trial at a time', async (t) => {
  const { b, clock, changes } = breaker(1, 1000);
  b.failure();
  clock.now = 400;
  t.same(b.acquire(), { allowed: false, retryInMs: 600 });
  clock.now = 1000;
  t.equal(b.state, 'half-open');
  t.same(b.acquire(), { allowed: true, trial: true }, 'the trial');
  const second = b.acquire();
  t.equal(second.allowed, false, 'no second call while the trial runs');
  b.success();
  t.equal(b.state, 'closed');
  t.same(changes, ['closed->open', 'open->half-open', 'half-open->closed']);
});

t.test('a failed trial re-opens for a full cooldown', async (t) => {
  const { b, clock } = breaker(2, 1000);
  b.failure();
  b.failure();
  clock.now = 1500;
  t.same(b.acquire(), { allowed: true, trial: true });
  b.failure();
  t.equal(b.state, 'open');
  t.same(b.acquire(), { allowed: false, retryInMs: 1000 }, 'counted from the failed trial');
  clock.now = 2500;
  t.equal(b.state, 'half-open');
});

t.test('a released trial frees the slot without changing the state', async (t) => {
  const { b, clock } = breaker(1, 10);
  b.failure();
  clock.now = 10;
  t.same(b.acquire(), { allowed: true, trial: true });
  b.release();
  t.equal(b.state, 'half-open');
  t.same(b.acquire(), { allowed: true, trial: true }, 'another trial may go');
});
