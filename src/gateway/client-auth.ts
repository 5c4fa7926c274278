// Who is calling: a client (by the sha256 of its bearer token, looked up in `clients` and cached
// briefly) or the operator (the ADMIN_TOKEN of the config). Tokens are compared as hashes only, and
// the admin token in constant time.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { Store } from '../store/open-store.ts';
import { findClientByTokenHash } from '../store/queries/find-client.ts';

/** An authenticated caller. Clients act for their agencies; the admin acts for none but may run admin operations. */
export type Principal =
  | { readonly kind: 'client'; readonly clientId: string; readonly name: string; readonly agencies: readonly string[] }
  | { readonly kind: 'admin' };

/** Options of ClientAuth. */
export interface ClientAuthOptions {
  /** The config's ADMIN_TOKEN; undefined disables admin access. */
  readonly adminToken?: string | undefined;
  /** How long a found client is trusted without asking the database again; default 5 s. */
  readonly ttlMs?: number | undefined;
}

const DEFAULT_TTL_MS = 5000;
/** Bound on cached clients; a gateway has far fewer (one per office system). */
const MAX_CACHED = 10_000;

/** The sha256 hex of a token: what `clients.token_hash` holds. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Resolves bearer tokens to principals. */
export class ClientAuth {
  readonly #store: Pick<Store, 'db'>;
  readonly #adminHash: Buffer | undefined;
  readonly #ttlMs: number;
  readonly #cache = new Map<string, { readonly principal: Principal; readonly expiresAt: number }>();

  constructor(store: Pick<Store, 'db'>, options: ClientAuthOptions = {}) {
    this.#store = store;
    this.#adminHash = options.adminToken === undefined ? undefined : Buffer.from(tokenHash(options.adminToken), 'hex');
    this.#ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
  }

  /** The principal of a token, or undefined when it is nobody's (unknown, disabled, or empty). */
  async authenticate(token: string): Promise<Principal | undefined> {
    if (token === '') return undefined;
    const hash = tokenHash(token);
    // Comparing fixed-length digests in constant time: the admin token cannot be guessed byte by byte.
    if (this.#adminHash !== undefined && timingSafeEqual(Buffer.from(hash, 'hex'), this.#adminHash)) return { kind: 'admin' };
    const cached = this.#cache.get(hash);
    if (cached !== undefined && cached.expiresAt > Date.now()) return cached.principal;
    const found = await findClientByTokenHash(this.#store.db, hash);
    if (found === undefined) {
      this.#cache.delete(hash);
      return undefined;
    }
    const principal: Principal = { kind: 'client', clientId: found.clientId, name: found.name, agencies: found.agencies };
    if (this.#cache.size >= MAX_CACHED) this.#cache.clear();
    this.#cache.set(hash, { principal, expiresAt: Date.now() + this.#ttlMs });
    return principal;
  }
}
