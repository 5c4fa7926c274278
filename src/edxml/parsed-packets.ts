// The parsed form of packet bytes this process has already parsed. Intake parses every packet it
// admits; the forwarding signer needs the same model a few milliseconds later to add its
// TraceHeader and re-sign, and parsing 100 KB again cost about a tenth of the gateway's CPU per
// packet (bench medium, V8 profile: parsePacket under ForwardSigner.prepare, 8 % of samples).
//
// Keyed by the Buffer object itself, weakly: the payload cache hands the delivery the very buffer
// intake parsed, so a hit needs no hashing and holds nothing beyond that buffer's own lifetime. Bytes
// that arrive by another road (read back from the store on another node, after a restart, or copied
// by the cache) simply miss and are parsed. The model is only reused for the same bytes, which no one
// modifies after intake, so it is exactly what parsing them again would give.

import type { Packet } from './model.ts';
import type { Result } from '../errors.ts';
import { IN_THREAD } from '../offload/packet-work.ts';
import type { PacketWork } from '../offload/packet-work.ts';

/** Packets parsed by this process, by their bytes. */
export class ParsedPackets {
  readonly #byBytes = new WeakMap<Buffer, Packet>();

  /** Records what `bytes` parsed to (a successful parse of exactly these bytes). */
  remember(bytes: Buffer, packet: Packet): void {
    this.#byBytes.set(bytes, packet);
  }

  /** The model of `bytes`: the remembered one, or a fresh parse by `work`. */
  parse(bytes: Buffer, work: PacketWork = IN_THREAD): Promise<Result<Packet>> {
    const known = this.#byBytes.get(bytes);
    if (known !== undefined) return Promise.resolve({ ok: true, value: known, warnings: [] });
    return work.decode(bytes).then((decoded) => decoded.parsed);
  }
}
