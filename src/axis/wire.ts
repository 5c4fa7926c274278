// The national axis SDK's wire conventions (spec/axis-wire.md), for both sides: the axis-compatible
// API verifies what an SDK client sends, and an axis client adapter sends what the SDK would. Pure
// functions only — no HTTP server or client, no database — so either side can use them.
//
// The `XroadVnpt-*` scheme: the client puts every parameter of a call in a header map (systemid,
// timestamp, Content-Type and the call's own keys), sends each as a header `XroadVnpt-<key>`, sends
// the map serialised as JSON in `XroadVnpt-sign-header` and an HMAC-SHA256 of that exact string in
// `XroadVnpt-hash-header`. The JSON is what is authenticated; the individual headers are copies.

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { VIETNAM_OFFSET_MS } from '../edxml/dates.ts';

/** Prefix of every header the SDK signs. */
export const AXIS_HEADER_PREFIX = 'XroadVnpt-';
/** Header carrying the signed JSON string. */
export const SIGN_HEADER = 'XroadVnpt-sign-header';
/** Header carrying the signed keys, ';'-joined (informative: the JSON is authoritative). */
export const SIGN_HEADER_KEY = 'XroadVnpt-sign-header-key';
/** Header carrying the hex HMAC-SHA256 of the sign-header string. */
export const HASH_HEADER = 'XroadVnpt-hash-header';
/** Header carrying the SDK protocol version (unsigned). */
export const VERSION_HEADER = 'XroadVnpt-version';
/** What both SDK versions send as XroadVnpt-version. */
export const SDK_PROTOCOL_VERSION = '3.0.201608';
/** What both SDK versions send as User-Agent. */
export const SDK_USER_AGENT = 'JAVASDKAgent/1.0.0 XRoad/VPCP';

/** The six operations of the SDK that edxgate speaks. */
export const AXIS_OPERATIONS = ['sendEdoc', 'getReceivedEdocList', 'getSentEdocList', 'getEdoc', 'updateStatus', 'getAgenciesList'] as const;
export type AxisOperation = (typeof AXIS_OPERATIONS)[number];
const OPERATION_SET: ReadonlySet<string> = new Set(AXIS_OPERATIONS);
/** Runtime guard for an operation name taken from a URL. */
export function isAxisOperation(value: string): value is AxisOperation {
  return OPERATION_SET.has(value);
}

/**
 * Keys every request signs (axis-wire.md, "Every request"), by their lower-case name: header names
 * are case-insensitive, and the SDK itself spells `docId` as `docid` in some callers.
 */
export const ALWAYS_SIGNED_KEYS = ['systemid', 'timestamp', 'content-type'] as const;

/**
 * The keys each operation signs besides ALWAYS_SIGNED_KEYS (axis-wire.md, the operations table),
 * lower-cased. `filePath` (getEdoc) and `docId` (getSentEdocList) are optional and not listed.
 */
export const OPERATION_SIGNED_KEYS: Readonly<Record<AxisOperation, readonly string[]>> = {
  sendEdoc: ['servicetype', 'messagetype', 'from', 'hash-file'],
  getReceivedEdocList: ['servicetype', 'messagetype'],
  getSentEdocList: ['servicetype', 'messagetype'],
  getEdoc: ['docid'],
  updateStatus: ['docid', 'status'],
  getAgenciesList: [],
};

/** The `servicetype` every call uses (the only value observed). */
export const SERVICE_TYPE = 'eDoc';
/** The two message types: `edoc` is a document packet, `status` a status packet. */
export const MESSAGE_TYPES = ['edoc', 'status'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];
/** The statuses updateStatus takes. */
export const TRANSPORT_STATUSES = ['done', 'fail'] as const;
export type TransportStatus = (typeof TRANSPORT_STATUSES)[number];

// --- HMAC ---------------------------------------------------------------------------------------

/** Lowercase hex HMAC-SHA256 of `message` under `secret`, both as UTF-8 (the SDK's own computation). */
export function axisHmac(secret: string, message: string | Buffer): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(typeof message === 'string' ? Buffer.from(message, 'utf8') : message).digest('hex');
}

/**
 * Whether `hashHeader` is the HMAC of the sign-header string as received. Node hands header values
 * decoded as latin-1, one character per byte. The Java SDK hashes the UTF-8 of its string and sends
 * latin-1 bytes, so for its (ASCII or latin-1) values the UTF-8 of the decoded string is what it
 * signed; a client that puts raw UTF-8 bytes in the header signed those bytes, which the latin-1
 * string gives back exactly. Both readings are tried; either way the MAC covers the received header
 * and needs the secret. Compared in constant time.
 */
export function verifyAxisHmac(secret: string, signHeader: string, hashHeader: string): boolean {
  const provided = hashHeader.trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(provided)) return false;
  const given = Buffer.from(provided, 'hex');
  const candidates = [axisHmac(secret, signHeader)];
  // Only when the string is not ASCII do the two readings differ.
  if (/[^\x00-\x7f]/.test(signHeader)) candidates.push(axisHmac(secret, Buffer.from(signHeader, 'latin1')));
  let ok = false;
  // Every candidate is compared (no early exit), so timing does not say which reading was tried.
  for (const candidate of candidates) ok = timingSafeEqual(Buffer.from(candidate, 'hex'), given) || ok;
  return ok;
}

// --- The signed header map ----------------------------------------------------------------------

/** One signed key: its name as the client spelt it (without the prefix) and its value. */
export interface SignedEntry {
  readonly name: string;
  readonly value: string;
}

/** The sign-header JSON, read: entries in their order, and by lower-case name. */
export interface SignedHeaderMap {
  readonly entries: readonly SignedEntry[];
  /** Lower-case name → entry. */
  readonly byKey: ReadonlyMap<string, SignedEntry>;
}

/** Reading the sign-header: the map, or why it is not one. */
export type SignHeaderReading = { readonly ok: true; readonly map: SignedHeaderMap } | { readonly ok: false; readonly reason: string };

/**
 * Reads the sign-header JSON: an object whose keys are `XroadVnpt-<name>` and whose values are
 * strings. Two keys differing only in case with different values are refused: which one a server
 * would use must not be a matter of interpretation.
 */
export function readSignHeader(text: string): SignHeaderReading {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'the sign-header is not JSON' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { ok: false, reason: 'the sign-header is not a JSON object' };
  const entries: SignedEntry[] = [];
  const byKey = new Map<string, SignedEntry>();
  for (const [key, value] of Object.entries(parsed)) {
    if (!key.toLowerCase().startsWith(AXIS_HEADER_PREFIX.toLowerCase())) return { ok: false, reason: `the signed key "${key}" lacks the ${AXIS_HEADER_PREFIX} prefix` };
    if (typeof value !== 'string') return { ok: false, reason: `the signed value of "${key}" is not a string` };
    const entry: SignedEntry = { name: key.slice(AXIS_HEADER_PREFIX.length), value };
    const lower = entry.name.toLowerCase();
    const prior = byKey.get(lower);
    if (prior !== undefined && prior.value !== value) return { ok: false, reason: `the signed keys "${prior.name}" and "${entry.name}" disagree` };
    if (entry.name === '' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(entry.name)) return { ok: false, reason: `the signed key "${key}" is not a header name` };
    entries.push(entry);
    byKey.set(lower, entry);
  }
  return { ok: true, map: { entries, byKey } };
}

/** A signed key whose header copy is absent or different. */
export interface HeaderMismatch {
  readonly name: string;
  readonly signed: string;
  readonly received: string | undefined;
}

/**
 * The first signed key whose `XroadVnpt-<name>` header is missing or differs from the signed value,
 * or undefined when every copy matches. `header` looks a header up by its lower-case name. Values
 * are compared without surrounding whitespace, which HTTP does not carry reliably.
 */
export function firstHeaderMismatch(map: SignedHeaderMap, header: (lowerName: string) => string | undefined): HeaderMismatch | undefined {
  for (const entry of map.entries) {
    const received = header(`${AXIS_HEADER_PREFIX}${entry.name}`.toLowerCase());
    if (received === undefined || received.trim() !== entry.value.trim()) return { name: entry.name, signed: entry.value, received };
  }
  return undefined;
}

/** The required keys of an operation that the map does not sign (lower-case names). */
export function missingSignedKeys(map: SignedHeaderMap, operation: AxisOperation): string[] {
  return [...ALWAYS_SIGNED_KEYS, ...OPERATION_SIGNED_KEYS[operation]].filter((key) => !map.byKey.has(key));
}

/** The signed value of a key (any case), or undefined. */
export function signedValue(map: SignedHeaderMap, key: string): string | undefined {
  return map.byKey.get(key.toLowerCase())?.value;
}

// --- Building a request, as the SDK does (the client side) ----------------------------------------

/** What an SDK-style request needs signed. */
export interface AxisRequestInput {
  readonly systemid: string;
  readonly secret: string;
  /** SDK format (sdkTimestamp); SDK 2.0.0 reuses one per service object, and so may a caller. */
  readonly timestamp: string;
  /** `application/json`, or `application/octet-stream` for sendEdoc. */
  readonly contentType: string;
  /** The call's own keys (servicetype, messagetype, from, hash-file, docId, status…), as [name, value]. */
  readonly params: readonly (readonly [string, string])[];
  /**
   * The order of the signed keys (names as in `params`, plus `systemid`, `timestamp`,
   * `Content-Type`). The SDK's follows Java HashMap iteration and varies by call; default: systemid,
   * timestamp, the params, Content-Type. Keys left out follow in the default order.
   */
  readonly order?: readonly string[] | undefined;
}

/** The headers of an SDK-style request, in the order the SDK sends them, and the signed parts. */
export interface AxisRequestHeaders {
  readonly headers: readonly (readonly [string, string])[];
  readonly signHeader: string;
  readonly signHeaderKey: string;
  readonly hashHeader: string;
}

/**
 * The `XroadVnpt-*` headers of a request (axis-wire.md, "Every request"): systemid, timestamp, the
 * params, Content-Type (plain and prefixed), sign-header-key, sign-header, hash-header, version and
 * User-Agent. Host, Content-Length and Connection are the HTTP client's business.
 */
export function buildAxisHeaders(input: AxisRequestInput): AxisRequestHeaders {
  const all: (readonly [string, string])[] = [['systemid', input.systemid], ['timestamp', input.timestamp], ...input.params, ['Content-Type', input.contentType]];
  const ordered: (readonly [string, string])[] = [];
  for (const name of input.order ?? []) {
    const found = all.find(([n]) => n === name);
    if (found !== undefined && !ordered.includes(found)) ordered.push(found);
  }
  for (const entry of all) if (!ordered.includes(entry)) ordered.push(entry);

  // Compact JSON, built by hand so the key order is exactly the one chosen (as the SDK's JSONObject).
  const signHeader = `{${ordered.map(([name, value]) => `${JSON.stringify(`${AXIS_HEADER_PREFIX}${name}`)}:${JSON.stringify(value)}`).join(',')}}`;
  const signHeaderKey = ordered.map(([name]) => name).join(';');
  const hashHeader = axisHmac(input.secret, signHeader);
  const headers: (readonly [string, string])[] = [
    [`${AXIS_HEADER_PREFIX}systemid`, input.systemid],
    [`${AXIS_HEADER_PREFIX}timestamp`, input.timestamp],
    ...input.params.map(([name, value]) => [`${AXIS_HEADER_PREFIX}${name}`, value] as const),
    ['Content-Type', input.contentType],
    [`${AXIS_HEADER_PREFIX}Content-Type`, input.contentType],
    [SIGN_HEADER_KEY, signHeaderKey],
    [SIGN_HEADER, signHeader],
    [HASH_HEADER, hashHeader],
    [VERSION_HEADER, SDK_PROTOCOL_VERSION],
    ['User-Agent', SDK_USER_AGENT],
  ];
  return { headers, signHeader, signHeaderKey, hashHeader };
}

/** Java's String.hashCode: s[0]·31^(n-1) + … + s[n-1], in 32-bit arithmetic over UTF-16 units. */
export function javaStringHash(text: string): number {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (Math.imul(h, 31) + text.charCodeAt(i)) | 0;
  return h;
}

/**
 * The iteration order of a java.util.HashMap holding `keys` (inserted in this order) at its default
 * capacity of 16 buckets (the SDK's maps hold fewer than 12 entries, so they never resize): by
 * bucket index (hash ^ hash >>> 16) & 15, and in insertion order within a bucket. This is the key
 * order of the SDK's sign-header (axis-wire.md: "follows Java HashMap iteration").
 */
export function javaHashMapOrder(keys: readonly string[]): string[] {
  const bucket = (key: string): number => {
    const h = javaStringHash(key);
    return (h ^ (h >>> 16)) & 15;
  };
  return keys
    .map((key, index) => ({ key, index, bucket: bucket(key) }))
    .sort((a, b) => a.bucket - b.bucket || a.index - b.index)
    .map((e) => e.key);
}

/**
 * The signed-key order the SDK produces for a call with these params. Its header map is keyed by
 * the plain names (systemid, timestamp, the call's keys, Content-Type, inserted in that order) and
 * the prefix is added only when the map is serialised, so the HashMap iterates the plain names: that
 * is what the capture shows (getAgenciesList signs `systemid;timestamp;Content-Type`, where the
 * prefixed names would iterate as `Content-Type;timestamp;systemid`).
 */
export function sdkSignedKeyOrder(params: readonly (readonly [string, string])[]): string[] {
  return javaHashMapOrder(['systemid', 'timestamp', ...params.map(([n]) => n), 'Content-Type']);
}

/**
 * The keys of each call's JSON header in the order the SDK copies them into its map (the order of
 * the headers it sends, axis-wire.md), with the values the caller gives.
 */
export const SDK_CALL_PARAMS = {
  sendEdoc: (from: string, messageType: MessageType, hashFile: string): [string, string][] => [
    ['from', from],
    ['servicetype', SERVICE_TYPE],
    ['messagetype', messageType],
    ['hash-file', hashFile],
  ],
  getReceivedEdocList: (messageType: MessageType): [string, string][] => [
    ['servicetype', SERVICE_TYPE],
    ['messagetype', messageType],
  ],
  getEdoc: (docId: string, filePath: string): [string, string][] => [
    ['filePath', filePath],
    ['docId', docId],
  ],
  updateStatus: (docId: string, status: TransportStatus): [string, string][] => [
    ['status', status],
    ['docId', docId],
  ],
  getAgenciesList: (): [string, string][] => [],
} as const;

// --- Timestamps ---------------------------------------------------------------------------------

function vietnamParts(date: Date): { y: string; mo: string; d: string; h: string; mi: string; s: string; ms: number } {
  const v = new Date(date.getTime() + VIETNAM_OFFSET_MS);
  const two = (n: number): string => String(n).padStart(2, '0');
  return {
    y: String(v.getUTCFullYear()).padStart(4, '0'),
    mo: two(v.getUTCMonth() + 1),
    d: two(v.getUTCDate()),
    h: two(v.getUTCHours()),
    mi: two(v.getUTCMinutes()),
    s: two(v.getUTCSeconds()),
    ms: v.getUTCMilliseconds(),
  };
}

/**
 * The SDK's timestamp, Java pattern `ddMMyyyy'T'HHmmss+SSSS` in Vietnam time: `+` then the
 * milliseconds on four digits (not a zone offset), e.g. `22112026T120338+0774`.
 */
export function sdkTimestamp(date: Date): string {
  const p = vietnamParts(date);
  return `${p.d}${p.mo}${p.y}T${p.h}${p.mi}${p.s}+${String(p.ms).padStart(4, '0')}`;
}

/**
 * Times in axis replies: `yyyy-MM-dd HH:mm:ss`, Vietnam time, no zone — what java.sql.Timestamp.valueOf
 * and a LocalDateTime pattern read, and what an office system shows as is.
 */
export function axisTime(date: Date): string {
  const p = vietnamParts(date);
  return `${p.y}-${p.mo}-${p.d} ${p.h}:${p.mi}:${p.s}`;
}

// --- hash-file and the sendEdoc body ------------------------------------------------------------

/** Hex with each byte's leading zero dropped: the SDK's `Integer.toHexString(b & 0xff)` per byte. */
export function unpaddedHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16);
  return out;
}

/** The `hash-file` the SDK announces for a file (the unpadded form), or the normal hex (`padded`). */
export function hashFileOf(file: Uint8Array, form: 'unpadded' | 'padded' = 'unpadded'): string {
  const digest = createHash('sha256').update(file).digest();
  return form === 'unpadded' ? unpaddedHex(digest) : digest.toString('hex');
}

/** Whether an announced hash-file names this SHA-256 digest, in the SDK's unpadded hex or in normal hex (any case). */
export function hashFileMatches(announced: string, digest: Uint8Array): boolean {
  const text = announced.trim().toLowerCase();
  return text === Buffer.from(digest).toString('hex') || text === unpaddedHex(digest);
}

const CRLF = Buffer.from('\r\n');

/**
 * The file inside a sendEdoc body: the SDK appends one CRLF after the file's bytes and hashes the
 * file alone. The body matches `hashFile` either without that CRLF (the SDK) or whole (a client that
 * sends the bare file — whose own last bytes may be a CRLF, so the CRLF cannot just be dropped). Both
 * digests come from one pass over the body. Undefined when neither matches.
 */
export function fileOfSendBody(body: Buffer, hashFile: string): Buffer | undefined {
  const endsWithCrlf = body.byteLength >= 2 && body.subarray(body.byteLength - 2).equals(CRLF);
  if (!endsWithCrlf) return hashFileMatches(hashFile, createHash('sha256').update(body).digest()) ? body : undefined;
  const head = body.subarray(0, body.byteLength - 2);
  const hash = createHash('sha256').update(head);
  const whole = hash.copy().update(CRLF).digest();
  if (hashFileMatches(hashFile, hash.digest())) return head;
  return hashFileMatches(hashFile, whole) ? body : undefined;
}

/** The body the SDK sends for a file: its bytes and one CRLF. */
export function sendBodyOf(file: Uint8Array): Buffer {
  return Buffer.concat([file, CRLF]);
}
