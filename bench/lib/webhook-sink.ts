// The receiving end of a benchmark: a node:http webhook server that timestamps each request when
// its body has fully arrived, verifies its signature as a real receiver would, and answers 200.

import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { verifyWebhookSignature } from '../../src/adapters/webhook/signature.ts';
import { WEBHOOK_HEADERS } from '../../src/adapters/webhook/webhook-adapter.ts';

/** One request: which document for which recipient, when it arrived (performance.now() of this process), the body. */
export interface SinkArrival {
  readonly documentId: string;
  readonly deliveryId: string;
  readonly recipient: string;
  readonly body: Buffer;
  readonly atMs: number;
  readonly signatureOk: boolean;
}

/** A running sink. */
export interface WebhookSink {
  readonly url: string;
  /** Called for every request once its body is in. */
  onArrival(fn: (arrival: SinkArrival) => void): void;
  close(): Promise<void>;
}

function header(value: string | string[] | undefined): string {
  return decodeURIComponent(Array.isArray(value) ? (value[0] ?? '') : (value ?? ''));
}

/** Starts a sink on 127.0.0.1:0; `secret` checks signatures (empty: not checked, e.g. for the direct baseline). */
export async function startWebhookSink(secret: string): Promise<WebhookSink> {
  let listener: (arrival: SinkArrival) => void = () => undefined;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const atMs = performance.now();
      const body = Buffer.concat(chunks);
      const signatureOk = secret === '' || verifyWebhookSignature(req.headers, body, secret, 300).ok;
      res.writeHead(signatureOk ? 200 : 401, { 'content-type': 'text/plain' }).end(signatureOk ? 'ok' : 'bad signature');
      listener({
        documentId: header(req.headers[WEBHOOK_HEADERS.documentId.toLowerCase()]),
        deliveryId: header(req.headers[WEBHOOK_HEADERS.deliveryId.toLowerCase()]),
        recipient: header(req.headers[WEBHOOK_HEADERS.recipient.toLowerCase()]),
        body,
        atMs,
        signatureOk,
      });
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    onArrival(fn) {
      listener = fn;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
