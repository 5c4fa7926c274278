// A small DER reader for the parts of X.509 certificates and CRLs the certificate layer needs.
// node-forge's asn1.fromDer would parse the same bytes, but it hands back decoded objects without
// their byte offsets, and verifying a CRL's signature needs the exact bytes of its tbsCertList:
// re-encoding a parsed tree can differ from what the CA signed. Node's X509Certificate parses
// certificates but exposes neither keyUsage bits nor CRL distribution points, and nothing in Node
// parses CRLs. So: a reader over the original Buffer that only ever slices it.
//
// Every read is bounds-checked against the enclosing element. Malformed input raises DerError,
// which the parse entry points (certificate.ts, crl.ts) catch and turn into values; nothing outside
// this folder sees the exception.

/** Raised for malformed DER; caught at the parse entry points, never escapes the module. */
export class DerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DerError';
  }
}

/** Universal tags (class 0) this layer reads. */
export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTF8_STRING: 0x0c,
  SEQUENCE: 0x30,
  SET: 0x31,
  NUMERIC_STRING: 0x12,
  PRINTABLE_STRING: 0x13,
  TELETEX_STRING: 0x14,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  VISIBLE_STRING: 0x1a,
  UNIVERSAL_STRING: 0x1c,
  BMP_STRING: 0x1e,
} as const;

/** Context-specific tag byte: [n] primitive (0x80 | n) or constructed (0xa0 | n). */
export function contextTag(tagNumber: number, constructed: boolean): number {
  return (constructed ? 0xa0 : 0x80) | tagNumber;
}

/** One element: its identifier byte and where its header and contents lie in `bytes`. */
export interface DerElement {
  /** The identifier octet (class, constructed bit and tag number < 31). */
  readonly tag: number;
  readonly bytes: Buffer;
  /** Offset of the identifier octet. */
  readonly start: number;
  /** Offset of the first content octet. */
  readonly contentStart: number;
  /** Offset just past the last content octet. */
  readonly end: number;
}

/** A length in more than 4 octets (over 4 GiB) cannot be a certificate or CRL worth reading. */
const MAX_LENGTH_OCTETS = 4;

/** Reads the element that starts at `offset` and must end at or before `limit`. */
export function readElement(bytes: Buffer, offset: number, limit: number = bytes.length): DerElement {
  if (offset + 2 > limit) throw new DerError(`truncated element at offset ${offset}`);
  const tag = bytes[offset] as number;
  // High tag numbers (0x1f) never occur in the structures read here; refusing them keeps the
  // element header a fixed shape.
  if ((tag & 0x1f) === 0x1f) throw new DerError(`unsupported high tag number at offset ${offset}`);
  let cursor = offset + 1;
  const first = bytes[cursor] as number;
  cursor += 1;
  let length: number;
  if (first < 0x80) {
    length = first;
  } else if (first === 0x80) {
    throw new DerError(`indefinite length at offset ${offset} (BER, not DER)`);
  } else {
    const count = first & 0x7f;
    if (count > MAX_LENGTH_OCTETS) throw new DerError(`length of ${count} octets at offset ${offset}`);
    if (cursor + count > limit) throw new DerError(`truncated length at offset ${offset}`);
    length = 0;
    for (let i = 0; i < count; i += 1) length = length * 256 + (bytes[cursor + i] as number);
    cursor += count;
  }
  const end = cursor + length;
  if (end > limit) throw new DerError(`element at offset ${offset} runs past its container`);
  return { tag, bytes, start: offset, contentStart: cursor, end };
}

/** Parses a whole buffer as exactly one element (trailing bytes are refused). */
export function readRoot(bytes: Buffer): DerElement {
  const root = readElement(bytes, 0, bytes.length);
  if (root.end !== bytes.length) throw new DerError(`${bytes.length - root.end} trailing bytes after the DER element`);
  return root;
}

/** The element's children, for a constructed element. */
export function children(element: DerElement): DerElement[] {
  if ((element.tag & 0x20) === 0) throw new DerError(`element with tag 0x${hexByte(element.tag)} is not constructed`);
  const result: DerElement[] = [];
  let offset = element.contentStart;
  while (offset < element.end) {
    const child = readElement(element.bytes, offset, element.end);
    result.push(child);
    offset = child.end;
  }
  return result;
}

/** The element's children after checking its tag. */
export function childrenOf(element: DerElement, tag: number, what: string): DerElement[] {
  expectTag(element, tag, what);
  return children(element);
}

export function expectTag(element: DerElement, tag: number, what: string): void {
  if (element.tag !== tag) {
    throw new DerError(`${what}: expected tag 0x${hexByte(tag)}, found 0x${hexByte(element.tag)}`);
  }
}

/** The contents octets (a view on the original buffer, not a copy). */
export function content(element: DerElement): Buffer {
  return element.bytes.subarray(element.contentStart, element.end);
}

/** The whole encoding, header included (a view), e.g. the signed tbsCertList. */
export function encoded(element: DerElement): Buffer {
  return element.bytes.subarray(element.start, element.end);
}

/** Takes `index` from a list of children, failing with a message naming the missing part. */
export function at(elements: readonly DerElement[], index: number, what: string): DerElement {
  const element = elements[index];
  if (!element) throw new DerError(`${what} is missing`);
  return element;
}

export function readOid(element: DerElement): string {
  expectTag(element, TAG.OID, 'object identifier');
  const value = content(element);
  if (value.length === 0) throw new DerError('empty object identifier');
  const arcs: number[] = [];
  let current = 0;
  for (let i = 0; i < value.length; i += 1) {
    const byte = value[i] as number;
    current = current * 128 + (byte & 0x7f);
    // Arcs beyond 2^53 do not occur in PKIX; refusing them keeps arithmetic exact.
    if (current > Number.MAX_SAFE_INTEGER) throw new DerError('object identifier arc too large');
    if ((byte & 0x80) === 0) {
      arcs.push(current);
      current = 0;
    } else if (i === value.length - 1) {
      throw new DerError('truncated object identifier');
    }
  }
  const first = arcs[0] as number;
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...arcs.slice(1)].join('.');
}

export function readBoolean(element: DerElement): boolean {
  expectTag(element, TAG.BOOLEAN, 'boolean');
  const value = content(element);
  if (value.length !== 1) throw new DerError('boolean of length other than 1');
  return value[0] !== 0;
}

/** A small non-negative INTEGER (versions, path lengths, reason codes). */
export function readSmallInteger(element: DerElement): number {
  if (element.tag !== TAG.INTEGER && element.tag !== TAG.ENUMERATED) {
    throw new DerError(`expected an integer, found tag 0x${hexByte(element.tag)}`);
  }
  const value = content(element);
  if (value.length === 0 || value.length > 6) throw new DerError('integer empty or too large');
  if (((value[0] as number) & 0x80) !== 0) throw new DerError('negative integer where a count was expected');
  let result = 0;
  for (const byte of value) result = result * 256 + byte;
  return result;
}

/**
 * An INTEGER of any size as canonical upper-case hex: the magnitude of a positive number without
 * a sign byte (as OpenSSL and Node print serial numbers), so that a CA's non-minimal encoding in a
 * certificate still matches a minimal one in its CRL. A negative value (not allowed as a serial,
 * but seen) keeps its two's-complement bytes behind a "-", so it can never equal a positive one.
 */
export function readIntegerHex(element: DerElement): string {
  expectTag(element, TAG.INTEGER, 'integer');
  let value = content(element);
  if (value.length === 0) throw new DerError('empty integer');
  const negative = ((value[0] as number) & 0x80) !== 0;
  while (value.length > 1) {
    const lead = value[0] as number;
    const next = value[1] as number;
    const redundant = (lead === 0x00 && (next & 0x80) === 0) || (lead === 0xff && (next & 0x80) !== 0);
    if (!redundant) break;
    value = value.subarray(1);
  }
  if (!negative && value.length > 1 && value[0] === 0x00) value = value.subarray(1); // the sign byte
  return `${negative ? '-' : ''}${value.toString('hex').toUpperCase()}`;
}

/** A BIT STRING's bytes without the leading unused-bits octet, and the unused-bit count. */
export function readBitString(element: DerElement): { readonly bytes: Buffer; readonly unusedBits: number } {
  expectTag(element, TAG.BIT_STRING, 'bit string');
  const value = content(element);
  if (value.length === 0) throw new DerError('empty bit string');
  const unusedBits = value[0] as number;
  if (unusedBits > 7 || (value.length === 1 && unusedBits !== 0)) throw new DerError('bad unused-bits count');
  return { bytes: value.subarray(1), unusedBits };
}

/** Whether bit `index` (0 = most significant bit of the first byte) of a named-bit list is set. */
export function bitIsSet(bits: Buffer, index: number): boolean {
  const byte = bits[index >> 3];
  return byte !== undefined && (byte & (0x80 >> (index & 7))) !== 0;
}

/** UTCTime or GeneralizedTime, as RFC 5280 §4.1.2.5 profiles them (UTC, "Z"). */
export function readTime(element: DerElement): Date {
  const text = content(element).toString('latin1');
  let fields: RegExpExecArray | null;
  let year: number;
  if (element.tag === TAG.UTC_TIME) {
    // Seconds are optional in BER UTCTime; some CAs omit them, so accept both.
    fields = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?Z$/.exec(text);
    if (!fields) throw new DerError(`malformed UTCTime "${text}"`);
    const yy = Number(fields[1]);
    year = yy >= 50 ? 1900 + yy : 2000 + yy; // RFC 5280: YY >= 50 means 19YY
  } else if (element.tag === TAG.GENERALIZED_TIME) {
    fields = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.\d+)?Z$/.exec(text);
    if (!fields) throw new DerError(`malformed GeneralizedTime "${text}"`);
    year = Number(fields[1]);
  } else {
    throw new DerError(`expected a time, found tag 0x${hexByte(element.tag)}`);
  }
  const month = Number(fields[2]);
  const day = Number(fields[3]);
  const hour = Number(fields[4]);
  const minute = Number(fields[5]);
  const second = fields[6] === undefined ? 0 : Number(fields[6]);
  if (hour > 23 || minute > 59 || second > 59) throw new DerError(`impossible time "${text}"`);
  const millis = Date.UTC(year, month - 1, day, hour, minute, second);
  const date = new Date(millis);
  // Date.UTC rolls 31 February over into March; an impossible date is malformed, not a later one.
  if (Number.isNaN(millis) || date.getUTCDate() !== day || date.getUTCMonth() !== month - 1) {
    throw new DerError(`impossible date "${text}"`);
  }
  return date;
}

/** Whether the element is a UTCTime or GeneralizedTime (for optional nextUpdate). */
export function isTime(element: DerElement | undefined): element is DerElement {
  return element !== undefined && (element.tag === TAG.UTC_TIME || element.tag === TAG.GENERALIZED_TIME);
}

/** A directory string attribute value as text; undefined for types that are not strings. */
export function readDirectoryString(element: DerElement): string | undefined {
  const value = content(element);
  switch (element.tag) {
    case TAG.UTF8_STRING:
      return value.toString('utf8');
    case TAG.PRINTABLE_STRING:
    case TAG.IA5_STRING:
    case TAG.NUMERIC_STRING:
    case TAG.VISIBLE_STRING:
      return value.toString('latin1');
    // T61 in practice carries Latin-1 text; its real code set is never used by CAs.
    case TAG.TELETEX_STRING:
      return value.toString('latin1');
    case TAG.BMP_STRING:
      return value.length % 2 === 0 ? decodeUtf16Be(value) : undefined;
    case TAG.UNIVERSAL_STRING:
      return value.length % 4 === 0 ? decodeUtf32Be(value) : undefined;
    default:
      return undefined;
  }
}

function decodeUtf16Be(value: Buffer): string {
  const swapped = Buffer.from(value);
  swapped.swap16();
  return swapped.toString('utf16le');
}

function decodeUtf32Be(value: Buffer): string {
  let text = '';
  for (let i = 0; i < value.length; i += 4) {
    const codePoint = value.readUInt32BE(i);
    text += codePoint <= 0x10ffff ? String.fromCodePoint(codePoint) : '\ufffd';
  }
  return text;
}

function hexByte(value: number): string {
  return value.toString(16).padStart(2, '0');
}
