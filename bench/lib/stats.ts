// Percentiles and summaries of latency samples (nearest rank on the sorted samples: with thousands
// of samples per run the choice of interpolation does not show in the reported digits).

/** Summary of a set of millisecond samples. */
export interface LatencySummary {
  readonly count: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

/** The nearest-rank percentile `p` (0..100) of ascending `sorted`; NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  // (p / 100) * n is not exact in floating point: 99.9 / 100 * 1000 = 999.0000000000001, whose
  // ceiling, 1000, would make p99.9 of 1,000 samples their maximum. The epsilon absorbs that noise.
  const rank = Math.ceil((p * sorted.length) / 100 - 1e-9);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] ?? Number.NaN;
}

/** count, mean, p50/p90/p99/p99.9 and max of `samples`. */
export function summarize(samples: readonly number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    count: sorted.length,
    mean: sorted.length === 0 ? Number.NaN : sum / sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    p999: percentile(sorted, 99.9),
    max: sorted.length === 0 ? Number.NaN : (sorted[sorted.length - 1] ?? Number.NaN),
  };
}

/** A millisecond figure for a table: one decimal below 100 ms, none above. */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return '–';
  return value < 100 ? value.toFixed(1) : value.toFixed(0);
}
