// The JSON packet description that `edxgate build` and the fixture generator turn into edXML.
//
// A description is the packet model (src/edxml/model.ts) written as JSON — same field names, plus
// `kind: 'document' | 'status'` — with a few conveniences so that fixtures stay short and readable:
// - optional arrays (to, responseFor, toPlaces, appendixes, traceHeaders, replacements, receivers,
//   referenceUris, transforms) may be omitted;
// - `header.documentId` may be omitted: it is then `From,PromulgationDate,CodeNumber/CodeNotation`
//   (spec §8);
// - an attachment gives its bytes as exactly one of `content` (base64), `text` (UTF-8 text to
//   encode), `file` (a path relative to the description file) or `generate: { bytes, seed? }`
//   (deterministic pseudo-random bytes, so that tests can make 20 MB packets without committing them);
// - an attachment's `attachmentName` defaults to the file's base name, its `contentType` to the type
//   of its name's extension, its `contentId` to a `cid:` UUID derived from its position, name and bytes;
// - `manifest` may be omitted: there is then one Reference per attachment.
// A top-level `$comment` string is allowed and ignored, so a fixture can say what it is for.
//
// The conversion checks shape only (JSON types, known keys, closed sets that the model types);
// field rules are validatePacket's job, which `build` runs afterwards.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';

import {
  BUSINESS_DOC_TYPES,
  PRIORITIES,
  STATUS_CODES,
  STEERING_TYPES,
  isBusinessDocType,
  isPriority,
  isStatusCode,
  isSteeringType,
} from '../edxml/codes.ts';
import { documentIdFor } from '../edxml/document-id.ts';
import type {
  Attachment,
  Business,
  BusinessDocumentInfo,
  DocumentCode,
  DocumentHeader,
  DocumentPacket,
  DocumentType,
  ManifestReference,
  Organization,
  OtherInfo,
  Packet,
  PromulgationInfo,
  Receiver,
  ReplacementInfo,
  ResponseFor,
  SignatureInfo,
  SignerInfo,
  StaffInfo,
  StatusPacket,
  TraceHeader,
} from '../edxml/model.ts';
import { issue, type ErrorCode, type Issue, type Result } from '../errors.ts';

/** Where the description came from, for resolving `file` attachments. */
export interface DescribeOptions {
  /** Directory that `attachments[].file` paths are relative to (the description file's folder). */
  readonly baseDir: string;
}

/** Largest `generate.bytes` accepted: above the 50 MB attachment limit, below a memory accident. */
export const GENERATE_MAX_BYTES = 128 * 1024 * 1024;

const INVALID: ErrorCode = 'EDX_ERR_BUILD_INPUT_INVALID';

/** Turns a parsed JSON description into a packet, or the shape errors with their JSON paths. */
export function packetFromDescription(input: unknown, options: DescribeOptions): Result<Packet> {
  const reader = new Reader(options.baseDir);
  const packet = reader.packet(input, '$');
  if (packet === undefined || reader.issues.length > 0) {
    return { ok: false, issues: reader.issues };
  }
  return { ok: true, value: packet, warnings: [] };
}

/** Parses description text (JSON) and converts it; a JSON syntax error is reported at `$`. */
export function packetFromDescriptionText(text: string, options: DescribeOptions): Result<Packet> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return { ok: false, issues: [issue(INVALID, '$', `The description is not valid JSON: ${detail}.`)] };
  }
  return packetFromDescription(json, options);
}

/** The content type a file name's extension stands for; unknown extensions get octet-stream. */
export function contentTypeFor(name: string): string {
  return CONTENT_TYPES[extname(name).slice(1).toLowerCase()] ?? 'application/octet-stream';
}

// IANA types, not the VNPT library's `application/docx` inventions (spec §3.5): receivers sniff
// the bytes anyway, and standard names are what mail and browsers understand.
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  pdf: 'application/pdf',
  txt: 'text/plain',
  rtf: 'application/rtf',
  doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  odt: 'application/vnd.oasis.opendocument.text',
  csv: 'text/csv',
  xls: 'application/vnd.ms-excel',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  ods: 'application/vnd.oasis.opendocument.spreadsheet',
  zip: 'application/zip',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  tif: 'image/tiff',
  tiff: 'image/tiff',
  bmp: 'image/bmp',
  svg: 'image/svg+xml',
};

/** Deterministic pseudo-random bytes (xoshiro128** seeded from SHA-256 of the seed). */
export function generateBytes(length: number, seed = 'edxgate'): Buffer {
  // Not crypto: test payloads only need to be reproducible and incompressible, and a 20 MB packet
  // must be generated in milliseconds, which hashing per block would not do.
  const digest = createHash('sha256').update(seed, 'utf8').digest();
  let s0 = digest.readUInt32LE(0);
  let s1 = digest.readUInt32LE(4);
  let s2 = digest.readUInt32LE(8);
  let s3 = digest.readUInt32LE(12);
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1; // the all-zero state is a fixed point
  const out = Buffer.allocUnsafe(length);
  let offset = 0;
  while (offset < length) {
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    s2 = (s2 ^ s0) >>> 0;
    s3 = (s3 ^ s1) >>> 0;
    s1 = (s1 ^ s2) >>> 0;
    s0 = (s0 ^ s3) >>> 0;
    s2 = (s2 ^ t) >>> 0;
    s3 = rotl(s3, 11);
    if (length - offset >= 4) {
      out.writeUInt32LE(result, offset);
      offset += 4;
    } else {
      for (let shift = 0; offset < length; shift += 8) out[offset++] = (result >>> shift) & 0xff;
    }
  }
  return out;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

type JsonObject = Readonly<Record<string, unknown>>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/** Walks the description, collecting every shape error rather than stopping at the first. */
class Reader {
  readonly issues: Issue[] = [];

  constructor(private readonly baseDir: string) {}

  private fail(path: string, detail: string, value?: string): void {
    this.issues.push(issue(INVALID, path, detail, value));
  }

  // --- primitives -------------------------------------------------------------------------------

  private object(value: unknown, path: string, keys: readonly string[]): JsonObject | undefined {
    if (!isObject(value)) {
      this.fail(path, `Expected an object, got ${typeOf(value)}.`);
      return undefined;
    }
    for (const key of Object.keys(value)) {
      if (!keys.includes(key)) {
        this.fail(`${path}.${key}`, `Unknown key "${key}"; the keys here are ${keys.join(', ')}.`);
      }
    }
    return value;
  }

  /** An optional string: trimmed, and empty means absent (the model's convention). */
  private optString(obj: JsonObject, key: string, path: string): string | undefined {
    const value = obj[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') {
      this.fail(`${path}.${key}`, `Expected a string, got ${typeOf(value)}.`);
      return undefined;
    }
    const trimmed = value.trim();
    return trimmed === '' ? undefined : trimmed;
  }

  /** A required string: must be present; an empty one is kept so validation names the field. */
  private reqString(obj: JsonObject, key: string, path: string): string {
    const value = obj[key];
    if (typeof value !== 'string') {
      this.fail(
        `${path}.${key}`,
        value === undefined ? `Missing required string "${key}".` : `Expected a string, got ${typeOf(value)}.`,
      );
      return '';
    }
    return value.trim();
  }

  private optInteger(obj: JsonObject, key: string, path: string): number | undefined {
    const value = obj[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
      this.fail(`${path}.${key}`, `Expected an integer, got ${typeOf(value)}.`, String(value));
      return undefined;
    }
    return value;
  }

  private reqInteger(obj: JsonObject, key: string, path: string): number {
    if (obj[key] === undefined) {
      this.fail(`${path}.${key}`, `Missing required integer "${key}".`);
      return 0;
    }
    return this.optInteger(obj, key, path) ?? 0;
  }

  private optBoolean(obj: JsonObject, key: string, path: string): boolean | undefined {
    const value = obj[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'boolean') {
      this.fail(`${path}.${key}`, `Expected true or false, got ${typeOf(value)}.`);
      return undefined;
    }
    return value;
  }

  /** An optional array: omitted means empty. */
  private array<T>(
    obj: JsonObject,
    key: string,
    path: string,
    item: (value: unknown, itemPath: string, index: number) => T | undefined,
  ): T[] {
    const value = obj[key];
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) {
      this.fail(`${path}.${key}`, `Expected an array, got ${typeOf(value)}.`);
      return [];
    }
    const out: T[] = [];
    value.forEach((element: unknown, index: number) => {
      const converted = item(element, `${path}.${key}[${index}]`, index);
      if (converted !== undefined) out.push(converted);
    });
    return out;
  }

  private stringItem = (value: unknown, path: string): string | undefined => {
    if (typeof value !== 'string') {
      this.fail(path, `Expected a string, got ${typeOf(value)}.`);
      return undefined;
    }
    return value.trim();
  };

  /** A member of a closed set; the model types it, so it is checked here rather than left to validation. */
  private member<T extends number | string>(
    obj: JsonObject,
    key: string,
    path: string,
    values: readonly T[],
    guard: (value: unknown) => value is T,
  ): T | undefined {
    const value = obj[key];
    if (value === undefined || value === null) return undefined;
    if (!guard(value)) {
      const expected = values.map((v) => JSON.stringify(v)).join(', ');
      this.fail(`${path}.${key}`, `Expected one of ${expected}, got ${JSON.stringify(value)}.`, String(value));
      return undefined;
    }
    return value;
  }

  // --- packets ----------------------------------------------------------------------------------

  packet(input: unknown, path: string): Packet | undefined {
    if (!isObject(input)) {
      this.fail(path, `Expected an object with "kind": "document" or "status", got ${typeOf(input)}.`);
      return undefined;
    }
    if (input.$comment !== undefined && typeof input.$comment !== 'string') {
      this.fail(`${path}.$comment`, `Expected a string, got ${typeOf(input.$comment)}.`);
    }
    switch (input.kind) {
      case 'document':
        return this.document(input, path);
      case 'status':
        return this.status(input, path);
      default:
        this.fail(`${path}.kind`, 'Expected "document" or "status".', String(input.kind));
        return undefined;
    }
  }

  private document(input: JsonObject, path: string): DocumentPacket | undefined {
    const obj = this.object(input, path, [
      '$comment',
      'kind',
      'header',
      'traceHeaders',
      'business',
      'signature',
      'manifest',
      'attachments',
    ]);
    if (!obj) return undefined;
    const header = this.header(obj.header, `${path}.header`);
    const traceHeaders = this.array(obj, 'traceHeaders', path, (v, p) => this.traceHeader(v, p));
    const business = obj.business === undefined ? undefined : this.business(obj.business, `${path}.business`);
    const signature = obj.signature === undefined ? undefined : this.signature(obj.signature, `${path}.signature`);
    const attachments = this.array(obj, 'attachments', path, (v, p, i) => this.attachment(v, p, i));
    const manifest =
      obj.manifest === undefined
        ? attachments.map(({ contentId, contentType, description, attachmentName }) => ({
            contentId,
            contentType,
            description,
            attachmentName,
          }))
        : this.array(obj, 'manifest', path, (v, p) => this.reference(v, p));
    if (!header) return undefined;
    return { kind: 'document', header, traceHeaders, business, signature, manifest, attachments };
  }

  private status(input: JsonObject, path: string): StatusPacket | undefined {
    const obj = this.object(input, path, [
      '$comment',
      'kind',
      'from',
      'responseFor',
      'staffInfo',
      'statusCode',
      'description',
      'timestamp',
      'signature',
    ]);
    if (!obj) return undefined;
    const from = this.organization(obj.from, `${path}.from`);
    const responseFor = this.responseFor(obj.responseFor, `${path}.responseFor`);
    const staffInfo = obj.staffInfo === undefined ? undefined : this.staffInfo(obj.staffInfo, `${path}.staffInfo`);
    if (obj.statusCode === undefined) this.fail(`${path}.statusCode`, 'Missing required string "statusCode".');
    const statusCode = this.member(obj, 'statusCode', path, STATUS_CODES, isStatusCode);
    const description = this.optString(obj, 'description', path);
    const timestamp = this.reqString(obj, 'timestamp', path);
    const signature = obj.signature === undefined ? undefined : this.signature(obj.signature, `${path}.signature`);
    if (!from || !responseFor || statusCode === undefined) return undefined;
    return { kind: 'status', from, responseFor, staffInfo, statusCode, description, timestamp, signature };
  }

  private header(value: unknown, path: string): DocumentHeader | undefined {
    const obj = this.object(value, path, [
      'from',
      'to',
      'documentId',
      'code',
      'promulgationInfo',
      'documentType',
      'subject',
      'content',
      'signerInfo',
      'dueDate',
      'otherInfo',
      'responseFor',
      'steeringType',
      'toPlaces',
    ]);
    if (!obj) return undefined;
    const from = this.organization(obj.from, `${path}.from`);
    const to = this.array(obj, 'to', path, (v, p) => this.organization(v, p));
    const code = this.code(obj.code, `${path}.code`);
    const promulgationInfo = this.promulgationInfo(obj.promulgationInfo, `${path}.promulgationInfo`);
    const documentType = this.documentType(obj.documentType, `${path}.documentType`);
    // Spec §8: the wire form every VPCP sample uses, so most descriptions need not repeat it.
    const documentId =
      obj.documentId !== undefined
        ? this.reqString(obj, 'documentId', path)
        : from && code && promulgationInfo
          ? (documentIdFor({ from, code, promulgationInfo }) ??
            // A malformed date is validation's to report; keep the id in step with it meanwhile.
            `${from.organId},${promulgationInfo.promulgationDate},${code.codeNumber}/${code.codeNotation}`)
          : ''; // the parts it derives from are already reported
    const subject = this.reqString(obj, 'subject', path);
    const content = this.optString(obj, 'content', path);
    const signerInfo = obj.signerInfo === undefined ? undefined : this.signerInfo(obj.signerInfo, `${path}.signerInfo`);
    const dueDate = this.optString(obj, 'dueDate', path);
    const otherInfo = obj.otherInfo === undefined ? undefined : this.otherInfo(obj.otherInfo, `${path}.otherInfo`);
    const responseFor = this.array(obj, 'responseFor', path, (v, p) => this.responseFor(v, p));
    const steeringType = this.member(obj, 'steeringType', path, STEERING_TYPES, isSteeringType);
    const toPlaces = this.array(obj, 'toPlaces', path, this.stringItem);
    if (!from || !code || !promulgationInfo || !documentType) return undefined;
    return {
      from,
      to,
      documentId,
      code,
      promulgationInfo,
      documentType,
      subject,
      content,
      signerInfo,
      dueDate,
      otherInfo,
      responseFor,
      steeringType,
      toPlaces,
    };
  }

  private organization(value: unknown, path: string): Organization | undefined {
    const obj = this.object(value, path, [
      'organId',
      'organizationInCharge',
      'organName',
      'organAdd',
      'email',
      'telephone',
      'fax',
      'website',
    ]);
    if (!obj) return undefined;
    return {
      organId: this.reqString(obj, 'organId', path),
      organizationInCharge: this.optString(obj, 'organizationInCharge', path),
      organName: this.optString(obj, 'organName', path),
      organAdd: this.optString(obj, 'organAdd', path),
      email: this.optString(obj, 'email', path),
      telephone: this.optString(obj, 'telephone', path),
      fax: this.optString(obj, 'fax', path),
      website: this.optString(obj, 'website', path),
    };
  }

  private code(value: unknown, path: string): DocumentCode | undefined {
    const obj = this.object(value, path, ['codeNumber', 'codeNotation']);
    if (!obj) return undefined;
    return { codeNumber: this.reqString(obj, 'codeNumber', path), codeNotation: this.reqString(obj, 'codeNotation', path) };
  }

  private promulgationInfo(value: unknown, path: string): PromulgationInfo | undefined {
    const obj = this.object(value, path, ['place', 'promulgationDate']);
    if (!obj) return undefined;
    return {
      place: this.optString(obj, 'place', path),
      promulgationDate: this.reqString(obj, 'promulgationDate', path),
    };
  }

  private documentType(value: unknown, path: string): DocumentType | undefined {
    const obj = this.object(value, path, ['type', 'typeDetail', 'typeName']);
    if (!obj) return undefined;
    return {
      type: this.reqInteger(obj, 'type', path),
      typeDetail: this.optInteger(obj, 'typeDetail', path),
      typeName: this.optString(obj, 'typeName', path),
    };
  }

  private signerInfo(value: unknown, path: string): SignerInfo | undefined {
    const obj = this.object(value, path, ['competence', 'position', 'fullName']);
    if (!obj) return undefined;
    return {
      competence: this.optString(obj, 'competence', path),
      position: this.optString(obj, 'position', path),
      fullName: this.optString(obj, 'fullName', path),
    };
  }

  private otherInfo(value: unknown, path: string): OtherInfo | undefined {
    const obj = this.object(value, path, [
      'priority',
      'sphereOfPromulgation',
      'typerNotation',
      'promulgationAmount',
      'pageAmount',
      'direction',
      'appendixes',
    ]);
    if (!obj) return undefined;
    return {
      priority: this.member(obj, 'priority', path, PRIORITIES, isPriority),
      sphereOfPromulgation: this.optString(obj, 'sphereOfPromulgation', path),
      typerNotation: this.optString(obj, 'typerNotation', path),
      promulgationAmount: this.optInteger(obj, 'promulgationAmount', path),
      pageAmount: this.optInteger(obj, 'pageAmount', path),
      direction: this.optBoolean(obj, 'direction', path),
      appendixes: this.array(obj, 'appendixes', path, this.stringItem),
    };
  }

  private responseFor(value: unknown, path: string): ResponseFor | undefined {
    const obj = this.object(value, path, ['organId', 'code', 'promulgationDate', 'documentId']);
    if (!obj) return undefined;
    return {
      organId: this.reqString(obj, 'organId', path),
      code: this.optString(obj, 'code', path),
      promulgationDate: this.optString(obj, 'promulgationDate', path),
      documentId: this.reqString(obj, 'documentId', path),
    };
  }

  private staffInfo(value: unknown, path: string): StaffInfo | undefined {
    const obj = this.object(value, path, ['department', 'departmentId', 'staff', 'staffId', 'email', 'mobile']);
    if (!obj) return undefined;
    return {
      department: this.optString(obj, 'department', path),
      departmentId: this.optString(obj, 'departmentId', path),
      staff: this.optString(obj, 'staff', path),
      staffId: this.optString(obj, 'staffId', path),
      email: this.optString(obj, 'email', path),
      mobile: this.optString(obj, 'mobile', path),
    };
  }

  private traceHeader(value: unknown, path: string): TraceHeader | undefined {
    const obj = this.object(value, path, ['organId', 'timestamp']);
    if (!obj) return undefined;
    return { organId: this.reqString(obj, 'organId', path), timestamp: this.reqString(obj, 'timestamp', path) };
  }

  private business(value: unknown, path: string): Business | undefined {
    const obj = this.object(value, path, [
      'documentId',
      'businessDocType',
      'businessDocReason',
      'paper',
      'documentInfo',
      'replacements',
      'staffInfo',
    ]);
    if (!obj) return undefined;
    if (obj.businessDocType === undefined) {
      this.fail(`${path}.businessDocType`, 'Missing required integer "businessDocType".');
    }
    const businessDocType = this.member(obj, 'businessDocType', path, BUSINESS_DOC_TYPES, isBusinessDocType);
    const business = {
      documentId: this.optString(obj, 'documentId', path),
      businessDocReason: this.optString(obj, 'businessDocReason', path),
      paper: this.optInteger(obj, 'paper', path),
      documentInfo:
        obj.documentInfo === undefined ? undefined : this.documentInfo(obj.documentInfo, `${path}.documentInfo`),
      replacements: this.array(obj, 'replacements', path, (v, p) => this.replacement(v, p)),
      staffInfo: obj.staffInfo === undefined ? undefined : this.staffInfo(obj.staffInfo, `${path}.staffInfo`),
    };
    if (businessDocType === undefined) return undefined;
    return { ...business, businessDocType };
  }

  private documentInfo(value: unknown, path: string): BusinessDocumentInfo | undefined {
    const obj = this.object(value, path, ['documentInfo', 'documentReceiver', 'receivers']);
    if (!obj) return undefined;
    return {
      documentInfo: this.optInteger(obj, 'documentInfo', path),
      documentReceiver: this.optInteger(obj, 'documentReceiver', path),
      receivers: this.array(obj, 'receivers', path, (v, p) => this.receiver(v, p)),
    };
  }

  private receiver(value: unknown, path: string): Receiver | undefined {
    const obj = this.object(value, path, ['organId', 'receiverType']);
    if (!obj) return undefined;
    return { organId: this.reqString(obj, 'organId', path), receiverType: this.optInteger(obj, 'receiverType', path) };
  }

  private replacement(value: unknown, path: string): ReplacementInfo | undefined {
    const obj = this.object(value, path, ['documentId', 'organIds']);
    if (!obj) return undefined;
    return {
      documentId: this.reqString(obj, 'documentId', path),
      organIds: this.array(obj, 'organIds', path, this.stringItem),
    };
  }

  private signature(value: unknown, path: string): SignatureInfo | undefined {
    const obj = this.object(value, path, [
      'namespace',
      'canonicalizationMethod',
      'signatureMethod',
      'referenceUris',
      'transforms',
      'digestMethod',
      'digestValue',
      'signatureValue',
      'x509SubjectName',
      'x509Certificate',
    ]);
    if (!obj) return undefined;
    return {
      namespace: this.reqString(obj, 'namespace', path),
      canonicalizationMethod: this.optString(obj, 'canonicalizationMethod', path),
      signatureMethod: this.optString(obj, 'signatureMethod', path),
      referenceUris: this.array(obj, 'referenceUris', path, this.stringItem),
      transforms: this.array(obj, 'transforms', path, this.stringItem),
      digestMethod: this.optString(obj, 'digestMethod', path),
      digestValue: this.optString(obj, 'digestValue', path),
      signatureValue: this.optString(obj, 'signatureValue', path),
      x509SubjectName: this.optString(obj, 'x509SubjectName', path),
      x509Certificate: this.optString(obj, 'x509Certificate', path),
    };
  }

  private reference(value: unknown, path: string): ManifestReference | undefined {
    const obj = this.object(value, path, ['contentId', 'contentType', 'description', 'attachmentName']);
    if (!obj) return undefined;
    return {
      contentId: this.reqString(obj, 'contentId', path),
      contentType: this.optString(obj, 'contentType', path),
      description: this.optString(obj, 'description', path),
      attachmentName: this.optString(obj, 'attachmentName', path),
    };
  }

  // --- attachments ------------------------------------------------------------------------------

  private attachment(value: unknown, path: string, index: number): Attachment | undefined {
    const obj = this.object(value, path, [
      'contentId',
      'attachmentName',
      'description',
      'contentType',
      'content',
      'text',
      'file',
      'generate',
    ]);
    if (!obj) return undefined;
    const sources = ['content', 'text', 'file', 'generate'].filter((key) => obj[key] !== undefined);
    if (sources.length !== 1) {
      this.fail(
        path,
        sources.length === 0
          ? 'An attachment needs its bytes as one of "content" (base64), "text", "file" or "generate".'
          : `Give the bytes once; found ${sources.map((s) => `"${s}"`).join(' and ')}.`,
      );
      return undefined;
    }
    const file = typeof obj.file === 'string' ? obj.file : undefined;
    const bytes = this.attachmentBytes(obj, path);
    const attachmentName = this.optString(obj, 'attachmentName', path) ?? (file === undefined ? undefined : basename(file));
    const contentType =
      this.optString(obj, 'contentType', path) ?? (attachmentName === undefined ? undefined : contentTypeFor(attachmentName));
    const description = this.optString(obj, 'description', path);
    if (bytes === undefined) return undefined;
    const contentId = this.optString(obj, 'contentId', path) ?? derivedContentId(index, attachmentName, bytes.hash);
    return { contentId, attachmentName, description, contentType, content: bytes.base64 };
  }

  private attachmentBytes(obj: JsonObject, path: string): { base64: string; hash: string } | undefined {
    const fromBuffer = (buffer: Buffer) => ({
      base64: buffer.toString('base64'),
      hash: createHash('sha256').update(buffer).digest('hex'),
    });
    if (obj.content !== undefined) {
      if (typeof obj.content !== 'string') {
        this.fail(`${path}.content`, `Expected base64 text, got ${typeOf(obj.content)}.`);
        return undefined;
      }
      // Kept as written (whitespace removed), so a description can carry deliberately odd base64.
      const base64 = obj.content.replace(/\s+/g, '');
      return { base64, hash: createHash('sha256').update(base64, 'utf8').digest('hex') };
    }
    if (obj.text !== undefined) {
      if (typeof obj.text !== 'string') {
        this.fail(`${path}.text`, `Expected a string, got ${typeOf(obj.text)}.`);
        return undefined;
      }
      return fromBuffer(Buffer.from(obj.text, 'utf8'));
    }
    if (obj.file !== undefined) {
      if (typeof obj.file !== 'string' || obj.file === '') {
        this.fail(`${path}.file`, `Expected a file path, got ${typeOf(obj.file)}.`);
        return undefined;
      }
      const full = resolve(this.baseDir, obj.file);
      try {
        return fromBuffer(readFileSync(full));
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        this.issues.push(issue('EDX_ERR_FILE_UNREADABLE', `${path}.file`, `Cannot read ${full}: ${reason}.`, obj.file));
        return undefined;
      }
    }
    const generate = this.object(obj.generate, `${path}.generate`, ['bytes', 'seed']);
    if (!generate) return undefined;
    const length = this.reqInteger(generate, 'bytes', `${path}.generate`);
    const seed = this.optString(generate, 'seed', `${path}.generate`);
    if (length < 0 || length > GENERATE_MAX_BYTES) {
      this.fail(`${path}.generate.bytes`, `Expected 0 to ${GENERATE_MAX_BYTES} bytes.`, String(length));
      return undefined;
    }
    return fromBuffer(generateBytes(length, seed));
  }
}

/** A stable `cid:` UUID (version-4 layout) from the attachment's position, name and bytes. */
function derivedContentId(index: number, name: string | undefined, hash: string): string {
  const hex = createHash('sha256').update(`${index}\n${name ?? ''}\n${hash}`, 'utf8').digest('hex');
  const variant = ((Number.parseInt(hex.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return `cid:${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
