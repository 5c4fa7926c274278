// The open-loop load generator: packet i of a stream is fired at `start + i / rate` whether or not
// earlier sends were answered, and every latency counts from that scheduled time. A stalled server
// therefore shows as latency instead of as a slower generator (no coordinated omission); how late
// the generator itself fired is kept too (`sentMs - scheduledMs`), so a run that measured its own
// generator can say so.
//
// A phase runs one or more streams at once (urgent-under-load: ordinary and urgent packets side by
// side), each with its own rate, numbering and number of recipients that must receive a packet.

import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

/** One packet's fate, filled in as its answer and its arrivals come in. */
export interface Sample {
  readonly index: number;
  readonly stream: string;
  readonly scheduledMs: number;
  readonly sentMs: number;
  answeredMs: number;
  status: number | 'error';
  /** Recipients that must receive it; 0 when the answer is the end (a ceiling). */
  readonly expected: number;
  /** The first arrival time of each recipient, in arrival order. */
  readonly arrivals: number[];
  /** Recipients seen so far (parallel to `arrivals`). */
  readonly recipients: Set<string>;
  /** Arrivals for a recipient that had it already (redeliveries). */
  duplicates: number;
}

/** Records that `recipient` received `sample` at `atMs`; a second arrival counts as a duplicate. */
export function recordArrival(sample: Sample, recipient: string, atMs: number): void {
  if (sample.recipients.has(recipient)) {
    sample.duplicates++;
    return;
  }
  sample.recipients.add(recipient);
  sample.arrivals.push(atMs);
}

/** When the sample was done: every expected recipient has it (or, expecting none, its answer came). */
export function completedAt(sample: Sample): number | undefined {
  if (sample.expected === 0) return Number.isNaN(sample.answeredMs) ? undefined : sample.answeredMs;
  return sample.arrivals.length >= sample.expected ? sample.arrivals[sample.arrivals.length - 1] : undefined;
}

/** A stream of one phase. */
export interface Stream {
  readonly name: string;
  /** Packets per second. */
  readonly rate: number;
  /** Index of its first packet (streams and phases number in their own ranges). */
  readonly offset: number;
  /** Recipients per packet (0: the answer is the end). */
  readonly expected: number;
  /** Sends packet `index`; resolves with the HTTP status, or 'error' when no answer came. */
  send(index: number): Promise<number | 'error'>;
}

/** What a phase produced. */
export interface PhaseResult {
  readonly samples: readonly Sample[];
  /** The schedule's length: `seconds` of the phase. */
  readonly seconds: number;
  readonly startedMs: number;
  /** When the last scheduled send was fired (the schedule's span ends here). */
  readonly scheduleEndMs: number;
  /** Answered with one of these statuses = accepted. */
  readonly okStatuses: readonly number[];
}

/** Options of runPhase. */
export interface PhaseOptions {
  readonly seconds: number;
  readonly streams: readonly Stream[];
  /** Statuses that mean accepted (202 for the gateway, 200 for a webhook). */
  readonly okStatuses: readonly number[];
  /**
   * Where samples are registered the moment they are sent, by index — arrivals look them up there,
   * and a packet may arrive before its own answer has been read.
   */
  readonly registry?: Map<number, Sample>;
  readonly log?: (line: string) => void;
}

/** Fires `fire(i, scheduledMs)` for i < count at `start + i / rate`, never waiting for earlier calls. */
export async function openLoop(rate: number, count: number, start: number, fire: (i: number, scheduledMs: number) => void): Promise<void> {
  const interval = 1000 / rate;
  for (let i = 0; i < count; i++) {
    const at = start + i * interval;
    for (let wait = at - performance.now(); wait > 0; wait = at - performance.now()) await sleep(Math.ceil(wait));
    fire(i, at);
  }
}

/** Runs the streams of a phase for `seconds` and waits for every send to be answered (not for arrivals). */
export async function runPhase(options: PhaseOptions): Promise<PhaseResult> {
  const samples: Sample[] = [];
  const answers: Promise<void>[] = [];
  const start = performance.now() + 2;
  let lastProgress = start;
  const total = options.streams.reduce((n, s) => n + Math.round(options.seconds * s.rate), 0);
  await Promise.all(
    options.streams.map((stream) =>
      openLoop(stream.rate, Math.round(options.seconds * stream.rate), start, (k, scheduledMs) => {
        const index = stream.offset + k;
        const sample: Sample = {
          index,
          stream: stream.name,
          scheduledMs,
          sentMs: performance.now(),
          answeredMs: Number.NaN,
          status: 'error',
          expected: stream.expected,
          arrivals: [],
          recipients: new Set(),
          duplicates: 0,
        };
        samples.push(sample);
        options.registry?.set(index, sample);
        answers.push(
          stream.send(index).then((status) => {
            sample.status = status;
            sample.answeredMs = performance.now();
          }),
        );
        if (options.log !== undefined && sample.sentMs - lastProgress > 5000) {
          lastProgress = sample.sentMs;
          options.log(`  … ${samples.length}/${total} sent`);
        }
      }),
    ),
  );
  const scheduleEndMs = performance.now();
  await Promise.all(answers);
  // The phase lasts its nominal seconds even when its last send is earlier (at 0.5/s for 2 s, the
  // one packet goes at 0 s): the CPU window around it then covers the span its rates are over.
  const nominalEnd = start + options.seconds * 1000;
  for (let wait = nominalEnd - performance.now(); wait > 0; wait = nominalEnd - performance.now()) await sleep(Math.ceil(wait));
  return { samples, seconds: options.seconds, startedMs: start, scheduleEndMs, okStatuses: options.okStatuses };
}

/** Resolves once every accepted sample is complete, or after `timeoutMs`; returns how many are not. */
export async function drain(result: PhaseResult, timeoutMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  const pending = (): number =>
    result.samples.filter((s) => typeof s.status === 'number' && result.okStatuses.includes(s.status) && completedAt(s) === undefined).length;
  let left = pending();
  while (left > 0 && performance.now() < deadline) {
    await sleep(20);
    left = pending();
  }
  return left;
}
