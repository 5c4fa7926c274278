// The HTTP ceiling: the bare Fastify route of bench/lib/bare-fastify-main.ts, in a child process
// (its CPU and memory are read from /proc apart from the generator's), posted the same bodies at
// the same rate and by the same client as the gateway.

import { fileURLToPath } from 'node:url';
import { startGatewayProcess } from '../../test/e2e/helpers/gateway-process.ts';
import { packetClient } from './packet-client.ts';
import { memoryOf } from './proc.ts';

const ENTRY = fileURLToPath(new URL('./bare-fastify-main.ts', import.meta.url));

/** A running bare server. */
export interface HttpCeiling {
  readonly pid: number;
  post(body: Buffer): Promise<number | 'error'>;
  /** VmHWM of the child, MiB. */
  peakRssMiB(): number | undefined;
  close(): Promise<void>;
}

/** Starts the bare server; `bodyLimitBytes` as the gateway's. */
export async function startHttpCeiling(bodyLimitBytes?: number): Promise<HttpCeiling> {
  const child = await startGatewayProcess({
    entry: ENTRY,
    env: bodyLimitBytes === undefined ? {} : { BODY_LIMIT_BYTES: String(bodyLimitBytes) },
  });
  const client = packetClient(child.url);
  return {
    pid: child.pid,
    post: (body) => client.post(body),
    peakRssMiB: () => memoryOf(child.pid)?.peakRssMiB,
    async close() {
      await client.close().catch(() => undefined);
      await child.stop();
    },
  };
}
