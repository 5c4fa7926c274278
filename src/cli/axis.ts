// `edxgate axis-systems add|list|disable`: the systems that call the axis-compatible API with the
// national axis SDK (docs/axis.md). A system is a systemid and a secret acting for the agencies of
// one client. The secret is generated and printed once; the database keeps it in clear, because it
// is the HMAC key the gateway verifies every request with, but no command shows it again.

import { randomBytes, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { Kysely } from 'kysely';

import { EdxError, issue } from '../errors.ts';
import type { Issue } from '../errors.ts';
import { newClientToken } from '../gateway/demo-seed.ts';
import type { Database } from '../store/database.ts';
import { disableAxisSystem, insertAxisSystem, listAxisSystems } from '../store/queries/axis-systems.ts';
import { EXIT_OK, UsageError, formatTable, runSubcommand, type CliIo, type Command } from './command.ts';
import { withStore } from './with-store.ts';

const USAGE = `Usage: edxgate axis-systems add (--client-id ID | --agency CODE [--agency CODE ...]) [--systemid S] [--json]
       edxgate axis-systems list [--json]
       edxgate axis-systems disable SYSTEMID

Manages the systems allowed to call the axis-compatible API (AXIS_PREFIX, default /axis) with the
national axis SDK, in the configured database (Postgres when DATABASE_URL is set, else the embedded
database in DATA_DIR, which only works while the gateway is stopped).

add       creates a system and prints its systemid and secret, the two values (with the endpoint)
          an office system built on the axis SDK changes to use edxgate. The system acts for the
          agencies of a client: an existing one (--client-id, see \`edxgate clients list\`), or a
          new one created for the --agency codes (each must be in the directory; that client has
          no usable bearer token). --systemid chooses the id (letters, digits, . _ : -, at most
          100); by default one is generated. The secret is printed this once: no command shows it
          again (add another system and disable the old one if it is lost). --json prints
          {systemid, secret, clientId, agencies} instead.
list      prints systemid, state, creation time, client and agencies of every system; never secrets.
disable   stops the system's requests from authenticating (a running gateway notices within seconds).

Exit status: 0 done, 1 refused (a catalogued error says why), 2 the command line is wrong.
`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The CHECK of axis_systems.systemid. */
const SYSTEMID = /^[A-Za-z0-9._:-]{1,100}$/;

/** The `axis-systems` command. */
export const axisSystemsCommand: Command = {
  summary: 'add, list or disable the systems (systemid + secret) of the axis-compatible API',
  usage: USAGE,
  run(args: readonly string[], io: CliIo): Promise<number> {
    return runSubcommand('axis-systems', { add, list, disable }, args, io);
  },
};

/**
 * A new secret: 33 random bytes in base64 (44 characters, no padding), the shape of the secrets the
 * national axis issues, so it fits the SDK's properties file and configuration screens unchanged.
 */
export function newAxisSecret(): string {
  return randomBytes(33).toString('base64');
}

/** A generated systemid: readable, and unlike any the national axis issues. */
function newSystemid(): string {
  return `edxgate.${randomBytes(5).toString('hex')}`;
}

/** The client a new system acts for: the one named, or a new one for the agencies. */
async function clientFor(db: Kysely<Database>, io: CliIo, input: { readonly clientId?: string | undefined; readonly agencies: readonly string[]; readonly systemid: string }): Promise<{ readonly clientId: string; readonly agencies: readonly string[] }> {
  if (input.clientId !== undefined) {
    const id = input.clientId;
    const missing = (): EdxError =>
      new EdxError('EDX_ERR_NOT_FOUND', `no client ${id}.`, [issue('EDX_ERR_NOT_FOUND', '--client-id', 'No client has this id (see `edxgate clients list`).', id)]);
    // Checked first: a malformed uuid would be a database error, not "no such client".
    if (!UUID.test(id)) throw missing();
    const row = await db.selectFrom('clients').select(['agency_codes', 'disabled_at']).where('id', '=', id).executeTakeFirst();
    if (row === undefined) throw missing();
    if (row.disabled_at !== null) io.stderr(`edxgate: warning: client ${id} is disabled; the system will not authenticate until it is enabled.\n`);
    return { clientId: id, agencies: [...row.agency_codes] };
  }
  const found = await db.selectFrom('agencies').select(['code', 'state', 'successor_code']).where('code', 'in', [...input.agencies]).execute();
  const unknown: Issue[] = input.agencies
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
  // The client only carries the agencies; its token is thrown away, so it is reachable through the axis system alone.
  await db
    .insertInto('clients')
    .values({ id: clientId, name: `Axis system ${input.systemid}`, token_hash: newClientToken().hash, agency_codes: [...input.agencies] })
    .execute();
  return { clientId, agencies: input.agencies };
}

async function add(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    strict: true,
    options: {
      'client-id': { type: 'string' },
      agency: { type: 'string', multiple: true },
      systemid: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (positionals.length > 0) throw new UsageError(`axis-systems add takes no arguments, got "${positionals.join(' ')}".`);
  const clientId = values['client-id'];
  const agencies = [...new Set(values.agency ?? [])];
  if ((clientId === undefined) === (agencies.length === 0)) throw new UsageError('axis-systems add needs either --client-id ID or at least one --agency CODE (not both).');
  const systemid = values.systemid ?? newSystemid();
  if (!SYSTEMID.test(systemid)) throw new UsageError(`--systemid "${systemid}" must be 1 to 100 letters, digits, dots, underscores, colons or hyphens.`);

  return withStore(io, { command: 'axis-systems add' }, async (store) => {
    const taken = (): EdxError =>
      new EdxError('EDX_ERR_AXIS_SYSTEM_EXISTS', `systemid ${systemid} is taken.`, [issue('EDX_ERR_AXIS_SYSTEM_EXISTS', '--systemid', `The systemid ${systemid} is taken.`, systemid)]);
    const secret = newAxisSecret();
    // One transaction: a taken systemid leaves no client behind that was created for --agency.
    const client = await store.db.transaction().execute(async (trx) => {
      const found = await clientFor(trx, io, { clientId, agencies, systemid });
      if (!(await insertAxisSystem(trx, { systemid, secret, clientId: found.clientId }))) throw taken();
      return found;
    });
    if (values.json) {
      io.stdout(`${JSON.stringify({ systemid, secret, clientId: client.clientId, agencies: client.agencies }, null, 2)}\n`);
    } else {
      io.stdout(
        `created axis system ${systemid} for client ${client.clientId}, acting for ${client.agencies.join(', ') || 'no agency'}\n\n` +
          'Secret (printed this once; no command shows it again):\n' +
          `  ${secret}\n` +
          'In the office system\'s axis SDK settings, set systemid and secret to these values and the\n' +
          'endpoint to this gateway\'s URL followed by the AXIS_PREFIX (default /axis).\n',
      );
    }
    return EXIT_OK;
  });
}

async function list(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args: [...args], allowPositionals: true, strict: true, options: { json: { type: 'boolean', default: false } } });
  if (positionals.length > 0) throw new UsageError(`axis-systems list takes no arguments, got "${positionals.join(' ')}".`);
  return withStore(io, { command: 'axis-systems list' }, async (store) => {
    const rows = await listAxisSystems(store.db);
    const stateOf = (r: (typeof rows)[number]): string => (r.disabledAt !== null ? 'disabled' : r.clientDisabled ? 'client disabled' : 'enabled');
    if (values.json) {
      const out = rows.map((r) => ({
        systemid: r.systemid,
        state: stateOf(r),
        clientId: r.clientId,
        clientName: r.clientName,
        agencies: r.agencies,
        createdAt: r.createdAt.toISOString(),
        disabledAt: r.disabledAt === null ? null : r.disabledAt.toISOString(),
      }));
      io.stdout(`${JSON.stringify(out, null, 2)}\n`);
      return EXIT_OK;
    }
    if (rows.length === 0) {
      io.stdout('No axis systems yet: add one with `edxgate axis-systems add --agency CODE`.\n');
      return EXIT_OK;
    }
    const cells = rows.map((r) => [r.systemid, stateOf(r), r.createdAt.toISOString().slice(0, 19).replace('T', ' '), r.clientId, r.agencies.join(',')]);
    io.stdout(formatTable(['SYSTEMID', 'STATE', 'CREATED (UTC)', 'CLIENT', 'AGENCIES'], cells));
    return EXIT_OK;
  });
}

async function disable(args: readonly string[], io: CliIo): Promise<number> {
  const { positionals } = parseArgs({ args: [...args], allowPositionals: true, strict: true, options: {} });
  if (positionals.length !== 1) throw new UsageError(`axis-systems disable needs exactly one SYSTEMID, got ${positionals.length}.`);
  const systemid = positionals[0] as string;
  return withStore(io, { command: 'axis-systems disable' }, async (store) => {
    const result = await disableAxisSystem(store.db, systemid);
    switch (result.outcome) {
      case 'not_found':
        throw new EdxError('EDX_ERR_NOT_FOUND', `no axis system ${systemid}.`, [
          issue('EDX_ERR_NOT_FOUND', 'SYSTEMID', 'No axis system has this systemid (see `edxgate axis-systems list`).', systemid),
        ]);
      case 'already_disabled':
        io.stdout(`axis system ${systemid} was already disabled (${result.at.toISOString()}).\n`);
        return EXIT_OK;
      case 'disabled':
        io.stdout(`disabled axis system ${systemid}; its requests no longer authenticate.\n`);
        return EXIT_OK;
    }
  });
}
