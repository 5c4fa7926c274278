// Retry-After (RFC 9110 §10.2.3): either delay-seconds or an HTTP-date.

/** Milliseconds to wait according to a Retry-After value, or undefined when absent or unreadable. */
export function parseRetryAfter(value: string | readonly string[] | undefined, now: Date): number | undefined {
  const raw = typeof value === 'string' ? value : value?.[0];
  if (raw === undefined) return undefined;
  const text = raw.trim();
  if (/^\d+$/.test(text)) {
    const ms = Number(text) * 1000;
    return Number.isSafeInteger(ms) ? ms : undefined;
  }
  // Date.parse accepts far more than an IMF-fixdate; requiring a weekday-comma form keeps a bare
  // number with a unit or other junk from being read as a date.
  if (!/^[A-Za-z]{3}, /.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  // A date in the past means "now"; a receiver's clock skew must not become a negative delay.
  return Math.max(0, at - now.getTime());
}
