// The inbox adapter: the recipient pulls. By the time a delivery reaches an adapter the packet is
// durable in the store (admission committed it), and GET /v1/inbox lists deliveries of inbox routes,
// so there is nothing left to transfer: "delivering" is declaring the packet available. The list, the
// fetch and the ack live in api/inbox over the store; this adapter deliberately records nothing.

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

/** Adapter for routes whose recipient lists, fetches and acknowledges its packets through the API. */
export class InboxAdapter implements Adapter, PullCapability {
  readonly kind = 'inbox';
  readonly pull = true;
  readonly #routeId: string;
  readonly #deps: AdapterDeps;
  #state: 'new' | 'started' | 'closed' = 'new';

  constructor(route: RouteConfig, deps: AdapterDeps) {
    this.#routeId = route.id;
    this.#deps = deps;
  }

  /** Nothing to acquire; marks the adapter running. */
  async start(): Promise<void> {
    if (this.#state === 'closed') throw closedAdapterError(this.kind);
    this.#state = 'started';
  }

  /** Available at once: for a pulled packet, the end-to-end time stops here (DESIGN, the 5-second budget). */
  async deliver(request: DeliveryRequest): Promise<DeliveryResult> {
    if (this.#state !== 'started') return notRunning(this.kind, this.#state);
    this.#deps.logger.debug(
      { route: this.#routeId, deliveryId: request.deliveryId, packetId: request.packetId, recipient: request.recipient },
      'available in inbox',
    );
    return { outcome: 'accepted', awaitsAck: true, detail: `available in the inbox of ${request.recipient}` };
  }

  /** Running or not: an inbox has no remote side that could be down. */
  async health(): Promise<AdapterHealth> {
    if (this.#state === 'started') return { ok: true };
    return { ok: false, detail: this.#state === 'new' ? 'inbox adapter not started' : 'inbox adapter closed' };
  }

  /** Stops taking deliveries. */
  async close(): Promise<void> {
    this.#state = 'closed';
  }
}
