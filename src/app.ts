// The composition root: builds the Fastify app of one gateway node from its config — the gateway's
// services (store, directory cache, intake, delivery workers, metrics) behind the HTTP API. Tests use
// it with `app.inject` or `app.listen({ port: 0, host: '127.0.0.1' })`; main.ts only starts it.
//
// Lifecycle: `ready()` (called by listen and inject) starts the delivery workers; `close()` stops
// accepting, lets in-flight requests finish, then stops the workers (deliveries in flight get up to
// SHUTDOWN_TIMEOUT_MS) and closes the store.

import Fastify, { LogController } from 'fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { registerApi } from './api/index.ts';
import type { EdxApp } from './api/types.ts';
import type { Config } from './config/schema.ts';
import { EdxError } from './errors.ts';
import { Gateway } from './gateway/gateway.ts';
import type { GatewayOptions } from './gateway/gateway.ts';

export type { EdxApp } from './api/types.ts';
export { Gateway } from './gateway/gateway.ts';
export type { GatewayOptions, HealthReport } from './gateway/gateway.ts';

/** Options of buildApp: the gateway's, plus whether the workers start with the app. */
export interface BuildAppOptions extends GatewayOptions {
  /** Start the delivery workers when the app is ready (default true; the config's DELIVERY_WORKERS=0 also disables them). */
  readonly startWorkers?: boolean | undefined;
}

/** Body limit of every route but POST /v1/packets, whose limit is the config's BODY_LIMIT_BYTES. */
const DEFAULT_BODY_LIMIT = 1024 * 1024;

/**
 * One log line per request, when it completes, instead of Fastify's two: at 100 packets/s the log is
 * a few percent of the gateway's CPU, and the line at the start carried nothing the completion line
 * cannot. The completion line names the request itself, since no earlier line does. Fastify's other
 * lines (stream errors, routes not found, serializer errors) are kept: only these two are replaced.
 */
class OneLinePerRequest extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const fields = { req: { method: request.method, url: request.url, remoteAddress: request.ip }, res: { statusCode: reply.statusCode }, responseTime: reply.elapsedTime };
    if (error) reply.log.error({ ...fields, err: error }, 'request errored');
    else reply.log.info(fields, 'request completed');
  }
}

/** Builds the app (the gateway's store is open and migrated when this resolves); `app.gateway` is the Gateway. */
export async function buildApp(config: Config, options: BuildAppOptions = {}): Promise<EdxApp> {
  const gateway = await Gateway.open(config, options);
  let app: EdxApp;
  try {
    app = Fastify({
      loggerInstance: gateway.logger,
      bodyLimit: DEFAULT_BODY_LIMIT,
      // Our own onRequest hook answers during shutdown, as problem+json (Fastify's is bare JSON).
      return503OnClosing: false,
      forceCloseConnections: 'idle',
      logController: new OneLinePerRequest(),
    });
  } catch (error) {
    await gateway.close();
    throw error;
  }

  app.decorate('gateway', gateway);
  app.decorateRequest('principal', null);
  app.decorateRequest('receivedAtMs', 0);

  let closing = false;
  // The first hook of every request: the budget starts when the request arrives, before the body.
  app.addHook('onRequest', async (request, reply) => {
    request.receivedAtMs = Date.now();
    if (closing) {
      reply.header('connection', 'close');
      throw new EdxError('EDX_ERR_SERVER_OVERLOADED', 'the gateway is shutting down; retry on another node or after the restart.');
    }
  });
  app.addHook('preClose', async () => {
    closing = true;
    // Deliveries drain while in-flight requests finish; onClose waits for both.
    void gateway.stopWorkers();
  });
  registerApi(app);

  app.addHook('onReady', async () => {
    // Load shedding guards intake, which runs whether or not this node delivers.
    gateway.backpressure.start();
    if (options.startWorkers ?? true) await gateway.start();
  });
  // Runs after the HTTP server has closed (Fastify closes it first), so no request still needs the store.
  app.addHook('onClose', async () => {
    await gateway.close();
  });
  return app;
}
