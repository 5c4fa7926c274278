// The HTTP ceiling's server, run as a child process so its CPU is measured apart from the load
// generator's: a bare Fastify app with one route that takes the same bodies as POST /v1/packets
// (raw edXML bytes, the gateway's body limit) and answers 202 with a small JSON receipt — no
// logging, authentication, parsing or storage. What it costs is the least any Fastify gateway on
// this machine can spend receiving a packet.
//
// Prints `edxgate: listening on URL` (as `edxgate serve` does), so test/e2e/helpers/gateway-process.ts
// can start and stop it. Environment: PORT (0), HOST (127.0.0.1), BODY_LIMIT_BYTES (the gateway's default).

import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';

const bodyLimit = Number(process.env.BODY_LIMIT_BYTES ?? 83_886_080);
const app = Fastify({ logger: false, bodyLimit });
app.addContentTypeParser(['application/xml', 'text/xml'], { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
app.post('/v1/packets', async (request, reply) => {
  const size = Buffer.isBuffer(request.body) ? request.body.length : 0;
  return reply.code(202).send({ packetId: randomUUID(), sizeBytes: size });
});

const url = await app.listen({ port: Number(process.env.PORT ?? 0), host: process.env.HOST ?? '127.0.0.1' });
process.stdout.write(`edxgate: listening on ${url} (bare Fastify ceiling)\n`);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void app.close().then(() => process.exit(0));
  });
}
