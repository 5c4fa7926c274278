// The machine speed check (bench/lib/cpu-speed.ts): a fixed workload's best CPU time, and its line.

import t from 'tap';
import { describeCpuSpeed, measureCpuSpeed } from '../../bench/lib/cpu-speed.ts';

t.test('the check reports the best of its rounds, in CPU milliseconds', async (t) => {
  const one = measureCpuSpeed(1);
  const three = measureCpuSpeed(3);
  t.equal(one.rounds, 1);
  t.equal(three.rounds, 3);
  t.ok(one.bestMs > 0 && Number.isFinite(one.bestMs), `one round took ${one.bestMs} ms of CPU`);
  // The workload does real work: a round cannot be free even on a fast machine.
  t.ok(three.bestMs >= 1, `three rounds: best ${three.bestMs} ms`);
});

t.test('rounds must be a whole number of at least one', async (t) => {
  t.throws(() => measureCpuSpeed(0), /whole number of rounds ≥ 1, not 0/);
  t.throws(() => measureCpuSpeed(1.5), /not 1\.5/);
});

t.test('the report line gives both readings, or only the first when the run ended early', async (t) => {
  t.equal(describeCpuSpeed(undefined), undefined);
  t.match(describeCpuSpeed({ before: { bestMs: 31.24, rounds: 7 }, after: { bestMs: 40.5, rounds: 7 } }), /^machine speed check: 31\.2 ms of CPU before the run, 40\.5 ms after \(a fixed workload, best of 7;/);
  t.match(describeCpuSpeed({ before: { bestMs: 31, rounds: 7 }, after: undefined }), /^machine speed check: 31\.0 ms of CPU before the run \(/);
});
