// What the gateway does to a packet it forwards when it has a signing key (spec §5, recommended
// profile): it adds its own TraceHeader (this gateway handled the packet, at this time) and signs
// the whole packet — enveloped XML-DSig, RSA-SHA256, exclusive c14n, in edXMLHeader. The sender's
// own signature, if any, was verified at intake (the verdict is stored with the packet) and is
// replaced: one Signature per packet is what receivers, and our own anti-wrapping rule, accept.
// Routes whose receivers cannot take a DSig-namespaced block switch it off (routes.sign_outgoing).

import { buildPacketBuffer } from '../edxml/build.ts';
import { formatTimestamp } from '../edxml/dates.ts';
import type { Packet } from '../edxml/model.ts';
import { ParsedPackets } from '../edxml/parsed-packets.ts';
import type { Result } from '../errors.ts';
import { IN_THREAD } from '../offload/packet-work.ts';
import type { PacketWork } from '../offload/packet-work.ts';
import type { SigningKey } from './types.ts';

/** Signs packets on their way out. */
export class ForwardSigner {
  readonly #key: SigningKey;
  readonly #gatewayAgency: string | undefined;
  readonly #parsed: ParsedPackets;
  readonly #work: PacketWork;

  /**
   * `gatewayAgency`: the code written in the added TraceHeader; none is added without one.
   * `parsed`: the models intake already made, so a packet just admitted is not parsed twice.
   * `work`: where parsing (of a packet intake did not parse here) and signing run.
   */
  constructor(key: SigningKey, gatewayAgency: string | undefined, parsed: ParsedPackets = new ParsedPackets(), work: PacketWork = IN_THREAD) {
    this.#key = key;
    this.#gatewayAgency = gatewayAgency;
    this.#parsed = parsed;
    this.#work = work;
  }

  /** The packet as this gateway forwards it, signed at `at`. */
  async prepare(bytes: Buffer, at: Date): Promise<Result<Buffer>> {
    const parsed = await this.#parsed.parse(bytes, this.#work);
    if (!parsed.ok) return { ok: false, issues: parsed.issues };
    const unsigned = buildPacketBuffer(this.#withTrace(parsed.value, at));
    return this.#work.sign(unsigned, this.#key);
  }

  #withTrace(packet: Packet, at: Date): Packet {
    // Status packets carry no TraceHeaderList (spec §4.1); they are only signed.
    if (packet.kind === 'status' || this.#gatewayAgency === undefined) return { ...packet, signature: undefined };
    return {
      ...packet,
      traceHeaders: [...packet.traceHeaders, { organId: this.#gatewayAgency, timestamp: formatTimestamp(at) }],
      signature: undefined,
    };
  }
}
