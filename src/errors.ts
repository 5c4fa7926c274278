// The error catalogue: every refusal edxgate can give, with a stable code, the HTTP status it maps
// to, and a message that says what to do. Callers match on `code`, never on message text.
// docs/errors.md mirrors this table; test/errors.test.ts keeps the two in sync
// (regenerate with `npm run docs:errors`).

interface CatalogueEntry {
  readonly status: number;
  readonly title: string;
  readonly action: string;
}

/** The catalogue. Codes are `EDX_ERR_<AREA>_<WHAT>`; add new ones, never rename or reuse one. */
export const ERROR_CATALOGUE = {
  // --- XML: the bytes are not an acceptable XML document --------------------------------------
  EDX_ERR_XML_MALFORMED: {
    status: 400,
    title: 'The body is not well-formed XML',
    action: 'Send a well-formed UTF-8 XML document; the message gives the line and column of the first fault.',
  },
  EDX_ERR_XML_ENCODING: {
    status: 400,
    title: 'The body is not valid UTF-8',
    action: 'Encode the packet as UTF-8, as QCVN 102 requires, and declare encoding="UTF-8".',
  },
  EDX_ERR_XML_DTD_FORBIDDEN: {
    status: 400,
    title: 'DTDs and entity declarations are not accepted',
    action: 'Remove the <!DOCTYPE> and any <!ENTITY> declarations; edXML needs neither.',
  },
  EDX_ERR_XML_TOO_LARGE: {
    status: 413,
    title: 'The packet is larger than the configured limit',
    action: 'Split the attachments over several packets or ask the operator to raise the limit.',
  },
  EDX_ERR_XML_TOO_DEEP: {
    status: 400,
    title: 'The XML nests deeper than the configured limit',
    action: 'Send the edXML structure as the standard defines it; it never nests this deep.',
  },
  EDX_ERR_XML_TOO_MANY_NODES: {
    status: 400,
    title: 'The packet has more elements, attributes or repeated items than the configured limit',
    action: 'Reduce the number of repeated elements (recipients, attachments, places) or split the packet.',
  },
  // --- PACKET: well-formed XML, but not an edXML packet ---------------------------------------
  EDX_ERR_PACKET_NAMESPACE: {
    status: 400,
    title: 'The root element is not in the QCVN 102:2016 namespace',
    action: 'Declare xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016" on the edXML root and bind the edXML prefix to it.',
  },
  EDX_ERR_PACKET_STRUCTURE: {
    status: 400,
    title: 'The document is not an edXML packet',
    action: 'Send an edXML root with edXMLEnvelope/edXMLHeader/MessageHeader (and edXMLBody for documents), as in the official samples.',
  },
  // --- FIELD: generic field rules --------------------------------------------------------------
  EDX_ERR_FIELD_REQUIRED: {
    status: 422,
    title: 'A required field is missing or empty',
    action: 'Fill in the field named in the path.',
  },
  EDX_ERR_FIELD_TOO_LONG: {
    status: 422,
    title: 'A field is longer than the standard allows',
    action: 'Shorten the field named in the path to the limit given in the message.',
  },
  EDX_ERR_FIELD_INVALID: {
    status: 422,
    title: 'A field has a value outside its allowed set or format',
    action: 'Use one of the values or the format given in the message for the field named in the path.',
  },
  EDX_ERR_AGENCY_CODE_INVALID: {
    status: 422,
    title: 'An agency identifier code is malformed',
    action: 'Use the agency code from the directory, e.g. 000.00.15.H47 (QCVN 102) or a QĐ 20/2020 code of at most 35 characters [0-9A-Z.].',
  },
  EDX_ERR_AGENCY_UNKNOWN: {
    status: 404,
    title: 'No agency with this code is in the directory',
    action: 'Check the code against the agency directory (GET /v1/agencies) or ask the operator to add the agency.',
  },
  EDX_ERR_AGENCY_EXISTS: {
    status: 409,
    title: 'An agency with this code is already in the directory',
    action: 'Run `edxgate agencies add CODE --update …` to change its name, parent or route, or `edxgate agencies list` to see it.',
  },
  EDX_ERR_AGENCY_RECORD_INVALID: {
    status: 422,
    title: 'An agency directory record is inconsistent',
    action: 'Fix the record named in the path: codes are unique, names non-empty, a successor only on a closed code, and a QCVN 102 code\'s parent is the code one level up.',
  },
  EDX_ERR_AGENCY_ALIAS_CYCLE: {
    status: 422,
    title: 'Closed agency codes forward to each other in a loop',
    action: 'Point the last closed code of the chain at an active agency instead of back into the chain.',
  },
  EDX_ERR_DATE_INVALID: {
    status: 422,
    title: 'A date or timestamp is malformed or impossible',
    action: 'Write dates as yyyy/MM/dd and timestamps as yyyy/MM/dd HH:mm:ss (Vietnam time), with a real calendar date.',
  },
  EDX_ERR_DATE_IN_FUTURE: {
    status: 422,
    title: 'The promulgation date lies in the future',
    action: 'Send the document on or after the day it is promulgated (dates are Vietnam time).',
  },
  EDX_ERR_DOCUMENT_ID_INVALID: {
    status: 422,
    title: 'A document identifier is malformed',
    action: 'Write the document identifier as OrganId,yyyy/MM/dd,Number/Notation (QĐ 395), e.g. 000.00.15.H47,2025/03/05,123/SLĐTBXH-VP.',
  },
  EDX_ERR_PRIORITY_INVALID: {
    status: 422,
    title: 'The priority is not 0–4',
    action: 'Set OtherInfo/Priority to 0 (thường), 1 (khẩn), 2 (thượng khẩn), 3 (hỏa tốc) or 4 (hỏa tốc hẹn giờ).',
  },
  EDX_ERR_STEERING_TYPE_INVALID: {
    status: 422,
    title: 'The steering type is not 0, 1 or 2',
    action: 'Set SteeringType to 0 (not a steering document), 1 (steering) or 2 (report on steering).',
  },
  EDX_ERR_BUSINESS_TYPE_INVALID: {
    status: 422,
    title: 'The business document type is not 0–3',
    action: 'Set Bussiness/BussinessDocType to 0 (new), 1 (revoke), 2 (update) or 3 (replace).',
  },
  EDX_ERR_BUSINESS_INFO_MISSING: {
    status: 422,
    title: 'The business type needs information the packet does not carry',
    action: 'A revoke needs a ResponseFor naming the revoked document; an update needs Bussiness/DocumentId and BussinessDocumentInfo; a replace needs ReplacementInfoList with DocumentId and OrganIdList.',
  },
  EDX_ERR_RECIPIENT_DUPLICATE: {
    status: 422,
    title: 'The same recipient is listed twice',
    action: 'List each recipient agency code once in MessageHeader/To.',
  },
  EDX_ERR_STATUS_CODE_INVALID: {
    status: 422,
    title: 'The status code is not one the standard defines',
    action: 'Use a StatusCode of 01, 02, 03, 04, 05, 06, 13, 15 or 16.',
  },
  EDX_ERR_STATUS_REASON_REQUIRED: {
    status: 422,
    title: 'This status needs a reason',
    action: 'Statuses 02 (rejected), 13 (recall request) and 16 (recall refused) must say why in Description.',
  },
  // --- ATTACHMENT ------------------------------------------------------------------------------
  EDX_ERR_ATTACHMENT_MISMATCH: {
    status: 422,
    title: 'The manifest and the attached payloads do not match',
    action: 'Give every edXMLManifest/Reference exactly one AttachmentEncoded/Attachment with the same ContentId, and no payload without a reference.',
  },
  EDX_ERR_ATTACHMENT_NAME_INVALID: {
    status: 422,
    title: 'An attachment name breaks the naming rule',
    action: 'Name attachments with at most 50 letters, digits, spaces, dots, hyphens or underscores, without Vietnamese diacritics or special characters (seed 001, Điều 8).',
  },
  EDX_ERR_ATTACHMENT_TOO_LARGE: {
    status: 413,
    title: 'An attachment is larger than 50 MB',
    action: 'Keep each attachment at or under 50 MB (seed 001, Điều 8); split large files.',
  },
  EDX_ERR_ATTACHMENT_FORMAT: {
    status: 422,
    title: 'The attachment format is not allowed',
    action: 'Attach text documents (txt, rtf, doc, docx, odt), spreadsheets (csv, xls, xlsx, ods), PDF, images or zip archives.',
  },
  EDX_ERR_ATTACHMENT_ENCODING: {
    status: 422,
    title: 'An attachment payload is not base64',
    action: 'Encode ContentTransferEncoded as base64 (RFC 4648 alphabet, whitespace allowed).',
  },
  // --- CLI -------------------------------------------------------------------------------------
  EDX_ERR_CLI_USAGE: {
    status: 400,
    title: 'The command line is not valid',
    action: 'Run `edxgate help` for the commands and their options.',
  },
  EDX_ERR_BUILD_INPUT_INVALID: {
    status: 400,
    title: 'The JSON packet description is not valid',
    action: 'Fix the JSON description at the path given; it mirrors the packet model (see docs/cli.md).',
  },
  EDX_ERR_FILE_UNREADABLE: {
    status: 400,
    title: 'A file could not be read',
    action: 'Check that the path exists and is readable.',
  },
  // --- CONFIG / STORE (gateway core) ---------------------------------------------------------
  EDX_ERR_CONFIG_INVALID: {
    status: 500,
    title: 'The gateway configuration is not valid',
    action: 'Fix the key named in the path (environment variable or config file) to the expected type and range, then restart.',
  },
  EDX_ERR_STORE_UNAVAILABLE: {
    status: 503,
    title: 'The database is not reachable',
    action: 'Retry shortly; operators should check DATABASE_URL and that Postgres (or the DATA_DIR of the embedded database) is available.',
  },
  EDX_ERR_STORE_MIGRATION_FAILED: {
    status: 500,
    title: 'A database migration failed',
    action: 'Read the migration named in the message, fix the database or the migration, and run `edxgate migrate` again.',
  },
  EDX_ERR_STORE_MIGRATION_PENDING: {
    status: 503,
    title: 'The database schema is older than this version of edxgate',
    action: 'Run `edxgate migrate` (starting the gateway also migrates), then retry.',
  },
  EDX_ERR_PAYLOAD_NOT_FOUND: {
    status: 404,
    title: 'The stored packet bytes are missing',
    action: 'Check the payload reference; operators should check the payload store (DATA_DIR/payloads or the payloads table).',
  },
  EDX_ERR_PAYLOAD_CORRUPT: {
    status: 500,
    title: 'The stored packet bytes do not match their hash',
    action: 'Operators should restore the payload from a backup; the bytes on disk were altered after admission.',
  },
  EDX_ERR_CURSOR_INVALID: {
    status: 400,
    title: 'The cursor is not one this gateway issued',
    action: 'Pass back the nextCursor of the previous page unchanged, or omit it to start from the beginning.',
  },
  // --- ADAPTER / DELIVERY: routes, adapters and the outcome of one delivery attempt ------------
  EDX_ERR_ADAPTER_KIND_UNKNOWN: {
    status: 422,
    title: 'The route names an adapter kind this gateway does not provide',
    action: 'Give the route the kind inbox (the recipient pulls) or webhook (the gateway pushes to a URL).',
  },
  EDX_ERR_ADAPTER_ROUTE_INVALID: {
    status: 422,
    title: 'The route lacks a setting its adapter needs, or a setting is malformed',
    action: 'Give a webhook route an absolute http:// or https:// URL and a non-empty signing secret.',
  },
  EDX_ERR_ADAPTER_NOT_RUNNING: {
    status: 503,
    title: 'The adapter is not running (not started yet, or closed)',
    action: 'Nothing to do for the sender: the delivery stays queued and is retried once the route\'s adapter runs again.',
  },
  EDX_ERR_DELIVERY_UNAVAILABLE: {
    status: 502,
    title: 'The recipient could not take the packet now',
    action: 'Nothing to do for the sender: the delivery is retried with backoff. The recipient\'s operator should check that its endpoint is up.',
  },
  EDX_ERR_DELIVERY_TIMEOUT: {
    status: 504,
    title: 'The recipient did not answer within the delivery deadline',
    action: 'Nothing to do for the sender: the delivery is retried. The recipient should answer a delivery within the 5-second budget and do slow work afterwards.',
  },
  EDX_ERR_DELIVERY_REFUSED: {
    status: 502,
    title: 'The recipient refused the packet permanently',
    action: 'Read the recipient\'s answer in the delivery\'s last error, fix the route or the packet, and re-queue the dead delivery.',
  },
  // --- API: authentication, requests and admission (gateway core) ----------------------------
  EDX_ERR_AUTH_REQUIRED: {
    status: 401,
    title: 'The request carries no valid client token',
    action: 'Send `Authorization: Bearer <token>` with the token the operator issued to your system (`edxgate clients create`).',
  },
  EDX_ERR_AUTH_FORBIDDEN: {
    status: 403,
    title: 'The client may not act for this agency, or the operation needs an admin token',
    action: 'Use the token of a client allowed to act for the agency named in the message (the packet\'s From, or the inbox asked for); admin operations need the ADMIN_TOKEN.',
  },
  EDX_ERR_PACKET_CONFLICT: {
    status: 409,
    title: 'A different packet was already admitted under the same sender, document and business type',
    action: 'Do not reuse a DocumentId for other content: give a new document its own number, or send an update (BussinessDocType 2) or a replacement (3) for a changed one.',
  },
  // --- SIGNATURE: the packet's XML-DSig signature and its certificate ----------------------------
  EDX_ERR_SIGNATURE_REQUIRED: {
    status: 422,
    title: 'This sender must sign its packets',
    action: "Sign the packet (enveloped XML-DSig over the whole document, edXMLHeader/Signature) with the agency's special-purpose certificate; the gateway's policy for this agency is `require`.",
  },
  EDX_ERR_SIGNATURE_MALFORMED: {
    status: 422,
    title: 'The Signature element is not a usable XML-DSig signature',
    action: 'Send one Signature in the XML-DSig namespace with SignedInfo, SignatureValue and KeyInfo/X509Data/X509Certificate; the message names the missing or unreadable part.',
  },
  EDX_ERR_SIGNATURE_UNSUPPORTED: {
    status: 422,
    title: 'The signature uses an algorithm or transform the gateway does not accept',
    action: 'Sign with RSA-SHA256 (RSA-SHA1 is accepted on input), a SHA-256 or SHA-1 digest, c14n or exclusive c14n, and only the enveloped-signature and c14n transforms.',
  },
  EDX_ERR_SIGNATURE_REFERENCE: {
    status: 422,
    title: 'The signature does not cover exactly the whole packet',
    action: 'Use one Reference with URI="" and the enveloped-signature transform, and one Signature element in edXMLHeader; references to parts of the document, extra references and extra Signature elements are refused to prevent signature wrapping.',
  },
  EDX_ERR_SIGNATURE_DIGEST_MISMATCH: {
    status: 422,
    title: 'The packet was changed after it was signed',
    action: 'The digest of the packet does not match the signed DigestValue: send the packet exactly as it was signed, or sign it again.',
  },
  EDX_ERR_SIGNATURE_INVALID: {
    status: 422,
    title: 'The SignatureValue does not verify with the enclosed certificate',
    action: 'Sign SignedInfo with the private key of the certificate placed first in KeyInfo/X509Data.',
  },
  EDX_ERR_SIGNATURE_CERT_UNTRUSTED: {
    status: 422,
    title: "The signer's certificate does not chain to a trusted authority",
    action: 'Sign with a certificate issued by the Government special-purpose CA (or a CA the operator added to the trust store), and include the intermediates in KeyInfo.',
  },
  EDX_ERR_SIGNATURE_CERT_EXPIRED: {
    status: 422,
    title: "The signer's certificate is expired or not yet valid",
    action: 'Renew the certificate (or correct the signing machine\'s clock) and sign again.',
  },
  EDX_ERR_SIGNATURE_CERT_REVOKED: {
    status: 422,
    title: "The signer's certificate is revoked",
    action: 'The issuing authority revoked this certificate: sign with a valid one.',
  },
  EDX_ERR_SIGNATURE_CERT_REVOCATION_UNKNOWN: {
    status: 422,
    title: "The signer's certificate could not be checked for revocation",
    action: 'The gateway has no current revocation list for the issuing authority and its policy is hard-fail; retry later, or ask the operator to refresh the CRL.',
  },
  EDX_ERR_SIGNATURE_CERT_WRONG_AGENCY: {
    status: 422,
    title: "The signer's certificate does not belong to the sending agency",
    action: "Sign with the certificate registered for the agency in From; the operator binds certificates to agencies in the directory.",
  },
  EDX_ERR_SIGNATURE_KEY_INVALID: {
    status: 400,
    title: 'The signing key or certificate cannot be used',
    action: 'Give an RSA private key (PEM or PKCS#12 with its password) and the certificate that matches it.',
  },
  // --- TRACKING: statuses and business flows of a document -----------------------------------
  EDX_ERR_STATUS_UNKNOWN_DOCUMENT: {
    status: 422,
    title: 'The status refers to a document the gateway has not carried',
    action: 'Check ResponseFor/DocumentId and ResponseFor/OrganId: they must name a document this gateway delivered between the two agencies.',
  },
  EDX_ERR_STATUS_NOT_A_RECIPIENT: {
    status: 422,
    title: 'The agency sending this status never received the document',
    action: 'Only an agency the document was delivered to may report its receipt or processing; the sender of the document may only send 13 (recall request).',
  },
  EDX_ERR_STATUS_TRANSITION: {
    status: 409,
    title: 'This status cannot follow the current one',
    action: 'Statuses move forward: 01 → 03 → 04 → 05 → 06 (04 and 05 may be skipped), 02 ends the exchange, 15/16 answer a 13. The message gives the current status.',
  },
  EDX_ERR_STATUS_NO_RECALL: {
    status: 409,
    title: 'There is no recall request to answer',
    action: 'Send 15 or 16 only in answer to a recall request (13) or a revocation of the document.',
  },
  EDX_ERR_DOCUMENT_REFERENCE_UNKNOWN: {
    status: 422,
    title: 'The revoked, updated or replaced document is not known to the gateway',
    action: 'Name in the revocation, update or replacement the DocumentId of a document this sender sent through the gateway.',
  },
  EDX_ERR_RECIPIENT_UNKNOWN: {
    status: 422,
    title: 'A recipient is not in the agency directory',
    action: 'Check the recipient code named in the path against the directory (GET /v1/agencies), or ask the operator to add the agency; nothing of the packet was admitted.',
  },
  EDX_ERR_RECIPIENT_SUSPENDED: {
    status: 422,
    title: 'A recipient is suspended and takes no packets',
    action: 'Remove the suspended recipient named in the path from the packet, or wait until the operator reactivates it; nothing of the packet was admitted.',
  },
  EDX_ERR_RECIPIENT_CLOSED: {
    status: 422,
    title: 'A recipient code is closed and forwards to no successor',
    action: 'Address the agency that took over from the closed code named in the path; nothing of the packet was admitted.',
  },
  EDX_ERR_NOT_FOUND: {
    status: 404,
    title: 'No such resource, or it is not visible to this client',
    action: 'Check the path and the id; packets and deliveries are visible only to the clients of their sender and recipients.',
  },
  EDX_ERR_MEDIA_TYPE: {
    status: 415,
    title: 'The request body has a media type this endpoint does not take',
    action: 'Post packets with Content-Type application/xml (or text/xml, application/octet-stream); other endpoints take application/json or no body.',
  },
  EDX_ERR_REQUEST_INVALID: {
    status: 400,
    title: 'The request is malformed',
    action: 'Fix the query parameter, path parameter or JSON body named in the path to the expected type and range.',
  },
  EDX_ERR_REQUEST_TOO_LARGE: {
    status: 413,
    title: 'The request body is larger than this endpoint accepts',
    action: 'Send a smaller body; only POST /v1/packets takes large bodies (packets up to the configured limit).',
  },
  EDX_ERR_DELIVERY_NOT_DEAD: {
    status: 409,
    title: 'The delivery is not in the dead letter',
    action: 'Only a dead delivery can be re-queued; a queued or delivering one is already being retried, a delivered one is done.',
  },
  EDX_ERR_SERVER_OVERLOADED: {
    status: 503,
    title: 'The gateway cannot take the request now (it is shutting down or overloaded)',
    action: 'Retry after the Retry-After delay, possibly on another gateway node; nothing of the request was admitted.',
  },
  EDX_ERR_SERVER_INTERNAL: {
    status: 500,
    title: 'The gateway failed unexpectedly',
    action: 'Retry; if it persists, operators should look up the request id of the reply in the gateway log.',
  },
  // --- AXIS: the axis-compatible API (the national axis SDK's operations, docs/axis.md) ---------
  EDX_ERR_AXIS_AUTH_REQUIRED: {
    status: 401,
    title: 'The request lacks the XroadVnpt authentication headers',
    action: 'Send XroadVnpt-systemid, XroadVnpt-sign-header and XroadVnpt-hash-header as the national axis SDK does (docs/axis.md).',
  },
  EDX_ERR_AXIS_AUTH_INVALID: {
    status: 401,
    title: 'The systemid is unknown or disabled, or the hash-header does not match the secret',
    action: 'Use the systemid and secret the operator issued (`edxgate axis-systems add`); XroadVnpt-hash-header must be the hex HMAC-SHA256 of XroadVnpt-sign-header exactly as sent, keyed with the secret as UTF-8.',
  },
  EDX_ERR_AXIS_HEADER_MISMATCH: {
    status: 401,
    title: 'A signed XroadVnpt header differs from its value in the sign-header, or the sign-header is not a signed map',
    action: 'Send every XroadVnpt-<key> header with exactly the value signed in XroadVnpt-sign-header (a JSON object of strings); do not change headers after signing.',
  },
  EDX_ERR_AXIS_PARAMETER_INVALID: {
    status: 400,
    title: 'A parameter the operation needs is not signed, or has a value the operation does not take',
    action: 'Sign the keys the operation requires (docs/axis.md): servicetype eDoc, messagetype edoc or status, from, hash-file, docId, status done or fail.',
  },
  EDX_ERR_AXIS_OPERATION_UNKNOWN: {
    status: 404,
    title: 'The axis-compatible API has no such operation',
    action: 'Call one of sendEdoc, getReceivedEdocList, getSentEdocList, getEdoc, updateStatus or getAgenciesList with POST under the configured prefix (AXIS_PREFIX).',
  },
  EDX_ERR_AXIS_HASH_MISMATCH: {
    status: 422,
    title: 'The hash-file header is not the SHA-256 of the posted file',
    action: 'Announce in hash-file the SHA-256 of the edXML file posted as the body (hex, with or without leading zeros per byte); send the file unchanged.',
  },
  EDX_ERR_AXIS_MESSAGE_TYPE_MISMATCH: {
    status: 422,
    title: 'The messagetype does not match the kind of the packet',
    action: 'Send document packets with messagetype edoc and status packets with messagetype status.',
  },
  EDX_ERR_AXIS_FROM_MISMATCH: {
    status: 422,
    title: "The from header is not the packet's sender",
    action: 'Set from to the OrganId of the packet\'s MessageHeader/From.',
  },
  EDX_ERR_AXIS_SYSTEM_EXISTS: {
    status: 409,
    title: 'An axis system with this systemid already exists',
    action: 'Choose another --systemid, or leave it out to have one generated (`edxgate axis-systems list` shows those in use).',
  },
  // --- ROUTE / UPSTREAM: links to other gateways and routing by code pattern (docs/federation.md)
  EDX_ERR_ROUTE_PATTERN_INVALID: {
    status: 400,
    title: 'The route pattern is not a code pattern',
    action: 'Write a pattern of letters, digits, dots, hyphens, underscores and * (any run of characters), such as *.H47 or *.',
  },
  EDX_ERR_ROUTE_UNKNOWN: {
    status: 404,
    title: 'No route has this id',
    action: 'Name a route that exists (`edxgate routes list`), or `local` for the inbox; add upstreams and peers with `edxgate routes add-upstream` / `add-peer`.',
  },
  EDX_ERR_ROUTE_EXISTS: {
    status: 409,
    title: 'A route with this id already exists',
    action: 'Choose another route id, or change the existing route (`edxgate routes list` shows them).',
  },
  EDX_ERR_ROUTE_LOOP: {
    status: 422,
    title: 'The packet came from the gateway its recipients are routed to',
    action: 'The two gateways route these codes to each other: fix the route patterns on one side (`edxgate routes list`) so that each code is local on exactly one gateway; nothing was admitted.',
  },
  EDX_ERR_AGENCY_IMPORT_INVALID: {
    status: 400,
    title: 'The agency list to import cannot be read',
    action: 'Give a JSON array of {code, name, …} objects (our records or the axis getAgenciesList items) or a CSV file with a header row naming code and name; the message names the row and field.',
  },
  EDX_ERR_UPSTREAM_UNAVAILABLE: {
    status: 502,
    title: 'The upstream gateway did not answer usefully',
    action: 'Check that the upstream is reachable at the route URL and answering; retry later. Nothing was changed here.',
  },
  EDX_ERR_UPSTREAM_REFUSED: {
    status: 502,
    title: 'The upstream gateway refused the call',
    action: 'Read the upstream\'s ErrorCode in the message; an authentication refusal means the route\'s systemid or secret is not the one the upstream issued.',
  },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CATALOGUE, value);
}

/** Longest offending value an issue repeats back; longer values are cut with an ellipsis. */
export const ISSUE_VALUE_MAX_LENGTH = 80;

export function truncateValue(value: string): string {
  return value.length <= ISSUE_VALUE_MAX_LENGTH ? value : `${value.slice(0, ISSUE_VALUE_MAX_LENGTH - 1)}…`;
}

/** One finding about a packet or request: which rule, where, and the value that broke it. */
export interface Issue {
  readonly code: ErrorCode;
  /** Where: an element path such as `MessageHeader/To[2]/OrganId`, or a CLI/JSON path. */
  readonly path: string;
  /** What is wrong, specifically, and what to do. */
  readonly message: string;
  /** The offending value, truncated to ISSUE_VALUE_MAX_LENGTH. */
  readonly value?: string | undefined;
  /** Errors refuse the packet; warnings record a tolerated deviation (e.g. a sample's quirk). */
  readonly severity: 'error' | 'warning';
}

export function issue(code: ErrorCode, path: string, detail: string, value?: string): Issue {
  return {
    code,
    path,
    message: `${detail} ${ERROR_CATALOGUE[code].action}`,
    value: value === undefined ? undefined : truncateValue(value),
    severity: 'error',
  };
}

export function warning(code: ErrorCode, path: string, detail: string, value?: string): Issue {
  return { ...issue(code, path, detail, value), severity: 'warning' };
}

/** An error that carries catalogued issues; the HTTP layer turns it into problem+json. */
export class EdxError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly issues: readonly Issue[];

  constructor(code: ErrorCode, detail: string, issues: readonly Issue[] = []) {
    super(`${ERROR_CATALOGUE[code].title}: ${detail}`);
    this.name = 'EdxError';
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
    this.issues = issues;
  }

  /** The error for a list of issues: the first error's code stands for the whole. */
  static fromIssues(issues: readonly Issue[]): EdxError {
    const first = issues.find((i) => i.severity === 'error') ?? issues[0];
    if (!first) throw new TypeError('EdxError.fromIssues needs at least one issue');
    return new EdxError(first.code, `${first.path}: ${first.message}`, issues);
  }
}

/** The outcome of a step that can refuse its input with catalogued issues. */
export type Result<T> =
  | { readonly ok: true; readonly value: T; readonly warnings: readonly Issue[] }
  | { readonly ok: false; readonly issues: readonly Issue[] };
