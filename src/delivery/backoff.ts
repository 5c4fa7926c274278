// Retry delays: exponential backoff with full jitter — uniform in [0, min(max, base · 2^(attempt−1))].
// Full jitter spreads the retries of many deliveries that failed together (a receiver that was down
// for everyone) instead of bringing them back in synchronised waves (Brooker, "Exponential Backoff
// And Jitter", AWS Architecture Blog, 2015).

/** The retry policy: first delay ceiling and the largest delay. */
export interface RetryPolicy {
  readonly baseMs: number;
  readonly maxMs: number;
}

/** The ceiling of the delay after failed attempt `attempt` (1 for the first attempt). */
export function backoffCeilingMs(attempt: number, policy: RetryPolicy): number {
  // The exponent is capped so 2^n stays finite; the max caps the product long before that.
  const exponent = Math.min(Math.max(attempt, 1) - 1, 52);
  return Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
}

/**
 * The delay before the next attempt after failed attempt `attempt`. A receiver's own hint
 * (Retry-After) is honoured as a floor, clamped to the policy's max so a receiver cannot park a
 * delivery for a day. `random` returns [0, 1) (tests pass a fixed one).
 */
export function retryDelayMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random, hintMs?: number): number {
  const jittered = Math.floor(random() * backoffCeilingMs(attempt, policy));
  if (hintMs === undefined || !Number.isFinite(hintMs)) return jittered;
  return Math.max(jittered, Math.min(Math.max(0, Math.ceil(hintMs)), policy.maxMs));
}
