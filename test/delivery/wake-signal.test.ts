// The workers' wake-up: one wake wakes one worker, and a wake with no worker waiting is not lost.

import t from 'tap';
import { WakeSignal } from '../../src/delivery/wake-signal.ts';

t.test('a wake releases one waiter, oldest first', async (t) => {
  const signal = new WakeSignal(4);
  const order: string[] = [];
  const first = signal.wait(60_000).then((r) => order.push(`first:${r}`));
  const second = signal.wait(60_000).then((r) => order.push(`second:${r}`));
  signal.wakeOne();
  await first;
  t.same(order, ['first:woken'], 'only the longest-waiting worker woke');
  signal.wakeOne();
  await second;
  t.same(order, ['first:woken', 'second:woken']);
  t.equal(signal.permits, 0, 'both wakes were consumed by waiters');
});

t.test('a wake with nobody waiting is kept for the next wait, up to the cap', async (t) => {
  const signal = new WakeSignal(2);
  signal.wakeOne();
  signal.wakeOne();
  signal.wakeOne();
  t.equal(signal.permits, 2, 'capped at maxPermits');
  t.equal(await signal.wait(60_000), 'woken', 'a wake before the wait is not lost');
  t.equal(await signal.wait(60_000), 'woken');
  t.equal(await signal.wait(1), 'timeout', 'no permit left: the timeout');
});

t.test('wakeAll releases every waiter and fills the permits', async (t) => {
  const signal = new WakeSignal(3);
  const all = Promise.all([signal.wait(60_000), signal.wait(60_000), signal.wait(60_000)]);
  signal.wakeAll();
  t.same(await all, ['woken', 'woken', 'woken']);
  t.equal(signal.permits, 3);
});

t.test('a waiter that timed out is not woken later, and does not swallow a wake', async (t) => {
  const signal = new WakeSignal(1);
  t.equal(await signal.wait(1), 'timeout');
  signal.wakeOne();
  t.equal(signal.permits, 1, 'the wake went to a permit, not to the stale waiter');
});
