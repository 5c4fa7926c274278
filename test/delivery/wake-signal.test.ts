// The workers' wake-up: a wake between reading the generation and waiting is not lost.

import t from 'tap';
import { WakeSignal } from '../../src/delivery/wake-signal.ts';

t.test('wait resolves on wake, or at once if a wake already happened', async (t) => {
  const signal = new WakeSignal();
  const since = signal.generation;
  const waiting = signal.wait(since, 60_000);
  signal.wake();
  t.equal(await waiting, 'woken');
  t.equal(await signal.wait(since, 60_000), 'woken', 'a wake after `since` is not lost');
  t.equal(await signal.wait(signal.generation, 1), 'timeout', 'no wake: the timeout');
});

t.test('one wake releases every waiter', async (t) => {
  const signal = new WakeSignal();
  const since = signal.generation;
  const all = Promise.all([signal.wait(since, 60_000), signal.wait(since, 60_000), signal.wait(since, 60_000)]);
  signal.wake();
  t.same(await all, ['woken', 'woken', 'woken']);
});
