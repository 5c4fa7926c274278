// The registry: turns a route of the agency directory into a running-capable adapter instance.
// One switch, on purpose: a new kind is one folder plus one case here.

import { EdxError } from '../errors.ts';
import type { Adapter, AdapterDeps, RouteConfig } from './contract.ts';
import { AxisAdapter } from './axis/axis-adapter.ts';
import { InboxAdapter } from './inbox/inbox-adapter.ts';
import { PeerPullAdapter, PeerPushAdapter } from './peer/peer-adapter.ts';
import { WebhookAdapter } from './webhook/webhook-adapter.ts';

/** The route kinds this gateway can deliver to. */
export const ADAPTER_KINDS = ['inbox', 'webhook', 'axis', 'peer'] as const;
/** A route kind this gateway can deliver to. */
export type AdapterKind = (typeof ADAPTER_KINDS)[number];

/** Whether a route kind (as stored) is one this gateway provides. */
export function isAdapterKind(value: unknown): value is AdapterKind {
  return typeof value === 'string' && (ADAPTER_KINDS as readonly string[]).includes(value);
}

/**
 * The adapter for a route, not yet started. Throws EdxError EDX_ERR_ADAPTER_KIND_UNKNOWN for a kind
 * this gateway does not provide, EDX_ERR_ADAPTER_ROUTE_INVALID for a route missing what its kind needs.
 */
export function createAdapter(route: RouteConfig, deps: AdapterDeps): Adapter {
  const kind = route.kind;
  if (!isAdapterKind(kind)) {
    throw new EdxError('EDX_ERR_ADAPTER_KIND_UNKNOWN', `route ${route.id}: kind "${kind}" is not a route kind`);
  }
  switch (kind) {
    case 'inbox':
      return new InboxAdapter(route, deps);
    case 'webhook':
      return new WebhookAdapter(route, deps);
    case 'axis':
      return new AxisAdapter(route, deps);
    case 'peer':
      // With a callback URL the peer is pushed to; without one it fetches through the axis-compatible API.
      return route.url === undefined || route.url === '' ? new PeerPullAdapter(route, deps) : new PeerPushAdapter(route, deps);
  }
}
