// The adapter contract: how the delivery workers hand one admitted packet to one recipient.
//
// Four methods and nothing else (kysely's Dialect is the model; Domibus' 29-method plugin API is the
// warning). Extra abilities are optional capabilities, detected by the presence of a member, so a new
// capability never forces a change on every adapter. Adapters get verified packets and narrow
// dependencies; they never see the database or Fastify, so the retry, dead-letter and tracking policy
// stays in one place (delivery/), whatever the adapter.

import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import type { Priority } from '../edxml/codes.ts';
import { EdxError, isErrorCode, type ErrorCode } from '../errors.ts';

/** One attempt at delivering one admitted packet to one recipient. */
export interface DeliveryRequest {
  /** Identifies the (packet, recipient) delivery; the same on every retry, so receivers dedupe on it. */
  readonly deliveryId: string;
  readonly packetId: string;
  /** The edXML DocumentId (for a status packet: the document it is about). */
  readonly documentId: string;
  readonly kind: 'document' | 'status';
  /** Agency code of the sender (From). */
  readonly sender: string;
  /** Agency code of this delivery's recipient. */
  readonly recipient: string;
  readonly priority: Priority;
  /** The packet bytes exactly as admitted (verified and signed). Never copied or modified by an adapter. */
  readonly edxml: Buffer;
  /** admitted_at + budget: outbound calls take the time left until it as their timeout. */
  readonly deadline: Date;
  /** 1 for the first attempt, incremented by the delivery layer on every retry. */
  readonly attempt: number;
}

/**
 * The recipient has the packet (push), or it is available for the recipient to fetch (pull).
 * `awaitsAck: true` says the latter: the delivery is "available", not yet "delivered", until the
 * recipient acknowledges it through the API. Only adapters with the PullCapability set it.
 */
export interface DeliveryAccepted {
  readonly outcome: 'accepted';
  readonly awaitsAck?: boolean | undefined;
  /**
   * The recipient's answer is its acknowledgement (another gateway's OK: it has admitted the
   * packet), so the delivery is recorded as acknowledged at once and nothing waits to be pulled.
   */
  readonly acknowledged?: boolean | undefined;
  /** Human-readable detail for the delivery's history, e.g. `HTTP 202`. */
  readonly detail?: string | undefined;
}

/** A permanent refusal: retrying cannot help, the delivery goes to the dead letter. */
export interface DeliveryRejected {
  readonly outcome: 'rejected';
  /** Catalogued code (e.g. EDX_ERR_DELIVERY_REFUSED); callers match on it, never on `reason`. */
  readonly code: ErrorCode;
  /** What the recipient said, short enough for a log line or the delivery's last_error. */
  readonly reason: string;
}

/** A transient failure: the delivery layer retries under its backoff policy. */
export interface DeliveryRetry {
  readonly outcome: 'retry';
  readonly code: ErrorCode;
  readonly reason: string;
  /** The recipient's own hint (e.g. Retry-After); the delivery layer clamps it to its policy. */
  readonly retryAfterMs?: number | undefined;
}

/** What `deliver` returns. Failures are results; `deliver` throws only on bugs. */
export type DeliveryResult = DeliveryAccepted | DeliveryRejected | DeliveryRetry;

/** What `health` reports: whether the adapter itself can work, not whether the recipient is up. */
export interface AdapterHealth {
  readonly ok: boolean;
  readonly detail?: string | undefined;
}

/**
 * The four methods every adapter has. Lifecycle: `start` and `close` are idempotent; closed is final
 * (`start` after `close` rejects with EDX_ERR_ADAPTER_NOT_RUNNING; build a new adapter to reconfigure);
 * `deliver` before `start` or after `close` resolves to a `retry` result with that code, never a throw,
 * so a packet is never dead-lettered because the gateway itself was shutting down.
 */
export interface Adapter {
  /** The route kind this adapter serves (`inbox`, `webhook`, …). */
  readonly kind: string;
  /** Acquires resources (connection pools); resolves once the adapter can deliver. */
  start(): Promise<void>;
  /** One attempt at one delivery. Never throws for a recipient's or network's failure. */
  deliver(request: DeliveryRequest): Promise<DeliveryResult>;
  /** Never throws. */
  health(): Promise<AdapterHealth>;
  /** Stops taking deliveries, lets in-flight ones finish (they are bounded by their timeout), frees resources. */
  close(): Promise<void>;
}

/**
 * Capability of adapters whose recipient fetches packets itself (list / get / ack through the API).
 * It is a marker, not methods, on purpose: listing and acknowledging read and write the store, which
 * adapters never touch; what the delivery layer needs to know is only that an `accepted` result of
 * this adapter means "available, awaiting the recipient's ack" (and it carries `awaitsAck: true`).
 */
export interface PullCapability {
  readonly pull: true;
}

/** Whether an adapter has the pull capability. */
export function hasPull(adapter: Adapter): adapter is Adapter & PullCapability {
  return (adapter as Partial<PullCapability>).pull === true;
}

/** The narrow dependencies an adapter receives. */
export interface AdapterDeps {
  readonly logger: Logger;
  /** The gateway's clock; tests pass a fixed one. Remaining budget = deadline − clock(). */
  readonly clock: () => Date;
  /** A shared HTTP dispatcher; when absent, an HTTP adapter builds and owns its own keep-alive pool. */
  readonly http?: Dispatcher | undefined;
}

/** A route as the agency directory stores it. */
export interface RouteConfig {
  readonly id: string;
  readonly kind: string;
  readonly url?: string | undefined;
  /** Shared secret for signing (webhook). Never logged. */
  readonly secret?: string | undefined;
  /** False: packets on this route go out as received, not signed by the gateway (default true). */
  readonly signOutgoing?: boolean | undefined;
  /** axis, peer: the systemid of the link's XroadVnpt credential (its HMAC key is `secret`). */
  readonly systemid?: string | undefined;
}

/** The result a stopped adapter gives: retry later, the adapter will run again (or another node's will). */
export function notRunning(kind: string, state: 'new' | 'closed'): DeliveryRetry {
  return {
    outcome: 'retry',
    code: 'EDX_ERR_ADAPTER_NOT_RUNNING',
    reason: state === 'new' ? `the ${kind} adapter has not been started` : `the ${kind} adapter is closed`,
  };
}

/** The error `start` rejects with after `close`: closed is final. */
export function closedAdapterError(kind: string): EdxError {
  return new EdxError('EDX_ERR_ADAPTER_NOT_RUNNING', `the ${kind} adapter is closed; create a new one to deliver again`);
}

/** Runtime check of a DeliveryResult, for the delivery layer to defend against a misbehaving adapter. */
export function isDeliveryResult(value: unknown): value is DeliveryResult {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  switch (v['outcome']) {
    case 'accepted':
      return (
        (v['awaitsAck'] === undefined || typeof v['awaitsAck'] === 'boolean') &&
        (v['acknowledged'] === undefined || typeof v['acknowledged'] === 'boolean') &&
        (v['detail'] === undefined || typeof v['detail'] === 'string')
      );
    case 'rejected':
      return isErrorCode(v['code']) && typeof v['reason'] === 'string' && v['reason'] !== '';
    case 'retry':
      return (
        isErrorCode(v['code']) &&
        typeof v['reason'] === 'string' &&
        v['reason'] !== '' &&
        (v['retryAfterMs'] === undefined ||
          (typeof v['retryAfterMs'] === 'number' && Number.isFinite(v['retryAfterMs']) && v['retryAfterMs'] >= 0))
      );
    default:
      return false;
  }
}
