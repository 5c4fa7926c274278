// `edxgate agencies add|list|close|suspend|activate`: the agency directory of the configured
// database, for operators. Every write is checked against the directory rules of src/agency/ (the
// same ones the gateway applies when it loads the directory), inside one transaction.
//
// Decisions:
// - `add` refuses a code already in the directory (EDX_ERR_AGENCY_EXISTS): a typo in the code must
//   not silently rename or re-route another agency. `--update` makes it an upsert: the options given
//   replace, the others are kept.
// - A webhook route belongs to its agency (route id `webhook:CODE`); shared routes (the demo's
//   `upstream`) are never changed here. Without --secret a new agency's webhook gets a random
//   secret, printed once; `--update` with a new URL keeps the existing secret.

import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import type { Kysely, Transaction } from 'kysely';

import { parentOf, parseAgencyCode } from '../agency/code.ts';
import type { AgencyCodeForm } from '../agency/code.ts';
import { AgencyDirectory } from '../agency/directory.ts';
import type { AgencyRecord, AgencyState } from '../agency/directory.ts';
import { qcvn102Groups } from '../edxml/agency-code.ts';
import { EdxError, issue } from '../errors.ts';
import type { Issue } from '../errors.ts';
import type { AgencyRow, Database, RouteRow } from '../store/database.ts';
import { EXIT_INVALID, EXIT_OK, UsageError, formatIssue, formatTable, type CliIo, type Command } from './command.ts';
import { agencyCodeFormOption } from './validate.ts';
import { withStore } from './with-store.ts';
import { parseAgencyCsv, parseAgencyJson } from '../agency/import.ts';
import { DIRECTORY_LOCK, importAgencies, syncAgenciesFromUpstream } from '../gateway/agency-sync.ts';
import type { ImportSummary } from '../gateway/agency-sync.ts';

const USAGE = `Usage: edxgate agencies add CODE --name NAME [--parent CODE]
                           [--route inbox | --route webhook --url URL [--secret SECRET]]
                           [--update] [--agency-code-form qcvn102|qd20|lenient]
       edxgate agencies list [--json]
       edxgate agencies close CODE [--successor CODE]
       edxgate agencies suspend CODE
       edxgate agencies activate CODE
       edxgate agencies import FILE [--format json|csv] [--dry-run]
       edxgate agencies sync ROUTE [--dry-run]

Manages the agency directory in the configured database (Postgres when DATABASE_URL is set,
else the embedded database in DATA_DIR, which only works while the gateway is stopped).
A running gateway on the same Postgres sees changes within a few seconds.

add       adds an active agency. CODE must be an agency identifier (QĐ 20/2020 by default; the
          message names the rule a refused code breaks). A QCVN 102 code's parent is the code one
          level up; --parent may repeat it, not contradict it.
          --route inbox (the default): the agency pulls its packets (GET /v1/inbox).
          --route webhook --url URL: the gateway POSTs each packet to URL, signed with
          HMAC-SHA256 in the Edxgate-Signature header (docs/webhooks.md). Without --secret a
          strong random secret is generated and printed once; the receiver must verify every
          request with it.
          An existing CODE is refused unless --update is given; then the options given replace
          the agency's, the others are kept (a new --url keeps the webhook's secret).
list      prints code, name, state and route of every agency (--json: an array of objects).
close     closes CODE; with --successor its packets go to that agency from now on (a merged
          or renamed agency), without, packets to CODE are refused.
suspend   refuses packets to CODE until it is activated again.
activate  makes a suspended or closed CODE active again (a closed code's successor is dropped).
import    merges the agencies of FILE into the directory: a JSON array of {code, name, parent,
          state, successor} records or of the axis's getAgenciesList items {id, pid, code, name,
          oldCode} (or that reply itself, {data: [...]}), or CSV whose header row names the
          columns (code and name at least). It adds and updates, never deletes; an oldCode
          becomes a closed code forwarding to its successor, and a closed code keeps its
          successor; routes are left as they are (route patterns route new codes, see
          \`edxgate routes\`). The whole directory must still pass the directory rules, otherwise
          nothing is written. --format overrides the file extension; --dry-run only reports.
sync      the same import, from the getAgenciesList of the upstream ROUTE (an axis route, see
          \`edxgate routes add-upstream\`), called with the route's own credential.

Exit status: 0 done, 1 refused (a catalogued error says why), 2 the command line is wrong.
`;

const SUBCOMMANDS = ['add', 'list', 'close', 'suspend', 'activate', 'import', 'sync'] as const;

/** The `agencies` command. */
export const agenciesCommand: Command = {
  summary: 'add, list, close, suspend, activate, import or sync agencies of the directory',
  usage: USAGE,
  async run(args: readonly string[], io: CliIo): Promise<number> {
    const [sub, ...rest] = args;
    switch (sub) {
      case 'add':
        return add(rest, io);
      case 'list':
        return list(rest, io);
      case 'close':
      case 'suspend':
      case 'activate':
        return changeState(sub, rest, io);
      case 'import':
        return importFile(rest, io);
      case 'sync':
        return sync(rest, io);
      case undefined:
        throw new UsageError(`agencies needs a subcommand: ${SUBCOMMANDS.join(', ')}.`);
      default:
        throw new UsageError(`Unknown agencies subcommand "${sub}"; use one of ${SUBCOMMANDS.join(', ')}.`);
    }
  },
};

/** The route id of an agency's own webhook route. */
export function ownRouteId(code: string): string {
  return `webhook:${code}`;
}

/** A new webhook signing secret: 32 random bytes, base64url, with a recognisable prefix. */
export function newWebhookSecret(): string {
  return `edxwh_${randomBytes(32).toString('base64url')}`;
}

/** Shortest secret accepted from --secret; the same floor as WEBHOOK_SECRET in the config. */
const MIN_SECRET_LENGTH = 16;

type RouteOption = { readonly kind: 'inbox' } | { readonly kind: 'webhook'; readonly url: string; readonly secret: string | undefined };

async function add(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    strict: true,
    options: {
      name: { type: 'string' },
      parent: { type: 'string' },
      route: { type: 'string' },
      url: { type: 'string' },
      secret: { type: 'string' },
      update: { type: 'boolean', default: false },
      'agency-code-form': { type: 'string' },
    },
  });
  if (positionals.length !== 1) throw new UsageError(`agencies add needs exactly one CODE, got ${positionals.length}.`);
  const code = positionals[0] as string;
  const form = agencyCodeFormOption(values['agency-code-form']) ?? 'qd20';
  if (values.name === undefined && !values.update) throw new UsageError('agencies add needs --name NAME.');
  if (values.name?.trim() === '') throw new UsageError('--name must not be empty.');
  const route = routeOption(values.route, values.url, values.secret);

  const problems: Issue[] = [];
  const parsed = parseAgencyCode(code, { form, path: 'CODE' });
  if (!parsed.ok) problems.push(...parsed.issues);
  if (values.parent !== undefined) {
    const parent = parseAgencyCode(values.parent, { form, path: '--parent' });
    if (!parent.ok) problems.push(...parent.issues);
  }
  if (route?.kind === 'webhook') problems.push(...webhookProblems(route));
  if (problems.length > 0) {
    io.stderr(problems.map((i) => `edxgate: ${formatIssue(i)}\n`).join(''));
    return EXIT_INVALID;
  }
  const warning = hierarchyWarning(code, form);
  if (warning !== undefined) io.stderr(`edxgate: ${warning}\n`);

  return withStore(io, { command: 'agencies add' }, async (store) => {
    const outcome = await store.db.transaction().execute(async (trx) => {
      await sql`SELECT pg_advisory_xact_lock(${DIRECTORY_LOCK})`.execute(trx);
      const { agencies, routes } = await readDirectory(trx);
      const existing = agencies.find((a) => a.code === code);
      if (existing !== undefined && !values.update) {
        throw new EdxError('EDX_ERR_AGENCY_EXISTS', `${code} is already in the directory.`, [
          issue('EDX_ERR_AGENCY_EXISTS', 'CODE', `${code} is already in the directory as "${existing.name}" (${existing.state}).`, code),
        ]);
      }
      const name = values.name ?? existing?.name;
      if (name === undefined) throw new UsageError(`${code} is not in the directory yet, so agencies add needs --name NAME.`);

      // The route: its own webhook route, the built-in inbox (null), or unchanged.
      const own = routes.find((r) => r.id === ownRouteId(code));
      let routeId = existing?.route_id ?? null;
      let routeRow: { id: string; kind: 'webhook'; url: string; secret: string } | undefined;
      let secretShown: string | undefined;
      if (route?.kind === 'inbox') routeId = null;
      if (route?.kind === 'webhook') {
        const kept = own?.kind === 'webhook' && own.secret !== null && own.secret !== '' ? own.secret : undefined;
        const secret = route.secret ?? kept ?? newWebhookSecret();
        if (route.secret === undefined && kept === undefined) secretShown = secret;
        routeRow = { id: ownRouteId(code), kind: 'webhook', url: route.url, secret };
        routeId = routeRow.id;
      }

      const record: AgencyRecord = {
        code,
        name,
        ...(values.parent !== undefined ? { parent: values.parent } : existing?.parent_code != null ? { parent: existing.parent_code } : {}),
        state: existing?.state ?? 'active',
        ...(existing?.successor_code != null ? { successor: existing.successor_code } : {}),
        ...(routeId === null ? {} : { route: routeId }),
      };
      checkRecord(agencies, record);
      const parent = record.parent ?? parentOf(code) ?? null;

      if (routeRow !== undefined) {
        await trx
          .insertInto('routes')
          .values(routeRow)
          .onConflict((oc) => oc.column('id').doUpdateSet({ kind: routeRow.kind, url: routeRow.url, secret: routeRow.secret }))
          .execute();
      }
      const columns = { name, parent_code: parent, route_id: routeId };
      if (existing === undefined) {
        await trx.insertInto('agencies').values({ code, state: 'active', successor_code: null, ...columns }).execute();
      } else {
        await trx.updateTable('agencies').set({ ...columns, updated_at: new Date() }).where('code', '=', code).execute();
      }
      // The agency's own webhook route, no longer used, goes (a shared route is never touched).
      if (own !== undefined && routeId !== own.id) {
        const users = await trx.selectFrom('agencies').select('code').where('route_id', '=', own.id).execute();
        if (users.length === 0) await trx.deleteFrom('routes').where('id', '=', own.id).execute();
      }
      const finalRoute = routeRow ?? (routeId === null ? undefined : routes.find((r) => r.id === routeId));
      return { existing: existing !== undefined, record, route: finalRoute, secretShown };
    });

    const { record } = outcome;
    io.stdout(`${outcome.existing ? 'updated' : 'added'} ${record.code} "${record.name}" (${record.state}, route ${describeRoute(outcome.route ?? null, record.route ?? null)})\n`);
    if (outcome.secretShown !== undefined && outcome.route?.url != null) {
      io.stdout(
        `\nWebhook signing secret of ${record.code} (printed this once; edxgate keeps it only to sign):\n` +
          `  ${outcome.secretShown}\n` +
          `The receiver at ${outcome.route.url} must verify the Edxgate-Signature header of every request\n` +
          'with this secret (HMAC-SHA256 over "<t>.<body>", see docs/webhooks.md) and refuse any request\n' +
          'that fails. Give it to the receiving system over a secure channel.\n',
      );
    }
    return EXIT_OK;
  });
}

/** The --route/--url/--secret options, checked for consistency; undefined when --route is absent. */
function routeOption(route: string | undefined, url: string | undefined, secret: string | undefined): RouteOption | undefined {
  if (route === undefined) {
    if (url !== undefined || secret !== undefined) throw new UsageError('--url and --secret go with --route webhook.');
    return undefined;
  }
  if (route === 'inbox') {
    if (url !== undefined || secret !== undefined) throw new UsageError('--route inbox takes no --url or --secret.');
    return { kind: 'inbox' };
  }
  if (route === 'webhook') {
    if (url === undefined) throw new UsageError('--route webhook needs --url URL.');
    return { kind: 'webhook', url, secret };
  }
  throw new UsageError(`--route must be inbox or webhook, not "${route}".`);
}

/** What the webhook adapter would refuse at delivery time, refused now instead. */
function webhookProblems(route: { readonly url: string; readonly secret: string | undefined }): Issue[] {
  const problems: Issue[] = [];
  let url: URL | undefined;
  try {
    url = new URL(route.url);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    problems.push(issue('EDX_ERR_ADAPTER_ROUTE_INVALID', '--url', 'The webhook URL must be an absolute http:// or https:// URL.', route.url));
  }
  if (route.secret !== undefined && route.secret.length < MIN_SECRET_LENGTH) {
    // The value is a secret: never repeated back.
    problems.push(issue('EDX_ERR_ADAPTER_ROUTE_INVALID', '--secret', `The secret has ${route.secret.length} characters; give at least ${MIN_SECRET_LENGTH}, or leave --secret out to have one generated.`));
  }
  return problems;
}

/** A QCVN 102-shaped code that breaks the hierarchy rule is accepted as QĐ 20, with a warning. */
function hierarchyWarning(code: string, form: AgencyCodeForm): string | undefined {
  if (form === 'qcvn102' || qcvn102Groups(code) === undefined) return undefined;
  const strict = parseAgencyCode(code, { form: 'qcvn102', path: 'CODE' });
  if (strict.ok) return undefined;
  const first = strict.issues[0];
  return first === undefined ? undefined : `warning ${first.code} CODE: ${first.message.split('. ')[0] ?? ''}; accepted as a QĐ 20/2020 identifier.`;
}

async function list(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args: [...args], allowPositionals: true, strict: true, options: { json: { type: 'boolean', default: false } } });
  if (positionals.length > 0) throw new UsageError(`agencies list takes no arguments, got "${positionals.join(' ')}".`);
  return withStore(io, { command: 'agencies list' }, async (store) => {
    const { agencies, routes } = await readDirectory(store.db);
    const byId = new Map(routes.map((r) => [r.id, r]));
    if (values.json) {
      const out = agencies.map((a) => {
        const route = a.route_id === null ? undefined : byId.get(a.route_id);
        return {
          code: a.code,
          name: a.name,
          parent: a.parent_code,
          state: a.state,
          successor: a.successor_code,
          // The secret is never shown; whether one is set is.
          route: { id: a.route_id, kind: route?.kind ?? (a.route_id === null ? 'inbox' : null), url: route?.url ?? null, secret: route?.secret != null && route.secret !== '' },
        };
      });
      io.stdout(`${JSON.stringify(out, null, 2)}\n`);
      return EXIT_OK;
    }
    if (agencies.length === 0) {
      io.stdout('The directory is empty: add agencies with `edxgate agencies add`, or start the gateway once to seed the demo directory.\n');
      return EXIT_OK;
    }
    const rows = agencies.map((a) => [
      a.code,
      a.name,
      a.state === 'closed' && a.successor_code !== null ? `closed → ${a.successor_code}` : a.state,
      describeRoute(a.route_id === null ? null : (byId.get(a.route_id) ?? null), a.route_id),
    ]);
    io.stdout(formatTable(['CODE', 'NAME', 'STATE', 'ROUTE'], rows));
    return EXIT_OK;
  });
}

async function changeState(sub: 'close' | 'suspend' | 'activate', args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    strict: true,
    options: sub === 'close' ? { successor: { type: 'string' } } : {},
  });
  if (positionals.length !== 1) throw new UsageError(`agencies ${sub} needs exactly one CODE, got ${positionals.length}.`);
  const code = positionals[0] as string;
  const successor = typeof values.successor === 'string' ? values.successor : undefined;
  const state: AgencyState = sub === 'close' ? 'closed' : sub === 'suspend' ? 'suspended' : 'active';

  return withStore(io, { command: `agencies ${sub}` }, async (store) => {
    const result = await store.db.transaction().execute(async (trx) => {
      await sql`SELECT pg_advisory_xact_lock(${DIRECTORY_LOCK})`.execute(trx);
      const { agencies } = await readDirectory(trx);
      const existing = agencies.find((a) => a.code === code);
      if (existing === undefined) {
        throw new EdxError('EDX_ERR_AGENCY_UNKNOWN', `${code} is not in the directory.`, [
          issue('EDX_ERR_AGENCY_UNKNOWN', 'CODE', `${code} is not in the directory (see \`edxgate agencies list\`).`, code),
        ]);
      }
      // The successor is what this command says: none for suspend and activate, and for close without one.
      const { successor: _previous, ...rest } = recordOf(existing);
      const next: AgencyRecord = { ...rest, state, ...(successor === undefined ? {} : { successor }) };
      const directory = checkRecord(agencies, next);
      await trx
        .updateTable('agencies')
        .set({ state, successor_code: successor ?? null, updated_at: new Date() })
        .where('code', '=', code)
        .execute();
      return {
        before: existing,
        resolution: directory?.resolve(code),
        successorName: agencies.find((a) => a.code === successor)?.name,
      };
    });

    const { before, resolution } = result;
    if (state === 'closed' && successor !== undefined) {
      io.stdout(`closed ${code} "${before.name}"; packets to ${code} now go to ${successor} "${result.successorName ?? ''}".\n`);
      if (resolution !== undefined && resolution.kind !== 'alias') {
        io.stderr(`edxgate: warning: ${successor} does not end at an active agency (${resolution.kind}), so packets to ${code} are refused until it does.\n`);
      }
    } else if (state === 'closed') {
      io.stdout(`closed ${code} "${before.name}"; packets to it are refused (EDX_ERR_RECIPIENT_CLOSED). Give --successor CODE to forward them instead.\n`);
    } else {
      const dropped = before.successor_code !== null ? ` (it no longer forwards to ${before.successor_code})` : '';
      io.stdout(`${state === 'active' ? 'activated' : 'suspended'} ${code} "${before.name}"${dropped}.\n`);
    }
    return EXIT_OK;
  });
}

/** Every agency (directory order) and every route. */
async function readDirectory(db: Kysely<Database> | Transaction<Database>): Promise<{ agencies: AgencyRow[]; routes: RouteRow[] }> {
  const agencies = await db.selectFrom('agencies').selectAll().orderBy('created_at').orderBy('code').execute();
  const routes = await db.selectFrom('routes').selectAll().orderBy('id').execute();
  return { agencies, routes };
}

function recordOf(row: AgencyRow): AgencyRecord {
  return {
    code: row.code,
    name: row.name,
    state: row.state,
    ...(row.parent_code === null ? {} : { parent: row.parent_code }),
    ...(row.successor_code === null ? {} : { successor: row.successor_code }),
    ...(row.route_id === null ? {} : { route: row.route_id }),
  };
}

/** Option names for the fields of a record, so refusals point at what the operator typed. */
const FIELD_OPTIONS: Readonly<Record<string, string>> = { code: 'CODE', name: '--name', parent: '--parent', successor: '--successor', route: '--route', state: 'CODE' };

/**
 * Checks `record` against the directory rules with every stored agency around it (successors exist,
 * no forwarding loop, a QCVN 102 parent as the code says); throws EdxError with the faults the
 * change brings. Faults the stored records already had (rows written by hand or by an older
 * version) are not this command's to refuse: the gateway leaves such records out and logs them.
 * Returns the directory with the record, when the whole directory is consistent.
 */
function checkRecord(rows: readonly AgencyRow[], record: AgencyRecord): AgencyDirectory | undefined {
  const others = rows.filter((r) => r.code !== record.code).map(recordOf);
  const current = rows.find((r) => r.code === record.code);
  // The record goes last in both lists, so the paths of every other record are the same in both.
  const before = AgencyDirectory.fromRecords(current === undefined ? others : [...others, recordOf(current)]);
  const after = AgencyDirectory.fromRecords([...others, record]);
  if (after.ok) return after.value;
  const known = new Set(before.ok ? [] : before.issues.map(issueKey));
  const brought = after.issues.filter((i) => !known.has(issueKey(i)));
  if (brought.length === 0) return undefined;
  const codes = [...others.map((r) => r.code), record.code];
  throw EdxError.fromIssues(brought.map((i) => ({ ...i, path: optionPath(i.path, codes) })));
}

function issueKey(i: Issue): string {
  return `${i.code}|${i.path}|${i.message}`;
}

/** `records[i].field` as the operator knows it: the option of the record being written, else `agency CODE`'s field. */
function optionPath(path: string, codes: readonly string[]): string {
  const match = /^records\[(\d+)\](?:\.(\w+))?$/.exec(path);
  if (match === null) return path;
  const index = Number(match[1]);
  const field = match[2] ?? 'code';
  if (index === codes.length - 1) return FIELD_OPTIONS[field] ?? field;
  return `agency ${codes[index] ?? '?'} ${field}`;
}

/** A route as `list` shows it: kind, and the URL of a webhook. */
function describeRoute(route: Pick<RouteRow, 'id' | 'kind' | 'url'> | null, routeId: string | null): string {
  if (routeId === null) return 'inbox';
  if (route === null) return `${routeId} (missing route)`;
  if (route.kind === 'inbox') return `inbox (route ${route.id})`;
  return route.url === null ? route.kind : `${route.kind} ${route.url}`;
}

/** The import's outcome in one line, and the codes it aliased. */
function printImport(io: CliIo, summary: ImportSummary, dryRun: boolean, source: string): void {
  const verb = dryRun ? 'would import' : 'imported';
  io.stdout(
    `${verb} from ${source}: ${summary.added.length} added, ${summary.updated.length} updated, ${summary.aliased.length} aliased, ${summary.unchanged} unchanged; ${summary.notListed} not listed (kept).\n`,
  );
  for (const code of summary.added) io.stdout(`  + ${code}\n`);
  for (const code of summary.updated) io.stdout(`  ~ ${code}\n`);
  for (const code of summary.aliased) io.stdout(`  → ${code} (closed, forwards to its successor)\n`);
}

async function importFile(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    strict: true,
    options: { format: { type: 'string' }, 'dry-run': { type: 'boolean', default: false } },
  });
  if (positionals.length !== 1) throw new UsageError(`agencies import needs exactly one FILE, got ${positionals.length}.`);
  const file = positionals[0] as string;
  const format = values.format ?? (extname(file).toLowerCase() === '.csv' ? 'csv' : 'json');
  if (format !== 'csv' && format !== 'json') throw new UsageError(`--format must be json or csv, not "${format}".`);
  let text: string;
  try {
    text = await readFile(resolve(io.cwd, file), 'utf8');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    io.stderr(`edxgate: ${formatIssue(issue('EDX_ERR_AGENCY_IMPORT_INVALID', 'FILE', `The file cannot be read: ${reason}.`, file))}\n`);
    return EXIT_INVALID;
  }
  const read = format === 'csv' ? parseAgencyCsv(text) : parseAgencyJson(text);
  if (!read.ok) {
    io.stderr(read.issues.map((i) => `edxgate: ${formatIssue(i)}\n`).join(''));
    return EXIT_INVALID;
  }
  const dryRun = values['dry-run'];
  return withStore(io, { command: 'agencies import' }, async (store) => {
    printImport(io, await importAgencies(store.db, read.value, { dryRun }), dryRun, file);
    return EXIT_OK;
  });
}

async function sync(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args: [...args], allowPositionals: true, strict: true, options: { 'dry-run': { type: 'boolean', default: false } } });
  if (positionals.length !== 1) throw new UsageError(`agencies sync needs exactly one ROUTE (an upstream's route id), got ${positionals.length}.`);
  const routeId = positionals[0] as string;
  const dryRun = values['dry-run'];
  return withStore(io, { command: 'agencies sync' }, async (store, config) => {
    const row = await store.db.selectFrom('routes').selectAll().where('id', '=', routeId).executeTakeFirst();
    if (row === undefined) {
      throw new EdxError('EDX_ERR_ROUTE_UNKNOWN', `no route ${routeId}.`, [issue('EDX_ERR_ROUTE_UNKNOWN', 'ROUTE', `No route has the id ${routeId} (see \`edxgate routes list\`).`, routeId)]);
    }
    const route = {
      id: row.id,
      kind: row.kind,
      ...(row.url === null ? {} : { url: row.url }),
      ...(row.systemid === null ? {} : { systemid: row.systemid }),
      ...(row.secret === null ? {} : { secret: row.secret }),
    };
    const summary = await syncAgenciesFromUpstream(store.db, route, { timeoutMs: config.axisClient.callTimeoutMs, dryRun });
    printImport(io, summary, dryRun, `upstream ${routeId}`);
    return EXIT_OK;
  });
}
