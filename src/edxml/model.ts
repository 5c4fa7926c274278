// The typed, immutable model of edXML packets (QCVN 102:2016; spec/edxml.md §3 and §4).
//
// Conventions, so that parse → build → parse yields an equal model:
// - an optional field that is absent or empty on the wire is `undefined`, never `''`;
// - text is trimmed (the samples indent freely inside elements);
// - calendar dates are `yyyy/MM/dd` strings (a `dd/MM/yyyy` input is normalised to that form);
//   a value that fits neither form is kept as written, and validation reports it;
// - timestamps are `yyyy/MM/dd HH:mm:ss`, Vietnam local time (UTC+7), as on the wire;
// - repeated elements are arrays in document order, empty when absent;
// - ContentIds are kept as written (`cid:` prefix or not); compare them with `normalizeContentId`.

import type { BusinessDocType, Priority, StatusCode, SteeringType } from './codes.ts';

/** The QCVN 102:2016 namespace every edXML element lives in. */
export const EDXML_NAMESPACE = 'http://www.mic.gov.vn/TBT/QCVN_102_2016';
/** The W3C XML-DSig namespace (the samples' Signature sometimes omits it). */
export const XMLDSIG_NAMESPACE = 'http://www.w3.org/2000/09/xmldsig#';

/** An agency as written in From, To and status From (JAXB propOrder of the VNPT library). */
export interface Organization {
  readonly organId: string;
  readonly organizationInCharge?: string | undefined;
  readonly organName?: string | undefined;
  readonly organAdd?: string | undefined;
  readonly email?: string | undefined;
  readonly telephone?: string | undefined;
  readonly fax?: string | undefined;
  readonly website?: string | undefined;
}

/** Số và ký hiệu văn bản. */
export interface DocumentCode {
  readonly codeNumber: string;
  readonly codeNotation: string;
}

export interface PromulgationInfo {
  readonly place?: string | undefined;
  readonly promulgationDate: string;
}

export interface DocumentType {
  /** Integer as written (Bkav allows 1 and 2; other systems send more). */
  readonly type: number;
  readonly typeDetail?: number | undefined;
  readonly typeName?: string | undefined;
}

export interface SignerInfo {
  readonly competence?: string | undefined;
  readonly position?: string | undefined;
  readonly fullName?: string | undefined;
}

export interface OtherInfo {
  readonly priority?: Priority | undefined;
  readonly sphereOfPromulgation?: string | undefined;
  readonly typerNotation?: string | undefined;
  readonly promulgationAmount?: number | undefined;
  readonly pageAmount?: number | undefined;
  /** VNPT extension, "true"/"false" on the wire. */
  readonly direction?: boolean | undefined;
  readonly appendixes: readonly string[];
}

/** A reference to an earlier document (ResponseFor in document and status packets). */
export interface ResponseFor {
  readonly organId: string;
  /** "Number/Notation" as one string, e.g. `7816/VPCP-TTĐT`. */
  readonly code?: string | undefined;
  readonly promulgationDate?: string | undefined;
  readonly documentId: string;
}

export interface StaffInfo {
  readonly department?: string | undefined;
  readonly departmentId?: string | undefined;
  readonly staff?: string | undefined;
  readonly staffId?: string | undefined;
  readonly email?: string | undefined;
  readonly mobile?: string | undefined;
}

/** One hop of the packet's route: who handled it and when. */
export interface TraceHeader {
  readonly organId: string;
  readonly timestamp: string;
}

export interface Receiver {
  readonly organId: string;
  readonly receiverType?: number | undefined;
}

/** BussinessDocumentInfo: what an update (type 2) changes. */
export interface BusinessDocumentInfo {
  readonly documentInfo?: number | undefined;
  readonly documentReceiver?: number | undefined;
  readonly receivers: readonly Receiver[];
}

/** ReplacementInfo: a replaced document and the receivers concerned (type 3). */
export interface ReplacementInfo {
  readonly documentId: string;
  readonly organIds: readonly string[];
}

/** TraceHeaderList/Bussiness (sic): the business meaning of a document packet. */
export interface Business {
  readonly documentId?: string | undefined;
  readonly businessDocType: BusinessDocType;
  readonly businessDocReason?: string | undefined;
  readonly paper?: number | undefined;
  readonly documentInfo?: BusinessDocumentInfo | undefined;
  readonly replacements: readonly ReplacementInfo[];
  readonly staffInfo?: StaffInfo | undefined;
}

/**
 * What the packet's Signature element says about itself. Parsing records it; judging it is the trust
 * module's job (the official samples carry placeholder values that do not verify).
 */
export interface SignatureInfo {
  /** Namespace of the Signature element: the XML-DSig one, or the QCVN one the samples inherit. */
  readonly namespace: string;
  readonly canonicalizationMethod?: string | undefined;
  readonly signatureMethod?: string | undefined;
  readonly referenceUris: readonly string[];
  readonly transforms: readonly string[];
  readonly digestMethod?: string | undefined;
  readonly digestValue?: string | undefined;
  readonly signatureValue?: string | undefined;
  readonly x509SubjectName?: string | undefined;
  readonly x509Certificate?: string | undefined;
}

/** edXMLManifest/Reference: one declared attachment. */
export interface ManifestReference {
  readonly contentId: string;
  readonly contentType?: string | undefined;
  readonly description?: string | undefined;
  readonly attachmentName?: string | undefined;
}

/** AttachmentEncoded/Attachment: one attachment's payload. */
export interface Attachment {
  readonly contentId: string;
  readonly attachmentName?: string | undefined;
  readonly description?: string | undefined;
  readonly contentType?: string | undefined;
  /** ContentTransferEncoded: base64 text with whitespace removed. */
  readonly content: string;
}

/** The MessageHeader of a document packet. */
export interface DocumentHeader {
  readonly from: Organization;
  readonly to: readonly Organization[];
  readonly documentId: string;
  readonly code: DocumentCode;
  readonly promulgationInfo: PromulgationInfo;
  readonly documentType: DocumentType;
  readonly subject: string;
  readonly content?: string | undefined;
  readonly signerInfo?: SignerInfo | undefined;
  readonly dueDate?: string | undefined;
  readonly otherInfo?: OtherInfo | undefined;
  readonly responseFor: readonly ResponseFor[];
  readonly steeringType?: SteeringType | undefined;
  readonly toPlaces: readonly string[];
}

/** A document packet (gói tin văn bản): a new, revoked, updated or replacing document. */
export interface DocumentPacket {
  readonly kind: 'document';
  readonly header: DocumentHeader;
  readonly traceHeaders: readonly TraceHeader[];
  readonly business?: Business | undefined;
  readonly signature?: SignatureInfo | undefined;
  readonly manifest: readonly ManifestReference[];
  readonly attachments: readonly Attachment[];
}

/** A status packet (gói tin trạng thái): a receiver's or sender's status about a document. */
export interface StatusPacket {
  readonly kind: 'status';
  readonly from: Organization;
  readonly responseFor: ResponseFor;
  readonly staffInfo?: StaffInfo | undefined;
  readonly statusCode: StatusCode;
  readonly description?: string | undefined;
  readonly timestamp: string;
  readonly signature?: SignatureInfo | undefined;
}

export type Packet = DocumentPacket | StatusPacket;

/** The ContentId without its optional `cid:` prefix, for matching manifest and payload. */
export function normalizeContentId(contentId: string): string {
  return contentId.toLowerCase().startsWith('cid:') ? contentId.slice(4) : contentId;
}

/** The agency that sent a packet. */
export function senderOf(packet: Packet): string {
  return packet.kind === 'document' ? packet.header.from.organId : packet.from.organId;
}

/** The DocumentId a packet is about: its own for a document, the referenced one for a status. */
export function documentIdOf(packet: Packet): string {
  return packet.kind === 'document' ? packet.header.documentId : packet.responseFor.documentId;
}
