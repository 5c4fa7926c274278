// The axis adapter: delivers to recipients the directory routes through an upstream — the national
// axis, or another edxgate answering its API — by sendEdoc, as an office system built on the axis
// SDK would (axis-client.ts): documents with messagetype edoc, status packets with messagetype
// status, `from` the packet's sender. The upstream's DocId is kept in the delivery's detail.
//
// The other half of the link, taking what the upstream holds for this gateway's agencies, is the
// poller (axis-poller.ts), which the gateway runs; this adapter only pushes.

import { EdxError } from '../../errors.ts';
import {
  closedAdapterError,
  notRunning,
  type Adapter,
  type AdapterDeps,
  type AdapterHealth,
  type DeliveryRequest,
  type DeliveryResult,
  type RouteConfig,
} from '../contract.ts';
import { deliveryTimeoutMs } from '../webhook/webhook-adapter.ts';
import { AxisClient } from './axis-client.ts';
import { deliveryResultOf } from './reply-result.ts';

/** The credentials and endpoint of a link, checked: what an axis (or peer) route must carry. */
export interface LinkCredentials {
  readonly url: string;
  readonly systemid: string;
  readonly secret: string;
}

/** The route's URL, systemid and secret; throws EDX_ERR_ADAPTER_ROUTE_INVALID naming what is missing. */
export function linkCredentialsOf(route: RouteConfig, what: string): LinkCredentials {
  const invalid = (why: string): EdxError => new EdxError('EDX_ERR_ADAPTER_ROUTE_INVALID', `route ${route.id}: ${why}`);
  if (route.url === undefined || route.url === '') throw invalid(`${what} needs a URL`);
  let url: URL;
  try {
    url = new URL(route.url);
  } catch {
    throw invalid('the URL is not an absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid('the URL must be http:// or https://');
  // The HMAC authenticates; credentials in a URL would end up in logs.
  if (url.username !== '' || url.password !== '') throw invalid('the URL must not carry credentials');
  if (route.systemid === undefined || route.systemid === '') throw invalid(`${what} needs the systemid of its XroadVnpt credential`);
  if (route.secret === undefined || route.secret === '') throw invalid(`${what} needs the secret of its XroadVnpt credential`);
  return { url: route.url, systemid: route.systemid, secret: route.secret };
}

/** Adapter for routes to an upstream axis. */
export class AxisAdapter implements Adapter {
  readonly kind = 'axis';
  readonly #routeId: string;
  readonly #link: LinkCredentials;
  readonly #deps: AdapterDeps;
  readonly #inFlight = new Set<Promise<DeliveryResult>>();
  #client: AxisClient | undefined;
  #state: 'new' | 'started' | 'closed' = 'new';
  #last: { readonly at: Date; readonly summary: string } | undefined;

  /** Validates the route (URL, systemid, secret); throws EDX_ERR_ADAPTER_ROUTE_INVALID otherwise. */
  constructor(route: RouteConfig, deps: AdapterDeps) {
    this.#routeId = route.id;
    this.#link = linkCredentialsOf(route, 'an axis route');
    this.#deps = deps;
  }

  /** Builds the client and its keep-alive connections. */
  async start(): Promise<void> {
    if (this.#state === 'closed') throw closedAdapterError(this.kind);
    if (this.#state === 'started') return;
    this.#client = new AxisClient({ endpoint: this.#link.url, systemid: this.#link.systemid, secret: this.#link.secret, clock: this.#deps.clock });
    this.#state = 'started';
  }

  /** One sendEdoc. */
  async deliver(req: DeliveryRequest): Promise<DeliveryResult> {
    const client = this.#client;
    if (this.#state !== 'started' || client === undefined) return notRunning(this.kind, this.#state === 'started' ? 'new' : this.#state);
    const attempt = (async (): Promise<DeliveryResult> => {
      const timeoutMs = deliveryTimeoutMs(req.deadline, this.#deps.clock(), req.edxml.byteLength);
      const sent = await client.send(req.edxml, { from: req.sender, messageType: req.kind === 'document' ? 'edoc' : 'status' }, { timeoutMs });
      const result = deliveryResultOf(sent, `upstream ${this.#routeId}`);
      this.#deps.logger.debug({ route: this.#routeId, deliveryId: req.deliveryId, outcome: result.outcome, timeoutMs }, 'sendEdoc answered');
      return result;
    })();
    this.#inFlight.add(attempt);
    try {
      const result = await attempt;
      this.#last = { at: this.#deps.clock(), summary: result.outcome === 'accepted' ? `accepted (${result.detail ?? 'ok'})` : `${result.outcome} ${result.code}: ${result.reason}` };
      return result;
    } finally {
      this.#inFlight.delete(attempt);
    }
  }

  /** Running or not, with the last attempt; it never calls the upstream. */
  async health(): Promise<AdapterHealth> {
    if (this.#state !== 'started') return { ok: false, detail: `axis adapter ${this.#state === 'new' ? 'not started' : 'closed'}` };
    return { ok: true, detail: this.#last ? `last attempt ${this.#last.at.toISOString()}: ${this.#last.summary}` : 'no attempt yet' };
  }

  /** Refuses new deliveries, waits for those in flight, closes the connections. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    await Promise.allSettled([...this.#inFlight]);
    this.#client?.close();
    this.#client = undefined;
  }
}
