// The HTTP API: one folder per group of routes, one error format (problem.ts).

import { registerAdminRoutes } from './admin/routes.ts';
import { registerAxisCompatRoutes } from './axis-compat/routes.ts';
import { registerCallbackRoutes } from './callbacks/routes.ts';
import { registerDashboardRoutes } from './dashboard/routes.ts';
import { registerDocumentRoutes } from './documents/routes.ts';
import { registerEventRoutes } from './events/routes.ts';
import { registerHealthRoutes } from './health/routes.ts';
import { registerInboxRoutes } from './inbox/routes.ts';
import { registerPacketRoutes } from './packets/routes.ts';
import { registerReportRoutes } from './reports/routes.ts';
import { installProblemHandlers } from './problem.ts';
import type { EdxApp } from './types.ts';

export type { EdxApp } from './types.ts';
export { PROBLEM_MEDIA_TYPE, problemOf, problemType } from './problem.ts';
export type { Problem, WireIssue } from './problem.ts';
export { vietnamIso } from './time.ts';

/**
 * JSON bodies: Fastify's parser (with its prototype-poisoning guards), except that an empty body
 * is no body — many HTTP clients send Content-Type: application/json on a bodiless POST (an ack).
 */
function installJsonParser(app: EdxApp): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    // parseAs 'string' hands a string; the Buffer branch only satisfies the parser's declared type.
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    parse(request, text, done);
  });
  // Plain text is no format of this API; refusing it keeps a packet posted as text/plain from being read as a string.
  app.removeContentTypeParser('text/plain');
}

/** Registers every route group and the error handling on an app whose `gateway` is decorated. */
export function registerApi(app: EdxApp): void {
  installProblemHandlers(app);
  installJsonParser(app);
  registerPacketRoutes(app);
  registerInboxRoutes(app);
  registerDocumentRoutes(app);
  registerReportRoutes(app);
  registerEventRoutes(app);
  registerAdminRoutes(app);
  registerHealthRoutes(app);
  // The national axis SDK's operations, under AXIS_PREFIX (default /axis), in a scope of their own.
  registerAxisCompatRoutes(app);
  // An upstream's pushes (POST /v1/callbacks/axis), in the same wire form and a scope of their own.
  registerCallbackRoutes(app);
  registerDashboardRoutes(app);
}
