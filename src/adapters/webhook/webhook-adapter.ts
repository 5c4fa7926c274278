// The webhook adapter: POSTs the packet bytes, signed, to the route's URL (docs/webhooks.md).
//
// Every way the recipient or the network can fail becomes a result, so the delivery layer alone
// decides about backoff and the dead letter. The body is the admitted Buffer itself, handed to undici
// as is: a packet can be 67 MB (a 50 MB attachment in base64), and a second copy per attempt would
// double the gateway's peak memory (DESIGN, large attachments).

import { Pool, request, type Dispatcher } from 'undici';
import { EdxError } from '../../errors.ts';
import {
  closedAdapterError,
  notRunning,
  type Adapter,
  type AdapterDeps,
  type AdapterHealth,
  type DeliveryRequest,
  type DeliveryResult,
  type DeliveryRetry,
  type RouteConfig,
} from '../contract.ts';
import { parseRetryAfter } from './retry-after.ts';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, signWebhook } from './signature.ts';

/** Tuning of the webhook adapter; the defaults suit the 5-second budget. */
export interface WebhookOptions {
  /** Least time an attempt gets when only a sliver of the budget is left. */
  readonly minTimeoutMs?: number | undefined;
  /**
   * Time an attempt gets once the deadline has passed. The budget is already missed, so what matters
   * now is that the attempt can succeed: a short timeout here fails every retry (and every half-open
   * trial of the route's circuit) against a far side that is merely slow, and the route never recovers.
   */
  readonly lateTimeoutMs?: number | undefined;
  /**
   * Slowest upload rate an attempt is allowed: the body always gets `bytes / rate` to travel. Without it
   * a 67 MB packet, which no link below about 110 Mbit/s can move in 5 s, would time out on every retry.
   */
  readonly minUploadBytesPerSec?: number | undefined;
}

/** Default least time per attempt. */
export const DEFAULT_MIN_TIMEOUT_MS = 250;
/** Default time of an attempt made after the deadline: one whole budget. */
export const DEFAULT_LATE_TIMEOUT_MS = 5000;
/** Default slowest upload rate allowed: 1 MiB/s, about 8 Mbit/s. */
export const DEFAULT_MIN_UPLOAD_BYTES_PER_SEC = 1024 * 1024;

/**
 * Timeout of one attempt: the budget left until the deadline, never below what a real try needs;
 * once the deadline has passed, a whole late-attempt timeout.
 */
export function deliveryTimeoutMs(deadline: Date, now: Date, bodyBytes: number, options: WebhookOptions = {}): number {
  const minTimeout = options.minTimeoutMs ?? DEFAULT_MIN_TIMEOUT_MS;
  const lateTimeout = options.lateTimeoutMs ?? DEFAULT_LATE_TIMEOUT_MS;
  const rate = options.minUploadBytesPerSec ?? DEFAULT_MIN_UPLOAD_BYTES_PER_SEC;
  const travelMs = Math.ceil((bodyBytes * 1000) / rate);
  const leftMs = deadline.getTime() - now.getTime();
  if (leftMs <= 0) return Math.max(lateTimeout, travelMs);
  return Math.max(leftMs, minTimeout, travelMs);
}

/** Header names of a webhook request (besides the signature and timestamp, see signature.ts). */
export const WEBHOOK_HEADERS = {
  deliveryId: 'Edxgate-Delivery-Id',
  packetId: 'Edxgate-Packet-Id',
  documentId: 'Edxgate-Document-Id',
  kind: 'Edxgate-Kind',
  sender: 'Edxgate-Sender',
  recipient: 'Edxgate-Recipient',
  attempt: 'Edxgate-Attempt',
} as const;

/** Statuses that say "not now" rather than "never" (RFC 9110, RFC 8470 for 425, RFC 6585 for 429). */
const TRANSIENT_STATUSES: ReadonlySet<number> = new Set([408, 425, 429]);
/** How much of a refusal's body is kept for the delivery's last error. */
const EXCERPT_BYTES = 512;
const EXCERPT_CHARS = 200;
/** How much of a 2xx body is read (and dropped) so the connection can be reused. */
const DUMP_LIMIT_BYTES = 64 * 1024;

/** Adapter for routes whose recipient receives packets as signed HTTP POSTs. */
export class WebhookAdapter implements Adapter {
  readonly kind = 'webhook';
  readonly #routeId: string;
  readonly #url: URL;
  readonly #secret: string;
  readonly #deps: AdapterDeps;
  readonly #options: WebhookOptions;
  readonly #inFlight = new Set<Promise<DeliveryResult>>();
  #state: 'new' | 'started' | 'closed' = 'new';
  /** Built at start when the gateway shares no dispatcher; then this adapter owns and closes it. */
  #ownPool: Pool | undefined;
  #last: { readonly at: Date; readonly summary: string } | undefined;

  /** Validates the route; throws EDX_ERR_ADAPTER_ROUTE_INVALID when the URL or the secret is unusable. */
  constructor(route: RouteConfig, deps: AdapterDeps, options: WebhookOptions = {}) {
    this.#routeId = route.id;
    this.#url = webhookUrl(route);
    if (route.secret === undefined || route.secret === '') {
      // Unsigned pushes would let anyone who learns the URL inject official documents.
      throw new EdxError('EDX_ERR_ADAPTER_ROUTE_INVALID', `route ${route.id}: a webhook route needs a signing secret`);
    }
    this.#secret = route.secret;
    this.#deps = deps;
    this.#options = options;
  }

  /** Builds the keep-alive pool for the route's origin unless a dispatcher was given. */
  async start(): Promise<void> {
    if (this.#state === 'closed') throw closedAdapterError(this.kind);
    if (this.#state === 'started') return;
    // undici keeps connections alive by default and honours the receiver's Keep-Alive hint.
    if (this.#deps.http === undefined) this.#ownPool = new Pool(this.#url.origin);
    this.#state = 'started';
  }

  /** POSTs the packet once; a result for every HTTP or network outcome. */
  async deliver(req: DeliveryRequest): Promise<DeliveryResult> {
    if (this.#state !== 'started') return notRunning(this.kind, this.#state);
    const attempt = this.#attempt(req);
    this.#inFlight.add(attempt);
    try {
      const result = await attempt;
      this.#last = { at: this.#deps.clock(), summary: summarize(result) };
      return result;
    } finally {
      this.#inFlight.delete(attempt);
    }
  }

  /** Running or not, with the last attempt's outcome; it never calls the receiver. */
  async health(): Promise<AdapterHealth> {
    if (this.#state !== 'started') {
      return { ok: false, detail: this.#state === 'new' ? 'webhook adapter not started' : 'webhook adapter closed' };
    }
    // A receiver that is down is the delivery layer's business (retries, circuit breaker), not a
    // sign that this gateway is unhealthy; it shows in the detail only.
    return { ok: true, detail: this.#last ? `last attempt ${this.#last.at.toISOString()}: ${this.#last.summary}` : 'no attempt yet' };
  }

  /** Refuses new deliveries, waits for the in-flight ones (each bounded by its timeout), closes the own pool. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    await Promise.allSettled([...this.#inFlight]);
    const pool = this.#ownPool;
    this.#ownPool = undefined;
    await pool?.close();
  }

  async #attempt(req: DeliveryRequest): Promise<DeliveryResult> {
    const now = this.#deps.clock();
    const timeoutMs = deliveryTimeoutMs(req.deadline, now, req.edxml.byteLength, this.#options);
    const timestampSec = Math.floor(now.getTime() / 1000);
    const headers: Record<string, string> = {
      'content-type': 'application/xml; charset=utf-8',
      'user-agent': 'edxgate',
      [WEBHOOK_HEADERS.deliveryId]: headerSafe(req.deliveryId),
      [WEBHOOK_HEADERS.packetId]: headerSafe(req.packetId),
      [WEBHOOK_HEADERS.documentId]: headerSafe(req.documentId),
      [WEBHOOK_HEADERS.kind]: req.kind,
      [WEBHOOK_HEADERS.sender]: headerSafe(req.sender),
      [WEBHOOK_HEADERS.recipient]: headerSafe(req.recipient),
      [WEBHOOK_HEADERS.attempt]: String(req.attempt),
      [TIMESTAMP_HEADER]: String(timestampSec),
      [SIGNATURE_HEADER]: signWebhook(req.edxml, this.#secret, timestampSec),
    };
    const log = this.#deps.logger.child({ route: this.#routeId, deliveryId: req.deliveryId, packetId: req.packetId });
    // headersTimeout and bodyTimeout are idle timers (undici refreshes them while bytes move), so the
    // abort signal is what holds the attempt as a whole to its timeout.
    const dispatcher = this.#dispatcher();
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      const response = await request(this.#url, {
        dispatcher,
        method: 'POST',
        headers,
        body: req.edxml,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: controller.signal,
      });
      const result = await judge(response, this.#deps.clock());
      log.debug({ status: response.statusCode, outcome: result.outcome, timeoutMs }, 'webhook answered');
      return result;
    } catch (error) {
      if (isBug(error)) throw error;
      const result = failure(error, controller.signal.aborted, timeoutMs);
      log.debug({ code: result.code, reason: result.reason, timeoutMs }, 'webhook attempt failed');
      return result;
    } finally {
      clearTimeout(timer);
    }
  }

  #dispatcher(): Dispatcher {
    const dispatcher = this.#deps.http ?? this.#ownPool;
    // start() sets one or the other before the state becomes 'started'; deliver() checks the state.
    if (dispatcher === undefined) throw new Error('webhook adapter delivering without a dispatcher');
    return dispatcher;
  }
}

function webhookUrl(route: RouteConfig): URL {
  const invalid = (why: string): EdxError =>
    new EdxError('EDX_ERR_ADAPTER_ROUTE_INVALID', `route ${route.id}: ${why}`);
  if (route.url === undefined || route.url === '') throw invalid('a webhook route needs a URL');
  let url: URL;
  try {
    url = new URL(route.url);
  } catch {
    throw invalid('the URL is not an absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid('the URL must be http:// or https://');
  // Credentials in the URL would end up in logs and error messages; the secret authenticates instead.
  if (url.username !== '' || url.password !== '') throw invalid('the URL must not carry credentials');
  return url;
}

/** Turns an answer into a result, always consuming or discarding the body so the connection is freed. */
async function judge(response: Dispatcher.ResponseData, now: Date): Promise<DeliveryResult> {
  const status = response.statusCode;
  if (status >= 200 && status < 300) {
    // The status is the receipt; the body only has to be drained (or the socket dropped) for reuse.
    await response.body.dump({ limit: DUMP_LIMIT_BYTES }).catch(() => undefined);
    return { outcome: 'accepted', detail: `HTTP ${status}` };
  }
  const excerpt = await bodyExcerpt(response.body);
  const reason = `HTTP ${status}${excerpt === '' ? '' : `: ${excerpt}`}`;
  if (status >= 500 || TRANSIENT_STATUSES.has(status)) {
    const retryAfterMs = parseRetryAfter(response.headers['retry-after'], now);
    return { outcome: 'retry', code: 'EDX_ERR_DELIVERY_UNAVAILABLE', reason, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  }
  // Other 4xx, and 3xx too: redirects are not followed, since re-POSTing a signed official document to
  // wherever a receiver points is not something to do silently; the route's URL should be fixed.
  return { outcome: 'rejected', code: 'EDX_ERR_DELIVERY_REFUSED', reason };
}

/** The start of a response body as one short line; empty when it cannot be read. */
async function bodyExcerpt(body: Dispatcher.ResponseData['body']): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.length;
      // Leaving the loop destroys the rest of a long body (and that connection); fine on a failure path.
      if (size >= EXCERPT_BYTES) break;
    }
  } catch {
    // A body that breaks off still leaves what was read, which is all an excerpt is for.
  }
  const text = Buffer.concat(chunks, size).subarray(0, EXCERPT_BYTES).toString('utf8').replace(/\s+/g, ' ').trim();
  return text.length <= EXCERPT_CHARS ? text : `${text.slice(0, EXCERPT_CHARS - 1)}…`;
}

const TIMEOUT_CODES: ReadonlySet<string> = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

function failure(error: unknown, aborted: boolean, timeoutMs: number): DeliveryRetry {
  const code = errorCode(error);
  if (aborted || (code !== undefined && TIMEOUT_CODES.has(code))) {
    return { outcome: 'retry', code: 'EDX_ERR_DELIVERY_TIMEOUT', reason: `no answer within ${timeoutMs} ms` };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { outcome: 'retry', code: 'EDX_ERR_DELIVERY_UNAVAILABLE', reason: code === undefined ? message : `${code}: ${message}` };
}

/** undici refusing its arguments means this code built a bad request: a bug, not a delivery failure. */
function isBug(error: unknown): boolean {
  return errorCode(error) === 'UND_ERR_INVALID_ARG';
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  // Connection errors may arrive wrapped (fetch-style `cause`), e.g. ECONNREFUSED.
  const cause = (error as { cause?: unknown }).cause;
  return cause === error ? undefined : errorCode(cause);
}

/**
 * Header values must be visible ASCII: anything else (the Đ of a Vietnamese notation, a space, a
 * control character) and `%` itself are percent-encoded as UTF-8, so `decodeURIComponent` restores the
 * value exactly and an ASCII identifier goes through unchanged.
 */
export function headerSafe(value: string): string {
  // Buffer, not encodeURIComponent: that throws on a lone surrogate, and deliver() must not throw.
  return value.replace(/[^\x21-\x24\x26-\x7e]+/gu, (run) =>
    Array.from(Buffer.from(run, 'utf8'), (byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  );
}

function summarize(result: DeliveryResult): string {
  return result.outcome === 'accepted' ? `accepted (${result.detail ?? 'ok'})` : `${result.outcome} ${result.code}: ${result.reason}`;
}
