// Authentication hooks. They run at onRequest — before the body is read — so an unauthenticated
// client cannot make the gateway receive an 80 MB packet just to refuse it.

import type { FastifyRequest } from 'fastify';
import { EdxError, issue } from '../errors.ts';
import type { Principal } from '../gateway/client-auth.ts';
import { requestLogger } from './types.ts';
import type { EdxApp } from './types.ts';

/** The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1), or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match?.[1];
}

/** A client principal (one acting for agencies). */
export type ClientPrincipal = Extract<Principal, { kind: 'client' }>;

async function principalOf(app: EdxApp, request: FastifyRequest): Promise<Principal> {
  const header = request.headers.authorization;
  const token = bearerToken(header);
  if (token === undefined) {
    const detail = header === undefined ? 'no Authorization header.' : 'the Authorization header is not "Bearer <token>".';
    throw new EdxError('EDX_ERR_AUTH_REQUIRED', detail, [issue('EDX_ERR_AUTH_REQUIRED', 'header:authorization', `The request has ${detail}`)]);
  }
  const principal = await app.gateway.auth.authenticate(token);
  if (principal === undefined) {
    throw new EdxError('EDX_ERR_AUTH_REQUIRED', 'the token is unknown or its client is disabled.', [
      issue('EDX_ERR_AUTH_REQUIRED', 'header:authorization', 'The bearer token is unknown or its client is disabled.'),
    ]);
  }
  return principal;
}

/** onRequest hook: a client token is required. */
export function requireClient(app: EdxApp): (request: FastifyRequest) => Promise<void> {
  return async (request) => {
    const principal = await principalOf(app, request);
    if (principal.kind !== 'client') {
      throw new EdxError('EDX_ERR_AUTH_FORBIDDEN', 'the admin token acts for no agency; use a client token.', [
        issue('EDX_ERR_AUTH_FORBIDDEN', 'header:authorization', 'The admin token acts for no agency; use the token of a client.'),
      ]);
    }
    request.principal = principal;
    requestLogger(request).setBindings({ clientId: principal.clientId });
  };
}

/** onRequest hook: the admin token is required. */
export function requireAdmin(app: EdxApp): (request: FastifyRequest) => Promise<void> {
  return async (request) => {
    const principal = await principalOf(app, request);
    if (principal.kind !== 'admin') {
      throw new EdxError('EDX_ERR_AUTH_FORBIDDEN', 'this operation needs the admin token.', [
        issue('EDX_ERR_AUTH_FORBIDDEN', 'header:authorization', 'This operation needs the admin token (config ADMIN_TOKEN).'),
      ]);
    }
    request.principal = principal;
    requestLogger(request).setBindings({ admin: true });
  };
}

/**
 * onRequest hook: a client token or the admin token. For what both the parties' office systems and
 * operators read (documents, events, reports); handlers narrow by `request.principal.kind`.
 */
export function requireClientOrAdmin(app: EdxApp): (request: FastifyRequest) => Promise<void> {
  return async (request) => {
    const principal = await principalOf(app, request);
    request.principal = principal;
    requestLogger(request).setBindings(principal.kind === 'client' ? { clientId: principal.clientId } : { admin: true });
  };
}

/** The client principal a requireClient hook stored. */
export function clientOf(request: FastifyRequest): ClientPrincipal {
  const p = request.principal;
  // requireClient ran as the route's onRequest hook; reaching here without it is a wiring bug.
  if (p === null || p.kind !== 'client') throw new Error('route handler reached without requireClient');
  return p;
}

/** Refuses when the client does not act for `agency`. */
export function assertActsFor(client: ClientPrincipal, agency: string, path: string): void {
  if (client.agencies.includes(agency)) return;
  throw new EdxError('EDX_ERR_AUTH_FORBIDDEN', `this client acts for ${client.agencies.join(', ') || 'no agency'}, not for ${agency}.`, [
    issue('EDX_ERR_AUTH_FORBIDDEN', path, `The client may not act for ${agency}.`, agency),
  ]);
}
