// One running adapter per route, built on first use and rebuilt when the route's settings change
// (an operator fixed a URL or rotated a secret). Adapters keep connection pools, so building one per
// delivery would throw away keep-alive connections and cost a TCP (and TLS) handshake per packet.

import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Adapter, AdapterDeps, AdapterHealth, RouteConfig } from '../adapters/contract.ts';
import { createAdapter } from '../adapters/registry.ts';

interface Entry {
  /** What the adapter was built from; a different fingerprint means rebuild. */
  readonly fingerprint: string;
  readonly adapter: Promise<Adapter>;
}

/** Options of an AdapterPool. */
export interface AdapterPoolOptions {
  readonly deps: AdapterDeps;
  /** Signing key for webhook routes that carry no secret of their own (config WEBHOOK_SECRET). */
  readonly defaultWebhookSecret?: string | undefined;
  readonly logger: Logger;
}

/** The adapters of one node, by route id. */
export class AdapterPool {
  readonly #options: AdapterPoolOptions;
  readonly #entries = new Map<string, Entry>();
  readonly #retiring = new Set<Promise<void>>();
  #closed = false;

  constructor(options: AdapterPoolOptions) {
    this.#options = options;
  }

  /** The route with the defaults the gateway applies (the webhook secret). */
  effectiveRoute(route: RouteConfig): RouteConfig {
    if (route.kind === 'webhook' && (route.secret === undefined || route.secret === '') && this.#options.defaultWebhookSecret !== undefined) {
      return { ...route, secret: this.#options.defaultWebhookSecret };
    }
    return route;
  }

  /** The started adapter of a route; throws the registry's EdxError for a kind or route it cannot serve. */
  async get(input: RouteConfig): Promise<Adapter> {
    const route = this.effectiveRoute(input);
    const fingerprint = fingerprintOf(route);
    const existing = this.#entries.get(route.id);
    if (existing !== undefined && existing.fingerprint === fingerprint) return existing.adapter;

    const adapter = (async () => {
      const built = createAdapter(route, this.#options.deps);
      await built.start();
      return built;
    })();
    this.#entries.set(route.id, { fingerprint, adapter });
    if (existing !== undefined) this.#retire(route.id, existing);
    try {
      return await adapter;
    } catch (error) {
      // Not cached: the next delivery tries again (the operator may have fixed the route by then).
      if (this.#entries.get(route.id)?.adapter === adapter) this.#entries.delete(route.id);
      throw error;
    }
  }

  /** Health of every adapter built so far, by route id. */
  async health(): Promise<Record<string, AdapterHealth>> {
    const out: Record<string, AdapterHealth> = {};
    for (const [id, entry] of this.#entries) {
      try {
        out[id] = await (await entry.adapter).health();
      } catch (error) {
        out[id] = { ok: false, detail: error instanceof Error ? error.message : String(error) };
      }
    }
    return out;
  }

  /** Closes every adapter; each lets its in-flight deliveries finish (bounded by their timeouts). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    await Promise.allSettled(entries.map(async (e) => (await e.adapter).close()));
    await Promise.allSettled([...this.#retiring]);
  }

  /** Closes a replaced adapter in the background, after the deliveries it is running. */
  #retire(routeId: string, entry: Entry): void {
    const done = entry.adapter
      .then((a) => a.close())
      .catch((error: unknown) => this.#options.logger.warn({ err: error, routeId }, 'closing a replaced adapter failed'))
      .finally(() => this.#retiring.delete(done));
    this.#retiring.add(done);
  }
}

function fingerprintOf(route: RouteConfig): string {
  // The secret is hashed so the fingerprint never holds it in clear (it may end up in a heap dump).
  const secret = route.secret === undefined ? '' : createHash('sha256').update(route.secret).digest('hex');
  return JSON.stringify([route.kind, route.url ?? '', secret, route.systemid ?? '']);
}
