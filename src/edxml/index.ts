// The public API of the edXML wire-format module: what the rest of edxgate (pipeline, adapters,
// CLI) may import. Internals (the XML reader, the builder's helpers) stay behind this line.

export * from './model.ts';
export * from './codes.ts';
export * from './agency-code.ts';
export * from './dates.ts';
export * from './document-id.ts';
export { parsePacket, DEFAULT_PACKET_LIMITS } from './parse.ts';
export type { ParseOptions, PacketLimits } from './parse.ts';
export {
  validatePacket,
  DEFAULT_VALIDATE_OPTIONS,
  MAX_ATTACHMENT_BYTES,
  ATTACHMENT_NAME_MAX_LENGTH,
  ALLOWED_ATTACHMENT_EXTENSIONS,
  FIELD_LIMITS,
} from './validate.ts';
export type { ValidateOptions } from './validate.ts';
export { decodePacket } from './decode.ts';
export { ParsedPackets } from './parsed-packets.ts';
export type { DecodeOptions } from './decode.ts';
export { buildPacket, buildPacketBuffer, XML_PROLOG } from './build.ts';
export { DEFAULT_XML_LIMITS } from './xml.ts';
export type { XmlLimits } from './xml.ts';
