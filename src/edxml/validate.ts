// Field validation of a parsed packet (spec/edxml.md §3.3–§3.5, §4, §8; seed 001 Điều 8).
//
// The parser has already decided that the bytes are an edXML packet and built the model; this module
// judges the values: agency codes, lengths, dates, document identifiers, business extras, status
// reasons and attachments. It returns every finding at once (errors and warnings) so that a sender
// can fix a packet in one round; the caller refuses the packet when any finding is an error.
//
// Leniency is deliberate where the official VPCP samples disagree with a stricter reading, because
// the gateway must accept all of them (interop/vpcp-samples/README.md): QĐ 20 agency codes by default
// (`28.22.H17`), opaque DocumentIds as warnings (edoc.edxml's UUID), no calendar check of the date
// inside a DocumentId (`2014/02/30`), no DueDate-after-PromulgationDate rule, generous limits on
// Telephone/Fax/Website (the 20-character constants of §3.3 reject `http://www.ict-hanoi.gov.vn`),
// spaces allowed in attachment names (`GUIDE_INSTALL OPENVPN.SIGNED.PDF`) and a non-base64 payload
// (`${__StringFromFile(test.txt,,,)}`) as a warning unless `strictBase64` is set.
//
// Speed: a 100 KB packet must validate in well under a millisecond, so attachment payloads are never
// decoded or copied: one anchored regex test for the alphabet, arithmetic on the length for the size,
// and an 8-character slice for the ZIP sniff.

import { Buffer } from 'node:buffer';
import { acceptsAgencyCode } from './agency-code.ts';
import type { AgencyCodeForm } from './agency-code.ts';
import { longContentOf } from './attachment-content.ts';
import { isBusinessDocType, isPriority, isStatusCode, isSteeringType, STATUS_CODES_REQUIRING_REASON } from './codes.ts';
import { parseCalendarDate, parseTimestamp, vietnamToday } from './dates.ts';
import { parseDocumentId } from './document-id.ts';
import { normalizeContentId } from './model.ts';
import type {
  Attachment,
  Business,
  DocumentHeader,
  DocumentPacket,
  ManifestReference,
  Organization,
  Packet,
  ResponseFor,
  StatusPacket,
} from './model.ts';
import { issue, warning } from '../errors.ts';
import type { ErrorCode, Issue } from '../errors.ts';

/** What validatePacket judges against; every key has a default. */
export interface ValidateOptions {
  /** The current instant; a PromulgationDate after this day (Vietnam time) is refused. Default: the time of the call. */
  readonly now: Date;
  /** Which agency code syntax is accepted (src/edxml/agency-code.ts). */
  readonly agencyCodeForm: AgencyCodeForm;
  /** Largest decoded attachment, in bytes. */
  readonly maxAttachmentBytes: number;
  /** Accepted attachment file extensions, lower case, without the dot. */
  readonly allowedAttachmentExtensions: readonly string[];
  /** Whether a payload that is not base64 is an error (true) or a warning (false). */
  readonly strictBase64: boolean;
}

/** Seed 001 Điều 8 khoản 4: "dung lượng mỗi tệp tin không quá 50Mb", read as 50 MiB decoded. */
export const MAX_ATTACHMENT_BYTES = 50 * 1024 * 1024;

/** Seed 001 Điều 8 khoản 4: "độ dài không quá 50 ký tự". */
export const ATTACHMENT_NAME_MAX_LENGTH = 50;

/**
 * Attachment formats accepted by default. Seed 001 Điều 8 khoản 3 (TT 39/2017): txt rtf doc docx odt,
 * csv xls xlsx ods, pdf, and "tài liệu dạng ảnh, đồ thị" (the common raster image formats); seed 000
 * and the VNPT library add archives (zip, rar; 7z alongside them). XML/edXML is deliberately NOT in
 * the list: it is in none of the seeds' format lists, an XML attachment would be handed to receivers'
 * document systems as active content (entities, scripts), and the VNPT library zips every format it
 * does not know anyway, so a legitimate XML file arrives as a zip. An operator can add it by option.
 */
export const ALLOWED_ATTACHMENT_EXTENSIONS: readonly string[] = Object.freeze([
  'txt', 'rtf', 'doc', 'docx', 'odt',
  'csv', 'xls', 'xlsx', 'ods',
  'pdf',
  'jpg', 'jpeg', 'png', 'gif', 'tif', 'tiff', 'bmp',
  'zip', 'rar', '7z',
]);

/** The defaults of every option but `now`, which defaults to the time of the call. */
export const DEFAULT_VALIDATE_OPTIONS: Readonly<Omit<ValidateOptions, 'now'>> = Object.freeze({
  // QĐ 20/2020 codes include every QCVN 102 code and the samples' 3-group `28.22.H17`.
  agencyCodeForm: 'qd20',
  maxAttachmentBytes: MAX_ATTACHMENT_BYTES,
  allowedAttachmentExtensions: ALLOWED_ATTACHMENT_EXTENSIONS,
  // The official edoc.edxml carries a JMeter placeholder instead of base64; it must still be accepted.
  strictBase64: false,
});

/**
 * Maximum lengths in characters (spec §3.3, the Bkav constants). Telephone, Fax and Website get 255
 * instead of the table's 20, which the samples exceed (`(84-4) 3821 5137` fits, but the Website
 * `http://www.ict-hanoi.gov.vn` does not) and which the spec itself calls wrong.
 */
export const FIELD_LIMITS = Object.freeze({
  organName: 200,
  organizationInCharge: 500,
  organAdd: 500,
  email: 100,
  telephone: 255,
  fax: 255,
  website: 255,
  codeNumber: 11,
  codeNotation: 30,
  place: 50,
  typeName: 100,
  subject: 500,
  content: 500,
  sphereOfPromulgation: 100,
  typerNotation: 10,
  toPlace: 150,
  statusDescription: 500,
  documentId: 100,
} as const);

/** How many bytes a base64 text decodes to, from its length alone (whitespace-free input, as the model holds it). */
export function decodedSize(base64: string): number {
  return sizeOfBase64(base64.length, base64.slice(-2));
}

/** decodedSize from the length and the last two characters (`lastTwo`, shorter only when the text is). */
function sizeOfBase64(n: number, lastTwo: string): number {
  let padding = 0;
  if (n > 0 && lastTwo.charCodeAt(lastTwo.length - 1) === 0x3d) padding++;
  if (n > 1 && lastTwo.charCodeAt(lastTwo.length - 2) === 0x3d) padding++;
  // Unpadded input (length ≡ 2 or 3 mod 4) is covered by the floor: 2 chars → 1 byte, 3 → 2.
  return Math.floor((n * 3) / 4) - padding;
}

/** Whether the base64 payload starts with the ZIP local-file-header magic `PK\x03\x04`. */
export function isZipPayload(base64: string): boolean {
  // 8 base64 characters carry the first 6 bytes; nothing more is decoded.
  const head = Buffer.from(base64.slice(0, 8), 'base64');
  return head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04;
}

/** Validates every field of a parsed packet; the packet is refused when any issue has severity 'error'. */
export function validatePacket(packet: Packet, options: Partial<ValidateOptions> = {}): readonly Issue[] {
  const opts: ValidateOptions = {
    now: options.now ?? new Date(),
    agencyCodeForm: options.agencyCodeForm ?? DEFAULT_VALIDATE_OPTIONS.agencyCodeForm,
    maxAttachmentBytes: options.maxAttachmentBytes ?? DEFAULT_VALIDATE_OPTIONS.maxAttachmentBytes,
    allowedAttachmentExtensions:
      options.allowedAttachmentExtensions ?? DEFAULT_VALIDATE_OPTIONS.allowedAttachmentExtensions,
    strictBase64: options.strictBase64 ?? DEFAULT_VALIDATE_OPTIONS.strictBase64,
  };
  const v = new Validator(opts);
  if (packet.kind === 'document') v.document(packet);
  else v.status(packet);
  return v.issues;
}

// --- helpers -----------------------------------------------------------------------------------------

const FORM_DESCRIPTIONS: Readonly<Record<AgencyCodeForm, string>> = {
  qcvn102: 'a QCVN 102 agency code (ddd.dd.dd.Xdd, no unit under an empty level)',
  qd20: 'a QĐ 20/2020 agency code (at most 35 characters of 0-9, A-Z and dots)',
  lenient: 'an agency code (letters, digits, dots, hyphens, underscores or colons)',
};

// Any C0/C1 control character, tabs and newlines included: none belongs in an identifier.
const CONTROL_CHARACTER = /\p{Cc}/u;
// Searching for one character outside the alphabet is several times faster than matching the whole
// payload against an anchored /^[A-Za-z0-9+/]*={0,2}$/ (≈0.2 ms against 1.8 ms on edoc_new.edxml's
// 361 KB payload), since the anchored form keeps a backtrack entry per character.
const NON_BASE64 = /[^A-Za-z0-9+/=]/;
const ATTACHMENT_NAME_CHARS = /^[A-Za-z0-9 ._()-]+$/;
const HAS_ALNUM = /[A-Za-z0-9]/;

/**
 * Content types accepted for a file whose name has no extension, mapped to the extension they stand
 * for so that `allowedAttachmentExtensions` governs both. Includes the non-IANA names the VNPT library
 * writes (application/doc, docx, xsl, xslx; spec §3.5). A Map, not an object, because the key is
 * sender-controlled (`__proto__`).
 */
const CONTENT_TYPE_EXTENSIONS: ReadonlyMap<string, string> = new Map([
  ['text/plain', 'txt'],
  ['text/rtf', 'rtf'],
  ['application/rtf', 'rtf'],
  ['application/msword', 'doc'],
  ['application/doc', 'doc'],
  ['application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'docx'],
  ['application/docx', 'docx'],
  ['application/vnd.oasis.opendocument.text', 'odt'],
  ['text/csv', 'csv'],
  ['application/vnd.ms-excel', 'xls'],
  ['application/xls', 'xls'],
  ['application/xsl', 'xls'],
  ['application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'xlsx'],
  ['application/xlsx', 'xlsx'],
  ['application/xslx', 'xlsx'],
  ['application/vnd.oasis.opendocument.spreadsheet', 'ods'],
  ['application/pdf', 'pdf'],
  ['application/zip', 'zip'],
  ['application/x-zip', 'zip'],
  ['application/x-zip-compressed', 'zip'],
  ['application/vnd.rar', 'rar'],
  ['application/x-rar', 'rar'],
  ['application/x-rar-compressed', 'rar'],
  ['application/x-7z-compressed', '7z'],
  ['image/jpeg', 'jpg'],
  ['image/pjpeg', 'jpg'],
  ['image/jpg', 'jpg'],
  ['image/png', 'png'],
  ['image/gif', 'gif'],
  ['image/tiff', 'tif'],
  ['image/bmp', 'bmp'],
  ['image/x-ms-bmp', 'bmp'],
]);

/** Characters as a reader counts them: code points of the NFC form (Vietnamese may arrive decomposed). */
function characterCount(text: string): number {
  let n = 0;
  for (const _ of text.normalize('NFC')) n++;
  return n;
}

/** The lower-case extension after the last dot, or undefined when the name has none. */
function extensionOf(name: string): string | undefined {
  const dot = name.lastIndexOf('.');
  if (dot <= 0 || dot === name.length - 1) return undefined;
  return name.slice(dot + 1).toLowerCase();
}

/** RFC 4648 base64: alphabet, length a multiple of 4, '=' only as one or two final characters. */
function isBase64(text: string): boolean {
  // The cheap length test first: it spares the alphabet scan of most non-base64 text.
  return text.length % 4 === 0 && !NON_BASE64.test(text) && wellPadded(text.length, text.indexOf('='), text.slice(-1));
}

/** Length a multiple of 4 and '=' (first at `eq`, -1 for none) only as one or two final characters. */
function wellPadded(n: number, eq: number, last: string): boolean {
  return n % 4 === 0 && (eq === -1 || eq === n - 1 || (eq === n - 2 && last === '='));
}

/** What the payload checks read of an attachment's content. */
interface PayloadFacts {
  readonly length: number;
  readonly decodedSize: number;
  readonly base64: boolean;
  /** The first 80 characters, for the issue's value. */
  readonly excerpt: string;
}

/** The facts of a content; a payload the parser left unread is judged from its bytes, without reading it into a string. */
function payloadFacts(attachment: Attachment): PayloadFacts {
  const long = longContentOf(attachment);
  if (long === undefined) {
    const content = attachment.content;
    return { length: content.length, decodedSize: decodedSize(content), base64: isBase64(content), excerpt: content.slice(0, 80) };
  }
  const length = long.compactLength();
  const lastTwo = long.tail(2);
  return {
    length,
    decodedSize: sizeOfBase64(length, lastTwo),
    // A long text holds only the alphabet and whitespace (xml.ts): only length and padding are left to check.
    base64: wellPadded(length, long.compactIndexOf('='), lastTwo.slice(-1)),
    excerpt: long.head(80),
  };
}

/** The first `n` characters of an attachment's content, read from its bytes when the parser left it unread. */
function contentHead(attachment: Attachment, n: number): string {
  return longContentOf(attachment)?.head(n) ?? attachment.content.slice(0, n);
}

function mediaType(contentType: string): string {
  const semicolon = contentType.indexOf(';');
  return (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
}

function isPlaceholderResponseFor(r: ResponseFor): boolean {
  // edoc.edxml carries a ResponseFor whose four children are all empty elements. The parser drops it
  // with a warning; a packet built as a model object (CLI, tests) may still hold it.
  return r.organId === '' && r.documentId === '' && !r.code && !r.promulgationDate;
}

/** A value and the path of the element it was read from. */
interface Located {
  readonly path: string;
  readonly value: string;
}

class Validator {
  readonly issues: Issue[] = [];
  private readonly today: string;
  private readonly extensions: ReadonlySet<string>;

  constructor(private readonly opts: ValidateOptions) {
    this.today = vietnamToday(opts.now);
    this.extensions = new Set(opts.allowedAttachmentExtensions.map((e) => e.replace(/^\./, '').toLowerCase()));
  }

  private error(code: ErrorCode, path: string, detail: string, value?: string): void {
    this.issues.push(issue(code, path, detail, value));
  }

  private warn(code: ErrorCode, path: string, detail: string, value?: string): void {
    this.issues.push(warning(code, path, detail, value));
  }

  // --- generic field rules -------------------------------------------------------------------------

  /** Reports a value longer than `limit` characters; true when the value is within it. */
  private length(path: string, value: string | undefined, limit: number): boolean {
    // `.length` counts UTF-16 units, never fewer than characters, so it is a cheap pre-filter.
    if (value === undefined || value.length <= limit) return true;
    const count = characterCount(value);
    if (count <= limit) return true;
    this.error('EDX_ERR_FIELD_TOO_LONG', path, `The value has ${count} characters; at most ${limit} are allowed.`, value);
    return false;
  }

  private required(path: string, value: string): boolean {
    if (value !== '') return true;
    this.error('EDX_ERR_FIELD_REQUIRED', path, 'The field is empty.');
    return false;
  }

  private agencyCode(path: string, code: string): void {
    if (acceptsAgencyCode(code, this.opts.agencyCodeForm)) return;
    const detail =
      code === ''
        ? 'The agency code is empty.'
        : `The value is not ${FORM_DESCRIPTIONS[this.opts.agencyCodeForm]}.`;
    this.error('EDX_ERR_AGENCY_CODE_INVALID', path, detail, code);
  }

  private calendarDate(path: string, value: string): boolean {
    if (parseCalendarDate(value) !== undefined) return true;
    this.error('EDX_ERR_DATE_INVALID', path, 'The value is not a real calendar date written yyyy/MM/dd.', value);
    return false;
  }

  private timestamp(path: string, value: string): void {
    if (parseTimestamp(value) !== undefined) return;
    this.error('EDX_ERR_DATE_INVALID', path, 'The value is not a real timestamp written yyyy/MM/dd HH:mm:ss.', value);
  }

  private documentId(path: string, id: string): void {
    if (id === '') {
      this.error('EDX_ERR_DOCUMENT_ID_INVALID', path, 'The document identifier is empty.');
      return;
    }
    if (!this.length(path, id, FIELD_LIMITS.documentId)) return;
    if (CONTROL_CHARACTER.test(id)) {
      this.error('EDX_ERR_DOCUMENT_ID_INVALID', path, 'The document identifier contains control characters.', id);
      return;
    }
    if (id.includes(',')) {
      if (parseDocumentId(id) === undefined) {
        this.error(
          'EDX_ERR_DOCUMENT_ID_INVALID',
          path,
          'The identifier has commas but is neither OrganId,yyyy/MM/dd,Number/Notation nor OrganId,yyyy,Number/Notation.',
          id,
        );
      }
      return;
    }
    // An id without a comma cannot be a QĐ 395 id; the official edoc.edxml uses a UUID, so it is tolerated.
    this.warn(
      'EDX_ERR_DOCUMENT_ID_INVALID',
      path,
      'The identifier is opaque, not in QĐ 395 form; it is accepted, but receivers cannot read the issuer, date or number from it.',
      id,
    );
  }

  private organization(base: string, org: Organization): void {
    this.agencyCode(`${base}/OrganId`, org.organId);
    this.length(`${base}/OrganizationInCharge`, org.organizationInCharge, FIELD_LIMITS.organizationInCharge);
    this.length(`${base}/OrganName`, org.organName, FIELD_LIMITS.organName);
    this.length(`${base}/OrganAdd`, org.organAdd, FIELD_LIMITS.organAdd);
    this.length(`${base}/Email`, org.email, FIELD_LIMITS.email);
    this.length(`${base}/Telephone`, org.telephone, FIELD_LIMITS.telephone);
    this.length(`${base}/Fax`, org.fax, FIELD_LIMITS.fax);
    this.length(`${base}/Website`, org.website, FIELD_LIMITS.website);
  }

  private responseFor(base: string, r: ResponseFor): void {
    this.agencyCode(`${base}/OrganId`, r.organId);
    if (r.promulgationDate !== undefined) this.calendarDate(`${base}/PromulgationDate`, r.promulgationDate);
    this.documentId(`${base}/DocumentId`, r.documentId);
  }

  // --- document packets ----------------------------------------------------------------------------

  document(packet: DocumentPacket): void {
    this.header(packet.header);
    packet.traceHeaders.forEach((t, i) => {
      const base = `TraceHeaderList/TraceHeader[${i + 1}]`;
      this.agencyCode(`${base}/OrganId`, t.organId);
      this.timestamp(`${base}/Timestamp`, t.timestamp);
    });
    if (packet.business !== undefined) this.business(packet.business, packet.header);
    this.attachments(packet.manifest, packet.attachments);
  }

  private header(h: DocumentHeader): void {
    this.organization('MessageHeader/From', h.from);

    if (h.to.length === 0) this.error('EDX_ERR_FIELD_REQUIRED', 'MessageHeader/To', 'The packet names no recipient.');
    const seen = new Set<string>();
    h.to.forEach((to, i) => {
      const base = `MessageHeader/To[${i + 1}]`;
      this.organization(base, to);
      if (seen.has(to.organId)) {
        this.error('EDX_ERR_RECIPIENT_DUPLICATE', `${base}/OrganId`, 'The recipient is already listed earlier.', to.organId);
      }
      seen.add(to.organId);
    });

    this.documentId('MessageHeader/DocumentId', h.documentId);

    if (this.required('MessageHeader/Code/CodeNumber', h.code.codeNumber)) {
      this.length('MessageHeader/Code/CodeNumber', h.code.codeNumber, FIELD_LIMITS.codeNumber);
    }
    if (this.required('MessageHeader/Code/CodeNotation', h.code.codeNotation)) {
      this.length('MessageHeader/Code/CodeNotation', h.code.codeNotation, FIELD_LIMITS.codeNotation);
    }

    this.length('MessageHeader/PromulgationInfo/Place', h.promulgationInfo.place, FIELD_LIMITS.place);
    const datePath = 'MessageHeader/PromulgationInfo/PromulgationDate';
    const date = h.promulgationInfo.promulgationDate;
    // Both are yyyy/MM/dd once the date is real, so string order is date order.
    if (this.calendarDate(datePath, date) && date > this.today) {
      this.error('EDX_ERR_DATE_IN_FUTURE', datePath, `The date is after today (${this.today}, Vietnam time).`, date);
    }

    this.length('MessageHeader/DocumentType/TypeName', h.documentType.typeName, FIELD_LIMITS.typeName);
    if (this.required('MessageHeader/Subject', h.subject)) {
      this.length('MessageHeader/Subject', h.subject, FIELD_LIMITS.subject);
    }
    this.length('MessageHeader/Content', h.content, FIELD_LIMITS.content);
    // No ordering rule against PromulgationDate: the official samples have DueDate before it.
    if (h.dueDate !== undefined) this.calendarDate('MessageHeader/DueDate', h.dueDate);

    const other = h.otherInfo;
    if (other !== undefined) {
      if (other.priority !== undefined && !isPriority(other.priority)) {
        this.error('EDX_ERR_PRIORITY_INVALID', 'MessageHeader/OtherInfo/Priority', 'The priority is outside 0–4.', String(other.priority));
      }
      this.length('MessageHeader/OtherInfo/SphereOfPromulgation', other.sphereOfPromulgation, FIELD_LIMITS.sphereOfPromulgation);
      this.length('MessageHeader/OtherInfo/TyperNotation', other.typerNotation, FIELD_LIMITS.typerNotation);
    }

    h.responseFor.forEach((r, i) => {
      const base = `MessageHeader/ResponseFor[${i + 1}]`;
      if (isPlaceholderResponseFor(r)) {
        this.warn('EDX_ERR_FIELD_REQUIRED', base, 'The ResponseFor is empty and is ignored.');
        return;
      }
      this.responseFor(base, r);
    });

    if (h.steeringType !== undefined && !isSteeringType(h.steeringType)) {
      this.error('EDX_ERR_STEERING_TYPE_INVALID', 'MessageHeader/SteeringType', 'The steering type is outside 0–2.', String(h.steeringType));
    }
    h.toPlaces.forEach((place, i) => this.length(`MessageHeader/ToPlaces/Place[${i + 1}]`, place, FIELD_LIMITS.toPlace));
  }

  private business(b: Business, h: DocumentHeader): void {
    const base = 'TraceHeaderList/Bussiness';
    if (!isBusinessDocType(b.businessDocType)) {
      this.error('EDX_ERR_BUSINESS_TYPE_INVALID', `${base}/BussinessDocType`, 'The business type is outside 0–3.', String(b.businessDocType));
    }
    if (b.documentId !== undefined) this.documentId(`${base}/DocumentId`, b.documentId);
    b.documentInfo?.receivers.forEach((r, i) => {
      this.agencyCode(`${base}/BussinessDocumentInfo/ReceiverList/Receiver[${i + 1}]/OrganId`, r.organId);
    });

    switch (b.businessDocType) {
      case 1: {
        // A revoke must say what it revokes (edoc_revocation.edxml carries one ResponseFor).
        const names = h.responseFor.some((r) => !isPlaceholderResponseFor(r) && r.documentId !== '');
        if (!names) {
          this.error('EDX_ERR_BUSINESS_INFO_MISSING', 'MessageHeader/ResponseFor', 'A revoke (type 1) names no revoked document in ResponseFor.');
        }
        break;
      }
      case 2:
        // edoc_update.edxml carries both Bussiness/DocumentId and BussinessDocumentInfo.
        if (b.documentId === undefined) {
          this.error('EDX_ERR_BUSINESS_INFO_MISSING', `${base}/DocumentId`, 'An update (type 2) does not name the updated document in Bussiness/DocumentId.');
        }
        if (b.documentInfo === undefined) {
          this.error('EDX_ERR_BUSINESS_INFO_MISSING', `${base}/BussinessDocumentInfo`, 'An update (type 2) does not say what changes (BussinessDocumentInfo).');
        }
        break;
      case 3:
        if (b.replacements.length === 0) {
          this.error('EDX_ERR_BUSINESS_INFO_MISSING', `${base}/ReplacementInfoList`, 'A replace (type 3) lists no replaced document.');
        }
        break;
      default:
        break;
    }

    b.replacements.forEach((rep, i) => {
      const at = `${base}/ReplacementInfoList/ReplacementInfo[${i + 1}]`;
      if (rep.documentId === '') {
        this.error('EDX_ERR_BUSINESS_INFO_MISSING', `${at}/DocumentId`, 'The ReplacementInfo does not name the replaced document.');
      } else {
        this.documentId(`${at}/DocumentId`, rep.documentId);
      }
      if (rep.organIds.length === 0) {
        this.error('EDX_ERR_BUSINESS_INFO_MISSING', `${at}/OrganIdList`, 'The ReplacementInfo names no receiver concerned.');
      }
      rep.organIds.forEach((id, j) => this.agencyCode(`${at}/OrganIdList/OrganId[${j + 1}]`, id));
    });
  }

  // --- attachments ---------------------------------------------------------------------------------

  private attachments(manifest: readonly ManifestReference[], payloads: readonly Attachment[]): void {
    // First index of each normalised ContentId on either side; later duplicates are reported.
    const refIndex = new Map<string, number>();
    manifest.forEach((ref, i) => {
      const id = normalizeContentId(ref.contentId);
      const path = `edXMLManifest/Reference[${i + 1}]/ContentId`;
      if (id === '') this.error('EDX_ERR_ATTACHMENT_MISMATCH', path, 'The Reference has an empty ContentId.', ref.contentId);
      else if (refIndex.has(id)) this.error('EDX_ERR_ATTACHMENT_MISMATCH', path, 'Another Reference already has this ContentId.', ref.contentId);
      else refIndex.set(id, i);
    });
    const payloadIndex = new Map<string, number>();
    payloads.forEach((att, i) => {
      const id = normalizeContentId(att.contentId);
      const path = `AttachmentEncoded/Attachment[${i + 1}]/ContentId`;
      if (id === '') this.error('EDX_ERR_ATTACHMENT_MISMATCH', path, 'The Attachment has an empty ContentId.', att.contentId);
      else if (payloadIndex.has(id)) this.error('EDX_ERR_ATTACHMENT_MISMATCH', path, 'Another Attachment already has this ContentId.', att.contentId);
      else {
        payloadIndex.set(id, i);
        if (!refIndex.has(id)) this.error('EDX_ERR_ATTACHMENT_MISMATCH', path, 'No manifest Reference declares this Attachment.', att.contentId);
      }
    });

    manifest.forEach((ref, i) => {
      const base = `edXMLManifest/Reference[${i + 1}]`;
      const id = normalizeContentId(ref.contentId);
      const first = refIndex.get(id) === i;
      const j = first ? payloadIndex.get(id) : undefined;
      const payload = j === undefined ? undefined : payloads[j];
      if (first && payload === undefined) {
        this.error('EDX_ERR_ATTACHMENT_MISMATCH', `${base}/ContentId`, 'No Attachment carries the file this Reference declares.', ref.contentId);
      }
      if (ref.attachmentName !== undefined) {
        this.attachmentName(`${base}/AttachmentName`, ref.attachmentName);
        this.format(base, ref.attachmentName, this.contentTypeOf(base, ref, j, payload), payload);
      } else if (payload === undefined) {
        // Nameless and without payload: only its own ContentType can tell the format.
        this.format(base, undefined, this.contentTypeOf(base, ref, undefined, undefined), undefined);
      }
      // A nameless Reference with a payload is judged through the payload below.
    });

    payloads.forEach((att, i) => {
      const base = `AttachmentEncoded/Attachment[${i + 1}]`;
      const id = normalizeContentId(att.contentId);
      const k = refIndex.get(id);
      const ref = k === undefined ? undefined : manifest[k];
      // The same name as its Reference was judged there; judging it again would repeat the issue.
      if (att.attachmentName !== undefined && att.attachmentName !== ref?.attachmentName) {
        this.attachmentName(`${base}/AttachmentName`, att.attachmentName);
        this.format(base, att.attachmentName, this.contentTypeOf(base, att, k, ref), att);
      } else if (att.attachmentName === undefined && ref?.attachmentName === undefined) {
        this.format(base, undefined, this.contentTypeOf(base, att, k, ref), att);
      }
      this.payload(`${base}/ContentTransferEncoded`, att);
    });
  }

  /** The element's own ContentType, else its counterpart's (manifest ↔ payload), with its path. */
  private contentTypeOf(
    base: string,
    own: { readonly contentType?: string | undefined },
    otherIndex: number | undefined,
    other: { readonly contentType?: string | undefined } | undefined,
  ): Located | undefined {
    if (own.contentType !== undefined) return { path: `${base}/ContentType`, value: own.contentType };
    if (other?.contentType === undefined || otherIndex === undefined) return undefined;
    const otherBase = base.startsWith('edXMLManifest')
      ? `AttachmentEncoded/Attachment[${otherIndex + 1}]`
      : `edXMLManifest/Reference[${otherIndex + 1}]`;
    return { path: `${otherBase}/ContentType`, value: other.contentType };
  }

  private attachmentName(path: string, name: string): void {
    const faults: string[] = [];
    if (!ATTACHMENT_NAME_CHARS.test(name)) {
      faults.push(
        'it may contain only ASCII letters, digits, spaces, dots, hyphens, underscores and parentheses (no Vietnamese diacritics, no !, @, #, /, …)',
      );
    } else if (!HAS_ALNUM.test(name)) {
      faults.push('it has no letter or digit');
    }
    const count = name.length <= ATTACHMENT_NAME_MAX_LENGTH ? name.length : characterCount(name);
    if (count > ATTACHMENT_NAME_MAX_LENGTH) faults.push(`it has ${count} characters, at most ${ATTACHMENT_NAME_MAX_LENGTH} are allowed`);
    if (faults.length > 0) {
      this.error('EDX_ERR_ATTACHMENT_NAME_INVALID', path, `The attachment name breaks the naming rule: ${faults.join('; ')}.`, name);
    }
  }

  /** Judges the format by the name's extension, else by ContentType, else by sniffing a ZIP payload. */
  private format(base: string, name: string | undefined, contentType: Located | undefined, payload: Attachment | undefined): void {
    const extension = name === undefined ? undefined : extensionOf(name);
    if (name !== undefined && extension !== undefined) {
      if (!this.extensions.has(extension)) {
        this.error('EDX_ERR_ATTACHMENT_FORMAT', `${base}/AttachmentName`, `Files of type .${extension} are not accepted.`, name);
      }
      return;
    }
    if (contentType !== undefined) {
      const implied = CONTENT_TYPE_EXTENSIONS.get(mediaType(contentType.value));
      if (implied === undefined || !this.extensions.has(implied)) {
        this.error(
          'EDX_ERR_ATTACHMENT_FORMAT',
          contentType.path,
          'The attachment name has no extension and its ContentType is not an accepted format.',
          contentType.value,
        );
      }
      return;
    }
    if (payload !== undefined && this.extensions.has('zip') && isZipPayload(contentHead(payload, 8))) return;
    this.error(
      'EDX_ERR_ATTACHMENT_FORMAT',
      `${base}/${name === undefined ? 'ContentType' : 'AttachmentName'}`,
      'The format cannot be told: the name has no extension and there is no ContentType.',
      name,
    );
  }

  private payload(path: string, attachment: Attachment): void {
    const facts = payloadFacts(attachment);
    // The parser reads a missing ContentTransferEncoded as ''; no official document is an empty file.
    if (facts.length === 0) {
      this.error('EDX_ERR_FIELD_REQUIRED', path, 'The attachment has no payload.');
      return;
    }
    const size = facts.decodedSize;
    if (size > this.opts.maxAttachmentBytes) {
      this.error(
        'EDX_ERR_ATTACHMENT_TOO_LARGE',
        path,
        `The attachment decodes to ${size} bytes; at most ${this.opts.maxAttachmentBytes} are allowed.`,
        `${size} bytes`,
      );
    }
    if (facts.base64) return;
    const detail = 'The payload is not base64 (RFC 4648 alphabet, length a multiple of 4).';
    if (this.opts.strictBase64) this.error('EDX_ERR_ATTACHMENT_ENCODING', path, detail, facts.excerpt);
    else this.warn('EDX_ERR_ATTACHMENT_ENCODING', path, `${detail} Accepted as is; receivers may fail to open it.`, facts.excerpt);
  }

  // --- status packets ------------------------------------------------------------------------------

  status(packet: StatusPacket): void {
    // Status children sit in MessageHeader on the wire too; paths match the parser's.
    const P = 'MessageHeader';
    this.organization(`${P}/From`, packet.from);
    this.responseFor(`${P}/ResponseFor`, packet.responseFor);
    if (!isStatusCode(packet.statusCode)) {
      this.error('EDX_ERR_STATUS_CODE_INVALID', `${P}/StatusCode`, 'The status code is not one the standard defines.', String(packet.statusCode));
    }
    const description = packet.description;
    if (STATUS_CODES_REQUIRING_REASON.includes(packet.statusCode) && (description === undefined || description === '')) {
      this.error('EDX_ERR_STATUS_REASON_REQUIRED', `${P}/Description`, `Status ${packet.statusCode} is sent without a reason.`, packet.statusCode);
    }
    this.length(`${P}/Description`, description, FIELD_LIMITS.statusDescription);
    this.timestamp(`${P}/Timestamp`, packet.timestamp);
  }
}
