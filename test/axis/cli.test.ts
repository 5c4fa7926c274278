// `edxgate axis-systems`: run as real child processes on a real database (Postgres when
// DATABASE_URL is set, else the embedded PGlite in a temp DATA_DIR); the systems it writes are then
// used by an SDK-like client against a gateway on the same database.

import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import { registerAxisCompatRoutes } from '../../src/api/axis-compat/routes.ts';
import { buildApp } from '../../src/app.ts';
import { main } from '../../src/cli/main.ts';
import type { CliIo } from '../../src/cli/command.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { REPO_ROOT, runCli } from '../cli/run-cli.ts';
import type { CliRun } from '../cli/run-cli.ts';
import { postgresAvailable, testDatabase } from '../helpers/database.ts';
import { SdkClient } from './sdk-client.ts';

// Each command is a process that opens the database (about 2 s on PGlite), one after the other.
t.setTimeout(300_000);

const SO = '000.00.15.H47';
const VP = '000.01.15.H47';

interface SharedDatabase {
  readonly env: Readonly<Record<string, string>>;
  readonly config: Config;
}

/** An empty database for the CLI and then a gateway (on PGlite nothing is held open here). */
async function sharedDatabase(t: Test): Promise<SharedDatabase> {
  let env: Record<string, string>;
  if (postgresAvailable()) {
    const db = await testDatabase(t, { migrate: false });
    env = { DATABASE_URL: db.databaseUrl ?? '', DATA_DIR: db.dataDir };
  } else {
    const dataDir = await mkdtemp(join(tmpdir(), 'edxgate-axis-cli-'));
    t.teardown(() => rm(dataDir, { recursive: true, force: true }));
    env = { DATABASE_URL: '', DATA_DIR: dataDir };
  }
  env = { ...env, EDXGATE_CONFIG: '', LOG_LEVEL: '', AXIS_PREFIX: '' };
  const loaded = loadConfig({ env, files: [], overrides: { log: { level: 'silent' } } });
  if (!loaded.ok) throw new Error(loaded.issues.map((i) => i.message).join('; '));
  return { env, config: loaded.value };
}

function cli(db: SharedDatabase, args: readonly string[]): Promise<CliRun> {
  return runCli(args, REPO_ROOT, db.env);
}

/** Runs `edxgate` in this process (for what never opens the database). */
async function inProcess(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), cwd: REPO_ROOT, env: {} };
  const code = await main(args, io);
  return { code, stdout, stderr };
}

t.test('the command line is checked before the database is opened', async (t) => {
  t.match((await inProcess(['help'])).stdout, /^ {2}axis-systems +add, list or disable the systems/m, 'listed by edxgate help');
  t.match((await inProcess(['help', 'axis-systems'])).stdout, /^Usage: edxgate axis-systems add/);
  const neither = await inProcess(['axis-systems', 'add']);
  t.equal(neither.code, 2);
  t.match(neither.stderr, 'EDX_ERR_CLI_USAGE axis-systems add needs either --client-id ID or at least one --agency CODE');
  const both = await inProcess(['axis-systems', 'add', '--agency', SO, '--client-id', 'x']);
  t.equal(both.code, 2);
  const badId = await inProcess(['axis-systems', 'add', '--agency', SO, '--systemid', 'has space']);
  t.equal(badId.code, 2);
  t.match(badId.stderr, '--systemid "has space" must be');
  t.equal((await inProcess(['axis-systems'])).code, 2);
  t.equal((await inProcess(['axis-systems', 'remove'])).code, 2);
  t.equal((await inProcess(['axis-systems', 'disable'])).code, 2);
});

t.test('systems added by the CLI authenticate against a gateway; disabled ones do not', async (t) => {
  const db = await sharedDatabase(t);
  t.equal((await cli(db, ['migrate'])).code, 0);
  t.equal((await cli(db, ['agencies', 'add', SO, '--name', 'Sở LĐTBXH Quảng Nam'])).code, 0);
  t.equal((await cli(db, ['agencies', 'add', VP, '--name', 'Văn phòng Sở'])).code, 0);

  const first = await cli(db, ['axis-systems', 'add', '--agency', SO, '--systemid', 'so.cli.01', '--json']);
  t.equal(first.code, 0, first.stderr);
  const created = JSON.parse(first.stdout) as { systemid: string; secret: string; clientId: string; agencies: string[] };
  t.equal(created.systemid, 'so.cli.01');
  t.match(created.secret, /^[A-Za-z0-9+/]{44}$/, '33 random bytes in base64, the shape of an axis secret');
  t.same(created.agencies, [SO]);

  const text = await cli(db, ['axis-systems', 'add', '--client-id', created.clientId]);
  t.equal(text.code, 0, text.stderr);
  const secondId = /^created axis system (edxgate\.[0-9a-f]{10}) for client /.exec(text.stdout)?.[1] ?? '';
  t.ok(secondId !== '', 'a generated systemid');
  const secondSecret = /^ {2}(\S{44})$/m.exec(text.stdout)?.[1] ?? '';
  t.equal(text.stdout.split(secondSecret).length, 2, 'the secret is printed once');

  const taken = await cli(db, ['axis-systems', 'add', '--agency', SO, '--systemid', 'so.cli.01']);
  t.equal(taken.code, 1);
  t.match(taken.stderr, /^edxgate: EDX_ERR_AXIS_SYSTEM_EXISTS --systemid: The systemid so\.cli\.01 is taken\./);
  const unknown = await cli(db, ['axis-systems', 'add', '--agency', '000.99.15.H47']);
  t.equal(unknown.code, 1);
  t.match(unknown.stderr, 'EDX_ERR_AGENCY_UNKNOWN --agency: 000.99.15.H47 is not in the directory');
  const noClient = await cli(db, ['axis-systems', 'add', '--client-id', '00000000-0000-4000-8000-000000000000']);
  t.equal(noClient.code, 1);
  t.match(noClient.stderr, 'EDX_ERR_NOT_FOUND --client-id');

  const disabled = await cli(db, ['axis-systems', 'disable', 'so.cli.01']);
  t.equal(disabled.code, 0, disabled.stderr);
  t.match(disabled.stdout, 'disabled axis system so.cli.01');
  t.match((await cli(db, ['axis-systems', 'disable', 'so.cli.01'])).stdout, 'was already disabled');
  const nothing = await cli(db, ['axis-systems', 'disable', 'nope']);
  t.equal(nothing.code, 1);
  t.match(nothing.stderr, 'EDX_ERR_NOT_FOUND SYSTEMID');

  const listed = await cli(db, ['axis-systems', 'list', '--json']);
  t.equal(listed.code, 0, listed.stderr);
  const rows = JSON.parse(listed.stdout) as { systemid: string; state: string; clientId: string; agencies: string[] }[];
  t.same(
    rows.map((r) => [r.systemid, r.state, r.clientId]),
    [
      ['so.cli.01', 'disabled', created.clientId],
      [secondId, 'enabled', created.clientId],
    ],
  );
  t.notMatch(listed.stdout, created.secret, 'never a secret');
  const table = await cli(db, ['axis-systems', 'list']);
  t.match(table.stdout, /^SYSTEMID +STATE +CREATED \(UTC\) +CLIENT +AGENCIES\n/);

  // The gateway on the same database.
  const logger = createLogger({ log: { level: 'silent' } });
  const app = await buildApp(db.config, { logger, processMetrics: false, startWorkers: false });
  t.teardown(() => app.close());
  registerAxisCompatRoutes(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const endpoint = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/axis`;
  const clients = [new SdkClient({ endpoint, systemid: 'so.cli.01', secret: created.secret }), new SdkClient({ endpoint, systemid: secondId, secret: secondSecret })];
  t.teardown(() => clients.forEach((c) => c.close()));
  const [off, on] = clients;
  t.match((await off?.getAgenciesList())?.json, { status: 'FAIL', ErrorCode: 'EDX_ERR_AXIS_AUTH_INVALID' }, 'a disabled system');
  const ok = await on?.getAgenciesList();
  t.match(ok?.json, { status: 'OK', ErrorCode: '0' }, 'an enabled one, with the secret the CLI printed');
  t.same(((ok?.json.data ?? []) as { code: string }[]).map((a) => a.code).sort(), [SO, VP]);

  const clientsMade = await app.gateway.store.db.selectFrom('clients').select('name').execute();
  t.same(clientsMade.map((c) => c.name), ['Axis system so.cli.01'], 'the refused add left no client behind');
});
