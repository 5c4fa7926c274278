// `edxgate routes list|add-upstream|add-peer|pattern|unpattern`: the links to other gateways and the
// routing of codes by pattern (docs/federation.md). One credential (a systemid and a secret) per
// link, held once on each side: `add-peer` on the national gateway creates it and prints it once;
// the province gives the same two values to its `add-upstream`.

import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';

import { checkRoutePattern } from '../agency/route-patterns.ts';
import { EdxError, issue } from '../errors.ts';
import type { Issue } from '../errors.ts';
import { newClientToken } from '../gateway/demo-seed.ts';
import { deleteRoutePattern, insertPeerRoute, listLinks, putRoutePattern, putUpstreamRoute } from '../store/queries/federation-links.ts';
import { newAxisSecret } from './axis.ts';
import { EXIT_INVALID, EXIT_OK, UsageError, formatIssue, formatTable, runSubcommand, type CliIo, type Command } from './command.ts';
import { withStore } from './with-store.ts';

const USAGE = `Usage: edxgate routes list [--json]
       edxgate routes add-upstream ID --url AXIS_URL --systemid S --secret SECRET [--replace]
       edxgate routes add-peer ID [--url CALLBACK_URL] [--systemid S] [--json]
       edxgate routes pattern PATTERN (--route ID | --local)
       edxgate routes unpattern PATTERN

Manages the links to other gateways and the routing of agency codes by pattern, in the configured
database (Postgres when DATABASE_URL is set, else the embedded database in DATA_DIR, which only
works while the gateway is stopped). A running gateway sees changes within a few seconds.

list          prints every route (id, kind, URL, systemid; never secrets) and every pattern.
add-upstream  adds an upstream: the national axis, or another edxgate (its AXIS_PREFIX URL, e.g.
              https://national.example.gov.vn/axis). SYSTEMID and SECRET are this gateway's
              credential there (the national axis issues them; an edxgate prints them with
              \`routes add-peer\`). Packets routed to ID are sent with sendEdoc; the upstream is
              polled (AXIS_POLL, AXIS_POLL_INTERVAL_MS) and may push to /v1/callbacks/axis signed
              with the same credential. --replace turns an existing route into this upstream
              (e.g. the demo's \`upstream\` inbox route).
add-peer      adds a gateway below this one (a province under the national gateway) and prints,
              once, the systemid and secret it must use for its own add-upstream. With --url (the
              peer's …/v1/callbacks/axis) packets are pushed to it; without, the peer polls this
              gateway's axis-compatible API. --systemid chooses the id (default generated).
pattern       routes the codes matching PATTERN that have no route of their own: * is any run of
              characters (*.H47 every code of H47, * every code); the most specific pattern wins.
              --route ID sends them over that route; --local keeps them here (the inbox).
unpattern     removes a pattern.

Exit status: 0 done, 1 refused (a catalogued error says why), 2 the command line is wrong.
`;

/** The CHECK of routes.systemid and axis_systems.systemid. */
const SYSTEMID = /^[A-Za-z0-9._:-]{1,100}$/;
const ROUTE_ID = /^[A-Za-z0-9._:-]{1,100}$/;
/** Shortest secret accepted from --secret (the national axis's are 44 characters). */
const MIN_SECRET_LENGTH = 16;

/** The `routes` command. */
export const routesCommand: Command = {
  summary: 'list the routes, add upstream and peer gateways, route codes by pattern',
  usage: USAGE,
  run(args: readonly string[], io: CliIo): Promise<number> {
    return runSubcommand('routes', { list, 'add-upstream': addUpstream, 'add-peer': addPeer, pattern, unpattern }, args, io);
  },
};

function routeIdOf(positionals: readonly string[], sub: string): string {
  if (positionals.length !== 1) throw new UsageError(`routes ${sub} needs exactly one ID, got ${positionals.length}.`);
  const id = positionals[0] as string;
  if (!ROUTE_ID.test(id) || id === 'inbox') throw new UsageError(`the route ID "${id}" must be 1 to 100 letters, digits, . _ : - (and not "inbox").`);
  return id;
}

function urlProblems(url: string, option: string): Issue[] {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    return [issue('EDX_ERR_ADAPTER_ROUTE_INVALID', option, 'The URL must be an absolute http:// or https:// URL.', url)];
  }
  if (parsed.username !== '' || parsed.password !== '') return [issue('EDX_ERR_ADAPTER_ROUTE_INVALID', option, 'The URL must not carry credentials (the HMAC authenticates).')];
  return [];
}

function printProblems(io: CliIo, problems: readonly Issue[]): number {
  io.stderr(problems.map((i) => `edxgate: ${formatIssue(i)}\n`).join(''));
  return EXIT_INVALID;
}

function routeExists(id: string): EdxError {
  return new EdxError('EDX_ERR_ROUTE_EXISTS', `route ${id} exists.`, [issue('EDX_ERR_ROUTE_EXISTS', 'ID', `A route with the id ${id} exists (see \`edxgate routes list\`).`, id)]);
}

async function list(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args: [...args], allowPositionals: true, strict: true, options: { json: { type: 'boolean', default: false } } });
  if (positionals.length > 0) throw new UsageError(`routes list takes no arguments, got "${positionals.join(' ')}".`);
  return withStore(io, { command: 'routes list' }, async (store) => {
    const links = await listLinks(store.db);
    if (values.json) {
      io.stdout(`${JSON.stringify(links, null, 2)}\n`);
      return EXIT_OK;
    }
    const rows = links.routes.map((r) => [r.id, r.kind, r.url ?? '', r.systemid ?? '', String(r.agencies)]);
    io.stdout(formatTable(['ROUTE', 'KIND', 'URL', 'SYSTEMID', 'AGENCIES'], rows));
    io.stdout('\n');
    if (links.patterns.length === 0) io.stdout('No route patterns: agencies without a route of their own are local.\n');
    else io.stdout(formatTable(['PATTERN', 'ROUTE'], links.patterns.map((p) => [p.pattern, p.routeId ?? 'local'])));
    return EXIT_OK;
  });
}

async function addUpstream(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    strict: true,
    options: { url: { type: 'string' }, systemid: { type: 'string' }, secret: { type: 'string' }, replace: { type: 'boolean', default: false } },
  });
  const id = routeIdOf(positionals, 'add-upstream');
  const { url, systemid, secret } = values;
  if (url === undefined || systemid === undefined || secret === undefined) throw new UsageError('routes add-upstream needs --url, --systemid and --secret.');
  if (!SYSTEMID.test(systemid)) throw new UsageError(`--systemid "${systemid}" must be 1 to 100 letters, digits, dots, underscores, colons or hyphens.`);
  const problems = urlProblems(url, '--url');
  // The value is a secret: never repeated back.
  if (secret.length < MIN_SECRET_LENGTH) problems.push(issue('EDX_ERR_ADAPTER_ROUTE_INVALID', '--secret', `The secret has ${secret.length} characters; an axis secret has at least ${MIN_SECRET_LENGTH}.`));
  if (problems.length > 0) return printProblems(io, problems);
  return withStore(io, { command: 'routes add-upstream' }, async (store) => {
    const added = await putUpstreamRoute(store.db, { id, url, systemid, secret, replace: values.replace, tokenHash: newClientToken().hash });
    if (!added) throw routeExists(id);
    io.stdout(
      `${values.replace ? 'set' : 'added'} upstream ${id} at ${url} as systemid ${systemid}.\n` +
        `Route codes to it with \`edxgate routes pattern PATTERN --route ${id}\` (e.g. "*"), and keep this\n` +
        'province\'s own codes local with `--local`. The upstream may push to /v1/callbacks/axis on this\n' +
        'gateway, signed with the same systemid and secret.\n',
    );
    return EXIT_OK;
  });
}

async function addPeer(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    strict: true,
    options: { url: { type: 'string' }, systemid: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  const id = routeIdOf(positionals, 'add-peer');
  const systemid = values.systemid ?? `edxgate.peer.${randomBytes(4).toString('hex')}`;
  if (!SYSTEMID.test(systemid)) throw new UsageError(`--systemid "${systemid}" must be 1 to 100 letters, digits, dots, underscores, colons or hyphens.`);
  const problems = values.url === undefined ? [] : urlProblems(values.url, '--url');
  if (problems.length > 0) return printProblems(io, problems);
  return withStore(io, { command: 'routes add-peer' }, async (store) => {
    const secret = newAxisSecret();
    const added = await insertPeerRoute(store.db, { id, url: values.url, systemid, secret, tokenHash: newClientToken().hash });
    if (!added) {
      throw new EdxError('EDX_ERR_ROUTE_EXISTS', `route ${id} or systemid ${systemid} is taken.`, [
        issue('EDX_ERR_ROUTE_EXISTS', 'ID', `The route id ${id} or the systemid ${systemid} is in use (see \`edxgate routes list\`, \`edxgate axis-systems list\`).`, id),
      ]);
    }
    if (values.json) {
      io.stdout(`${JSON.stringify({ route: id, url: values.url ?? null, systemid, secret }, null, 2)}\n`);
      return EXIT_OK;
    }
    io.stdout(
      `added peer ${id}${values.url === undefined ? ' (it polls this gateway)' : ` (pushed to ${values.url})`}.\n\n` +
        'Its credential (printed this once; no command shows the secret again):\n' +
        `  systemid ${systemid}\n  secret   ${secret}\n` +
        'On the peer gateway: edxgate routes add-upstream <ID> --url <this gateway>/axis --systemid … --secret …\n' +
        `Here, route its codes to it: edxgate routes pattern '*.H41' --route ${id} (its province's pattern).\n`,
    );
    return EXIT_OK;
  });
}

async function pattern(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args: [...args], allowPositionals: true, strict: true, options: { route: { type: 'string' }, local: { type: 'boolean', default: false } } });
  if (positionals.length !== 1) throw new UsageError(`routes pattern needs exactly one PATTERN, got ${positionals.length}.`);
  const text = positionals[0] as string;
  if ((values.route === undefined) === !values.local) throw new UsageError('routes pattern needs either --route ID or --local.');
  const checked = checkRoutePattern(text, 'PATTERN');
  if (!checked.ok) return printProblems(io, checked.issues);
  const routeId = values.route ?? null;
  return withStore(io, { command: 'routes pattern' }, async (store) => {
    if (routeId !== null) {
      const route = await store.db.selectFrom('routes').select('id').where('id', '=', routeId).executeTakeFirst();
      if (route === undefined) {
        throw new EdxError('EDX_ERR_ROUTE_UNKNOWN', `no route ${routeId}.`, [issue('EDX_ERR_ROUTE_UNKNOWN', '--route', `No route has the id ${routeId} (see \`edxgate routes list\`).`, routeId)]);
      }
    }
    await putRoutePattern(store.db, { pattern: text, routeId });
    io.stdout(`codes matching ${text} without a route of their own now go ${routeId === null ? 'to the local inbox' : `over route ${routeId}`}.\n`);
    return EXIT_OK;
  });
}

async function unpattern(args: readonly string[], io: CliIo): Promise<number> {
  const { positionals } = parseArgs({ args: [...args], allowPositionals: true, strict: true, options: {} });
  if (positionals.length !== 1) throw new UsageError(`routes unpattern needs exactly one PATTERN, got ${positionals.length}.`);
  const text = positionals[0] as string;
  return withStore(io, { command: 'routes unpattern' }, async (store) => {
    if (!(await deleteRoutePattern(store.db, text))) {
      throw new EdxError('EDX_ERR_NOT_FOUND', `no pattern ${text}.`, [issue('EDX_ERR_NOT_FOUND', 'PATTERN', 'No route pattern is written this way (see `edxgate routes list`).', text)]);
    }
    io.stdout(`removed the pattern ${text}.\n`);
    return EXIT_OK;
  });
}
