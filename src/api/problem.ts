// Every error the API gives is application/problem+json (RFC 9457) carrying a catalogue code, built
// in one place: this error handler and the not-found handler. Bad input never becomes a 500 —
// Fastify's own refusals (body too large, wrong media type, malformed JSON, schema validation) are
// mapped to catalogue codes too, and only a genuine fault answers EDX_ERR_SERVER_INTERNAL.

import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CATALOGUE, EdxError, issue } from '../errors.ts';
import type { ErrorCode, Issue } from '../errors.ts';
import type { EdxApp } from './types.ts';

/** The media type of every error reply. */
export const PROBLEM_MEDIA_TYPE = 'application/problem+json; charset=utf-8';

/** An issue as it goes on the wire. */
export interface WireIssue {
  readonly code: string;
  readonly path: string;
  readonly message: string;
  readonly value?: string;
}

/** The problem+json body. */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly code: ErrorCode;
  readonly detail: string;
  readonly instance?: string;
  readonly requestId?: string;
  readonly issues: readonly WireIssue[];
}

/** The problem type URI of a code: stable, and names the code for readers without docs at hand. */
export function problemType(code: ErrorCode): string {
  return `urn:edxgate:error:${code}`;
}

/** An issue without its severity (and without an undefined value), for the wire. */
export function wireIssue(i: Issue): WireIssue {
  return i.value === undefined ? { code: i.code, path: i.path, message: i.message } : { code: i.code, path: i.path, message: i.message, value: i.value };
}

/** The problem body for an EdxError. */
export function problemOf(error: EdxError, request?: FastifyRequest): Problem {
  const entry = ERROR_CATALOGUE[error.code];
  return {
    type: problemType(error.code),
    title: entry.title,
    status: entry.status,
    code: error.code,
    detail: detailOf(error),
    ...(request === undefined ? {} : { instance: request.url.split('?')[0] ?? request.url, requestId: String(request.id) }),
    issues: error.issues.filter((i) => i.severity === 'error').map(wireIssue),
  };
}

/** EdxError messages are `<title>: <detail>`; the problem carries the title apart, so only the detail here. */
function detailOf(error: EdxError): string {
  const prefix = `${ERROR_CATALOGUE[error.code].title}: `;
  return error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
}

/** The routes whose body is a packet: their size refusals are EDX_ERR_XML_TOO_LARGE. */
const PACKET_ROUTES: ReadonlySet<string> = new Set(['POST /v1/packets']);

function isPacketRoute(request: FastifyRequest): boolean {
  return PACKET_ROUTES.has(`${request.method} ${request.routeOptions.url ?? ''}`);
}

/** Any thrown value as an EdxError; `internal` tells a genuine fault (to log with its stack) from a refusal. */
export function toEdxError(error: unknown, request: FastifyRequest): { readonly error: EdxError; readonly internal: boolean } {
  if (error instanceof EdxError) return { error, internal: error.status >= 500 };
  const e = error as Partial<FastifyError> & { validation?: readonly AjvIssue[]; validationContext?: string };
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': {
      const limit = request.routeOptions.bodyLimit;
      const code: ErrorCode = isPacketRoute(request) ? 'EDX_ERR_XML_TOO_LARGE' : 'EDX_ERR_REQUEST_TOO_LARGE';
      return { error: new EdxError(code, `the body is larger than ${limit} bytes.`, [issue(code, '', `The body exceeds the limit of ${limit} bytes.`)]), internal: false };
    }
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': {
      const type = request.headers['content-type'] ?? '(none)';
      return { error: new EdxError('EDX_ERR_MEDIA_TYPE', `Content-Type ${type} is not accepted here.`, [issue('EDX_ERR_MEDIA_TYPE', 'header:content-type', `The media type ${type} is not accepted here.`, type)]), internal: false };
    }
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { error: new EdxError('EDX_ERR_REQUEST_INVALID', e.message ?? 'the body could not be read.', [issue('EDX_ERR_REQUEST_INVALID', 'body', e.message ?? 'The body could not be read.')]), internal: false };
    default:
      break;
  }
  if (Array.isArray(e.validation)) {
    const context = e.validationContext ?? 'request';
    const issues = e.validation.map((v) => validationIssue(context, v));
    const first = issues[0];
    return { error: new EdxError('EDX_ERR_REQUEST_INVALID', first === undefined ? `invalid ${context}.` : `${first.path}: ${first.message}`, issues), internal: false };
  }
  // Other client errors Fastify raises (a malformed URL, an unsupported method on a route…).
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return { error: new EdxError('EDX_ERR_REQUEST_INVALID', e.message ?? 'the request is malformed.'), internal: false };
  }
  return { error: new EdxError('EDX_ERR_SERVER_INTERNAL', 'an unexpected error occurred while handling the request.'), internal: true };
}

interface AjvIssue {
  readonly instancePath?: string;
  readonly keyword?: string;
  readonly message?: string;
  readonly params?: Record<string, unknown>;
}

function validationIssue(context: string, v: AjvIssue): Issue {
  const missing = v.keyword === 'required' && typeof v.params?.['missingProperty'] === 'string' ? `/${v.params['missingProperty']}` : '';
  const path = `${context}${(v.instancePath ?? '') + missing}`.replace(/\//g, '.');
  return issue('EDX_ERR_REQUEST_INVALID', path, `The value ${v.message ?? 'is invalid'}.`);
}

/** Sends a problem reply. */
export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  if (problem.code === 'EDX_ERR_AUTH_REQUIRED') reply.header('www-authenticate', 'Bearer realm="edxgate"');
  // A refusal that knows better (the overload shedder) has set its own.
  if (problem.status === 503 && !reply.hasHeader('retry-after')) reply.header('retry-after', '1');
  return reply.code(problem.status).type(PROBLEM_MEDIA_TYPE).send(problem);
}

/** Installs the error and not-found handlers. */
export function installProblemHandlers(app: EdxApp): void {
  app.setErrorHandler((error: unknown, request, reply) => {
    const { error: edx, internal } = toEdxError(error, request);
    if (internal) request.log.error({ err: error, code: edx.code }, 'request failed');
    else request.log.info({ code: edx.code, detail: edx.message }, 'request refused');
    // Refusals before intake (size, media type) are still refused packets for the metrics.
    if (!(error instanceof EdxError) && isPacketRoute(request)) app.gateway.metrics.packetsRejected.inc({ code: edx.code });
    return sendProblem(reply, problemOf(edx, request));
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? request.url;
    const error = new EdxError('EDX_ERR_NOT_FOUND', `no route ${request.method} ${path}.`, [issue('EDX_ERR_NOT_FOUND', 'url', `There is no ${request.method} ${path}.`, path)]);
    return sendProblem(reply, problemOf(error, request));
  });
}
