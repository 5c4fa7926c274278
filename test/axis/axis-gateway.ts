// A real gateway for the axis tests, listening on loopback: a fresh database with the demo
// directory and clients, axis systems for some of them, and the axis-compatible routes. Like
// test/api/gateway-fixture.ts's startTestGateway, except that the axis routes are registered
// before the app starts (registration is idempotent, so this holds whether or not
// src/api/index.ts registers them too).

import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Teardown } from '../helpers/database.ts';
import { testDatabase } from '../helpers/database.ts';
import type { TestDatabase } from '../helpers/database.ts';
import { registerAxisCompatRoutes } from '../../src/api/axis-compat/routes.ts';
import { buildApp } from '../../src/app.ts';
import type { EdxApp } from '../../src/app.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import { newClientToken, seedDemoIfEmpty } from '../../src/gateway/demo-seed.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { insertAxisSystem } from '../../src/store/queries/axis-systems.ts';
import { SdkClient } from './sdk-client.ts';

/** One axis system to create: acting for the demo client of one agency, or a new client of several. */
export interface AxisSystemSpec {
  readonly systemid: string;
  readonly agencies: readonly string[];
}

/** Options of startAxisGateway. */
export interface AxisGatewayOptions {
  readonly config?: ConfigInput;
  readonly systems?: readonly AxisSystemSpec[];
  /** Runs after the demo seed and the systems, before the app is built. */
  readonly setup?: (db: TestDatabase) => Promise<void>;
}

/** A running gateway with axis systems. */
export interface AxisGateway {
  readonly app: EdxApp;
  readonly db: TestDatabase;
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** The demo bearer token of an agency (for /v1 cross-checks). */
  token(agency: string): string;
  /** The secret of a system created here. */
  secret(systemid: string): string;
  /** An SDK-like client of a system (closed at the end of the test); `secret` overrides the real one. */
  client(systemid: string, options?: { readonly secret?: string; readonly timestamp?: string; readonly prefix?: string }): SdkClient;
}

const TEST_CONFIG: ConfigInput = {
  log: { level: 'silent' },
  server: { shutdownTimeoutMs: 5000 },
  delivery: { workers: 2, retryBaseMs: 20, retryMaxMs: 200, sweepIntervalMs: 500, circuitFailureThreshold: 50, circuitCooldownMs: 500 },
};

function merge(base: ConfigInput, extra: ConfigInput | undefined): ConfigInput {
  if (extra === undefined) return base;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const prior = out[key];
    out[key] = typeof value === 'object' && value !== null && typeof prior === 'object' && prior !== null ? { ...prior, ...value } : value;
  }
  return out as ConfigInput;
}

/** Starts a gateway listening on 127.0.0.1 with the axis-compatible API. */
export async function startAxisGateway(t: Teardown, options: AxisGatewayOptions = {}): Promise<AxisGateway> {
  const db = await testDatabase(t, { config: merge(TEST_CONFIG, options.config) });
  const seeded = await seedDemoIfEmpty(db.store.db);
  if (seeded === undefined) throw new Error('the fresh test database was not empty');
  const secrets = new Map<string, string>();
  for (const spec of options.systems ?? []) {
    const demo = spec.agencies.length === 1 ? seeded.find((c) => c.agency === spec.agencies[0]) : undefined;
    let clientId = demo?.clientId;
    if (clientId === undefined) {
      clientId = randomUUID();
      await db.store.db.insertInto('clients').values({ id: clientId, name: `Axis ${spec.systemid}`, token_hash: newClientToken().hash, agency_codes: [...spec.agencies] }).execute();
    }
    const secret = `secret-of-${spec.systemid}-${randomUUID()}`;
    if (!(await insertAxisSystem(db.store.db, { systemid: spec.systemid, secret, clientId }))) throw new Error(`systemid ${spec.systemid} taken`);
    secrets.set(spec.systemid, secret);
  }
  await options.setup?.(db);

  const logger = createLogger({ log: { level: process.env.EDXGATE_TEST_LOG === '1' ? 'debug' : 'silent' } });
  const app = await buildApp(db.config, { store: db.store, logger, processMetrics: false });
  t.teardown(() => app.close());
  registerAxisCompatRoutes(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const tokens = new Map(seeded.map((c) => [c.agency, c.token]));
  const clients: SdkClient[] = [];
  // Before app.close (teardowns run last-in first-out): open keep-alive sockets would hold it up.
  t.teardown(() => {
    for (const c of clients) c.close();
  });
  const secretOf = (systemid: string): string => {
    const secret = secrets.get(systemid);
    if (secret === undefined) throw new Error(`no system ${systemid}`);
    return secret;
  };
  return {
    app,
    db,
    url,
    token(agency) {
      const token = tokens.get(agency);
      if (token === undefined) throw new Error(`no demo client for ${agency}`);
      return token;
    },
    secret: secretOf,
    client(systemid, clientOptions = {}) {
      const client = new SdkClient({
        endpoint: `${url}${clientOptions.prefix ?? '/axis'}`,
        systemid,
        secret: clientOptions.secret ?? (secrets.get(systemid) ?? 'no-secret-for-this-systemid'),
        ...(clientOptions.timestamp === undefined ? {} : { timestamp: clientOptions.timestamp }),
      });
      clients.push(client);
      return client;
    },
  };
}
