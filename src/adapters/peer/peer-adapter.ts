// The peer adapters: routes to another gateway that takes its packets from this one (a province
// below a national gateway). Two ways, chosen by whether the route has a URL:
// - push (`PeerPushAdapter`): each packet is POSTed to the peer's callback endpoint
//   (`/v1/callbacks/axis`) in the sendEdoc wire form, signed with the link's credential — the peer's
//   own systemid and secret here, which it also uses to call this gateway — and the peer's OK
//   acknowledges it;
// - pull (`PeerPullAdapter`): the packet is left for the peer, which fetches it through this
//   gateway's axis-compatible API (getReceivedEdocList → getEdoc → updateStatus) with that system.
// Either way the recipient is behind the peer, which reports its arrival (01) itself.

import {
  closedAdapterError,
  notRunning,
  type Adapter,
  type AdapterDeps,
  type AdapterHealth,
  type DeliveryRequest,
  type DeliveryResult,
  type PullCapability,
  type RouteConfig,
} from '../contract.ts';
import { AxisClient } from '../axis/axis-client.ts';
import { linkCredentialsOf } from '../axis/axis-adapter.ts';
import type { LinkCredentials } from '../axis/axis-adapter.ts';
import { deliveryResultOf } from '../axis/reply-result.ts';
import { deliveryTimeoutMs } from '../webhook/webhook-adapter.ts';

/** Pushes to a peer's callback endpoint. */
export class PeerPushAdapter implements Adapter {
  readonly kind = 'peer';
  readonly #routeId: string;
  readonly #link: LinkCredentials;
  readonly #deps: AdapterDeps;
  readonly #inFlight = new Set<Promise<DeliveryResult>>();
  #client: AxisClient | undefined;
  #state: 'new' | 'started' | 'closed' = 'new';

  /** Validates the route: a callback URL and the peer system's credential; throws EDX_ERR_ADAPTER_ROUTE_INVALID. */
  constructor(route: RouteConfig, deps: AdapterDeps) {
    this.#routeId = route.id;
    this.#link = linkCredentialsOf(route, 'a peer route with a callback URL (add the peer system with `edxgate routes add-peer`)');
    this.#deps = deps;
  }

  async start(): Promise<void> {
    if (this.#state === 'closed') throw closedAdapterError(this.kind);
    if (this.#state === 'started') return;
    this.#client = new AxisClient({ endpoint: this.#link.url, systemid: this.#link.systemid, secret: this.#link.secret, clock: this.#deps.clock });
    this.#state = 'started';
  }

  /** One push to the callback URL. */
  async deliver(req: DeliveryRequest): Promise<DeliveryResult> {
    const client = this.#client;
    if (this.#state !== 'started' || client === undefined) return notRunning(this.kind, this.#state === 'started' ? 'new' : this.#state);
    const attempt = (async (): Promise<DeliveryResult> => {
      const timeoutMs = deliveryTimeoutMs(req.deadline, this.#deps.clock(), req.edxml.byteLength);
      const sent = await client.send(req.edxml, { from: req.sender, messageType: req.kind === 'document' ? 'edoc' : 'status' }, { timeoutMs, url: this.#link.url });
      return deliveryResultOf(sent, `peer ${this.#routeId}`);
    })();
    this.#inFlight.add(attempt);
    try {
      return await attempt;
    } finally {
      this.#inFlight.delete(attempt);
    }
  }

  async health(): Promise<AdapterHealth> {
    return this.#state === 'started' ? { ok: true } : { ok: false, detail: `peer adapter ${this.#state === 'new' ? 'not started' : 'closed'}` };
  }

  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    await Promise.allSettled([...this.#inFlight]);
    this.#client?.close();
    this.#client = undefined;
  }
}

/** Leaves packets for a peer that fetches them itself. */
export class PeerPullAdapter implements Adapter, PullCapability {
  readonly kind = 'peer';
  readonly pull = true;
  readonly #routeId: string;
  #state: 'new' | 'started' | 'closed' = 'new';

  constructor(route: RouteConfig, _deps: AdapterDeps) {
    this.#routeId = route.id;
  }

  async start(): Promise<void> {
    if (this.#state === 'closed') throw closedAdapterError(this.kind);
    this.#state = 'started';
  }

  /** Available at once: the packet is durable; the peer's getReceivedEdocList lists it from now on. */
  async deliver(_req: DeliveryRequest): Promise<DeliveryResult> {
    if (this.#state !== 'started') return notRunning(this.kind, this.#state);
    return { outcome: 'accepted', awaitsAck: true, detail: `waiting for peer ${this.#routeId} to fetch it` };
  }

  async health(): Promise<AdapterHealth> {
    return this.#state === 'started' ? { ok: true } : { ok: false, detail: `peer adapter ${this.#state === 'new' ? 'not started' : 'closed'}` };
  }

  async close(): Promise<void> {
    this.#state = 'closed';
  }
}
