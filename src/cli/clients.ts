// `edxgate clients create|list|disable`: the API credentials of office systems. A client acts for a
// set of agency codes; its bearer token is printed once at creation and only its sha256 is stored
// (the same tokenHash the gateway's authentication looks clients up by).

import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';

import { EdxError, issue } from '../errors.ts';
import type { Issue } from '../errors.ts';
import { newClientToken } from '../gateway/demo-seed.ts';
import { EXIT_OK, UsageError, formatTable, runSubcommand, type CliIo, type Command } from './command.ts';
import { withStore } from './with-store.ts';

const USAGE = `Usage: edxgate clients create --agency CODE [--agency CODE ...] [--name NAME] [--json]
       edxgate clients list [--json]
       edxgate clients disable ID

Manages the clients (office systems) allowed to call the API, in the configured database
(Postgres when DATABASE_URL is set, else the embedded database in DATA_DIR, which only works
while the gateway is stopped).

create    creates a client acting for the given agencies (each must be in the directory) and
          prints its id and its bearer token. The token is printed this once: only its sha256 is
          stored, so a lost token cannot be shown again (create another client and disable the
          old one). --json prints {clientId, name, agencies, token} instead.
list      prints id, name, agencies, creation time and state of every client; never tokens.
disable   stops the client's token from working (a running gateway notices within seconds).

Exit status: 0 done, 1 refused (a catalogued error says why), 2 the command line is wrong.
`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The `clients` command. */
export const clientsCommand: Command = {
  summary: 'create, list or disable API clients (office systems) and their tokens',
  usage: USAGE,
  run(args: readonly string[], io: CliIo): Promise<number> {
    return runSubcommand('clients', { create, list, disable }, args, io);
  },
};

async function create(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    strict: true,
    options: {
      agency: { type: 'string', multiple: true },
      name: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (positionals.length > 0) throw new UsageError(`clients create takes no arguments, got "${positionals.join(' ')}"; name agencies with --agency CODE.`);
  const agencies = [...new Set(values.agency ?? [])];
  if (agencies.length === 0) throw new UsageError('clients create needs at least one --agency CODE.');
  if (values.name?.trim() === '') throw new UsageError('--name must not be empty.');
  const name = values.name ?? `Client of ${agencies.join(', ')}`;

  return withStore(io, { command: 'clients create' }, async (store) => {
    const found = await store.db.selectFrom('agencies').select(['code', 'state', 'successor_code']).where('code', 'in', agencies).execute();
    const unknown: Issue[] = agencies
      .filter((code) => !found.some((a) => a.code === code))
      .map((code) => issue('EDX_ERR_AGENCY_UNKNOWN', '--agency', `${code} is not in the directory; add it with \`edxgate agencies add\` first.`, code));
    if (unknown.length > 0) throw EdxError.fromIssues(unknown);
    for (const a of found) {
      if (a.state !== 'active') {
        const note = a.successor_code === null ? '' : `; packets for it go to ${a.successor_code}`;
        io.stderr(`edxgate: warning: ${a.code} is ${a.state}${note}.\n`);
      }
    }

    const clientId = randomUUID();
    const { token, hash } = newClientToken();
    await store.db.insertInto('clients').values({ id: clientId, name, token_hash: hash, agency_codes: agencies }).execute();
    if (values.json) {
      io.stdout(`${JSON.stringify({ clientId, name, agencies, token }, null, 2)}\n`);
    } else {
      io.stdout(
        `created client ${clientId} "${name}" acting for ${agencies.join(', ')}\n\n` +
          'Token (printed this once; only its sha256 is stored, so a lost token cannot be shown again):\n' +
          `  ${token}\n` +
          'The office system sends it as "Authorization: Bearer <token>".\n',
      );
    }
    return EXIT_OK;
  });
}

async function list(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args: [...args], allowPositionals: true, strict: true, options: { json: { type: 'boolean', default: false } } });
  if (positionals.length > 0) throw new UsageError(`clients list takes no arguments, got "${positionals.join(' ')}".`);
  return withStore(io, { command: 'clients list' }, async (store) => {
    const rows = await store.db
      .selectFrom('clients')
      .select(['id', 'name', 'agency_codes', 'created_at', 'disabled_at'])
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    if (values.json) {
      const out = rows.map((r) => ({
        clientId: r.id,
        name: r.name,
        agencies: r.agency_codes,
        createdAt: r.created_at.toISOString(),
        disabledAt: r.disabled_at === null ? null : r.disabled_at.toISOString(),
      }));
      io.stdout(`${JSON.stringify(out, null, 2)}\n`);
      return EXIT_OK;
    }
    if (rows.length === 0) {
      io.stdout('No clients yet: create one with `edxgate clients create --agency CODE`.\n');
      return EXIT_OK;
    }
    const cells = rows.map((r) => [
      r.id,
      r.disabled_at === null ? 'enabled' : 'disabled',
      r.created_at.toISOString().slice(0, 19).replace('T', ' '),
      r.agency_codes.join(','),
      r.name,
    ]);
    io.stdout(formatTable(['ID', 'STATE', 'CREATED (UTC)', 'AGENCIES', 'NAME'], cells));
    return EXIT_OK;
  });
}

async function disable(args: readonly string[], io: CliIo): Promise<number> {
  const { positionals } = parseArgs({ args: [...args], allowPositionals: true, strict: true, options: {} });
  if (positionals.length !== 1) throw new UsageError(`clients disable needs exactly one ID, got ${positionals.length}.`);
  const id = positionals[0] as string;
  return withStore(io, { command: 'clients disable' }, async (store) => {
    const notFound = (): EdxError =>
      new EdxError('EDX_ERR_NOT_FOUND', `no client ${id}.`, [issue('EDX_ERR_NOT_FOUND', 'ID', 'No client has this id (see `edxgate clients list`).', id)]);
    // Checked first: a malformed uuid would be a database error, not "no such client".
    if (!UUID.test(id)) throw notFound();
    const row = await store.db.selectFrom('clients').select(['name', 'disabled_at']).where('id', '=', id).executeTakeFirst();
    if (row === undefined) throw notFound();
    if (row.disabled_at !== null) {
      io.stdout(`client ${id} "${row.name}" was already disabled (${row.disabled_at.toISOString()}).\n`);
      return EXIT_OK;
    }
    await store.db.updateTable('clients').set({ disabled_at: new Date() }).where('id', '=', id).execute();
    io.stdout(`disabled client ${id} "${row.name}"; its token no longer authenticates.\n`);
    return EXIT_OK;
  });
}
