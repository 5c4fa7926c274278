// Saturation: the highest arrival rate a server sustains. A ramp of fixed-rate open-loop steps:
// the rate grows by a factor while steps hold, then bisects between the best step that held and
// the first that did not. A step holds when nothing failed, the server completed what was offered
// in the step's own span (it did not fall behind) and the p99 stayed within the limit; a step in
// which the load generator itself fell behind its schedule cannot say anything about the server,
// so the ramp stops there and says the generator was the limit. Pure: the runner measures, this decides.

import type { PhaseSummary } from './phase-summary.ts';

/** The ramp's settings. */
export interface RampOptions {
  readonly startRate: number;
  /** Growth per step while steps hold (e.g. 1.5). */
  readonly factor: number;
  readonly maxRate: number;
  /** Bisection steps after the first step that did not hold. */
  readonly refinements: number;
}

/** What a step needs to hold. */
export interface StepLimits {
  readonly p99LimitMs: number;
  /** Least share of the offered packets completed inside the step's span (default 0.95). */
  readonly minCompletedShare?: number;
  /** Largest generator lag p99 (ms) at which the step still measures the server (default 50). */
  readonly maxGeneratorLagMs?: number;
}

/** A step's verdict. */
export interface StepVerdict {
  readonly sustained: boolean;
  /** Why not, in words, e.g. "p99 312 ms > 250 ms". */
  readonly reasons: readonly string[];
  /** The generator fell behind its own schedule: the step says nothing about the server. */
  readonly generatorBound: boolean;
}

/** A tried rate and its verdict. */
export interface StepOutcome {
  readonly rate: number;
  readonly verdict: StepVerdict;
}

/** Judges a step from its summary. */
export function judgeStep(summary: PhaseSummary, limits: StepLimits): StepVerdict {
  const reasons: string[] = [];
  if (summary.failed > 0) reasons.push(`${summary.failed} failed (${Object.entries(summary.failures).map(([k, n]) => `${k}: ${n}`).join(', ')})`);
  const share = summary.offeredPerSecond > 0 ? summary.completedPerSecond / summary.offeredPerSecond : 0;
  const minShare = limits.minCompletedShare ?? 0.95;
  if (share < minShare) reasons.push(`completed ${summary.completedPerSecond.toFixed(1)}/s of ${summary.offeredPerSecond.toFixed(1)}/s offered (< ${Math.round(minShare * 100)} %)`);
  if (summary.missing > 0) reasons.push(`${summary.missing} never completed`);
  if (!(summary.endToEnd.p99 <= limits.p99LimitMs)) reasons.push(`p99 ${Math.round(summary.endToEnd.p99)} ms > ${limits.p99LimitMs} ms`);
  const lagLimit = limits.maxGeneratorLagMs ?? 50;
  const generatorBound = summary.generatorLag.p99 > lagLimit;
  if (generatorBound) reasons.push(`generator lag p99 ${Math.round(summary.generatorLag.p99)} ms > ${lagLimit} ms`);
  return { sustained: reasons.length === 0, reasons, generatorBound };
}

/** A rate worth printing: whole packets per second from 10/s up, tenths below. */
export function roundRate(rate: number): number {
  return rate >= 10 ? Math.round(rate) : Math.max(0.1, Math.round(rate * 10) / 10);
}

/** The next rate to try after `history`, or undefined when the ramp is done. */
export function nextRate(history: readonly StepOutcome[], options: RampOptions): number | undefined {
  const last = history[history.length - 1];
  if (last === undefined) return roundRate(Math.min(options.startRate, options.maxRate));
  if (!last.verdict.sustained && last.verdict.generatorBound) return undefined;
  const failed = history.filter((s) => !s.verdict.sustained);
  if (failed.length === 0) {
    if (last.rate >= options.maxRate) return undefined;
    return roundRate(Math.min(options.maxRate, Math.max(last.rate * options.factor, last.rate + 1)));
  }
  const hi = Math.min(...failed.map((s) => s.rate));
  const below = history.filter((s) => s.verdict.sustained && s.rate < hi).map((s) => s.rate);
  const lo = below.length === 0 ? 0 : Math.max(...below);
  const firstFailure = history.findIndex((s) => !s.verdict.sustained);
  if (history.length - 1 - firstFailure >= options.refinements) return undefined;
  if (lo > 0 && hi / lo <= 1.05) return undefined;
  const next = roundRate((lo + hi) / 2);
  return history.some((s) => s.rate === next) || next <= 0 ? undefined : next;
}

/** What the ramp found. */
export interface RampResult {
  /** Highest rate that held below every rate that did not (undefined: none held). */
  readonly maxSustainedRate: number | undefined;
  /** What stopped the ramp. */
  readonly limitedBy: 'server' | 'generator' | 'max-rate';
}

/** Reads the ramp's outcome from its history. */
export function rampResult(history: readonly StepOutcome[], options: Pick<RampOptions, 'maxRate'>): RampResult {
  const failed = history.filter((s) => !s.verdict.sustained);
  const hi = failed.length === 0 ? Number.POSITIVE_INFINITY : Math.min(...failed.map((s) => s.rate));
  const held = history.filter((s) => s.verdict.sustained && s.rate < hi).map((s) => s.rate);
  const maxSustainedRate = held.length === 0 ? undefined : Math.max(...held);
  const generator = failed.some((s) => s.verdict.generatorBound && s.rate === hi);
  const limitedBy = failed.length === 0 && (maxSustainedRate ?? 0) >= options.maxRate ? 'max-rate' : generator ? 'generator' : 'server';
  return { maxSustainedRate, limitedBy };
}
