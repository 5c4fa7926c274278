// What the commands that work on the gateway database share (`migrate`, `agencies`, `clients`):
// load the config as `serve` does, open the same store, check the schema, run, close. On the
// embedded database only one process may open DATA_DIR (a pid-file lock), so these commands work
// there while the gateway is stopped — and say so plainly when it is running.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import type { Config } from '../config/schema.ts';
import { loadConfig } from '../config/load.ts';
import { ERROR_CATALOGUE, EdxError } from '../errors.ts';
import { migrationStatus } from '../store/migrate.ts';
import type { Store } from '../store/open-store.ts';
import { EXIT_INVALID, formatIssue, type CliIo } from './command.ts';

/** Options of `withStore`. */
export interface WithStoreOptions {
  /** The command line's words for messages, e.g. `agencies add`. */
  readonly command: string;
  /** Refuse to run while migrations are pending (default true; `migrate` itself sets false). */
  readonly requireCurrentSchema?: boolean;
}

/** The config of this process, as `serve` would load it; issues are printed and yield undefined. */
export function loadCliConfig(io: CliIo): Config | undefined {
  const loaded = loadConfig({ env: io.env ?? process.env, cwd: io.cwd });
  if (loaded.ok) return loaded.value;
  for (const i of loaded.issues) io.stderr(`edxgate: ${formatIssue(i)}\n`);
  return undefined;
}

/**
 * Opens the configured store, runs `fn`, closes the store; resolves to `fn`'s exit code. Catalogued
 * failures (store unreachable or locked, schema behind, refusals thrown by `fn`) are printed with
 * their code and yield exit 1; anything else is a bug and propagates.
 */
export async function withStore(
  io: CliIo,
  options: WithStoreOptions,
  fn: (store: Store, config: Config) => Promise<number>,
): Promise<number> {
  const config = loadCliConfig(io);
  if (config === undefined) return EXIT_INVALID;

  let store: Store;
  try {
    // Loaded on use: the store pulls in PGlite, which would slow every other command's start.
    const { openStore } = await import('../store/open-store.ts');
    store = await openStore(config, { log: { warn: (_object, message) => io.stderr(`edxgate: warning: ${message}\n`) } });
  } catch (error) {
    if (!(error instanceof EdxError)) throw error;
    io.stderr(formatError(error));
    if (config.store.databaseUrl === undefined) io.stderr(await embeddedHint(config.store.dataDir, options.command));
    return EXIT_INVALID;
  }
  try {
    if (options.requireCurrentSchema ?? true) {
      const status = await migrationStatus(store.db);
      if (status.pending.length > 0) {
        const code = 'EDX_ERR_STORE_MIGRATION_PENDING';
        io.stderr(
          `edxgate: ${code} ${ERROR_CATALOGUE[code].title}: migration${status.pending.length === 1 ? '' : 's'} ${status.pending.join(', ')} ${status.pending.length === 1 ? 'is' : 'are'} not applied. ${ERROR_CATALOGUE[code].action}\n`,
        );
        return EXIT_INVALID;
      }
    }
    return await fn(store, config);
  } catch (error) {
    if (!(error instanceof EdxError)) throw error;
    io.stderr(formatError(error));
    return EXIT_INVALID;
  } finally {
    await store.close();
  }
}

/** A catalogued error as the CLI prints it: its issues one per line, or code, message and advice. */
export function formatError(error: EdxError): string {
  const errors = error.issues.filter((i) => i.severity === 'error');
  if (errors.length > 0) return errors.map((i) => `edxgate: ${formatIssue(i)}\n`).join('');
  const sentence = /[.!?]$/.test(error.message) ? error.message : `${error.message}.`;
  return `edxgate: ${error.code} ${sentence} ${ERROR_CATALOGUE[error.code].action}\n`;
}

/**
 * Why the embedded database could not be opened, in operator terms. The usual case is the lock: a
 * gateway is running on the same DATA_DIR. The pid file is read again only to word the advice.
 */
async function embeddedHint(dataDir: string, command: string): Promise<string> {
  const pid = Number((await readFile(join(dataDir, 'edxgate.pid'), 'utf8').catch(() => '')).trim());
  const held = Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid);
  if (!held) return '';
  return (
    `edxgate: the embedded database in ${dataDir} is open in process ${pid} (a running gateway, or another edxgate command). ` +
    `Only one process may open it, so \`edxgate ${command}\` works on the embedded database only while the gateway is stopped: ` +
    'stop it, run the command, start it again. To administer a running gateway, run it on Postgres (DATABASE_URL).\n'
  );
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return typeof error === 'object' && error !== null && 'code' in error && error.code === 'EPERM';
  }
}

/** Which database the config names, for output: never the password of a URL. */
export function describeDatabase(config: Config): string {
  const url = config.store.databaseUrl;
  if (url === undefined) return `the embedded database in ${config.store.dataDir}`;
  try {
    const parsed = new URL(url);
    return `Postgres ${parsed.host}${parsed.pathname}`;
  } catch {
    return 'Postgres (DATABASE_URL)';
  }
}
