// A fixed CPU workload timed before and after the measured window, so that two reports can be told
// apart by the machine's speed. On the shared 2-core machines the same run, minutes apart, spends
// up to a third more CPU per packet in every process at once — gateway, Postgres and the bench alike
// (medium at 100/s: gateway 3.87 and 5.13 ms, bench 1.19 and 1.69 ms, with nothing else running and
// no steal time) — so a CPU figure means little without the speed the machine had when it was read.
//
// The workload is a small copy of what a gateway does per packet: JSON and string building (objects,
// garbage), a regular-expression scan over base64 text, base64 decoding and SHA-256 over native
// buffers. It is timed in this process's CPU time, and the best of several rounds is kept: a round
// the scheduler interrupted is slower, never faster, than the machine.

import { createHash } from 'node:crypto';

/** The speed check's reading. */
export interface CpuSpeedReading {
  /** CPU milliseconds of the fastest round. */
  readonly bestMs: number;
  /** Rounds run. */
  readonly rounds: number;
}

/** The speed check before and after a run (what a report keeps). */
export interface CpuSpeed {
  readonly before: CpuSpeedReading;
  readonly after: CpuSpeedReading | undefined;
}

const BASE64_TEXT = Buffer.alloc(96 * 1024, 'edxgate speed check ').toString('base64');
const HASHED = Buffer.alloc(1024 * 1024, 7);
const RECORD = {
  packetId: '00000000-0000-4000-8000-000000000000',
  from: '000.00.15.H47',
  to: ['000.01.15.H47', '000.02.15.H47'],
  subject: 'Công văn về việc kiểm tra tốc độ máy',
  timings: { decode: 1.25, validate: 0.5, verify: 0.75, admit: 2.5 },
};

/** One round of the workload; returns a value derived from every part, so none can be optimised away. */
function round(): number {
  let check = 0;
  for (let i = 0; i < 2400; i++) {
    const text = JSON.stringify({ ...RECORD, index: i, note: `packet ${i} of the speed check` });
    check += (JSON.parse(text) as { index: number }).index + text.length;
  }
  for (let i = 0; i < 24; i++) check += /[^A-Za-z0-9+/=]/.exec(BASE64_TEXT) === null ? BASE64_TEXT.length : 0;
  for (let i = 0; i < 24; i++) check += Buffer.from(BASE64_TEXT, 'base64').byteLength;
  for (let i = 0; i < 48; i++) check += createHash('sha256').update(HASHED).digest()[0] ?? 0;
  return check;
}

/** Runs the workload `rounds` times and keeps the fastest. */
export function measureCpuSpeed(rounds = 7): CpuSpeedReading {
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`the speed check needs a whole number of rounds ≥ 1, not ${rounds}`);
  let bestMs = Infinity;
  let check = 0;
  for (let i = 0; i < rounds; i++) {
    const before = process.cpuUsage();
    check += round();
    const used = process.cpuUsage(before);
    bestMs = Math.min(bestMs, (used.user + used.system) / 1000);
  }
  if (check <= 0) throw new Error('the speed check computed nothing');
  return { bestMs: Math.round(bestMs * 100) / 100, rounds };
}

/** The report's line, e.g. "machine speed check: 31.2 ms of CPU before the run, 30.8 ms after (…)". */
export function describeCpuSpeed(speed: CpuSpeed | undefined): string | undefined {
  if (speed === undefined) return undefined;
  const after = speed.after === undefined ? '' : `, ${speed.after.bestMs.toFixed(1)} ms after`;
  return `machine speed check: ${speed.before.bestMs.toFixed(1)} ms of CPU before the run${after} (a fixed workload, best of ${speed.before.rounds}; compare CPU figures only between runs whose checks are close)`;
}
