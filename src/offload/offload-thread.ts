// The body of one offload thread (offload-pool.ts): it runs the packet steps of packet-work.ts on
// the bytes it is sent and posts the results back in their portable form (portable.ts). It holds
// no state but the signing keys it was given, by the pool's number for them, so that a key crosses
// once per thread rather than with every packet.

import { parentPort } from 'node:worker_threads';
import type { TransferListItem } from 'node:worker_threads';
import type { SigningKey } from '../trust/types.ts';
import { IN_THREAD } from './packet-work.ts';
import { asBuffer, portableDecoded } from './portable.ts';
import type { OffloadReply, OffloadRequest } from './protocol.ts';

const port = parentPort;
if (port === null) throw new Error('offload-thread.ts runs as a worker thread of the offload pool');

const keys = new Map<number, SigningKey>();

port.on('message', (request: OffloadRequest) => {
  void answer(request).then(
    ({ reply, transfer }) => port.postMessage(reply, transfer),
    (error: unknown) => port.postMessage({ id: request.id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) } satisfies OffloadReply),
  );
});

async function answer(request: OffloadRequest): Promise<{ reply: OffloadReply; transfer: TransferListItem[] }> {
  const { id, task } = request;
  const bytes = asBuffer(task.bytes);
  switch (task.op) {
    case 'decode':
      return { reply: { id, ok: true, op: 'decode', value: portableDecoded(await IN_THREAD.decode(bytes, task.options)) }, transfer: [] };
    case 'sign': {
      if (task.key !== undefined) keys.set(task.keyId, { privateKey: task.key.privateKey, certificates: task.key.certificates.map(asBuffer) });
      const key = keys.get(task.keyId);
      if (key === undefined) throw new Error(`signing key ${task.keyId} was never sent to this thread`);
      const signed = await IN_THREAD.sign(bytes, key);
      // The signed packet is a new buffer of its own: hand its memory over instead of copying it.
      const memory = signed.ok ? signed.value.buffer : undefined;
      const owned = signed.ok && memory instanceof ArrayBuffer && signed.value.byteOffset === 0 && signed.value.byteLength === memory.byteLength;
      return { reply: { id, ok: true, op: 'sign', value: signed }, transfer: owned ? [memory] : [] };
    }
  }
}

// Told once the modules above are loaded, so the pool's start can wait for a thread that works.
port.postMessage({ ready: true });
