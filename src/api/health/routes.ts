// GET /health (database reachable, migrations current, workers alive: 200 or 503 with the details)
// and GET /metrics (Prometheus text). Neither needs a token: load balancers and Prometheus call
// them, and they reveal counts, never packets; expose them only on the operators' network.

import type { EdxApp } from '../types.ts';

const CHECK = { type: 'object', required: ['ok'], properties: { ok: { type: 'boolean' }, detail: { type: 'string' } }, additionalProperties: true } as const;

const HEALTH_SCHEMA = {
  type: 'object',
  required: ['status', 'checks'],
  properties: {
    status: { type: 'string' },
    checks: {
      type: 'object',
      properties: {
        database: { ...CHECK, properties: { ...CHECK.properties, dialect: { type: 'string' } } },
        migrations: {
          ...CHECK,
          properties: { ...CHECK.properties, current: { type: ['string', 'null'] }, pending: { type: 'array', items: { type: 'string' } } },
        },
        workers: {
          ...CHECK,
          properties: {
            ...CHECK.properties,
            configured: { type: 'integer' },
            running: { type: 'integer' },
            stopping: { type: 'boolean' },
            inFlight: { type: 'integer' },
            lastError: { type: 'string' },
            circuits: {
              type: 'object',
              additionalProperties: {
                type: 'object',
                properties: { state: { type: 'string' }, consecutiveFailures: { type: 'integer' } },
              },
            },
          },
        },
      },
    },
  },
} as const;

/** Registers /health and /metrics. */
export function registerHealthRoutes(app: EdxApp): void {
  app.get('/health', { schema: { response: { 200: HEALTH_SCHEMA, 503: HEALTH_SCHEMA } } }, async (_request, reply) => {
    const report = await app.gateway.health();
    return reply.code(report.status === 'ok' ? 200 : 503).send(report);
  });

  app.get('/metrics', async (_request, reply) => {
    const registry = app.gateway.metrics.registry;
    const text = await registry.metrics();
    return reply.type(registry.contentType).send(text);
  });
}
