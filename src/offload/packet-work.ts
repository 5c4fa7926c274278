// The CPU-heavy steps of a packet's way that need nothing but its bytes: parsing it and checking its
// XML-DSig signature (intake's decode pass) and signing what is forwarded. They are most of
// the event loop's time per packet (bench medium, V8 profile: about 2.5 ms of 7), and while the loop
// runs them every other request and delivery waits — the latency tail follows how busy the loop is
// (docs/benchmarks.md, "Why the tail grows"). The offload pool (offload-pool.ts) runs them on
// threads beside the loop; IN_THREAD runs them where they are called, for packets too large to copy
// to a thread, for a node configured without threads, and for tools and tests that build the
// pipeline's parts by hand.

import { performance } from 'node:perf_hooks';
import { parsePacket } from '../edxml/parse.ts';
import type { ParseOptions } from '../edxml/parse.ts';
import type { Packet } from '../edxml/model.ts';
import type { Result } from '../errors.ts';
import { payloadRef } from '../store/payloads.ts';
import { trySignPacket, verifySignature } from '../trust/dsig/index.ts';
import type { SignatureCheck, SigningKey } from '../trust/types.ts';

/** What decode finds in a packet's bytes, in one pass (one crossing to a thread). */
export interface Decoded {
  readonly parsed: Result<Packet>;
  /** payloadRef(bytes): the SHA-256 the bytes are stored under. */
  readonly payloadRef: string;
  /**
   * The XML-DSig check, when it was asked for and the packet parsed with a Signature in its header,
   * with the milliseconds it took (the verify stage's share of the pass).
   */
  readonly signature?: { readonly check: SignatureCheck; readonly ms: number } | undefined;
}

export interface DecodeOptions extends ParseOptions {
  /** Also check the signature. Its verdict is judged later, after the client's authorisation. */
  readonly verify?: boolean | undefined;
}

/** The steps, each with the result the in-thread function gives. */
export interface PacketWork {
  /** parsePacket, the payload reference and (when asked) verifySignature, in one pass. */
  decode(bytes: Buffer, options?: DecodeOptions): Promise<Decoded>;
  /** trySignPacket: the packet with this gateway's enveloped signature. */
  sign(unsignedBytes: Buffer, key: SigningKey): Promise<Result<Buffer>>;
}

/** decode's pass, wherever it runs. */
export function decodePacket(bytes: Buffer, options: DecodeOptions = {}): Decoded {
  const { verify, ...parseOptions } = options;
  const parsed = parsePacket(bytes, parseOptions);
  const ref = payloadRef(bytes);
  // A packet without a Signature in its header is unsigned whatever else it holds (TrustService.judge).
  if (verify !== true || !parsed.ok || parsed.value.signature === undefined) return { parsed, payloadRef: ref };
  const started = performance.now();
  const check = verifySignature(bytes);
  return { parsed, payloadRef: ref, signature: { check, ms: performance.now() - started } };
}

/** The steps run on the calling thread. */
export const IN_THREAD: PacketWork = {
  decode: (bytes, options) => Promise.resolve(decodePacket(bytes, options)),
  sign: (unsignedBytes, key) => Promise.resolve(trySignPacket(unsignedBytes, key)),
};
