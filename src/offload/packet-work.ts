// The CPU-heavy steps of a packet's way that need nothing but its bytes: parsing it (intake's
// decode), checking its XML-DSig signature (verify) and signing what is forwarded. They are most of
// the event loop's time per packet (bench medium, V8 profile: about 2.5 ms of 7), and while the loop
// runs them every other request and delivery waits — the latency tail follows how busy the loop is
// (docs/benchmarks.md, "Why the tail grows"). The offload pool (offload-pool.ts) runs them on
// threads beside the loop; IN_THREAD runs them where they are called, for packets too large to copy
// to a thread, for a node configured without threads, and for tools and tests that build the
// pipeline's parts by hand.

import { parsePacket } from '../edxml/parse.ts';
import type { ParseOptions } from '../edxml/parse.ts';
import type { Packet } from '../edxml/model.ts';
import type { Result } from '../errors.ts';
import { trySignPacket, verifySignature } from '../trust/dsig/index.ts';
import type { SignatureCheck, SigningKey } from '../trust/types.ts';

/** The steps, each with the result the in-thread function gives. */
export interface PacketWork {
  /** parsePacket: the packet's model, or every parser-level issue. */
  decode(bytes: Buffer, options?: ParseOptions): Promise<Result<Packet>>;
  /** verifySignature: what the packet's XML-DSig signature says. */
  verify(bytes: Buffer): Promise<SignatureCheck>;
  /** trySignPacket: the packet with this gateway's enveloped signature. */
  sign(unsignedBytes: Buffer, key: SigningKey): Promise<Result<Buffer>>;
}

/** The steps run on the calling thread. */
export const IN_THREAD: PacketWork = {
  decode: (bytes, options) => Promise.resolve(parsePacket(bytes, options)),
  verify: (bytes) => Promise.resolve(verifySignature(bytes)),
  sign: (unsignedBytes, key) => Promise.resolve(trySignPacket(unsignedBytes, key)),
};
