// The admin commands (`migrate`, `agencies`, `clients`) run as real child processes on a real
// database — Postgres when DATABASE_URL is set, else the embedded PGlite in a temp DATA_DIR — and
// what they write is then used by a gateway built with buildApp on the same database.

import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { Test } from 'tap';

import { verifyWebhookSignature } from '../../src/adapters/webhook/signature.ts';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { makeDocument, startReceiver, waitFor } from '../api/gateway-fixture.ts';
import { postgresAvailable, testDatabase } from '../helpers/database.ts';
import { MIGRATIONS } from '../../src/store/migrations/index.ts';
import { REPO_ROOT, runCli } from './run-cli.ts';
import type { CliRun } from './run-cli.ts';

// Each command is a process that loads the app and opens the database (about 2 s on PGlite), and
// on PGlite they cannot overlap: this file takes longer than the suite's default per-file limit.
t.setTimeout(300_000);

const SO = '000.00.15.H47';
const UBND = '000.00.00.H47';
const VP = '000.01.15.H47';

/** A database for the CLI and the gateway to share, and the environment that points at it. */
interface SharedDatabase {
  readonly env: Readonly<Record<string, string>>;
  readonly config: Config;
}

/**
 * An empty (unmigrated) database. On Postgres the test keeps a pool open on it, which is fine; on
 * PGlite nothing is opened here, since a second process could not open the folder while we hold it.
 */
async function sharedDatabase(t: Test): Promise<SharedDatabase> {
  let env: Record<string, string>;
  if (postgresAvailable()) {
    const db = await testDatabase(t, { migrate: false });
    env = { DATABASE_URL: db.databaseUrl ?? '', DATA_DIR: db.dataDir };
  } else {
    const dataDir = await mkdtemp(join(tmpdir(), 'edxgate-admin-'));
    t.teardown(() => rm(dataDir, { recursive: true, force: true }));
    // An empty DATABASE_URL counts as unset: the embedded database, whatever the parent has.
    env = { DATABASE_URL: '', DATA_DIR: dataDir };
  }
  env = { ...env, EDXGATE_CONFIG: '', LOG_LEVEL: '' };
  const loaded = loadConfig({ env, files: [], overrides: { log: { level: 'silent' }, delivery: { retryBaseMs: 20, retryMaxMs: 200 } } });
  if (!loaded.ok) throw new Error(loaded.issues.map((i) => i.message).join('; '));
  return { env, config: loaded.value };
}

function cli(db: SharedDatabase, args: readonly string[]): Promise<CliRun> {
  return runCli(args, REPO_ROOT, db.env);
}

/** The one line of `text` matching `pattern`'s capture group. */
function captured(text: string, pattern: RegExp): string {
  const match = pattern.exec(text);
  if (match?.[1] === undefined) throw new Error(`no match for ${String(pattern)} in:\n${text}`);
  return match[1];
}

t.test('migrate applies the migrations once; --status reports them; other commands wait for it', async (t) => {
  const db = await sharedDatabase(t);

  const early = await cli(db, ['agencies', 'list']);
  t.equal(early.code, 1, 'a command on an unmigrated database is refused');
  t.match(early.stderr, /^edxgate: EDX_ERR_STORE_MIGRATION_PENDING .*0001_initial.*edxgate migrate/);

  const all = Object.keys(MIGRATIONS);
  const last = all.at(-1) ?? '';
  const before = await cli(db, ['migrate', '--status']);
  t.equal(before.code, 0);
  for (const name of all) t.match(before.stdout, new RegExp(`^ {2}${name} +pending$`, 'm'));
  t.match(before.stdout, `0 applied, ${all.length} pending`);

  const first = await cli(db, ['migrate']);
  t.equal(first.code, 0, first.stderr);
  t.match(first.stdout, new RegExp(`^${all.map((n) => `applied ${n}\\n`).join('')}.* is now at ${last}\\.\\n$`));

  const again = await cli(db, ['migrate']);
  t.equal(again.code, 0);
  t.match(again.stdout, new RegExp(`^Nothing to apply: .* is at ${last}\\.\\n$`));

  const after = await cli(db, ['migrate', '--status']);
  for (const name of all) t.match(after.stdout, new RegExp(`^ {2}${name} +applied \\d{4}-\\d\\d-\\d\\dT`, 'm'));
  t.match(after.stdout, `${all.length} applied, 0 pending.`);

});

t.test('agencies, webhook secrets and clients written by the CLI work in a gateway on the same database', async (t) => {
  const db = await sharedDatabase(t);
  const receiver = await startReceiver(t);
  t.equal((await cli(db, ['migrate'])).code, 0);

  await t.test('a malformed code is refused, naming the rule it breaks', async (t) => {
    const lower = await cli(db, ['agencies', 'add', '000.00.15.h47', '--name', 'Sở LĐTBXH Quảng Nam']);
    t.equal(lower.code, 1);
    t.match(lower.stderr, /^edxgate: EDX_ERR_AGENCY_CODE_INVALID CODE: The code contains 'h'; QĐ 20\/2020 allows only digits, upper-case letters/);
    const groups = await cli(db, ['agencies', 'add', '00.15.H47', '--name', 'X', '--agency-code-form', 'qcvn102']);
    t.equal(groups.code, 1);
    t.match(groups.stderr, 'EDX_ERR_AGENCY_CODE_INVALID CODE: The code has 3 group(s); a QCVN 102 code has four');
    const parent = await cli(db, ['agencies', 'add', VP, '--name', 'Văn phòng Sở', '--parent', UBND]);
    t.equal(parent.code, 1);
    t.match(parent.stderr, `EDX_ERR_AGENCY_RECORD_INVALID --parent: The parent of ${VP} is ${SO}, as its code says, not ${UBND}.`);
    const shortSecret = await cli(db, ['agencies', 'add', VP, '--name', 'Văn phòng Sở', '--route', 'webhook', '--url', receiver.url, '--secret', 'short']);
    t.equal(shortSecret.code, 1);
    t.match(shortSecret.stderr, 'EDX_ERR_ADAPTER_ROUTE_INVALID --secret: The secret has 5 characters');
    t.notMatch(shortSecret.stderr, 'short"', 'a refused secret is not echoed');
  });

  let secret = '';
  await t.test('add, close, suspend, list; an existing code is refused unless --update', async (t) => {
    const so = await cli(db, ['agencies', 'add', SO, '--name', 'Sở LĐTBXH Quảng Nam']);
    t.equal(so.code, 0, so.stderr);
    t.equal(so.stdout, `added ${SO} "Sở LĐTBXH Quảng Nam" (active, route inbox)\n`);
    t.equal((await cli(db, ['agencies', 'add', UBND, '--name', 'UBND tỉnh Quảng Nam', '--route', 'inbox'])).code, 0);

    const twice = await cli(db, ['agencies', 'add', SO, '--name', 'Another name']);
    t.equal(twice.code, 1);
    t.match(twice.stderr, /^edxgate: EDX_ERR_AGENCY_EXISTS CODE: 000\.00\.15\.H47 is already in the directory as "Sở LĐTBXH Quảng Nam"/);
    const renamed = await cli(db, ['agencies', 'add', SO, '--update', '--name', 'Sở Lao động - Thương binh và Xã hội tỉnh Quảng Nam']);
    t.equal(renamed.code, 0, renamed.stderr);
    t.match(renamed.stdout, /^updated 000\.00\.15\.H47 "Sở Lao động - Thương binh và Xã hội tỉnh Quảng Nam" \(active, route inbox\)/);

    const hook = await cli(db, ['agencies', 'add', VP, '--name', 'Văn phòng Sở', '--route', 'webhook', '--url', receiver.url]);
    t.equal(hook.code, 0, hook.stderr);
    t.match(hook.stdout, `added ${VP} "Văn phòng Sở" (active, route webhook ${receiver.url})`);
    t.match(hook.stdout, 'must verify the Edxgate-Signature header');
    secret = captured(hook.stdout, /^ {2}(edxwh_[A-Za-z0-9_-]{43})$/m);
    t.equal(hook.stdout.split(secret).length, 2, 'the secret is printed once');

    // A 2025-style merger: the closed code forwards to its successor.
    t.equal((await cli(db, ['agencies', 'add', '000.10.15.H47', '--name', 'Cơ sở Bảo trợ xã hội'])).code, 0);
    const close = await cli(db, ['agencies', 'close', '000.10.15.H47', '--successor', SO]);
    t.equal(close.code, 0, close.stderr);
    t.match(close.stdout, `packets to 000.10.15.H47 now go to ${SO}`);
    const loop = await cli(db, ['agencies', 'close', SO, '--successor', '000.10.15.H47']);
    t.equal(loop.code, 1);
    t.match(loop.stderr, 'EDX_ERR_AGENCY_ALIAS_CYCLE');
    t.equal((await cli(db, ['agencies', 'suspend', UBND])).code, 0);

    const table = await cli(db, ['agencies', 'list']);
    t.equal(table.code, 0);
    t.same(
      table.stdout.trimEnd().split('\n').map((line) => line.split(/ {2,}/)),
      [
        ['CODE', 'NAME', 'STATE', 'ROUTE'],
        [SO, 'Sở Lao động - Thương binh và Xã hội tỉnh Quảng Nam', 'active', 'inbox'],
        [UBND, 'UBND tỉnh Quảng Nam', 'suspended', 'inbox'],
        [VP, 'Văn phòng Sở', 'active', `webhook ${receiver.url}`],
        ['000.10.15.H47', 'Cơ sở Bảo trợ xã hội', `closed → ${SO}`, 'inbox'],
      ],
      'one row per agency, in the order they were added; refused ones are not there',
    );
    t.notMatch(table.stdout, secret, 'list never shows a secret');

    const json = JSON.parse((await cli(db, ['agencies', 'list', '--json'])).stdout) as { code: string; parent: string | null; route: { kind: string; secret: boolean } }[];
    t.same(
      json.map((a) => [a.code, a.parent, a.route.kind, a.route.secret]),
      [
        [SO, UBND, 'inbox', false],
        [UBND, null, 'inbox', false],
        [VP, SO, 'webhook', true],
        ['000.10.15.H47', SO, 'inbox', false],
      ],
    );
    const activate = await cli(db, ['agencies', 'activate', UBND]);
    t.equal(activate.stdout, `activated ${UBND} "UBND tỉnh Quảng Nam".\n`);
  });

  let token = '';
  let disabledToken = '';
  await t.test('clients create refuses unknown agencies, prints the token once, stores only its hash', async (t) => {
    const unknown = await cli(db, ['clients', 'create', '--agency', SO, '--agency', '000.99.15.H47']);
    t.equal(unknown.code, 1);
    t.match(unknown.stderr, /^edxgate: EDX_ERR_AGENCY_UNKNOWN --agency: 000\.99\.15\.H47 is not in the directory/);

    const created = await cli(db, ['clients', 'create', '--agency', SO, '--name', 'QLVB Sở LĐTBXH']);
    t.equal(created.code, 0, created.stderr);
    const clientId = captured(created.stdout, /^created client ([0-9a-f-]{36}) "QLVB Sở LĐTBXH" acting for 000\.00\.15\.H47$/m);
    token = captured(created.stdout, /^ {2}(edx_[A-Za-z0-9_-]{43})$/m);

    const other = JSON.parse((await cli(db, ['clients', 'create', '--agency', SO, '--json'])).stdout) as { clientId: string; token: string; agencies: string[] };
    t.same(other.agencies, [SO]);
    disabledToken = other.token;
    const disabled = await cli(db, ['clients', 'disable', other.clientId]);
    t.equal(disabled.code, 0, disabled.stderr);
    t.match(disabled.stdout, `disabled client ${other.clientId}`);

    const list = await cli(db, ['clients', 'list', '--json']);
    const clients = JSON.parse(list.stdout) as { clientId: string; name: string; agencies: string[]; disabledAt: string | null }[];
    t.same(
      clients.map((c) => [c.clientId, c.agencies, c.disabledAt === null]),
      [
        [clientId, [SO], true],
        [other.clientId, [SO], false],
      ],
      'the two clients created, none for the refused command',
    );
    t.notMatch(list.stdout, token, 'list never shows a token');
  });

  await t.test('the token authenticates, and the webhook secret verifies, in a gateway built on that database', async (t) => {
    const logger = createLogger({ log: { level: 'silent' } });
    const app = await buildApp(db.config, { logger, processMetrics: false });
    t.teardown(() => app.close());
    await app.ready();

    const stored = await app.gateway.store.db.selectFrom('clients').select('token_hash').execute();
    const hash = createHash('sha256').update(token).digest('hex');
    t.ok(stored.some((r) => r.token_hash === hash), 'the sha256 of the token is stored');
    t.notOk(stored.some((r) => r.token_hash.includes(token)), 'the token itself is not');

    const post = (bearer: string, payload: Buffer) =>
      app.inject({ method: 'POST', url: '/v1/packets', headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/xml' }, payload });
    const letter = await readFile(join(REPO_ROOT, 'fixtures/packets/valid/minimal-document.edxml'));
    const admitted = await post(token, letter);
    t.equal(admitted.statusCode, 202, admitted.body);
    t.same((JSON.parse(admitted.body) as { deliveries: { to: string }[] }).deliveries.map((d) => d.to), [UBND]);

    const refused = await post(disabledToken, makeDocument({ from: SO, to: [UBND] }));
    t.equal(refused.statusCode, 401, 'a disabled client is refused');
    t.equal((JSON.parse(refused.body) as { code: string }).code, 'EDX_ERR_AUTH_REQUIRED');

    const pushed = await post(token, makeDocument({ from: SO, to: [VP] }));
    t.equal(pushed.statusCode, 202, pushed.body);
    const request = await waitFor('the webhook delivery', () => receiver.received[0]);
    t.equal(request.headers['edxgate-recipient'], VP);
    t.same(verifyWebhookSignature(request.headers, request.body, secret, 300), { ok: true, timestampSec: Number(request.headers['edxgate-timestamp']) }, 'signed with the printed secret');
  });
});

t.test('on the embedded database, a command says plainly that the gateway must be stopped', async (t) => {
  // The test process holds the folder, as a running gateway would.
  const db = await testDatabase(t, { kind: 'pglite' });
  const run = await runCli(['agencies', 'list'], REPO_ROOT, { DATABASE_URL: '', DATA_DIR: db.dataDir, EDXGATE_CONFIG: '' });
  t.equal(run.code, 1);
  t.equal(run.stdout, '');
  t.match(run.stderr, /^edxgate: EDX_ERR_STORE_UNAVAILABLE .*in use by process \d+/);
  t.match(run.stderr, `is open in process ${process.pid}`);
  t.match(run.stderr, '`edxgate agencies list` works on the embedded database only while the gateway is stopped');
  t.match(run.stderr, 'DATABASE_URL');
});

t.test('usage errors exit 2', async (t) => {
  const runs = await Promise.all([
    runCli(['migrate', 'now']),
    runCli(['agencies']),
    runCli(['agencies', 'rename', SO]),
    runCli(['agencies', 'add', SO]),
    runCli(['agencies', 'add', SO, '--name', 'X', '--route', 'ftp']),
    runCli(['agencies', 'add', SO, '--name', 'X', '--route', 'inbox', '--url', 'http://x']),
    runCli(['agencies', 'add', SO, '--name', 'X', '--route', 'webhook']),
    runCli(['clients', 'create']),
    runCli(['clients', 'create', SO]),
  ]);
  for (const run of runs) {
    t.equal(run.code, 2, run.stderr);
    t.match(run.stderr, /^edxgate: EDX_ERR_CLI_USAGE /);
  }
});
