// The XML-DSig layer of the trust module (src/trust/types.ts): verify a packet's enveloped signature,
// sign a packet. Everything else in this folder is internal.

export { verifySignature } from './verify.ts';
export { signPacket, trySignPacket } from './sign.ts';
export type { SignOptions } from './sign.ts';
