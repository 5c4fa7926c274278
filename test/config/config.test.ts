import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { CONFIG_SCHEMA, configReference, loadConfig, redactConfig } from '../../src/config/index.ts';
import type { Config } from '../../src/config/index.ts';
import type { Issue } from '../../src/errors.ts';

function ok(result: ReturnType<typeof loadConfig>): Config {
  if (!result.ok) throw new Error(`expected a valid config, got: ${result.issues.map((i) => i.message).join(' | ')}`);
  return result.value;
}

function issues(result: ReturnType<typeof loadConfig>): readonly Issue[] {
  if (result.ok) throw new Error('expected issues, got a valid config');
  return result.issues;
}

async function tempDir(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'edxgate-config-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

t.test('defaults come from the schema', async (t) => {
  const config = ok(loadConfig({ env: {}, files: [], cwd: '/srv/gw' }));
  t.equal(config.server.host, '127.0.0.1');
  t.equal(config.server.port, 8080);
  t.equal(config.server.bodyLimitBytes, 80 * 1024 * 1024);
  t.equal(config.store.dataDir, '/srv/gw/data', 'DATA_DIR resolved against the working directory');
  t.equal(config.store.databaseUrl, undefined);
  t.equal(config.log.level, 'info');
  t.equal(config.budgetMs, 5000);
  t.equal(config.delivery.maxAttempts, 10);
  t.equal(config.delivery.sweepIntervalMs, 5000);
  t.equal(config.webhook.secret, undefined);
});

t.test('the config is deeply frozen', async (t) => {
  const config = ok(loadConfig({ env: {}, files: [] }));
  t.ok(Object.isFrozen(config));
  t.ok(Object.isFrozen(config.server));
  t.ok(Object.isFrozen(config.delivery));
  t.throws(() => {
    // @ts-expect-error the type is readonly, and so is the object
    config.server.port = 1;
  }, TypeError);
});

t.test('environment variables override, converted strictly', async (t) => {
  const config = ok(
    loadConfig({
      env: {
        HOST: '0.0.0.0',
        PORT: '9090',
        LOG_LEVEL: 'DEBUG',
        DATABASE_URL: 'postgres://u:pw@db:5432/edxgate',
        BUDGET_MS: '3000',
        DELIVERY_WORKERS: '0',
        WEBHOOK_SECRET: 'a-long-enough-secret',
        DATA_DIR: '', // empty counts as unset (docker compose writes `DATA_DIR=`)
      },
      files: [],
      cwd: '/srv/gw',
    }),
  );
  t.equal(config.server.host, '0.0.0.0');
  t.equal(config.server.port, 9090);
  t.equal(config.log.level, 'debug');
  t.equal(config.store.databaseUrl, 'postgres://u:pw@db:5432/edxgate');
  t.equal(config.budgetMs, 3000);
  t.equal(config.delivery.workers, 0);
  t.equal(config.webhook.secret, 'a-long-enough-secret');
  t.equal(config.store.dataDir, '/srv/gw/data');
});

t.test('every fault is reported at once, naming the variable, the key and the expected type', async (t) => {
  const found = issues(loadConfig({ env: { PORT: '80a', LOG_LEVEL: 'verbose', BUDGET_MS: '0', DELIVERY_MAX_ATTEMPTS: '2.5' }, files: [] }));
  t.equal(found.length, 4);
  t.ok(found.every((i) => i.code === 'EDX_ERR_CONFIG_INVALID' && i.severity === 'error'));
  const port = found.find((i) => i.path === 'env:PORT');
  t.match(port?.message, /PORT \(server\.port\) must be an integer from 0 to 65535; got "80a"/);
  t.equal(port?.value, '80a');
  t.match(found.find((i) => i.path === 'env:LOG_LEVEL')?.message, /one of fatal, error, warn, info, debug, trace, silent/);
  t.match(found.find((i) => i.path === 'env:BUDGET_MS')?.message, /from 1 to/);
  t.match(found.find((i) => i.path === 'env:DELIVERY_MAX_ATTEMPTS')?.message, /an integer/);
});

t.test('a secret is never echoed back in an error', async (t) => {
  const found = issues(loadConfig({ env: { DATABASE_URL: 'mysql://admin:hunter2@db/x', WEBHOOK_SECRET: 'short' }, files: [] }));
  t.equal(found.length, 2);
  for (const i of found) {
    t.notMatch(i.message, /hunter2|short"/);
    t.equal(i.value, undefined);
  }
  t.match(found[0]?.message, /DATABASE_URL \(store\.databaseUrl\) must be a string .*postgres:\/\//);
});

t.test('JSON files: nested keys, then env wins, then overrides', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'a.json'), JSON.stringify({ server: { port: 7000, host: '10.0.0.1' }, delivery: { workers: 2 } }));
  await writeFile(join(dir, 'b.json'), JSON.stringify({ delivery: { workers: 3 }, log: { level: 'warn' } }));
  const config = ok(
    loadConfig({ env: { PORT: '7001' }, files: ['a.json', 'b.json'], cwd: dir, overrides: { log: { level: 'silent' } } }),
  );
  t.equal(config.server.port, 7001, 'env over file');
  t.equal(config.server.host, '10.0.0.1', 'file over default');
  t.equal(config.delivery.workers, 3, 'later file over earlier');
  t.equal(config.log.level, 'silent', 'overrides last');
});

t.test('unknown keys are rejected, with a hint', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'c.json'), JSON.stringify({ server: { prot: 1 }, PORT: 8081, delivery: { colour: 'red' }, extra: true }));
  const found = issues(loadConfig({ env: {}, files: ['c.json'], cwd: dir }));
  t.equal(found.length, 4);
  t.match(found.find((i) => i.path === 'c.json:server.prot')?.message, /Unknown key "server\.prot".*did you mean "server\.port"/);
  t.match(found.find((i) => i.path === 'c.json:PORT')?.message, /PORT is the environment variable; in a file write "server\.port"/);
  t.match(found.find((i) => i.path === 'c.json:delivery.colour')?.message, /known keys here: delivery\.workers/);
  t.ok(found.find((i) => i.path === 'c.json:extra'));
});

t.test('JSON values must have the schema type; null means unset', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'd.json'), JSON.stringify({ server: { port: '8080' }, store: 'pg', webhook: { secret: null } }));
  const found = issues(loadConfig({ env: {}, files: ['d.json'], cwd: dir }));
  t.equal(found.length, 2);
  t.match(found.find((i) => i.path === 'd.json:server.port')?.message, /must be an integer from 0 to 65535; got a string "8080"/);
  t.match(found.find((i) => i.path === 'd.json:store')?.message, /must be an object/);
});

t.test('EDXGATE_CONFIG names the file; config/default.json is read when present', async (t) => {
  const dir = await tempDir(t);
  t.equal(ok(loadConfig({ env: {}, cwd: dir })).server.port, 8080, 'no default file: schema defaults');

  await mkdir(join(dir, 'config'));
  await writeFile(join(dir, 'config', 'default.json'), JSON.stringify({ server: { port: 8181 } }));
  await writeFile(join(dir, 'prod.json'), JSON.stringify({ server: { port: 8282 } }));
  t.equal(ok(loadConfig({ env: {}, cwd: dir })).server.port, 8181);
  t.equal(ok(loadConfig({ env: { EDXGATE_CONFIG: 'prod.json' }, cwd: dir })).server.port, 8282);

  const missing = issues(loadConfig({ env: { EDXGATE_CONFIG: 'nope.json' }, cwd: dir }));
  t.equal(missing[0]?.code, 'EDX_ERR_FILE_UNREADABLE');

  await writeFile(join(dir, 'broken.json'), '{ "server": ');
  const broken = issues(loadConfig({ env: { EDXGATE_CONFIG: 'broken.json' }, cwd: dir }));
  t.equal(broken[0]?.code, 'EDX_ERR_CONFIG_INVALID');
  t.match(broken[0]?.message, /not valid JSON/);
});

t.test('cross-key rule: the retry base does not exceed the retry maximum', async (t) => {
  const found = issues(loadConfig({ env: { RETRY_BASE_MS: '10000', RETRY_MAX_MS: '5000' }, files: [] }));
  t.equal(found.length, 1);
  t.match(found[0]?.message, /RETRY_BASE_MS .* must not exceed RETRY_MAX_MS/);
});

t.test('redactConfig masks secrets that are set', async (t) => {
  const config = ok(loadConfig({ env: { DATABASE_URL: 'postgres://u:pw@db/x', WEBHOOK_SECRET: 'a-long-enough-secret' }, files: [] }));
  const shown = JSON.stringify(redactConfig(config));
  t.notMatch(shown, /pw@|a-long-enough-secret/);
  t.match(shown, /"databaseUrl":"\[redacted\]"/);
  t.match(shown, /"port":8080/);
});

t.test('the reference lists every setting with its variable and default', async (t) => {
  const rows = configReference();
  const envs = rows.map((r) => r.env);
  for (const name of [
    'HOST',
    'PORT',
    'DATA_DIR',
    'DATABASE_URL',
    'LOG_LEVEL',
    'BUDGET_MS',
    'BODY_LIMIT_BYTES',
    'DELIVERY_WORKERS',
    'DELIVERY_MAX_ATTEMPTS',
    'RETRY_BASE_MS',
    'RETRY_MAX_MS',
    'CIRCUIT_FAILURE_THRESHOLD',
    'CIRCUIT_COOLDOWN_MS',
    'SWEEP_INTERVAL_MS',
    'WEBHOOK_SECRET',
  ])
    t.ok(envs.includes(name), name);
  t.equal(new Set(envs).size, envs.length, 'no variable is used twice');
  t.equal(rows.find((r) => r.env === 'PORT')?.default, CONFIG_SCHEMA.server.port.default);
});
