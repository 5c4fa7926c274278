// edXML bytes → the typed packet model (spec/edxml.md §3, §4, §5).
//
// Tolerant where real senders differ (spec §12.1): elements are matched by local name in the QCVN
// namespace whatever their prefix, in any order; `Bussiness*`/`Business*`, `MessageHeader`/`Status`,
// a Signature with or without the XML-DSig namespace, bare or `cid:` ContentIds and `dd/MM/yyyy`
// dates are all read; unknown elements are ignored.
//
// Strict about what the model needs: required elements, closed sets and integers are checked here,
// and every such fault is reported, not just the first. Everything else (lengths, code and date
// syntax, business extras, attachments) is the validator's job (validate.ts).
//
// Issue paths use the standard's spelling whatever the wire spelling (`MessageHeader`, `Bussiness`),
// so callers can match on them; repeatable elements carry a 1-based index.

import { isBusinessDocType, isPriority, isStatusCode, isSteeringType } from './codes.ts';
import type { BusinessDocType, Priority, StatusCode, SteeringType } from './codes.ts';
import { EDXML_NAMESPACE, XMLDSIG_NAMESPACE } from './model.ts';
import type {
  Attachment,
  Business,
  BusinessDocumentInfo,
  DocumentHeader,
  DocumentPacket,
  ManifestReference,
  Organization,
  OtherInfo,
  Packet,
  Receiver,
  ReplacementInfo,
  ResponseFor,
  SignatureInfo,
  SignerInfo,
  StaffInfo,
  StatusPacket,
  TraceHeader,
} from './model.ts';
import { attachmentWithLongContent } from './attachment-content.ts';
import { readXml } from './xml.ts';
import type { XmlElement, XmlLimits } from './xml.ts';
import { issue, warning } from '../errors.ts';
import type { ErrorCode, Issue, Result } from '../errors.ts';

/** Per-packet count limits on repeated items, beyond the XML reader's node limits. */
export interface PacketLimits {
  /** Most MessageHeader/To recipients. */
  readonly maxRecipients: number;
  /** Most manifest references, and most attachment payloads. */
  readonly maxAttachments: number;
}

/** Defaults for PacketLimits. */
export const DEFAULT_PACKET_LIMITS: PacketLimits = Object.freeze({
  maxRecipients: 1000,
  maxAttachments: 200,
});

/** Options of `parsePacket`: XML reader limits and packet count limits, each defaulted. */
export interface ParseOptions extends Partial<XmlLimits>, Partial<PacketLimits> {}

/** Parses an edXML document or status packet; refuses with every parser-level issue found. */
export function parsePacket(input: Buffer | string, options: ParseOptions = {}): Result<Packet> {
  const xml = readXml(input, { ...options, implicitPrefixes: { edXML: EDXML_NAMESPACE } });
  if (!xml.ok) return xml;
  const reader = new PacketReader({
    maxRecipients: options.maxRecipients ?? DEFAULT_PACKET_LIMITS.maxRecipients,
    maxAttachments: options.maxAttachments ?? DEFAULT_PACKET_LIMITS.maxAttachments,
  });
  const packet = reader.packet(xml.value.root);
  const issues = [...xml.warnings, ...reader.issues];
  if (packet === undefined || issues.some((i) => i.severity === 'error')) return { ok: false, issues };
  return { ok: true, value: packet, warnings: issues };
}

// Wire spellings accepted for one element, the standard's first.
const HEADER = ['MessageHeader', 'Status'] as const;
const BUSINESS = ['Bussiness', 'Business'] as const;
const BUSINESS_DOC_TYPE = ['BussinessDocType', 'BusinessDocType'] as const;
const BUSINESS_DOC_REASON = ['BussinessDocReason', 'BusinessDocReason'] as const;
const BUSINESS_DOCUMENT_INFO = ['BussinessDocumentInfo', 'BusinessDocumentInfo'] as const;

type Names = string | readonly string[];

const DAY_MONTH_YEAR = /^(\d{2})\/(\d{2})\/(\d{4})$/;
// Unsigned: every integer field of the standard counts or enumerates something.
const UNSIGNED = /^\d{1,15}$/;
const WHITESPACE = /\s/;

/**
 * Reads one packet from its element tree, collecting issues. Where a required value is missing or
 * invalid, a placeholder stands in so mapping can go on and find further issues; a packet holding a
 * placeholder always comes with an error, so it never leaves `parsePacket`.
 */
class PacketReader {
  readonly issues: Issue[] = [];
  // Paths already reported as being in the wrong namespace, so they are not also "missing".
  private readonly misplaced = new Set<string>();

  constructor(private readonly limits: PacketLimits) {}

  packet(root: XmlElement): Packet | undefined {
    if (root.local !== 'edXML') {
      this.error('EDX_ERR_PACKET_STRUCTURE', 'edXML', `The root element is <${root.name}>, not <edXML>.`, root.name);
      return undefined;
    }
    if (root.namespace !== EDXML_NAMESPACE) {
      this.error(
        'EDX_ERR_PACKET_NAMESPACE',
        'edXML',
        `The root <edXML> is in ${describeNamespace(root.namespace)}, not ${EDXML_NAMESPACE}.`,
        root.namespace ?? '',
      );
      return undefined;
    }
    const envelope = this.structural(root, 'edXMLEnvelope', 'edXMLEnvelope');
    if (envelope === undefined) return undefined;
    const headerList = this.structural(envelope, 'edXMLHeader', 'edXMLEnvelope/edXMLHeader');
    if (headerList === undefined) return undefined;
    const header = this.structural(headerList, HEADER, 'edXMLEnvelope/edXMLHeader/MessageHeader');
    if (header === undefined) return undefined;

    if (this.child(header, 'StatusCode', 'MessageHeader/StatusCode') !== undefined) {
      return this.statusPacket(headerList, header);
    }
    return this.documentPacket(root, envelope, headerList, header);
  }

  // --- document packet --------------------------------------------------------------------------

  private documentPacket(
    root: XmlElement,
    envelope: XmlElement,
    headerList: XmlElement,
    h: XmlElement,
  ): DocumentPacket {
    // Read in wire order, so issues come out in the order a reader of the packet meets them.
    const header = this.documentHeader(h);
    const traceList = this.child(headerList, 'TraceHeaderList', 'TraceHeaderList');
    const traceHeaders: TraceHeader[] = traceList
      ? this.children(traceList, 'TraceHeader', 'TraceHeaderList/TraceHeader').map((el, i) => {
          const path = `TraceHeaderList/TraceHeader[${i + 1}]`;
          return {
            organId: this.required(el, 'OrganId', `${path}/OrganId`, 'The agency code of the trace entry'),
            timestamp: this.required(el, 'Timestamp', `${path}/Timestamp`, 'The time of the trace entry'),
          };
        })
      : [];
    const businessElement = traceList ? this.child(traceList, BUSINESS, 'TraceHeaderList/Bussiness') : undefined;
    const business = businessElement ? this.business(businessElement, 'TraceHeaderList/Bussiness') : undefined;
    const signature = this.signature(headerList);
    const manifest = this.manifest(envelope);
    const attachments = this.attachments(root);
    return { kind: 'document', header, traceHeaders, business, signature, manifest, attachments };
  }

  private documentHeader(h: XmlElement): DocumentHeader {
    const P = 'MessageHeader';
    const from = this.requiredOrganization(h, `${P}/From`, 'sender');
    const to = this.recipients(h, `${P}/To`);
    const documentId = this.required(h, 'DocumentId', `${P}/DocumentId`, 'The document identifier');

    const codeElement = this.child(h, 'Code', `${P}/Code`);
    const code = {
      codeNumber: this.required(codeElement, 'CodeNumber', `${P}/Code/CodeNumber`, 'The document number'),
      codeNotation: this.required(codeElement, 'CodeNotation', `${P}/Code/CodeNotation`, 'The document notation'),
    };

    const promulgation = this.child(h, 'PromulgationInfo', `${P}/PromulgationInfo`);
    const promulgationInfo = {
      place: this.optional(promulgation, 'Place', `${P}/PromulgationInfo/Place`),
      promulgationDate: normalizeDate(
        this.required(promulgation, 'PromulgationDate', `${P}/PromulgationInfo/PromulgationDate`, 'The promulgation date'),
      ),
    };

    const typeElement = this.child(h, 'DocumentType', `${P}/DocumentType`);
    const typeText = this.required(typeElement, 'Type', `${P}/DocumentType/Type`, 'The document type');
    const documentType = {
      type: (typeText === '' ? undefined : this.toInteger(typeText, `${P}/DocumentType/Type`)) ?? 0,
      typeDetail: this.integer(typeElement, 'TypeDetail', `${P}/DocumentType/TypeDetail`),
      typeName: this.optional(typeElement, 'TypeName', `${P}/DocumentType/TypeName`),
    };

    return {
      from,
      to,
      documentId,
      code,
      promulgationInfo,
      documentType,
      subject: this.required(h, 'Subject', `${P}/Subject`, 'The subject (trích yếu)'),
      content: this.optional(h, 'Content', `${P}/Content`),
      signerInfo: this.signerInfo(this.child(h, 'SignerInfo', `${P}/SignerInfo`), `${P}/SignerInfo`),
      dueDate: mapDefined(this.optional(h, 'DueDate', `${P}/DueDate`), normalizeDate),
      otherInfo: this.otherInfo(this.child(h, 'OtherInfo', `${P}/OtherInfo`), `${P}/OtherInfo`),
      responseFor: this.documentResponseFors(h, `${P}/ResponseFor`),
      steeringType: this.steeringType(h, `${P}/SteeringType`),
      toPlaces: this.texts(this.child(h, 'ToPlaces', `${P}/ToPlaces`), 'Place', `${P}/ToPlaces/Place`),
    };
  }

  private recipients(h: XmlElement, path: string): Organization[] {
    const elements = this.children(h, 'To', path);
    if (elements.length > this.limits.maxRecipients) {
      this.error(
        'EDX_ERR_XML_TOO_MANY_NODES',
        path,
        `The packet lists ${elements.length} recipients; the limit is ${this.limits.maxRecipients}.`,
        String(elements.length),
      );
      return [];
    }
    if (elements.length === 0 && !this.misplaced.has(path)) {
      this.error('EDX_ERR_FIELD_REQUIRED', path, 'The packet names no recipient: MessageHeader needs at least one To.');
    }
    return elements.map((el, i) => this.organization(el, `${path}[${i + 1}]`, 'recipient'));
  }

  private documentResponseFors(h: XmlElement, base: string): ResponseFor[] {
    const result: ResponseFor[] = [];
    this.children(h, 'ResponseFor', base).forEach((el, i) => {
      const path = `${base}[${i + 1}]`;
      // edoc.edxml carries a ResponseFor whose children are all empty: it means "none".
      if (isBlank(el)) {
        this.issues.push(
          warning('EDX_ERR_FIELD_REQUIRED', path, 'This ResponseFor has no content and is read as absent; tolerated.'),
        );
        return;
      }
      result.push(this.responseFor(el, path));
    });
    return result;
  }

  private responseFor(el: XmlElement, path: string): ResponseFor {
    return {
      organId: this.required(el, 'OrganId', `${path}/OrganId`, 'The agency code of the referenced document'),
      code: this.optional(el, 'Code', `${path}/Code`),
      promulgationDate: mapDefined(this.optional(el, 'PromulgationDate', `${path}/PromulgationDate`), normalizeDate),
      documentId: this.required(el, 'DocumentId', `${path}/DocumentId`, 'The identifier of the referenced document'),
    };
  }

  private signerInfo(el: XmlElement | undefined, path: string): SignerInfo | undefined {
    if (el === undefined) return undefined;
    const info: SignerInfo = {
      competence: this.optional(el, 'Competence', `${path}/Competence`),
      position: this.optional(el, 'Position', `${path}/Position`),
      fullName: this.optional(el, 'FullName', `${path}/FullName`),
    };
    return allUndefined(info) ? undefined : info;
  }

  private otherInfo(el: XmlElement | undefined, path: string): OtherInfo | undefined {
    if (el === undefined) return undefined;
    const priorityText = this.optional(el, 'Priority', `${path}/Priority`);
    let priority: Priority | undefined;
    if (priorityText !== undefined) {
      const n = UNSIGNED.test(priorityText) ? Number(priorityText) : Number.NaN;
      if (isPriority(n)) priority = n;
      else {
        this.error('EDX_ERR_PRIORITY_INVALID', `${path}/Priority`, `The priority "${priorityText}" is not 0–4.`, priorityText);
      }
    }
    const { appendixes, ...rest } = {
      priority,
      sphereOfPromulgation: this.optional(el, 'SphereOfPromulgation', `${path}/SphereOfPromulgation`),
      typerNotation: this.optional(el, 'TyperNotation', `${path}/TyperNotation`),
      promulgationAmount: this.integer(el, 'PromulgationAmount', `${path}/PromulgationAmount`),
      pageAmount: this.integer(el, 'PageAmount', `${path}/PageAmount`),
      direction: this.boolean(el, 'Direction', `${path}/Direction`),
      appendixes: this.texts(this.child(el, 'Appendixes', `${path}/Appendixes`), 'Appendix', `${path}/Appendixes/Appendix`),
    };
    return allUndefined(rest) && appendixes.length === 0 ? undefined : { ...rest, appendixes };
  }

  private steeringType(h: XmlElement, path: string): SteeringType | undefined {
    const text = this.optional(h, 'SteeringType', path);
    if (text === undefined) return undefined;
    const n = UNSIGNED.test(text) ? Number(text) : Number.NaN;
    if (isSteeringType(n)) return n;
    this.error('EDX_ERR_STEERING_TYPE_INVALID', path, `The steering type "${text}" is not 0, 1 or 2.`, text);
    return undefined;
  }

  private business(el: XmlElement, path: string): Business {
    const typeText = this.required(el, BUSINESS_DOC_TYPE, `${path}/BussinessDocType`, 'The business document type');
    let businessDocType: BusinessDocType = 0;
    if (typeText !== '') {
      const n = UNSIGNED.test(typeText) ? Number(typeText) : Number.NaN;
      if (isBusinessDocType(n)) businessDocType = n;
      else {
        this.error(
          'EDX_ERR_BUSINESS_TYPE_INVALID',
          `${path}/BussinessDocType`,
          `The business document type "${typeText}" is not 0–3.`,
          typeText,
        );
      }
    }
    const infoElement = this.child(el, BUSINESS_DOCUMENT_INFO, `${path}/BussinessDocumentInfo`);
    const replacementList = this.child(el, 'ReplacementInfoList', `${path}/ReplacementInfoList`);
    return {
      documentId: this.optional(el, 'DocumentId', `${path}/DocumentId`),
      businessDocType,
      businessDocReason: this.optional(el, BUSINESS_DOC_REASON, `${path}/BussinessDocReason`),
      paper: this.integer(el, 'Paper', `${path}/Paper`),
      documentInfo: infoElement ? this.businessDocumentInfo(infoElement, `${path}/BussinessDocumentInfo`) : undefined,
      replacements: replacementList
        ? this.children(replacementList, 'ReplacementInfo', `${path}/ReplacementInfoList/ReplacementInfo`).map(
            (r, i) => this.replacement(r, `${path}/ReplacementInfoList/ReplacementInfo[${i + 1}]`),
          )
        : [],
      staffInfo: this.staffInfo(this.child(el, 'StaffInfo', `${path}/StaffInfo`), `${path}/StaffInfo`),
    };
  }

  private businessDocumentInfo(el: XmlElement, path: string): BusinessDocumentInfo | undefined {
    const list = this.child(el, 'ReceiverList', `${path}/ReceiverList`);
    const receivers: Receiver[] = list
      ? this.children(list, 'Receiver', `${path}/ReceiverList/Receiver`).map((r, i) => {
          const p = `${path}/ReceiverList/Receiver[${i + 1}]`;
          return {
            organId: this.required(r, 'OrganId', `${p}/OrganId`, 'The agency code of the receiver'),
            receiverType: this.integer(r, 'ReceiverType', `${p}/ReceiverType`),
          };
        })
      : [];
    const documentInfo = this.integer(el, 'DocumentInfo', `${path}/DocumentInfo`);
    const documentReceiver = this.integer(el, 'DocumentReceiver', `${path}/DocumentReceiver`);
    if (documentInfo === undefined && documentReceiver === undefined && receivers.length === 0) return undefined;
    return { documentInfo, documentReceiver, receivers };
  }

  private replacement(el: XmlElement, path: string): ReplacementInfo {
    return {
      documentId: this.required(el, 'DocumentId', `${path}/DocumentId`, 'The identifier of the replaced document'),
      organIds: this.texts(this.child(el, 'OrganIdList', `${path}/OrganIdList`), 'OrganId', `${path}/OrganIdList/OrganId`),
    };
  }

  private manifest(envelope: XmlElement): ManifestReference[] {
    const body = this.child(envelope, 'edXMLBody', 'edXMLBody');
    const manifest = body ? this.child(body, 'edXMLManifest', 'edXMLManifest') : undefined;
    if (manifest === undefined) return [];
    const references = this.children(manifest, 'Reference', 'edXMLManifest/Reference');
    if (!this.withinAttachmentLimit(references.length, 'edXMLManifest/Reference', 'manifest references')) return [];
    return references.map((el, i) => {
      const path = `edXMLManifest/Reference[${i + 1}]`;
      return {
        contentId: this.required(el, 'ContentId', `${path}/ContentId`, 'The ContentId of the manifest reference'),
        contentType: this.optional(el, 'ContentType', `${path}/ContentType`),
        description: this.optional(el, 'Description', `${path}/Description`),
        attachmentName: this.optional(el, 'AttachmentName', `${path}/AttachmentName`),
      };
    });
  }

  private attachments(root: XmlElement): Attachment[] {
    const encoded = this.child(root, 'AttachmentEncoded', 'AttachmentEncoded');
    if (encoded === undefined) return [];
    const elements = this.children(encoded, 'Attachment', 'AttachmentEncoded/Attachment');
    if (!this.withinAttachmentLimit(elements.length, 'AttachmentEncoded/Attachment', 'attachments')) return [];
    return elements.map((el, i) => {
      const path = `AttachmentEncoded/Attachment[${i + 1}]`;
      const payload = this.child(el, 'ContentTransferEncoded', `${path}/ContentTransferEncoded`);
      const fields = {
        contentId: this.required(el, 'ContentId', `${path}/ContentId`, 'The ContentId of the attachment'),
        attachmentName: this.optional(el, 'AttachmentName', `${path}/AttachmentName`),
        description: this.optional(el, 'Description', `${path}/Description`),
        contentType: this.optional(el, 'ContentType', `${path}/ContentType`),
      };
      // A long payload stays bytes of the input until read (attachment-content.ts).
      if (payload?.longText !== undefined) return attachmentWithLongContent(fields, payload.longText);
      // A missing payload reads as empty; the validator judges the content.
      return { ...fields, content: payload ? withoutWhitespace(payload.text) : '' };
    });
  }

  private withinAttachmentLimit(count: number, path: string, what: string): boolean {
    if (count <= this.limits.maxAttachments) return true;
    this.error(
      'EDX_ERR_XML_TOO_MANY_NODES',
      path,
      `The packet has ${count} ${what}; the limit is ${this.limits.maxAttachments}.`,
      String(count),
    );
    return false;
  }

  // --- status packet ----------------------------------------------------------------------------

  private statusPacket(headerList: XmlElement, h: XmlElement): StatusPacket {
    const P = 'MessageHeader';
    const from = this.requiredOrganization(h, `${P}/From`, 'sender');
    const responseForElement = this.child(h, 'ResponseFor', `${P}/ResponseFor`);
    let responseFor: ResponseFor;
    if (responseForElement === undefined) {
      if (!this.misplaced.has(`${P}/ResponseFor`)) {
        this.error(
          'EDX_ERR_FIELD_REQUIRED',
          `${P}/ResponseFor`,
          'The status packet has no ResponseFor naming the document it is about.',
        );
      }
      responseFor = { organId: '', documentId: '' };
    } else {
      responseFor = this.responseFor(responseForElement, `${P}/ResponseFor`);
    }
    const codeText = this.required(h, 'StatusCode', `${P}/StatusCode`, 'The status code');
    let statusCode: StatusCode = '01';
    if (codeText !== '') {
      if (isStatusCode(codeText)) statusCode = codeText;
      else {
        this.error(
          'EDX_ERR_STATUS_CODE_INVALID',
          `${P}/StatusCode`,
          `The status code "${codeText}" is not one of the two-digit codes 01–06, 13, 15, 16.`,
          codeText,
        );
      }
    }
    return {
      kind: 'status',
      from,
      responseFor,
      staffInfo: this.staffInfo(this.child(h, 'StaffInfo', `${P}/StaffInfo`), `${P}/StaffInfo`),
      statusCode,
      description: this.optional(h, 'Description', `${P}/Description`),
      timestamp: this.required(h, 'Timestamp', `${P}/Timestamp`, 'The time of the status'),
      signature: this.signature(headerList),
    };
  }

  // --- shared groups ----------------------------------------------------------------------------

  private requiredOrganization(parent: XmlElement, path: string, role: string): Organization {
    const el = this.child(parent, 'From', path);
    if (el === undefined) {
      if (!this.misplaced.has(path)) {
        this.error('EDX_ERR_FIELD_REQUIRED', `${path}/OrganId`, `The packet has no From naming its ${role}.`);
      }
      return { organId: '' };
    }
    return this.organization(el, path, role);
  }

  private organization(el: XmlElement, path: string, role: string): Organization {
    return {
      organId: this.required(el, 'OrganId', `${path}/OrganId`, `The agency code of the ${role}`),
      organizationInCharge: this.optional(el, 'OrganizationInCharge', `${path}/OrganizationInCharge`),
      organName: this.optional(el, 'OrganName', `${path}/OrganName`),
      organAdd: this.optional(el, 'OrganAdd', `${path}/OrganAdd`),
      email: this.optional(el, 'Email', `${path}/Email`),
      telephone: this.optional(el, 'Telephone', `${path}/Telephone`),
      fax: this.optional(el, 'Fax', `${path}/Fax`),
      website: this.optional(el, 'Website', `${path}/Website`),
    };
  }

  private staffInfo(el: XmlElement | undefined, path: string): StaffInfo | undefined {
    if (el === undefined) return undefined;
    const info: StaffInfo = {
      department: this.optional(el, 'Department', `${path}/Department`),
      departmentId: this.optional(el, 'DepartmentId', `${path}/DepartmentId`),
      staff: this.optional(el, 'Staff', `${path}/Staff`),
      staffId: this.optional(el, 'StaffId', `${path}/StaffId`),
      email: this.optional(el, 'Email', `${path}/Email`),
      mobile: this.optional(el, 'Mobile', `${path}/Mobile`),
    };
    return allUndefined(info) ? undefined : info;
  }

  /** The Signature of edXMLHeader, in the XML-DSig namespace or inheriting the QCVN one. */
  private signature(headerList: XmlElement): SignatureInfo | undefined {
    // The .NET SDK writes an empty edXML:DigitalSignature instead; it carries nothing to record.
    const candidates = headerList.children.filter((c) => c.local === 'Signature');
    const el = candidates.find(isSignatureElement);
    if (el === undefined) {
      const foreign = candidates[0];
      if (foreign !== undefined) {
        this.error(
          'EDX_ERR_PACKET_NAMESPACE',
          'Signature',
          `The Signature element is in ${describeNamespace(foreign.namespace)}, neither XML-DSig nor QCVN 102.`,
          foreign.namespace ?? '',
        );
      }
      return undefined;
    }
    const signedInfo = signatureChild(el, 'SignedInfo');
    const references = signedInfo ? signatureChildren(signedInfo, 'Reference') : [];
    const firstReference = references[0];
    const x509 = mapDefined(signatureChild(el, 'KeyInfo'), (k) => signatureChild(k, 'X509Data'));
    return {
      namespace: el.namespace ?? EDXML_NAMESPACE,
      canonicalizationMethod: algorithm(signedInfo, 'CanonicalizationMethod'),
      signatureMethod: algorithm(signedInfo, 'SignatureMethod'),
      referenceUris: references.flatMap((r) => (r.attributes['URI'] === undefined ? [] : [r.attributes['URI']])),
      transforms: references.flatMap((r) =>
        signatureChildren(signatureChild(r, 'Transforms'), 'Transform').flatMap((t) =>
          t.attributes['Algorithm'] === undefined ? [] : [t.attributes['Algorithm']],
        ),
      ),
      digestMethod: algorithm(firstReference, 'DigestMethod'),
      digestValue: base64Text(signatureChild(firstReference, 'DigestValue')),
      signatureValue: base64Text(signatureChild(el, 'SignatureValue')),
      x509SubjectName: nonEmpty(signatureChild(x509, 'X509SubjectName')?.text),
      x509Certificate: base64Text(signatureChild(x509, 'X509Certificate')),
    };
  }

  // --- element access ---------------------------------------------------------------------------

  /** QCVN-namespace children named `names`; a same-named child in another namespace is reported. */
  private children(parent: XmlElement, names: Names, path: string): XmlElement[] {
    const wanted = typeof names === 'string' ? [names] : names;
    const found: XmlElement[] = [];
    for (const c of parent.children) {
      if (!wanted.includes(c.local)) continue;
      if (c.namespace === EDXML_NAMESPACE) {
        found.push(c);
      } else if (!this.misplaced.has(path)) {
        this.misplaced.add(path);
        this.error(
          'EDX_ERR_PACKET_NAMESPACE',
          path,
          `<${c.name}> is in ${describeNamespace(c.namespace)}, not ${EDXML_NAMESPACE}; it is not read.`,
          c.namespace ?? '',
        );
      }
    }
    return found;
  }

  private child(parent: XmlElement | undefined, names: Names, path: string): XmlElement | undefined {
    return parent === undefined ? undefined : this.children(parent, names, path)[0];
  }

  /** An envelope element without which the document is no edXML packet. */
  private structural(parent: XmlElement, names: Names, path: string): XmlElement | undefined {
    const el = this.child(parent, names, path);
    if (el === undefined && !this.misplaced.has(path)) {
      const name = typeof names === 'string' ? names : names.join(' or ');
      this.error('EDX_ERR_PACKET_STRUCTURE', path, `<${parent.name}> has no <${name}> child.`);
    }
    return el;
  }

  private optional(parent: XmlElement | undefined, names: Names, path: string): string | undefined {
    return nonEmpty(this.child(parent, names, path)?.text);
  }

  /** The trimmed text of a required element; '' (with an issue recorded) when missing or empty. */
  private required(parent: XmlElement | undefined, names: Names, path: string, what: string): string {
    const text = this.child(parent, names, path)?.text ?? '';
    if (text === '' && !this.misplaced.has(path)) {
      this.error('EDX_ERR_FIELD_REQUIRED', path, `${what} is missing or empty.`);
    }
    return text;
  }

  /** An optional unsigned integer field. */
  private integer(parent: XmlElement | undefined, names: Names, path: string): number | undefined {
    const text = this.optional(parent, names, path);
    return text === undefined ? undefined : this.toInteger(text, path);
  }

  private toInteger(text: string, path: string): number | undefined {
    if (UNSIGNED.test(text)) return Number(text);
    this.error('EDX_ERR_FIELD_INVALID', path, `"${text}" is not a whole number (digits only, e.g. 0 or 12).`, text);
    return undefined;
  }

  private boolean(parent: XmlElement | undefined, names: Names, path: string): boolean | undefined {
    const text = this.optional(parent, names, path);
    if (text === undefined) return undefined;
    // Case-insensitive: .NET writes booleans as True/False.
    const lower = text.toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
    this.error('EDX_ERR_FIELD_INVALID', path, `"${text}" is not a boolean; write true or false.`, text);
    return undefined;
  }

  /** Non-empty texts of the `name` children of a list element, in order. */
  private texts(list: XmlElement | undefined, name: string, path: string): string[] {
    if (list === undefined) return [];
    return this.children(list, name, path).flatMap((el) => (el.text === '' ? [] : [el.text]));
  }

  private error(code: ErrorCode, path: string, detail: string, value?: string): void {
    this.issues.push(issue(code, path, detail, value));
  }
}

function isSignatureElement(el: XmlElement): boolean {
  return el.namespace === XMLDSIG_NAMESPACE || el.namespace === EDXML_NAMESPACE;
}

// Inside a Signature, children are matched by local name in either namespace: the samples' unbound
// Signature inherits QCVN, a standard one is XML-DSig throughout.
function signatureChildren(parent: XmlElement | undefined, local: string): XmlElement[] {
  return parent === undefined ? [] : parent.children.filter((c) => c.local === local && isSignatureElement(c));
}

function signatureChild(parent: XmlElement | undefined, local: string): XmlElement | undefined {
  return signatureChildren(parent, local)[0];
}

function algorithm(parent: XmlElement | undefined, local: string): string | undefined {
  return nonEmpty(signatureChild(parent, local)?.attributes['Algorithm']?.trim());
}

function base64Text(el: XmlElement | undefined): string | undefined {
  return nonEmpty(el === undefined ? undefined : withoutWhitespace(el.text));
}

/** True when the element has no text anywhere in its subtree. */
function isBlank(el: XmlElement): boolean {
  return el.text === '' && el.children.every(isBlank);
}

function nonEmpty(text: string | undefined): string | undefined {
  return text === undefined || text === '' ? undefined : text;
}

function mapDefined<T, U>(value: T | undefined, f: (value: T) => U): U | undefined {
  return value === undefined ? undefined : f(value);
}

function allUndefined(record: object): boolean {
  return Object.values(record).every((v) => v === undefined);
}

/** `dd/MM/yyyy` → `yyyy/MM/dd`; anything else as written, for the validator to judge. */
function normalizeDate(text: string): string {
  const m = DAY_MONTH_YEAR.exec(text);
  return m ? `${m[3]}/${m[2]}/${m[1]}` : text;
}

// Payloads reach 67 MB of base64: test first, so the common unwrapped payload is not copied.
function withoutWhitespace(text: string): string {
  return WHITESPACE.test(text) ? text.replace(/\s+/g, '') : text;
}

function describeNamespace(namespace: string | undefined): string {
  return namespace === undefined ? 'no namespace' : `namespace ${namespace}`;
}
