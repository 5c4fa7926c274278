// What a phase's samples add up to: counts, latency summaries from the scheduled send, throughput
// over the schedule's span, and a per-second breakdown that tells a steady tail from a burst.
// Pure: everything comes from the samples, so tests can build them by hand.

import { completedAt } from './open-loop.ts';
import type { PhaseResult, Sample } from './open-loop.ts';
import { summarize } from './stats.ts';
import type { LatencySummary } from './stats.ts';

/** One second of the schedule: end-to-end p50, p99 and max (ms) of the packets scheduled in it. */
export interface SecondSummary {
  readonly second: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** The figures of one phase (or one stream of it). */
export interface PhaseSummary {
  readonly sent: number;
  /** Answered with an accepted status. */
  readonly accepted: number;
  /** Not accepted: refused, failed or unanswered. */
  readonly failed: number;
  /** Failures by status ("503", "error", …). */
  readonly failures: Readonly<Record<string, number>>;
  /** Accepted and received by every recipient. */
  readonly completed: number;
  /** Accepted but not received by every recipient by the end of the drain. */
  readonly missing: number;
  /** Samples some recipient received more than once. */
  readonly redelivered: number;
  /** scheduled send → received by the last recipient (or, without recipients, → answer), ms. */
  readonly endToEnd: LatencySummary;
  /** scheduled send → each single recipient's receipt, ms (differs from endToEnd with several recipients). */
  readonly perDelivery: LatencySummary;
  /** scheduled send → HTTP answer, ms. */
  readonly answer: LatencySummary;
  /** actual send − scheduled send, ms: how late the generator itself was. */
  readonly generatorLag: LatencySummary;
  /** Sent per second of the schedule. */
  readonly offeredPerSecond: number;
  /** Completions inside the schedule's span, per second: below the offered rate, the server fell behind. */
  readonly completedPerSecond: number;
  /**
   * Completions per second from the schedule's start to the last completion, the drain included:
   * the rate the server actually served the phase's work at (at low rates and long latencies the
   * in-span figure undercounts: the last packets complete after the span).
   */
  readonly servedPerSecond: number;
  readonly perSecond: readonly SecondSummary[];
}

const round1 = (value: number): number => Math.round(value * 10) / 10;

/** Summarises the samples of `result` that `include` keeps (default: all). */
export function summarizePhase(result: PhaseResult, include: (sample: Sample) => boolean = () => true): PhaseSummary {
  const all = result.samples.filter(include);
  const accepted = all.filter((s) => typeof s.status === 'number' && result.okStatuses.includes(s.status));
  const acceptedSet = new Set(accepted);
  const failures: Record<string, number> = {};
  for (const s of all) {
    if (acceptedSet.has(s)) continue;
    const key = String(s.status);
    failures[key] = (failures[key] ?? 0) + 1;
  }
  const done = accepted.flatMap((s) => {
    const at = completedAt(s);
    return at === undefined ? [] : [{ sample: s, at }];
  });
  // The nominal span (count = seconds × rate): the time from the first to the last send is one
  // interval shorter, which overstates the rate at 1 packet/s by the whole of one packet.
  const spanS = Math.max(1e-3, result.seconds);
  const spanEnd = result.startedMs + spanS * 1000;
  const inSpan = done.filter(({ at }) => at >= result.startedMs && at <= spanEnd).length;
  const lastDone = done.reduce((m, { at }) => Math.max(m, at), result.startedMs);
  const bySecond = new Map<number, number[]>();
  for (const { sample, at } of done) {
    const second = Math.floor((sample.scheduledMs - result.startedMs) / 1000);
    const list = bySecond.get(second) ?? [];
    list.push(at - sample.scheduledMs);
    bySecond.set(second, list);
  }
  const perSecond = [...bySecond]
    .sort(([a], [b]) => a - b)
    .map(([second, list]) => {
      const s = summarize(list);
      return { second, p50: round1(s.p50), p99: round1(s.p99), max: round1(s.max) };
    });
  return {
    sent: all.length,
    accepted: accepted.length,
    failed: all.length - accepted.length,
    failures,
    completed: done.length,
    missing: accepted.length - done.length,
    redelivered: all.filter((s) => s.duplicates > 0).length,
    endToEnd: summarize(done.map(({ sample, at }) => at - sample.scheduledMs)),
    perDelivery: summarize(accepted.flatMap((s) => (s.expected === 0 ? [] : s.arrivals.map((at) => at - s.scheduledMs)))),
    answer: summarize(all.filter((s) => !Number.isNaN(s.answeredMs)).map((s) => s.answeredMs - s.scheduledMs)),
    generatorLag: summarize(all.map((s) => s.sentMs - s.scheduledMs)),
    offeredPerSecond: all.length / spanS,
    completedPerSecond: inSpan / spanS,
    servedPerSecond: done.length === 0 ? 0 : done.length / Math.max(spanS, (lastDone - result.startedMs) / 1000),
    perSecond,
  };
}
