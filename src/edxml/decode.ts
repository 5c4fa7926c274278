// Decoding = what intake does with the bytes of a packet before trusting any of it: parse (is this
// an edXML packet, with the fields the model needs?) then validate (are the values acceptable?).
// One call, one Result, so the pipeline, the CLI and the tests all refuse exactly the same packets.

import type { Packet } from './model.ts';
import { parsePacket } from './parse.ts';
import type { ParseOptions } from './parse.ts';
import { validatePacket } from './validate.ts';
import type { ValidateOptions } from './validate.ts';
import type { Result } from '../errors.ts';

/** Options of `decodePacket`: the parser's limits and the validator's rules, each defaulted. */
export type DecodeOptions = ParseOptions & Partial<ValidateOptions>;

/** Parses then validates a packet; ok only when neither step found an error (warnings of both are kept). */
export function decodePacket(input: Buffer | string, options: DecodeOptions = {}): Result<Packet> {
  const parsed = parsePacket(input, options);
  if (!parsed.ok) return parsed;
  const found = validatePacket(parsed.value, options);
  const issues = [...parsed.warnings, ...found];
  if (found.some((i) => i.severity === 'error')) return { ok: false, issues };
  return { ok: true, value: parsed.value, warnings: issues };
}
