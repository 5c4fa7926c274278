// Authentication of the axis-compatible API: the national axis SDK's `XroadVnpt-*` HMAC scheme
// (spec/axis-wire.md). Runs at onRequest, from the headers alone, so a caller without the secret
// cannot make the gateway read a large body just to refuse it.
//
// The order of the checks: the three auth headers are there; the systemid names an enabled system
// of an enabled client; the hash-header is the HMAC of the sign-header string exactly as received
// (never a rebuilt one: the SDK's key order follows Java HashMap iteration); every signed key's
// header copy equals its signed value; the operation's required keys are signed. Parameters are then
// read from the signed JSON only, so an unsigned header can never steer an operation.
//
// Timestamps are not checked for freshness or uniqueness: SDK 2.0.0 fixes one per service object and
// repeats it on every request (axis-wire.md). The consequence — a captured request can be replayed —
// is weighed in docs/axis.md.

import type { FastifyRequest } from 'fastify';
import { AXIS_HEADER_PREFIX, HASH_HEADER, SIGN_HEADER, firstHeaderMismatch, missingSignedKeys, readSignHeader, verifyAxisHmac } from '../../axis/wire.ts';
import type { AxisOperation, SignedHeaderMap } from '../../axis/wire.ts';
import { EdxError, issue } from '../../errors.ts';
import type { Store } from '../../store/open-store.ts';
import { findAxisSystem } from '../../store/queries/axis-systems.ts';
import type { AxisSystemIdentity } from '../../store/queries/axis-systems.ts';
import { requestLogger } from '../types.ts';

/** Whoever a systemid names: what verifying its requests needs. */
export interface AxisCredential {
  readonly systemid: string;
  /** The HMAC key of its requests. */
  readonly secret: string;
}

/** What an authenticated axis request carries to its handler. */
export interface AxisCall<S extends AxisCredential = AxisSystemIdentity> {
  readonly system: S;
  /** The signed header map: the only source of the operation's parameters. */
  readonly signed: SignedHeaderMap;
}

const SYSTEMID_HEADER = `${AXIS_HEADER_PREFIX}systemid`.toLowerCase();
/** How long a found system is trusted without asking the database again: a disable shows within this. */
const DEFAULT_TTL_MS = 5000;
/** Bound on cached systems; a gateway has one per office system. */
const MAX_CACHED = 10_000;

function header(request: FastifyRequest, lowerName: string): string | undefined {
  const value = request.headers[lowerName];
  // Node joins repeated custom headers with ", "; only set-cookie is an array, and no axis header is one.
  return typeof value === 'string' ? value : undefined;
}

/** The axis systems of the axis-compatible API, looked up in the store. */
export function axisSystemLookup(store: Pick<Store, 'db'>): (systemid: string) => Promise<AxisSystemIdentity | undefined> {
  return (systemid) => findAxisSystem(store.db, systemid);
}

/**
 * Verifies axis requests and remembers, per request, who made them. `find` names the credential of
 * a systemid: the axis systems (the axis-compatible API), or the upstream links (the callbacks).
 */
export class AxisAuthenticator<S extends AxisCredential = AxisSystemIdentity> {
  readonly #find: (systemid: string) => Promise<S | undefined>;
  readonly #ttlMs: number;
  readonly #cache = new Map<string, { readonly system: S; readonly expiresAt: number }>();
  readonly #calls = new WeakMap<FastifyRequest, AxisCall<S>>();

  constructor(find: (systemid: string) => Promise<S | undefined>, options: { readonly ttlMs?: number | undefined } = {}) {
    this.#find = find;
    this.#ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
  }

  /** The onRequest hook of one operation's route. */
  hook(operation: AxisOperation): (request: FastifyRequest) => Promise<void> {
    return async (request) => {
      const call = await this.authenticate(request, operation);
      this.#calls.set(request, call);
      requestLogger(request).setBindings({ systemid: call.system.systemid });
    };
  }

  /** The call the route's hook authenticated. */
  callOf(request: FastifyRequest): AxisCall<S> {
    const call = this.#calls.get(request);
    // The route's onRequest hook ran; reaching a handler without it is a wiring bug.
    if (call === undefined) throw new Error('axis handler reached without authentication');
    return call;
  }

  /** Checks the request's `XroadVnpt-*` headers; throws EdxError (EDX_ERR_AXIS_*) on any failure. */
  async authenticate(request: FastifyRequest, operation: AxisOperation): Promise<AxisCall<S>> {
    const systemid = header(request, SYSTEMID_HEADER)?.trim() ?? '';
    const signHeader = header(request, SIGN_HEADER.toLowerCase()) ?? '';
    const hashHeader = header(request, HASH_HEADER.toLowerCase()) ?? '';
    const absent = (
      [
        [`${AXIS_HEADER_PREFIX}systemid`, systemid],
        [SIGN_HEADER, signHeader],
        [HASH_HEADER, hashHeader],
      ] as const
    )
      .filter(([, value]) => value === '')
      .map(([name]) => name);
    if (absent.length > 0) {
      throw new EdxError('EDX_ERR_AXIS_AUTH_REQUIRED', `the request has no ${absent.join(', ')}.`, [
        issue('EDX_ERR_AXIS_AUTH_REQUIRED', `header:${absent[0] ?? SIGN_HEADER}`, `The request has no ${absent.join(', ')}.`),
      ]);
    }

    const system = await this.#system(systemid);
    // One answer for an unknown systemid and a wrong secret: the reply must not tell which systemids exist.
    if (system === undefined || !verifyAxisHmac(system.secret, signHeader, hashHeader)) {
      throw new EdxError('EDX_ERR_AXIS_AUTH_INVALID', `systemid ${systemid}: unknown, disabled, or the hash-header was not made with its secret.`, [
        issue('EDX_ERR_AXIS_AUTH_INVALID', `header:${HASH_HEADER}`, `The systemid ${systemid} is unknown or disabled, or the hash-header does not match its secret.`, systemid),
      ]);
    }

    const reading = readSignHeader(signHeader);
    if (!reading.ok) {
      throw new EdxError('EDX_ERR_AXIS_HEADER_MISMATCH', `${reading.reason}.`, [issue('EDX_ERR_AXIS_HEADER_MISMATCH', `header:${SIGN_HEADER}`, `In the sign-header, ${reading.reason}.`)]);
    }
    const mismatch = firstHeaderMismatch(reading.map, (name) => header(request, name));
    if (mismatch !== undefined) {
      const name = `${AXIS_HEADER_PREFIX}${mismatch.name}`;
      const detail = mismatch.received === undefined ? `${name} is signed but was not sent` : `${name} is not the value signed in the sign-header`;
      throw new EdxError('EDX_ERR_AXIS_HEADER_MISMATCH', `${detail}.`, [issue('EDX_ERR_AXIS_HEADER_MISMATCH', `header:${name}`, `${detail}.`, mismatch.received)]);
    }
    const missing = missingSignedKeys(reading.map, operation);
    if (missing.length > 0) {
      const names = missing.map((k) => `${AXIS_HEADER_PREFIX}${k}`).join(', ');
      throw new EdxError('EDX_ERR_AXIS_PARAMETER_INVALID', `${operation} needs ${names} in the sign-header.`, [
        issue('EDX_ERR_AXIS_PARAMETER_INVALID', `header:${SIGN_HEADER}`, `${operation} needs ${names} signed.`),
      ]);
    }
    return { system, signed: reading.map };
  }

  async #system(systemid: string): Promise<S | undefined> {
    const cached = this.#cache.get(systemid);
    if (cached !== undefined && cached.expiresAt > Date.now()) return cached.system;
    const found = await this.#find(systemid);
    if (found === undefined) {
      // Unknown ones are not cached: a flood of invented systemids must not evict the real ones.
      this.#cache.delete(systemid);
      return undefined;
    }
    if (this.#cache.size >= MAX_CACHED) this.#cache.clear();
    this.#cache.set(systemid, { system: found, expiresAt: Date.now() + this.#ttlMs });
    return found;
  }
}
