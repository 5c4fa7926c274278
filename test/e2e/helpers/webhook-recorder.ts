// A webhook receiver on loopback that records every request the gateway makes to it — delivery id,
// packet id, attempt, whether the HMAC signature verifies, and the sha256 of the body — so a test
// can dedupe by delivery id the way a real receiver would. It can also hold its answers (accept the
// bytes, never reply), which leaves the gateway with deliveries in flight that it never saw succeed.

import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { ServerResponse } from 'node:http';
import { verifyWebhookSignature } from '../../../src/adapters/webhook/signature.ts';
import { WEBHOOK_HEADERS } from '../../../src/adapters/webhook/webhook-adapter.ts';
import type { Teardown } from '../../helpers/database.ts';
import { listenOnLoopback } from '../../helpers/loopback.ts';

/** One request as received. */
export interface RecordedDelivery {
  readonly deliveryId: string;
  readonly packetId: string;
  readonly attempt: number;
  readonly signatureOk: boolean;
  readonly bodySha256: string;
  /** Whether it was answered 200 (false: held, never answered). */
  readonly answered: boolean;
}

/** The receiver. */
export interface WebhookRecorder {
  /** The URL to route an agency to. */
  readonly url: string;
  /** Every request, in arrival order. */
  readonly received: readonly RecordedDelivery[];
  /** Distinct delivery ids received so far. */
  deliveryIds(): ReadonlySet<string>;
  /** From now on, take each request's body and never answer it. */
  hold(): void;
  /** Requests held so far. */
  held(): readonly RecordedDelivery[];
  /** Drops the held requests' connections and answers 200 again from now on. */
  release(): void;
}

function header(value: string | string[] | undefined): string {
  return decodeURIComponent(Array.isArray(value) ? (value[0] ?? '') : (value ?? ''));
}

/** Starts the receiver on 127.0.0.1:0; it verifies signatures with `secret` and is closed at teardown. */
export async function startWebhookRecorder(t: Teardown, secret: string): Promise<WebhookRecorder> {
  const received: RecordedDelivery[] = [];
  const ids = new Set<string>();
  const heldResponses: ServerResponse[] = [];
  const heldRecords: RecordedDelivery[] = [];
  let holding = false;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const record: RecordedDelivery = {
        deliveryId: header(req.headers[WEBHOOK_HEADERS.deliveryId.toLowerCase()]),
        packetId: header(req.headers[WEBHOOK_HEADERS.packetId.toLowerCase()]),
        attempt: Number(header(req.headers[WEBHOOK_HEADERS.attempt.toLowerCase()])),
        signatureOk: verifyWebhookSignature(req.headers, body, secret, 300).ok,
        bodySha256: createHash('sha256').update(body).digest('hex'),
        answered: !holding,
      };
      received.push(record);
      ids.add(record.deliveryId);
      if (holding) {
        heldResponses.push(res);
        heldRecords.push(record);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  const base = await listenOnLoopback(t, server);
  return {
    url: `${base}/hook`,
    received,
    deliveryIds: () => ids,
    hold() {
      holding = true;
    },
    held: () => heldRecords,
    release() {
      holding = false;
      for (const res of heldResponses.splice(0)) res.destroy();
    },
  };
}
