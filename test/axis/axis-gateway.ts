// A real gateway for the axis tests, listening on loopback: the fixture's test gateway (fresh
// database, demo directory and clients) with axis systems for some of them.

import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Teardown } from '../helpers/database.ts';
import type { TestDatabase } from '../helpers/database.ts';
import type { EdxApp } from '../../src/app.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import { newClientToken } from '../../src/gateway/demo-seed.ts';
import { startTestGateway } from '../api/gateway-fixture.ts';
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

/** Starts a gateway listening on 127.0.0.1 (the fixture's startTestGateway) with axis systems. */
export async function startAxisGateway(t: Teardown, options: AxisGatewayOptions = {}): Promise<AxisGateway> {
  const secrets = new Map<string, string>();
  const gw = await startTestGateway(t, {
    listen: true,
    ...(options.config === undefined ? {} : { config: options.config }),
    setup: async (db) => {
      for (const spec of options.systems ?? []) {
        // One agency: its demo client; several: a client of their own.
        const demo =
          spec.agencies.length === 1
            ? await db.store.db.selectFrom('clients').select('id').where(sql<boolean>`agency_codes = ${[...spec.agencies]}::text[]`).executeTakeFirst()
            : undefined;
        let clientId = demo?.id;
        if (clientId === undefined) {
          clientId = randomUUID();
          await db.store.db.insertInto('clients').values({ id: clientId, name: `Axis ${spec.systemid}`, token_hash: newClientToken().hash, agency_codes: [...spec.agencies] }).execute();
        }
        const secret = `secret-of-${spec.systemid}-${randomUUID()}`;
        if (!(await insertAxisSystem(db.store.db, { systemid: spec.systemid, secret, clientId }))) throw new Error(`systemid ${spec.systemid} taken`);
        secrets.set(spec.systemid, secret);
      }
      await options.setup?.(db);
    },
  });
  const url = gw.url ?? '';
  const clients: SdkClient[] = [];
  // Before app.close (teardowns run last-in first-out): open keep-alive sockets would hold it up.
  t.teardown(() => {
    for (const c of clients) c.close();
  });
  return {
    app: gw.app,
    db: gw.db,
    url,
    token: (agency) => gw.token(agency),
    secret(systemid) {
      const secret = secrets.get(systemid);
      if (secret === undefined) throw new Error(`no system ${systemid}`);
      return secret;
    },
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
