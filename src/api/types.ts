// The types the API shares: the Fastify instance of edxgate and what it decorates requests with.

import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Principal } from '../gateway/client-auth.ts';
import type { Gateway } from '../gateway/gateway.ts';

/** The Fastify instance edxgate builds: pino as its logger, the gateway as its services. */
export type EdxApp = FastifyInstance<Server, IncomingMessage, ServerResponse, Logger>;

declare module 'fastify' {
  interface FastifyInstance {
    /** The services behind the routes (DESIGN, Modules: "api/ … services via decorators"). */
    gateway: Gateway;
  }
  interface FastifyRequest {
    /** Who is calling; set by the authentication hook of routes that require it. */
    principal: Principal | null;
    /** When the request arrived (epoch ms, its headers): the budget and the latency count from here. */
    receivedAtMs: number;
  }
}

/**
 * The request's pino child logger. buildApp hands Fastify a pino instance (loggerInstance), so
 * request.log is one; Fastify's request type only promises its narrower base logger interface.
 */
export function requestLogger(request: FastifyRequest): Logger {
  return request.log as Logger;
}
