// Webhook signatures (docs/webhooks.md): HMAC-SHA256 with the route's secret over
// `<unix seconds>.` followed by the exact body bytes, sent as `Edxgate-Signature: t=<unix>,v1=<hex>`.
// The timestamp is inside the MAC so a captured request cannot be replayed outside the tolerance;
// `v1=` leaves room for a later scheme, and several `v1=` entries are accepted so a receiver can
// verify across a secret rotation.

import { createHmac, timingSafeEqual } from 'node:crypto';

/** Header carrying `t=<unix seconds>,v1=<hex HMAC-SHA256>`. */
export const SIGNATURE_HEADER = 'Edxgate-Signature';
/** Header carrying the signing time in unix seconds (the same value as the signature's `t=`). */
export const TIMESTAMP_HEADER = 'Edxgate-Timestamp';

/** The hex HMAC-SHA256 of `${timestampSec}.` + body. The body is fed as is: no copy of a 67 MB packet. */
export function webhookDigest(body: Uint8Array | string, secret: string | Uint8Array, timestampSec: number): string {
  return createHmac('sha256', secret).update(`${timestampSec}.`).update(body).digest('hex');
}

/** The `Edxgate-Signature` value for a body signed at `timestampSec`. */
export function signWebhook(body: Uint8Array, secret: string | Uint8Array, timestampSec: number): string {
  return `t=${timestampSec},v1=${webhookDigest(body, secret, timestampSec)}`;
}

/** Request headers as node:http gives them (lower-case keys), or a fetch `Headers`. */
export type HeaderSource =
  | Readonly<Record<string, string | readonly string[] | undefined>>
  | { get(name: string): string | null };

/** Why a signature was refused, or the signing time of a good one. */
export type WebhookVerification =
  | { readonly ok: true; readonly timestampSec: number }
  | { readonly ok: false; readonly reason: 'missing' | 'malformed' | 'expired' | 'mismatch' };

const TIMESTAMP = /^\d{1,12}$/;
const HEX_SHA256 = /^[0-9a-f]{64}$/i;

/**
 * Checks an edxgate webhook request: the signature header parses, its time is within `toleranceSec`
 * of `now`, and one of its `v1` digests matches the body under `secret` (compared in constant time).
 * Pass the raw body bytes exactly as received, before any XML parsing or re-encoding.
 */
export function verifyWebhookSignature(
  headers: HeaderSource,
  body: Uint8Array | string,
  secret: string | Uint8Array,
  toleranceSec: number,
  now: Date = new Date(),
): WebhookVerification {
  const value = headerValue(headers, SIGNATURE_HEADER);
  if (value === undefined) return { ok: false, reason: 'missing' };
  let timestamp: string | undefined;
  const candidates: Buffer[] = [];
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) return { ok: false, reason: 'malformed' };
    const key = part.slice(0, eq).trim();
    const val = part.slice(eq + 1).trim();
    if (key === 't') {
      if (timestamp !== undefined || !TIMESTAMP.test(val)) return { ok: false, reason: 'malformed' };
      timestamp = val;
    } else if (key === 'v1') {
      if (!HEX_SHA256.test(val)) return { ok: false, reason: 'malformed' };
      candidates.push(Buffer.from(val, 'hex'));
    }
    // Other keys belong to schemes this verifier does not know; they are ignored, not refused.
  }
  if (timestamp === undefined || candidates.length === 0) return { ok: false, reason: 'malformed' };
  const timestampSec = Number(timestamp);
  if (!(toleranceSec >= 0) || Math.abs(now.getTime() / 1000 - timestampSec) > toleranceSec) {
    return { ok: false, reason: 'expired' };
  }
  const expected = Buffer.from(webhookDigest(body, secret, timestampSec), 'hex');
  // Every candidate is compared, so the time taken does not tell which one (or whether any) matched.
  let matched = false;
  for (const candidate of candidates) matched = timingSafeEqual(candidate, expected) || matched;
  return matched ? { ok: true, timestampSec } : { ok: false, reason: 'mismatch' };
}

function headerValue(headers: HeaderSource, name: string): string | undefined {
  if (typeof headers.get === 'function') return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  const record = headers as Readonly<Record<string, string | readonly string[] | undefined>>;
  const raw = record[name.toLowerCase()] ?? record[name];
  if (typeof raw === 'string') return raw;
  // A repeated signature header is ambiguous; refusing it beats guessing which one was meant.
  return raw !== undefined && raw.length === 1 ? raw[0] : undefined;
}
