// JSON schemas shared by the routes. Reply schemas let Fastify serialise with fast-json-stringify
// (several times faster than JSON.stringify) and keep a reply from carrying a field nobody declared.

/** One issue on the wire (severity is implied by where it appears: `issues` refuse, `warnings` do not). */
/** The signature verdict shown with a packet (src/trust/policy.ts). */
export const SIGNATURE_VERDICT_SCHEMA = {
  type: 'object',
  required: ['status', 'policy'],
  properties: {
    status: { type: 'string', enum: ['valid', 'invalid', 'unsigned', 'placeholder', 'not-checked'] },
    policy: { type: 'string' },
    reason: { type: 'string' },
    code: { type: 'string' },
    signer: {
      type: 'object',
      properties: {
        subject: { type: 'string' },
        issuer: { type: 'string' },
        serialNumber: { type: 'string' },
        notAfter: { type: 'string' },
        chain: { type: 'array', items: { type: 'string' } },
        revocation: { type: 'string' },
      },
    },
  },
} as const;

export const ISSUE_SCHEMA = {
  type: 'object',
  required: ['code', 'path', 'message'],
  properties: {
    code: { type: 'string' },
    path: { type: 'string' },
    message: { type: 'string' },
    value: { type: 'string' },
  },
} as const;

/** An application/problem+json body (RFC 9457) with the catalogue code. */
export const PROBLEM_SCHEMA = {
  type: 'object',
  required: ['type', 'title', 'status', 'code', 'detail', 'issues'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    code: { type: 'string' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    requestId: { type: 'string' },
    issues: { type: 'array', items: ISSUE_SCHEMA },
  },
} as const;

/** A nullable string. */
export const NULLABLE_STRING = { type: ['string', 'null'] } as const;
/** A nullable integer. */
export const NULLABLE_INTEGER = { type: ['integer', 'null'] } as const;

/** Query parameters of a cursor-paged listing. */
export const PAGE_QUERY_PROPERTIES = {
  cursor: { type: 'string', maxLength: 64 },
  limit: { type: 'integer', minimum: 1, maximum: 500 },
} as const;

/** A delivery id in a path. */
export const DELIVERY_ID_PARAMS = {
  type: 'object',
  required: ['deliveryId'],
  properties: { deliveryId: { type: 'string', maxLength: 64 } },
} as const;
