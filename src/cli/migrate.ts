// `edxgate migrate [--status]`: applies the numbered migrations to the configured database (the same
// list `serve` applies at start), or only reports where the database stands.

import { parseArgs } from 'node:util';

import { migrateToLatest, migrationStatus } from '../store/migrate.ts';
import { EXIT_OK, UsageError, type CliIo, type Command } from './command.ts';
import { describeDatabase, withStore } from './with-store.ts';

const USAGE = `Usage: edxgate migrate [--status]

Applies every pending migration to the configured database, in order and in one transaction,
and prints the ones it applied. The database is Postgres when DATABASE_URL is set, else the
embedded database in DATA_DIR (default ./data). \`edxgate serve\` applies the same migrations at
start; run this first when several nodes share a Postgres database, or to check a deployment.

On the embedded database only one process may open DATA_DIR: stop the gateway first.

Options:
  --status     change nothing; list every migration with when it was applied, or "pending"
  -h, --help   show this help

Exit status: 0 done (or status shown), 1 the database is unreachable, locked or a migration
failed (the message names it), 2 the command line is wrong.
`;

/** The `migrate` command. */
export const migrateCommand: Command = {
  summary: 'apply the database migrations, or show their status',
  usage: USAGE,
  async run(args: readonly string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      strict: true,
      options: { status: { type: 'boolean', default: false } },
    });
    if (positionals.length > 0) throw new UsageError(`migrate takes no arguments, got "${positionals.join(' ')}".`);
    const command = values.status ? 'migrate --status' : 'migrate';
    return withStore(io, { command, requireCurrentSchema: false }, async (store, config) => {
      const where = describeDatabase(config);
      if (values.status) {
        const status = await migrationStatus(store.db);
        const width = Math.max(...status.migrations.map((m) => m.name.length));
        const rows = status.migrations.map((m) => `  ${m.name.padEnd(width)}  ${m.appliedAt === null ? 'pending' : `applied ${m.appliedAt.toISOString()}`}\n`);
        const applied = status.migrations.length - status.pending.length;
        io.stdout(`Migrations of ${where}:\n${rows.join('')}${applied} applied, ${status.pending.length} pending${status.pending.length > 0 ? ' (run `edxgate migrate`)' : ''}.\n`);
        return EXIT_OK;
      }
      const applied = await migrateToLatest(store.db);
      const { current } = await migrationStatus(store.db);
      if (applied.length === 0) io.stdout(`Nothing to apply: ${where} is at ${current ?? '(no migration)'}.\n`);
      else io.stdout(`${applied.map((name) => `applied ${name}\n`).join('')}${where} is now at ${current ?? '(no migration)'}.\n`);
      return EXIT_OK;
    });
  },
};
